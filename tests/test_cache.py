"""The artifact cache behind RunContext.cached (console/core/cache.py)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from paramlab.console.core.cache import FileCache, cache_for
from paramlab.scenarios.base import RunContext


def _builder(calls: list[int], seed: int = 0):
    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        rng = np.random.default_rng(seed)
        return {"w": rng.standard_normal((7, 5)).astype(np.float32),
                "b": rng.standard_normal(5)}
    return build


def test_second_get_returns_identical_arrays_without_building(tmp_path):
    calls: list[int] = []
    cache = FileCache(tmp_path)
    first = cache.get("backbone", {"width": 7, "seed": 0}, _builder(calls))
    again = FileCache(tmp_path).get("backbone", {"width": 7, "seed": 0}, _builder(calls))
    assert len(calls) == 1
    assert set(again) == {"w", "b"}
    for k in first:
        assert again[k].dtype == first[k].dtype
        assert np.array_equal(again[k], first[k])  # bitwise, not approximately
    assert list(tmp_path.glob("*.part")) == []


def test_changed_recipe_rebuilds(tmp_path):
    calls: list[int] = []
    cache = FileCache(tmp_path)
    a = cache.get("backbone", {"width": 7, "seed": 0}, _builder(calls, 0))
    b = cache.get("backbone", {"width": 7, "seed": 1}, _builder(calls, 1))
    assert len(calls) == 2
    assert not np.array_equal(a["w"], b["w"])
    assert len(list(tmp_path.glob("backbone-*.safetensors"))) == 2


def test_changed_code_rebuilds(tmp_path):
    src = tmp_path / "recipe_mod.py"

    def load():
        spec = importlib.util.spec_from_file_location("recipe_mod", src)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    src.write_text("import numpy as np\ndef build():\n    return {'w': np.ones(3)}\n")
    cache = FileCache(tmp_path / "c")
    assert cache.get("m", {}, load().build)["w"].tolist() == [1, 1, 1]
    src.write_text("import numpy as np\ndef build():\n    return {'w': np.zeros(3)}\n")
    assert cache.get("m", {}, load().build)["w"].tolist() == [0, 0, 0]
    assert cache.builds == 2


def test_corrupt_file_is_rebuilt(tmp_path):
    calls: list[int] = []
    cache = FileCache(tmp_path)
    good = cache.get("bb", {"n": 1}, _builder(calls))
    (path,) = tmp_path.glob("bb-*.safetensors")
    path.write_bytes(path.read_bytes()[:20])
    again = cache.get("bb", {"n": 1}, _builder(calls))
    assert len(calls) == 2
    assert np.array_equal(again["w"], good["w"])
    assert FileCache(tmp_path).get("bb", {"n": 1}, _builder(calls))["w"].shape == (7, 5)
    assert len(calls) == 2  # the rebuilt file is whole again


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_unwritable_folder_builds_every_time(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        calls: list[int] = []
        cache = FileCache(ro / "cache")
        cache.get("bb", {}, _builder(calls))
        cache.get("bb", {}, _builder(calls))
        assert len(calls) == 2
    finally:
        ro.chmod(0o700)


def test_run_context_uses_the_cache_or_builds(tmp_path):
    calls: list[int] = []
    RunContext(0).cached("bb", {}, _builder(calls))
    RunContext(0).cached("bb", {}, _builder(calls))
    assert len(calls) == 2  # no cache: always built
    ctx = RunContext(0, cache=cache_for(tmp_path))
    ctx.cached("bb", {}, _builder(calls))
    RunContext(1, cache=cache_for(tmp_path)).cached("bb", {}, _builder(calls))
    assert len(calls) == 3
    assert cache_for(None) is None
    assert list((tmp_path / ".cache").glob("bb-*.safetensors"))


BUILDS: list[int] = []


def _cached_run(p, ctx):
    from paramlab.scenarios.base import Metric

    def build():
        BUILDS.append(1)
        return {"w": np.arange(4.0) + p.steps}

    w = ctx.cached("toy-backbone", {"steps": p.steps}, build)["w"]
    yield Metric(0, {"loss": float(w.sum()), "acc": 0.0})


def test_runs_from_the_runner_share_the_runs_folder_cache(toy, runs):
    from dataclasses import replace

    from paramlab.console.core.runner import Runner

    sc = replace(toy, run=_cached_run)
    BUILDS.clear()
    runner = Runner(runs)
    losses = []
    for seed in (0, 1):
        h = runner.start(sc, {"steps": 3}, seed=seed, device="cpu")
        h.wait(30)
        assert h.status == "done", h.error
        losses.append(h.history.last("loss"))
    assert BUILDS == [1]
    assert losses == [18.0, 18.0]
    assert list((runs / ".cache").glob("toy-backbone-*.safetensors"))
    h = Runner(runs, record=False).start(sc, {"steps": 3}, seed=0, device="cpu")
    h.wait(30)
    assert BUILDS == [1, 1]  # not recording: no runs folder, no cache
