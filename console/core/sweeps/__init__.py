"""Sweeps: a grid or random set of param overrides x seeds, each point an ordinary run.

spec (what to sweep) -> points (`SweepPoint`, the worker's `run_point`) -> sweep (the
folder, its run loop and progress) -> summary (rows, CSV, panels); manifest holds the
folder's `sweep.json` and lock."""

from .manifest import MANIFEST, lock_folder, read_manifest
from .points import COMPLETE, PENDING, RUNNING, SweepPoint, expand, run_point
from .spec import RandomDim, SweepError, SweepSpec, build_spec, point_id, settings
from .summary import is_log_spaced, summary_panels, summary_rows, write_csv
from .sweep import Sweep, SweepProgress

__all__ = ["COMPLETE", "MANIFEST", "PENDING", "RUNNING", "RandomDim", "Sweep", "SweepError",
           "SweepPoint", "SweepProgress", "SweepSpec", "build_spec", "expand",
           "is_log_spaced", "lock_folder", "point_id", "read_manifest", "run_point",
           "settings", "summary_panels", "summary_rows", "write_csv"]
