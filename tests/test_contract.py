"""The scenario contract, checked for every built-in scenario on one quick run each:

- the module loads through the registry and every preset builds;
- a quick run emits every series a panel draws (a trailing '*' is a prefix), every x other
  than "step", every table a bars panel draws, the key metric and each watched series;
- the last Metric's step equals `total_steps(params)` (when the scenario gives one);
- the scenario says what the paper reports.

And the registry's side of it: a catalog entry whose module does not import is a one-line
ScenarioLoadError.
"""

from __future__ import annotations

import functools

import pytest
from scenario_runs import run_to_end

from paramlab.scenarios import registry
from paramlab.scenarios.base import Paper, ScenarioMeta

BUILTIN = [m.id for m in registry.all_meta() if not m.entry_point]


@functools.cache
def quick_run(sid):
    """One quick run per scenario, shared by the tests below."""
    return run_to_end(sid, preset="quick")


def _has_series(history, name: str) -> bool:
    if name.endswith("*"):
        return any(n.startswith(name[:-1]) for n in history.names())
    return name in history


def test_every_catalog_entry_is_a_builtin_module():
    assert len(BUILTIN) == 48
    for sid in BUILTIN:
        meta = registry.get_meta(sid)
        assert registry.module_for(meta) == \
            f"paramlab.scenarios.{sid.replace('-', '_')}:SCENARIO"


@pytest.mark.parametrize("sid", BUILTIN)
def test_loads_with_every_preset_and_says_what_the_paper_reports(sid):
    sc = registry.load(sid)
    assert sc.meta is not None and sc.meta.id == sid
    assert "quick" in sc.presets
    for name in sc.preset_names():
        sc.make_params(name)
    assert sc.paper_reports.strip()
    assert sc.status.strip()


@pytest.mark.parametrize("sid", BUILTIN)
def test_a_quick_run_emits_what_the_panels_draw(sid):
    sc = registry.load(sid)
    hist = quick_run(sid).history
    missing = []
    for panel in sc.panels:
        if panel.kind == "bars":
            if panel.table not in hist.tables:
                missing.append(f"{panel.title!r}: table {panel.table!r}")
            continue
        for name in panel.series:
            if not _has_series(hist, name):
                missing.append(f"{panel.title!r}: series {name!r}")
        if panel.x != "step" and panel.x not in hist:
            missing.append(f"{panel.title!r}: x {panel.x!r}")
    assert not missing, missing


@pytest.mark.parametrize("sid", BUILTIN)
def test_key_metric_and_watched_series_are_emitted(sid):
    sc = registry.load(sid)
    hist = quick_run(sid).history
    assert sc.key_metric and sc.key_metric in hist
    assert [w for w in sc.watch if w not in hist] == []


@pytest.mark.parametrize("sid", BUILTIN)
def test_the_last_step_is_total_steps(sid):
    sc = registry.load(sid)
    h = quick_run(sid)
    total = sc.total_steps(h.params)
    if total is None:
        pytest.skip("no total_steps")
    assert h.history.last_step == total


@pytest.mark.parametrize("sid", BUILTIN)
def test_a_quick_run_has_a_verdict(sid):
    v = quick_run(sid).verdict
    assert v is not None and v.criteria and v.summary


# ------------------------------------------------------------------ bad catalog entries


@pytest.fixture
def registered():
    """Register metadata for one test; the registry is left as it was."""
    ids = []

    def add(meta: ScenarioMeta) -> str:
        registry.register(meta)
        ids.append(meta.id)
        return meta.id

    yield add
    for sid in ids:
        registry._REGISTRY.pop(sid, None)
        registry._LOADED.pop(sid, None)


def _meta(sid: str, entry_point: str = "") -> ScenarioMeta:
    return ScenarioMeta(id=sid, title="t", theme="test", paper=Paper("P", "A", 2024),
                        claim="c", entry_point=entry_point)


def test_a_catalog_entry_without_its_module_is_a_one_line_load_error(registered):
    sid = registered(_meta("no-such-scenario-here"))
    with pytest.raises(registry.ScenarioLoadError) as e:
        registry.load(sid)
    msg = str(e.value)
    assert msg.startswith("scenario 'no-such-scenario-here': cannot import "
                          "paramlab.scenarios.no_such_scenario_here: ModuleNotFoundError: ")
    assert "\n" not in msg
    assert isinstance(e.value, Exception) and not isinstance(e.value, ImportError)
    assert "no-such-scenario-here" not in registry._LOADED


def test_a_module_without_a_scenario_is_a_one_line_load_error(registered):
    sid = registered(_meta("not-a-scenario", "paramlab.scenarios.measure:SCENARIO"))
    with pytest.raises(registry.ScenarioLoadError) as e:
        registry.load(sid)
    assert str(e.value) == ("scenario 'not-a-scenario': paramlab.scenarios.measure.SCENARIO "
                            "is nothing, not a Scenario")


def test_a_module_that_raises_on_import_is_a_one_line_load_error(registered, tmp_path,
                                                                 monkeypatch):
    (tmp_path / "broken_scenario_mod.py").write_text("raise RuntimeError('first\\nsecond')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sid = registered(_meta("broken-module", "broken_scenario_mod:SCENARIO"))
    with pytest.raises(registry.ScenarioLoadError) as e:
        registry.load(sid)
    assert str(e.value) == ("scenario 'broken-module': cannot import broken_scenario_mod: "
                            "RuntimeError: first")


# ------------------------------------------------------------------ layering


def test_engines_import_neither_scenarios_nor_console():
    import ast
    from pathlib import Path

    import paramlab.engines

    root = Path(paramlab.engines.__file__).parent
    bad = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            bad += [f"{path.relative_to(root)}: {n}" for n in names
                    if n.startswith(("paramlab.scenarios", "paramlab.console"))]
    assert len(list(root.rglob("*.py"))) > 25 and bad == []
