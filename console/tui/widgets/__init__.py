"""Widgets of the paramlab console, one per file."""
