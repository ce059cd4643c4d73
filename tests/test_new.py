"""`paramlab new ID` writes a skeleton that passes the contract and whose control fails."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from paramlab.console.cli import main
from paramlab.scenarios import registry
from paramlab.scenarios.base import Paper, ScenarioMeta

ROOT = Path(__file__).resolve().parents[1]


def tree(tmp_path: Path) -> Path:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "scenarios" / "catalog.py", tmp_path / "scenarios" / "catalog.py")
    return tmp_path


def test_new_writes_module_test_and_catalog_entry_that_pass_the_contract(tmp_path, capsys):
    root = tree(tmp_path)
    assert main(["new", "demo-effect", "--root", str(root), "--title", "A demo"]) == 0
    module = root / "scenarios" / "demo_effect.py"
    assert module.is_file() and (root / "tests" / "test_demo_effect.py").is_file()
    catalog = (root / "scenarios" / "catalog.py").read_text()
    ast.parse(catalog)
    assert "id='demo-effect'" in catalog and catalog.count("ScenarioMeta(") == 20
    # load it as a plug-in would, and hold it to the contract
    sys.path.insert(0, str(module.parent))
    try:
        meta = ScenarioMeta("demo-effect-skeleton", "A demo", "demo", Paper("P", "A", 2026),
                            "falls", entry_point="demo_effect:SCENARIO")
        registry.register(meta)
        sc = registry.load(meta.id)
        for name in sc.preset_names():
            sc.make_params(name)
        from scenario_runs import failed_paper, run_to_end

        h = run_to_end(meta.id)
        assert h.verdict.passed and h.step == sc.total_steps(h.params)
        assert all(s in h.history for p in sc.panels for s in p.series)
        assert sc.paper_reports and sc.paper_rows and sc.status
        control = run_to_end(meta.id, {"rate": 0.0})
        assert failed_paper(control) == {"final loss (mean of the last 10 steps)"}
    finally:
        sys.path.remove(str(module.parent))
        sys.modules.pop("demo_effect", None)
        registry._REGISTRY.pop("demo-effect-skeleton", None)
        registry._LOADED.pop("demo-effect-skeleton", None)


@pytest.mark.parametrize("sid, message", [("Bad_Id", "lower-case words"),
                                          ("matrix-sensing-overparam", "exists already")])
def test_new_refuses_bad_or_taken_ids(tmp_path, capsys, sid, message):
    root = tree(tmp_path)
    before = (root / "scenarios" / "catalog.py").read_text()
    assert main(["new", sid, "--root", str(root)]) == 2
    assert message in capsys.readouterr().err
    assert (root / "scenarios" / "catalog.py").read_text() == before


def test_new_outside_a_source_tree_is_a_one_line_error(tmp_path, capsys):
    assert main(["new", "demo-x", "--root", str(tmp_path)]) == 2
    assert "run `paramlab new` from the source tree's root" in capsys.readouterr().err
