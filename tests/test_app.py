"""The console (Textual app), driven headless with `App.run_test()` and its Pilot."""

from __future__ import annotations

import asyncio
import io
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from paramlab.console.core.reading import read_record
from paramlab.console.core.records import RecordWriter, RunFooter, RunHeader
from paramlab.console.tui.app import ParamlabApp
from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Note,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Table,
    Verdict,
    param,
)

SID = "matrix-sensing-overparam"
SNAPSHOTS = Path(__file__).parent / "snapshots"

# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class WaveParams(Params):
    steps: int = param(40, range=(2, 1000), help="number of steps")
    shift: float = param(0.0, range=(-2.0, 2.0), help="added to the signal")


def wave_run(p: WaveParams, ctx):
    yield Note("a deterministic wave")
    for t in range(p.steps):
        yield Metric(t, {"loss": 1.0 / (t + 1), "signal": math.sin(t / 4) + p.shift})
    yield Table("accuracy", ["task arith", "ties"], ["t1", "t2"], [[0.8, 0.7], [0.85, 0.75]])


def wave_check(history, p: WaveParams) -> Verdict:
    final = history.last("loss")
    return Verdict((Criterion.at_most("final loss", final, 0.1),), f"final loss {final:.3g}")


WAVE = Scenario(
    params=WaveParams, run=wave_run, check=wave_check,
    panels=(Panel("loss", series=("loss",), logy=True, xlabel="step"),
            Panel("signal", series=("signal",), xlabel="step"),
            Panel("accuracy", kind="bars", table="accuracy")),
    presets={"quick": {"steps": 20}}, key_metric="loss", total_steps=lambda p: p.steps,
    meta=ScenarioMeta(id="wave-demo", title="A deterministic wave", theme="demo",
                      paper=Paper("Waves", "Ada Lovelace, B. Babbage", 1843, "1843.00001"),
                      claim="the loss falls below 0.1", entry_point="tests:WAVE"),
    paper_reports="it does")


def write_record(path: Path, scenario: Scenario, params: dict, run_id: str) -> Path:
    """A record with fixed ids and times (what a run of `scenario` would write)."""
    from paramlab.scenarios.base import RunContext
    from paramlab.scenarios.history import History

    p = scenario.params.build(params)
    writer = RecordWriter(path, RunHeader(run_id, scenario.meta.id, "default", p.to_dict(),
                                          0, "cpu", {}, "2025-01-01"))
    history = History()
    for i, event in enumerate(scenario.run(p, RunContext(0))):
        writer.event(event, 0.01 * i)
        history.add(event)
    verdict = scenario.check(history, p)
    writer.close(RunFooter("done", verdict.to_dict(), "2025-01-01", 1.5))
    return path


async def wait_for(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def screen_text(app) -> str:
    """The screen as plain text (what `export_screenshot` draws, without colours)."""
    from rich.console import Console

    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      force_terminal=True, color_system=None, record=True,
                      legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


def run(coro):
    return asyncio.run(coro)


async def pick(pilot, query: str) -> None:
    """Filter the scenario list and go to the first field of the form."""
    await pilot.press("slash", *query, "enter", "enter")
    await pilot.pause()


async def set_field(pilot, app, name: str, value: str) -> None:
    form = app.screen.card.form
    form.query_one(f"#p-{name}").value = value
    await pilot.pause()


# --------------------------------------------------------------------------- tests


def test_a_quick_run_launched_from_the_form_reaches_done_with_a_verdict(runs):
    async def go():
        app = ParamlabApp(runs_dir=runs)
        async with app.run_test(size=(100, 30)) as pilot:
            await pick(pilot, "matrix-sensing")
            assert app.screen.card.scenario.meta.id == SID
            for name, value in (("T", "60"), ("m", "200"), ("n", "10")):
                await set_field(pilot, app, name, value)
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.items and app.items[0].finished)
            await pilot.pause(0.4)
            item = app.items[0]
            assert item.status == "done" and item.verdict is not None
            assert not item.verdict.passed  # T=60 is far too short for the claim
            text = screen_text(app)
            assert "done" in text and "FAIL" in text and "||M_t - M*||_F" in text
            assert "✗ claim not shown" in text  # the runs table's verdict column
            assert read_record(item.path).footer["status"] == "done"

    run(go())


