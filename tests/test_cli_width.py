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


class _Tty:
    def __init__(self):
        self.out = []

    def isatty(self):
        return True

    def write(self, s):
        self.out.append(s)

    def flush(self):
        pass


def test_live_view_redraws_in_place_on_the_alternate_screen(monkeypatch):
    import os

    from paramlab.console.cli.progress import LiveView
    from paramlab.scenarios import load

    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None:
                        os.terminal_size((80, 24)))
    sc = load("mup-feature-learning")  # four panels: more than 24 rows hold
    tty = _Tty()
    view = LiveView(sc, None, stream=tty)
    from paramlab.scenarios.history import History

    for _ in range(3):
        view.draw(History())
    view.close()
    text = "".join(tty.out)
    assert text.startswith("\x1b[?1049h") and text.endswith("\x1b[?1049l")
    frames = text.split("\x1b[H")[1:]
    assert len(frames) == 3
    for f in frames:
        lines = f.split("\n")
        assert len(lines) <= 23 and "\x1b[2J" not in f  # fits; never clears the scrollback
        assert "panel 1 of 4" in lines[0] or "panels 1-" in lines[0]
    piped = LiveView(sc, None, stream=__import__("io").StringIO())
    assert not piped.on
