"""paramlab console: runner, records, CLI, rendering, replay and the Textual app."""