def test_bad_input_blocks_the_launch_and_shows_the_clis_message(runs):
    async def go():
        app = ParamlabApp(runs_dir=runs)
        async with app.run_test(size=(100, 30)) as pilot:
            await pick(pilot, "matrix-sensing")
            await set_field(pilot, app, "k", "abc")
            form = app.screen.card.form
            message = "k: expected an integer in [1, 50], got 'abc'"
            assert message in form.errors  # inline, the same text as `--set k=abc`
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert app.items == [] and not runs.exists()
            await set_field(pilot, app, "k", "1")  # valid alone, but k < r
            assert any(e.startswith("k: expected an integer in [r, n]") for e in form.errors)
            await set_field(pilot, app, "k", "4")
            assert form.errors == []

    run(go())


def test_cancel_stops_the_selected_run_and_its_record_gets_a_footer(toy, runs):
    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[toy])
        async with app.run_test(size=(100, 30)) as pilot:
            await pick(pilot, "toy")
            await set_field(pilot, app, "steps", "100000")
            await set_field(pilot, app, "sleep", "0.01")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.items and app.items[0].history.last_step)
            await pilot.press("c")
            await wait_for(pilot, lambda: app.items[0].finished, 10)
            item = app.items[0]
            assert item.status == "cancelled"
            assert read_record(item.path).footer["status"] == "cancelled"

    run(go())


def test_the_filter_narrows_the_scenario_list(toy):
    async def go():
        app = ParamlabApp(scenarios=[toy, WAVE])
        async with app.run_test(size=(100, 30)) as pilot:
            ol = app.screen.query_one("#scenario-list")
            ids = lambda: [o.id for o in ol._options if o.id]  # noqa: E731
            assert ids() == ["wave-demo", "toy"]  # grouped by theme: demo, test
            await pilot.press("slash", *"lovelace")  # matches the paper's authors too
            await pilot.pause()
            assert ids() == ["wave-demo"]
            await pilot.press(*"zzz")
            await pilot.pause()
            assert ids() == [] and "no scenario matches" in screen_text(app)

    run(go())


def test_opening_a_record_replays_its_plots_and_verdict(runs, tmp_path):
    path = write_record(tmp_path / "wave.jsonl", WAVE, {}, "20250101-000000-aaaaaa")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE], open_paths=[path])
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.pause(0.3)
            item = app.items[0]
            assert item.is_replay and item.status == "done" and item.verdict.passed
            assert item.replay_note == "re-checked: same verdict as recorded"
            await wait_for(pilot, lambda: all(t in screen_text(app) for t in (
                "PASS", "final loss 0.025", "signal")), timeout=30)

    run(go())


def test_the_records_screen_lists_records_and_opens_one(runs):
    write_record(runs / "x.jsonl", WAVE, {"steps": 10}, "20250101-000000-bbbbbb")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE])
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("R")
            await wait_for(pilot, lambda: "1 records in" in screen_text(app))
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.items)
            assert app.items[0].run_id == "20250101-000000-bbbbbb"

    run(go())


def test_comparing_two_runs_overlays_them_with_the_differing_params(runs, tmp_path):
    a = write_record(tmp_path / "a.jsonl", WAVE, {"steps": 10}, "20250101-000000-aaaaaa")
    b = write_record(tmp_path / "b.jsonl", WAVE, {"steps": 30}, "20250101-000001-bbbbbb")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE], open_paths=[a, b])
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: len(app.items) == 2)
            await pilot.pause(0.2)
            table = app.screen.runs_table
            table.focus()
            for row in (0, 1):
                table.move_cursor(row=row)
                await pilot.press("space")
            await pilot.press("o")
            await pilot.pause(0.3)
            plots = app.screen.plots
            assert len(plots.items) == 2
            assert [p for p, _ in plots.panels[0].sources] == ["A ", "B "]
            text = screen_text(app)
            assert "compare" in text and "A steps=10" in text and "B steps=30" in text
            assert "A loss" in text and "B loss" in text  # the legend

    run(go())


