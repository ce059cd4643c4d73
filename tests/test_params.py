from __future__ import annotations

import pytest

from paramlab.scenarios import load
from paramlab.scenarios.base import ParamError


@pytest.fixture
def sc():
    return load("matrix-sensing-overparam")


def test_non_integer_is_rejected_with_name_value_and_range(sc):
    with pytest.raises(ParamError) as e:
        sc.make_params(overrides={"k": "abc"})
    assert str(e.value) == "k: expected an integer in [1, 50], got 'abc'"


def test_out_of_range_float_names_the_range(sc):
    with pytest.raises(ParamError) as e:
        sc.make_params(overrides={"lr": "2"})
    assert str(e.value) == "lr: expected a number in [0.01, 0.5], got '2'"


def test_choice_param_lists_the_choices(sc):
    with pytest.raises(ParamError, match="sensing: expected one of gaussian, identity"):
        sc.make_params(overrides={"sensing": "fourier"})


def test_unknown_param_suggests_the_closest(sc):
    with pytest.raises(ParamError, match="alpha: unknown parameter .did you mean alpha_"):
        sc.make_params(overrides={"alpha": "0.1"})


def test_cross_field_rule_k_at_least_r(sc):
    with pytest.raises(ParamError, match=r"k: expected an integer in \[r, n\] = \[3, 20\]"):
        sc.make_params(overrides={"r": "3", "k": "2"})


def test_strings_are_coerced_to_declared_types(sc):
    p = sc.make_params("quick", {"n": "12", "imbalance": "1/4", "T": "1e3"})
    assert (p.n, p.imbalance, p.T) == (12, 0.25, 1000)
    assert p.T == 1000 and isinstance(p.T, int)


def test_unknown_preset_lists_presets(sc):
    with pytest.raises(ParamError, match="unknown preset 'fast'; choose from default, quick"):
        sc.make_params("fast")


def test_every_problem_is_reported_at_once(sc):
    with pytest.raises(ParamError) as e:
        sc.make_params(overrides={"n": "5", "lr": "x"})
    assert len(str(e.value).splitlines()) == 2


def test_bool_param_accepts_words(toy):
    from dataclasses import dataclass

    from paramlab.scenarios.base import Params, param

    @dataclass(frozen=True)
    class P(Params):
        flag: bool = param(False, help="a flag")

    assert P.build({"flag": "yes"}).flag is True
    with pytest.raises(ParamError, match="flag: expected true or false, got 'maybe'"):
        P.build({"flag": "maybe"})
