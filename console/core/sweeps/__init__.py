"""Sweeps: a grid or random set of param overrides x seeds, each point an ordinary run."""