def test_log_y_with_non_positive_values_masks_them_with_a_notice(runs, tmp_path):
    path = write_record(tmp_path / "w.jsonl", WAVE, {}, "20250101-000000-aaaaaa")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE], open_paths=[path])
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.pause(0.2)
            await pilot.press("y")  # all panels flip: signal (sin, half <= 0) goes log
            await pilot.pause(0.3)
            signal = next(p for p in app.screen.plots.panels if p.panel.title == "signal")
            assert signal.logy
            assert any("values <= 0 hidden on log y" in n for n in signal.notices)
            assert "hidden on log y" in screen_text(app)
            await pilot.press("s")  # smoothing on top of it
            await pilot.pause(0.3)
            assert "ema 0.6" in screen_text(app)

    run(go())


def test_quit_asks_first_while_a_run_is_going(toy, runs):
    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[toy])
        async with app.run_test(size=(100, 30)) as pilot:
            await pick(pilot, "toy")
            await set_field(pilot, app, "steps", "100000")
            await set_field(pilot, app, "sleep", "0.01")
            await pilot.press("ctrl+r")
            await pilot.pause(0.2)
            app.screen.runs_table.focus()
            await pilot.press("q")
            await pilot.pause()
            assert "still going" in screen_text(app)
            await pilot.press("n")
            await pilot.pause()
            assert app.is_running and app.items[0].status == "running"
            await pilot.press("question_mark")
            await pilot.pause()
            assert "paramlab keys" in screen_text(app)
            await pilot.press("escape")
            await pilot.press("q", "y")  # quits: cancels the run, waits for its footer
        assert app.items[0].finished and app.items[0].status == "cancelled"
        assert read_record(app.items[0].path).footer["status"] == "cancelled"

    run(go())


def test_main_screen_at_100x30_matches_its_snapshot(runs, tmp_path):
    """Text snapshot (pytest-textual-snapshot pins pytest < 9, so we compare the screen's
    text). Refresh with PARAMLAB_UPDATE_SNAPSHOTS=1 after an intended change."""
    path = write_record(tmp_path / "wave.jsonl", WAVE, {}, "20250101-000000-aaaaaa")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE], open_paths=[path])
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.items and "^p palette" in screen_text(app))
            await pilot.pause(0.3)
            await wait_for(pilot, lambda: all(
                p.up_to_date for p in app.screen.plots.visible_panels))
            await pilot.pause(0.2)
            return screen_text(app)

    text = run(go())
    snap = SNAPSHOTS / "main_screen_100x30.txt"
    if os.environ.get("PARAMLAB_UPDATE_SNAPSHOTS") or not snap.exists():
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(text)
        if not os.environ.get("PARAMLAB_UPDATE_SNAPSHOTS"):
            pytest.skip("snapshot written; run again to compare")
    assert text == snap.read_text()


def test_no_color_gives_each_series_its_own_ascii_marker(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    path = write_record(tmp_path / "wave.jsonl", WAVE, {}, "20250101-000000-aaaaaa")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[WAVE], open_paths=[path])
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await wait_for(pilot, lambda: all(
                p.up_to_date for p in app.screen.plots.visible_panels))
            await pilot.pause(0.2)
            panel = app.screen.plots.panels[0]
            assert app.no_color and panel.markers and panel.theme == "clear"
            assert "** loss" in screen_text(app)  # legend with the series' marker

    run(go())


def test_start_up_objects_are_frozen_out_of_full_garbage_collections(toy, monkeypatch):
    import gc

    import paramlab.console.tui.app as app_module

    monkeypatch.setattr(app_module, "FREEZE_AFTER", 0.05)

    async def go():
        app = ParamlabApp(scenarios=[toy, WAVE])
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            assert gc.get_freeze_count() > 1000  # the app's modules and widgets

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        run(go())
    finally:
        gc.unfreeze()
