"""paramlab engines: numeric building blocks shared by scenarios (no UI, no files)."""
