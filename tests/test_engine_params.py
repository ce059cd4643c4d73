"""The one parameter system (engines/params.py): coercion, ranges, seeds."""

from __future__ import annotations

import pytest

from paramlab.engines.params import ParamError, ParamSpec, check_seed, validate


def test_a_fraction_with_zero_denominator_is_a_param_error_not_a_crash():
    spec = ParamSpec.of("lr", 0.1, "step size", range=(0.0, 1.0))
    with pytest.raises(ParamError, match=r"lr: expected a number in \[0, 1\], got '1/0'"):
        spec.coerce("1/0")


def test_half_open_range_excludes_its_open_end():
    spec = ParamSpec.of("p", 0.5, "drop probability", range=(0.0, 1.0), closed="left")
    assert spec.coerce("0") == 0.0
    with pytest.raises(ParamError, match=r"in \[0, 1\)"):
        spec.coerce(1.0)


@pytest.mark.parametrize("bad", [-1, "-1", 1.5, "abc", 2**63, True, None, "1e29"])
def test_seeds_outside_what_every_engine_accepts_are_rejected(bad):
    with pytest.raises(ParamError, match="seed: expected an integer"):
        check_seed(bad)


def test_valid_seeds_come_back_as_ints():
    assert check_seed("7") == 7
    assert check_seed(2**63 - 1) == 2**63 - 1


def test_validate_collects_every_problem_with_the_owner_named():
    specs = {"k": ParamSpec.of("k", 2, "kept", range=(1, 5))}
    with pytest.raises(ParamError) as err:
        validate(specs, {"k": 9, "kk": 1}, owner="ties")
    lines = str(err.value).splitlines()
    assert lines[0].startswith("ties: k: expected an integer in [1, 5]")
    assert lines[1].startswith("ties: kk: unknown parameter (did you mean k?)")
