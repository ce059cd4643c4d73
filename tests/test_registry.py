from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from paramlab.scenarios import UnknownScenario, all_meta, get_meta, load


def test_builtin_scenario_is_listed_with_paper_and_claim():
    ids = [m.id for m in all_meta()]
    assert "matrix-sensing-overparam" in ids
    m = get_meta("matrix-sensing-overparam")
    assert m.paper.arxiv == "2310.01769" and m.paper.year == 2023 and m.claim


def test_unknown_id_suggests_the_closest_ids():
    with pytest.raises(UnknownScenario) as e:
        get_meta("matrix-sensing-overparm")
    assert "did you mean matrix-sensing-overparam" in str(e.value)


def test_load_attaches_the_registered_metadata():
    sc = load("matrix-sensing-overparam")
    assert sc.meta is not None and sc.meta.id == "matrix-sensing-overparam"
    assert sc.preset_names() == ["default", "quick"]


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=60)


def test_listing_imports_neither_numpy_nor_torch():
    out = _run_python("""
        import sys, io, contextlib
        from paramlab.console.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as buf:
            assert main(["list"]) == 0
            assert main(["show", "matrix-sensing-overparam"]) == 0
        assert "matrix-sensing-overparam" in buf.getvalue()
        heavy = [m for m in ("numpy", "torch", "textual", "plotext", "scipy") if m in sys.modules]
        print("HEAVY", heavy)
    """)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


def test_third_party_scenarios_register_through_entry_points(tmp_path):
    # a fake installed distribution whose entry point names a ScenarioMeta
    (tmp_path / "myplug.py").write_text(textwrap.dedent("""
        from paramlab.scenarios.base import Paper, ScenarioMeta
        META = ScenarioMeta(id="my-plugin-scenario", title="t", theme="plugins",
                            paper=Paper("P", "A", 2024), claim="c",
                            entry_point="myplug_impl:SCENARIO")
    """))
    dist = tmp_path / "myplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[paramlab.scenarios]\nmine = myplug:META\n")
    out = _run_python("""
        from paramlab.scenarios import all_meta
        print([m.id for m in all_meta()])
    """, PYTHONPATH=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "my-plugin-scenario" in out.stdout and "matrix-sensing-overparam" in out.stdout


def test_a_broken_plugin_is_skipped_with_a_warning(tmp_path):
    dist = tmp_path / "broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[paramlab.scenarios]\nbad = no_such_mod:META\n")
    out = _run_python("""
        from paramlab.scenarios import all_meta
        print(len(all_meta()))
    """, PYTHONPATH=str(tmp_path))
    assert out.returncode == 0
    assert "skipping scenario plug-in 'bad'" in out.stderr
