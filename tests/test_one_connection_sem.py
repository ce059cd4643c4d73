from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.linalg import sem

SID = "one-connection-sem"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_acyclic_trek_rule_on_cyclic_graphs_fails_the_error_check():
    h = run_to_end({"closed_form": "acyclic-trek"})
    assert not h.verdict.passed
    assert max(h.history.series("rel_error")[1]) > 1e-6


def test_closed_form_is_exact_in_rational_arithmetic():
    sympy = pytest.importorskip("sympy")
    g = sem.MixedGraph(4, ((0, 1), (1, 2), (2, 0), (2, 3)), ((0, 3),))
    F = Fraction
    L = np.array([[F(0)] * 4 for _ in range(4)], dtype=object)
    L[0, 1], L[1, 2], L[2, 0], L[2, 3] = F(1, 2), F(-1, 3), F(2, 5), F(3, 7)
    W = np.array([[F(0)] * 4 for _ in range(4)], dtype=object)
    for i, v in enumerate((F(2), F(1), F(3, 2), F(5, 4))):
        W[i, i] = v
    W[0, 3] = W[3, 0] = F(1, 4)
    S = sem.covariance_closed_form(L, W, g)

    def sym(M):
        return sympy.Matrix(4, 4, lambda i, j: sympy.Rational(M[i, j].numerator,
                                                              M[i, j].denominator))
    A = (sympy.eye(4) - sym(L)).inv()
    ref = A.T * sym(W) * A
    assert all(sympy.Rational(S[i, j].numerator, S[i, j].denominator) == ref[i, j]
               for i in range(4) for j in range(4))


def test_cycle_determinant_matches_numpy_on_a_graph_with_two_disjoint_cycles():
    g = sem.MixedGraph(4, ((0, 1), (1, 0), (2, 3), (3, 2), (1, 2)))
    rng = np.random.default_rng(0)
    L, _ = sem.random_parameters(rng, g, 0.6)
    assert np.isclose(sem.cycle_determinant(L, g, frozenset(range(4))),
                      np.linalg.det(np.eye(4) - L))


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(1)
    g = sem.random_simple_graph(rng, 5, 0.5, 0.2)
    L, W = sem.random_parameters(rng, g, 0.5)
    J = sem.jacobian(L, W, g)
    iu = sem.vech_indices(5)
    k, j = g.directed[0]
    eps = 1e-6
    Lp, Lm = L.copy(), L.copy()
    Lp[k, j] += eps
    Lm[k, j] -= eps
    fd = (sem.covariance_inverse(Lp, W)[iu] - sem.covariance_inverse(Lm, W)[iu]) / (2 * eps)
    assert np.allclose(J[:, 0], fd, atol=1e-7)


def test_random_graphs_are_simple_and_cyclic():
    rng = np.random.default_rng(2)
    for _ in range(20):
        g = sem.random_simple_graph(rng, 5, 0.45, 0.2)
        assert g.is_simple and g.has_directed_cycle
    assert not sem.CONTRASTS["bow2"].is_simple
