"""The headless core: execute a run, record it, replay it, sweep it. No UI here:
no textual, no argparse, no printing."""
