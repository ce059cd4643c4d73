"""The console's sweep screen (`w` on a scenario card), driven with Textual's Pilot."""

from __future__ import annotations

import asyncio
import json

import pytest
from test_app import pick, screen_text, set_field, wait_for

from paramlab.console.tui.app import ParamlabApp
from paramlab.console.tui.screens.sweep import SweepScreen


@pytest.fixture
def toy(registered_sweep_toy):
    return registered_sweep_toy


async def type_into(pilot, screen, node_id: str, text: str) -> None:
    screen.query_one(f"#{node_id}").value = text
    await pilot.pause()


def test_a_sweep_from_the_card_runs_its_points_and_shows_the_summary(toy, tmp_path):
    async def go():
        app = ParamlabApp(runs_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pick(pilot, "sweep-toy")
            await set_field(pilot, app, "steps", "30")  # a fixed --set of the sweep
            await pilot.press("escape", "w")
            screen = app.screen
            assert isinstance(screen, SweepScreen)
            assert screen.sets == {"steps": "30"}
            await type_into(pilot, screen, "sw-grid", "scale=0.5,2,20")
            await type_into(pilot, screen, "sw-seeds", "0-1")
            await type_into(pilot, screen, "sw-workers", "2")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.sweep is not None and screen.sweep.finished,
                           timeout=60)
            await pilot.pause(1.2)  # a poll of the screen after the end
            sweep = screen.sweep
            points = sweep.snapshot()
            assert len(points) == 6 and {p.status for p in points} == {"done"}
            assert all(p.params["steps"] == 30 for p in points)
            # scale 20 ends above the 0.5 threshold (20/30): FAIL there, PASS at 0.5 and 2
            verdicts = {(p.overrides["scale"], p.verdict) for p in points}
            assert verdicts == {(0.5, "PASS"), (2.0, "PASS"), (20.0, "FAIL")}
            text = screen_text(app)
            assert "sweep 6/6 points" in text and "finished" in text and "4/6 passed" in text
            assert "final loss vs scale" in text  # the summary panel's title
            table = screen.query_one("#sw-points")
            assert table.row_count == 6
            manifest = json.loads((sweep.directory / "sweep.json").read_text())
            assert manifest["state"] == "finished"
            assert sweep.directory.parent == tmp_path / "sweeps"
            await pilot.press("escape")
            assert not isinstance(app.screen, SweepScreen)

    asyncio.run(go())


def test_bad_sweep_input_shows_the_clis_message_and_starts_nothing(toy, tmp_path):
    async def go():
        app = ParamlabApp(runs_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pick(pilot, "sweep-toy")
            await pilot.press("escape", "w")
            screen = app.screen
            await type_into(pilot, screen, "sw-grid", "scale=0.5,abc")
            await pilot.press("ctrl+s")
            error = str(screen.query_one("#sw-error").content)
            assert error.startswith("--grid 'scale=0.5,abc'") and "\n" not in error
            await type_into(pilot, screen, "sw-grid", "")
            await pilot.press("ctrl+s")
            assert str(screen.query_one("#sw-error").content).startswith("nothing to sweep")
            await type_into(pilot, screen, "sw-grid", "scale=1")
            await type_into(pilot, screen, "sw-seeds", "4-1")
            await pilot.press("ctrl+s")
            assert "--seeds '4-1'" in str(screen.query_one("#sw-error").content)
            assert screen.sweep is None and not (tmp_path / "sweeps").exists()

    asyncio.run(go())


def test_cancelling_a_sweep_marks_its_points_and_keeps_a_valid_manifest(toy, tmp_path):
    async def go():
        app = ParamlabApp(runs_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pick(pilot, "sweep-toy")
            await set_field(pilot, app, "steps", "100000")
            await set_field(pilot, app, "sleep", "0.01")
            await pilot.press("escape", "w")
            screen = app.screen
            await type_into(pilot, screen, "sw-grid", "scale=1,2,3,4")
            await type_into(pilot, screen, "sw-workers", "2")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.sweep.progress().running > 0, timeout=60)
            await pilot.press("escape")  # refused while it runs
            assert app.screen is screen
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.sweep.finished, timeout=60)
            manifest = json.loads((screen.sweep.directory / "sweep.json").read_text())
            statuses = {p["status"] for p in manifest["points"]}
            assert manifest["state"] == "interrupted" and "done" not in statuses
            assert statuses <= {"cancelled", "pending"} and "cancelled" in statuses
            await pilot.pause(0.6)
            assert "cancelled" in screen_text(app)

    asyncio.run(go())


def test_a_param_edited_in_the_form_can_be_swept_and_the_preset_stays(toy, tmp_path):
    async def go():
        app = ParamlabApp(runs_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pick(pilot, "sweep-toy")
            await set_field(pilot, app, "scale", "3")  # edited, then swept below
            await pilot.press("escape", "w")
            screen = app.screen
            assert isinstance(screen, SweepScreen) and screen.sets.get("scale") == "3"
            preset = screen.preset
            await type_into(pilot, screen, "sw-grid", "scale=0.5,2")
            spec, _ = screen.parse()
            assert spec.grid == {"scale": [0.5, 2.0]} and "scale" not in spec.sets
            assert spec.preset == preset

    asyncio.run(go())
