"""Rendering shared by the front-ends: panels drawn as text, numbers and tables formatted."""
