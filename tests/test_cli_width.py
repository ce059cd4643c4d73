"""CLI output fits 80 columns when piped, and every table stays aligned."""

from __future__ import annotations

import pytest

from paramlab.console.cli import main
from paramlab.console.render.text import grid


@pytest.fixture
def narrow(runs, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # piped: 80 columns
    return runs


@pytest.mark.parametrize("argv", [["list"], ["show", "pcb-merging"],
                                  ["show", "mup-feature-learning"],
                                  ["check", "one-connection-sem", "--seeds", "0-1",
                                   "--workers", "1"]])
def test_headless_output_fits_80_columns(argv, narrow, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, too_wide[:3]


def test_runs_table_fits_and_keeps_ids_whole(narrow, capsys):
    assert main(["run", "one-connection-sem", "--preset", "quick"]) in (0, 1)
    capsys.readouterr()
    assert main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines if not line.startswith("("))  # not the path
    assert any("one-connection-" in line for line in lines)
    assert any(line.startswith("20") and len(line.split()[0]) == 22 for line in lines)


def test_grid_aligns_and_gives_way_only_in_flexible_columns():
    rows = [("a-very-long-identifier-kept-whole", "x" * 60, "1.5"),
            ("b", "short", "10")]
    text = grid(["id", "text", "value"], rows, width=60, cut=(1,), right=(2,))
    lines = text.split("\n")
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].startswith("a-very-long-identifier-kept-whole")
    assert lines[1].endswith("1.5") and lines[2].endswith(" 10")
    assert "\u2026" in lines[1]
    # the value column is right-aligned: its last character is in the same place
    assert len(lines[1]) == len(lines[2])
    folded = grid(["id", "text"], [("a", "word " * 30)], width=40, wrap=(1,))
    assert len(folded.split("\n")) > 2 and all(len(x) <= 40 for x in folded.split("\n"))
