"""Exit codes of the `paramlab` command, and the error that means "bad input"."""

import sys

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = """exit codes: 0 ok (and every claim check passed), 1 a claim check failed,
2 bad input (unknown scenario, bad parameter, missing or corrupt record),
3 a run failed or diverged, 130 interrupted (the run is cancelled, its record kept)."""


class UsageError(Exception):
    """Bad input: printed as one line, exit 2."""


def note_device(sc, device: str) -> None:
    """`--device cuda` on a numpy-only scenario: say that it runs on the CPU anyway."""
    if device == "cuda" and not sc.uses_torch:
        print(f"paramlab: note: {sc.meta.id if sc.meta else 'this scenario'} computes with "
              f"numpy only; --device cuda is ignored (it runs on the CPU)", file=sys.stderr)
