"""The Plots view at 80x24 and 120x40 (Pilot): every panel readable -- its title (cut,
never dropped), >= 3 round ticks on each axis inside the frame, one marker per series in
a legend below the data -- paging when the panels do not fit, `m` to maximise."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from test_app import run, screen_text, wait_for, write_record

from paramlab.console.tui.app import ParamlabApp
from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Table,
    Verdict,
    param,
)

LONG = "final training loss against the width of the network under three parametrizations"


@dataclass(frozen=True)
class LayoutParams(Params):
    steps: int = param(60, range=(2, 1000), help="number of steps")


def layout_run(p: LayoutParams, ctx):
    for t in range(1, p.steps + 1):
        w = 2.0 ** (t / 6)
        yield Metric(t, {"width": w, "sp": 3.0 / w**0.5, "ntk": 1.0 / w, "mup": 0.5 / w**0.25,
                         "acc": 38.2 + 74.6 * t / p.steps, "acc_b": 60.0 - 0.2 * t})
    yield Table("methods", ["TA", "TIES", "DARE", "PCB"], ["t1", "t2", "t3"],
                [[0.8, 0.7, 0.6], [0.85, 0.75, 0.5], [0.6, 0.65, 0.7], [0.9, 0.8, 0.75]])


def layout_check(history, p) -> Verdict:
    return Verdict((Criterion.at_most("final ntk", history.last("ntk"), 1.0),), "ok")


LAYOUT = Scenario(
    params=LayoutParams, run=layout_run, check=layout_check,
    panels=(Panel(LONG, series=("sp", "ntk", "mup"), x="width", logx=True, logy=True),
            Panel("accuracy (%)", series=("acc", "acc_b"), xlabel="step"),
            Panel("merging methods", kind="bars", table="methods")),
    presets={"quick": {"steps": 20}}, key_metric="ntk", total_steps=lambda p: p.steps,
    meta=ScenarioMeta(id="layout-demo", title="Layout", theme="demo",
                      paper=Paper("Layouts", "A. Author", 2024), claim="panels read",
                      entry_point="test_app_layout:LAYOUT"),
    paper_reports="-")


def panel_text(panel) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in panel._strips]


def assert_readable(panel) -> None:
    lines = panel_text(panel)
    title, name = lines[0].strip(), panel.panel.title
    assert title and title.split(" [")[0].rstrip("~") in name, (name, lines[0])
    top = next(i for i, x in enumerate(lines) if "┌" in x)
    bottom = next(i for i, x in enumerate(lines) if "└" in x)
    frame = lines[top:bottom + 1]
    if panel.panel.kind == "line":
        assert sum("┤" in x for x in frame) >= 3, "\n".join(lines)
        assert lines[bottom].count("┬") >= 3, "\n".join(lines)
        legend = [x for x in lines[bottom + 1:] if x[:2] in ("**", "++", "oo")]
        n = len(panel.panel.series)
        assert len({x[:2] for x in legend}) == n, "\n".join(lines)  # distinct markers
        inside = "\n".join(frame)
        assert not any(x[:2] + " " in inside and x[3:8] in inside for x in legend)
    else:
        assert any(x.startswith("## TA") for x in lines[bottom:]), "\n".join(lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_every_panel_is_readable_at_80x24_and_120x40(size, runs, tmp_path):
    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {}, "20250101-000000-cccccc")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        seen: dict[str, list[str]] = {}
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.press("2")
            plots = app.screen.plots
            for _ in range(plots.pages):
                await wait_for(pilot, lambda: plots.visible_panels and all(
                    p.up_to_date and p._strips for p in plots.visible_panels))
                for p in plots.visible_panels:
                    assert_readable(p)
                    seen[p.panel.title] = panel_text(p)
                await pilot.press("right_square_bracket")
            text = screen_text(app)
            return seen, plots.pages, text

    seen, pages, text = run(go())
    assert set(seen) == {p.title for p in LAYOUT.panels}  # every panel was on some page
    if size == (80, 24):
        assert pages == 3 and "of 3" in text
    else:
        assert pages == 1
    snap = os.environ.get("PARAMLAB_SHOW_LAYOUT")
    if snap:
        print("\n\n".join("\n".join(v) for v in seen.values()))


def test_hidden_pages_are_drawn_ahead_so_flipping_shows_pictures_at_once(
        runs, tmp_path, monkeypatch):
    from paramlab.console.tui.widgets import plot_panel

    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {}, "20250101-000000-cccccc")
    builds: list[str] = []
    original = plot_panel.PlotPanel._build

    async def counted(self, key):
        builds.append(self.panel.title)
        await original(self, key)

    monkeypatch.setattr(plot_panel.PlotPanel, "_build", counted)

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.press("2")
            plots = app.screen.plots
            assert plots.pages == 3
            # the hidden pages get pictures at the shown panel's size, ahead of a flip
            await wait_for(pilot, lambda: all(
                p._drawn is not None and not p._building and
                p._drawn[1:3] == tuple(plots.visible_panels[0].size) for p in plots.panels))
            before = list(builds)
            for _ in range(2 * plots.pages):  # two rounds: nothing is drawn again
                await pilot.press("right_square_bracket")
                await pilot.pause(0.1)
                assert all(p.up_to_date and p._strips for p in plots.visible_panels)
            return before, builds

    before, builds = run(go())
    assert set(before) == {p.title for p in LAYOUT.panels}
    assert builds == before


def test_m_maximises_the_focused_panel_and_escape_returns(runs, tmp_path):
    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {}, "20250101-000000-cccccc")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.press("2")
            await pilot.pause(0.2)
            await pilot.press("m")
            await pilot.pause(0.2)
            maxed = app.screen.maximized
            assert maxed is not None and maxed is app.screen.plots.visible_panels[0]
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert app.screen.maximized is None

    run(go())


def test_arrow_keys_move_a_cursor_along_x_with_every_series_value(runs, tmp_path):
    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {}, "20250101-000000-cccccc")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.press("2")
            panel = next(p for p in app.screen.plots.visible_panels
                         if p.panel.title == "accuracy (%)")
            panel.focus()
            await pilot.press("end")  # the last step: 60 (default params)
            await pilot.press("left", "left", "left")
            await wait_for(pilot, lambda: panel.up_to_date and any(
                x.startswith("> step") for x in panel_text(panel)))
            readout = next(x for x in panel_text(panel) if x.startswith("> step"))
            at = panel.cursor
            await pilot.press("m")  # maximised, the cursor stays; esc hides it, then
            await pilot.pause(0.1)  # a second esc leaves the maximised view
            await pilot.press("escape")
            await wait_for(pilot, lambda: panel.up_to_date)
            gone = not any(x.startswith("> step") for x in panel_text(panel))
            still_max = app.screen.maximized is panel
            await pilot.press("escape")
            await pilot.pause(0.1)
            return readout, at, gone, still_max, app.screen.maximized

    readout, at, gone, still_max, maxed = run(go())
    assert at == 57.0
    # acc = 38.2 + 74.6 * t / 60 at t = 57: 109.07; acc_b = 60 - 0.2 t: 48.6
    assert "> step 57:" in readout and "* acc 109.1" in readout and "+ acc_b 48.6" in readout
    assert gone, "cursor still shown"
    assert still_max and maxed is None, (still_max, maxed)


def test_export_command_line_and_verdict_table(runs, tmp_path):
    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {"steps": 30},
                        "20250101-000000-dddddd")

    async def go():
        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        async with app.run_test(size=(120, 44)) as pilot:
            await wait_for(pilot, lambda: app.items)
            await pilot.press("2")
            await pilot.pause(0.3)
            item = app.items[0]
            assert item.command_line() == "paramlab run layout-demo --seed 0 --set steps=30"
            assert item.changed_params() == {"steps": 30}
            await wait_for(pilot, lambda: "final ntk" in screen_text(app))  # verdict table
            text = screen_text(app)
            assert "criterion" in text and "threshold" in text
            await pilot.press("v")
            await wait_for(pilot, lambda: "criterion " not in screen_text(app))
            await pilot.press("e")
            await pilot.pause(0.3)
            await pilot.press("3")
            await wait_for(pilot, lambda: "repeat it: paramlab run layout-demo" in
                           screen_text(app))

    run(go())
    csvs = sorted(tmp_path.glob("layout.*.csv"))
    assert [c.name for c in csvs] == ["layout.final-training-loss-against-the-width-of.csv"]
    lines = csvs[0].read_text().splitlines()
    assert lines[0] == "series,width,value" and len(lines) == 1 + 3 * 30
    verdict = (tmp_path / "layout.verdict.json").read_text()
    assert '"status": "done"' in verdict and "final ntk" in verdict


def test_toasts_appear_at_the_top_not_over_the_runs_table(runs, tmp_path):
    path = write_record(tmp_path / "layout.jsonl", LAYOUT, {}, "20250101-000000-eeeeee")

    async def go():
        from textual.widgets._toast import Toast

        app = ParamlabApp(runs_dir=runs, scenarios=[LAYOUT], open_paths=[path])
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await wait_for(pilot, lambda: app.items)
            app.notify("hello there", timeout=10)
            await wait_for(pilot, lambda: list(app.screen.query(Toast)))
            await pilot.pause(0.2)
            toast = app.screen.query(Toast).first()
            table = app.screen.runs_table
            assert toast.region.bottom <= table.region.y, (toast.region, table.region)

    run(go())
