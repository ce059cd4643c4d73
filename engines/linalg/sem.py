"""Linear structural equation models on mixed graphs, directed cycles allowed.

A mixed graph G = (V, D, B) has directed edges k -> j (weights Lambda[k, j]) and
bidirected edges k <-> l (error covariances Omega[k, l]). The model X = Lambda^T X + eps,
Cov(eps) = Omega, has covariance

    Sigma = (I - Lambda)^{-T} Omega (I - Lambda)^{-1}.                                (1)

Closed form (Adhikari, Gross, Harkonen, Tsigaridas, arXiv 2210.00239): every entry of
(I - Lambda)^{-1} is a sum over the simple directed paths P from k to i, each weighted by
the determinant of I - Lambda on the vertices P avoids,

    [(I - Lambda)^{-1}]_{ki} = sum_{P: k -> i} w(P) det(I - Lambda)_{V \\ P} / det(I - Lambda),

and each determinant expands over collections of vertex-disjoint directed cycles,
det(I - Lambda)_S = sum_{C_1..C_m disjoint in S} prod_j (-w(C_j)). Pairing a path into i
with a path into j through Omega[k, l] gives Sigma_ij as a sum over these "one-connections"
divided by det(I - Lambda)^2. With no directed cycle every determinant is 1 and this is the
classical trek rule; `covariance_closed_form(..., acyclic=True)` applies that rule even to
cyclic graphs (the broken variant: it ignores the feedback).

The arithmetic is plain Python on the entries, so Lambda and Omega may be float arrays or
object arrays of fractions.Fraction (exact rational check).

Generic finite-to-one-ness is tested by the rank of the Jacobian of the parametrization
theta = (Lambda_D, diag Omega, Omega_B) -> vech(Sigma) at random theta, from the exact
differential dSigma = M^T dLambda^T Sigma + Sigma dLambda M with M = (I - Lambda)^{-1}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

import numpy as np

Edge = tuple[int, int]


@dataclass(frozen=True)
class MixedGraph:
    n: int
    directed: tuple[Edge, ...]  # (k, j): k -> j
    bidirected: tuple[Edge, ...] = field(default=())  # (k, l) with k < l

    @property
    def n_params(self) -> int:
        return len(self.directed) + self.n + len(self.bidirected)

    @property
    def is_simple(self) -> bool:
        """At most one edge (of either kind, in either direction) between two vertices."""
        pairs = [tuple(sorted(e)) for e in (*self.directed, *self.bidirected)]
        return len(pairs) == len(set(pairs))

    @cached_property
    def children(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n)]
        for k, j in self.directed:
            out[k].append(j)
        return out

    @cached_property
    def cycles(self) -> list[tuple[int, ...]]:
        """Every simple directed cycle once, listed from its smallest vertex."""
        out = []

        def extend(path: list[int], on: set[int]) -> None:
            for j in self.children[path[-1]]:
                if j == path[0]:
                    out.append(tuple(path))
                elif j > path[0] and j not in on:
                    path.append(j)
                    on.add(j)
                    extend(path, on)
                    on.discard(j)
                    path.pop()

        for s in range(self.n):
            extend([s], {s})
        return out

    @property
    def has_directed_cycle(self) -> bool:
        return bool(self.cycles)

    def paths(self, k: int, i: int) -> list[tuple[int, ...]]:
        """Every simple directed path from k to i (the trivial path (k,) when k == i)."""
        if k == i:
            return [(k,)]
        out = []

        def extend(path: list[int]) -> None:
            for j in self.children[path[-1]]:
                if j == i:
                    out.append((*path, j))
                elif j not in path:
                    path.append(j)
                    extend(path)
                    path.pop()

        extend([k])
        return out

    def describe(self) -> str:
        edges = [f"{k}->{j}" for k, j in self.directed] + \
                [f"{k}<->{m}" for k, m in self.bidirected]
        return ", ".join(edges) if edges else "(no edges)"


def random_simple_graph(rng: np.random.Generator, n: int, p_dir: float, p_bi: float,
                        require_cycle: bool = True, max_tries: int = 10000) -> MixedGraph:
    """Each pair of vertices gets a directed edge (random direction) with probability p_dir,
    else a bidirected edge with probability p_bi, else nothing; redrawn until it has a
    directed cycle (when required)."""
    for _ in range(max_tries):
        D, B = [], []
        for k, j in combinations(range(n), 2):
            u = rng.random()
            if u < p_dir:
                D.append((k, j) if rng.random() < 0.5 else (j, k))
            elif u < p_dir + p_bi:
                B.append((k, j))
        g = MixedGraph(n, tuple(D), tuple(B))
        if g.has_directed_cycle or not require_cycle:
            return g
    raise ValueError(f"no graph with a directed cycle in {max_tries} draws (n={n}, "
                     f"p_dir={p_dir})")


def random_parameters(rng: np.random.Generator, g: MixedGraph, weight: float,
                      min_det: float = 0.1, max_tries: int = 1000
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Lambda with U(-weight, weight) on D (redrawn until |det(I - Lambda)| >= min_det) and a
    positive definite Omega: U(-weight, weight) on B, diagonal 1 + sum of |row|."""
    for _ in range(max_tries):
        L = np.zeros((g.n, g.n))
        for k, j in g.directed:
            L[k, j] = rng.uniform(-weight, weight)
        if abs(np.linalg.det(np.eye(g.n) - L)) >= min_det:
            break
    else:
        raise ValueError("could not draw Lambda with I - Lambda well conditioned")
    W = np.zeros((g.n, g.n))
    for k, j in g.bidirected:
        W[k, j] = W[j, k] = rng.uniform(-weight, weight)
    W[np.diag_indices(g.n)] = 1.0 + np.abs(W).sum(axis=1)
    return L, W


# --------------------------------------------------------------------------- (1) two ways


def covariance_inverse(Lambda: np.ndarray, Omega: np.ndarray) -> np.ndarray:
    """Sigma from (1) by a numerical inverse."""
    M = np.linalg.inv(np.eye(len(Lambda)) - Lambda)
    return M.T @ Omega @ M


def _weight(Lambda, walk: tuple[int, ...]):
    w = 1
    for a, b in zip(walk, walk[1:]):
        w = w * Lambda[a, b]
    return w


def cycle_determinant(Lambda, g: MixedGraph, vertices: frozenset[int]):
    """det(I - Lambda) restricted to `vertices`, expanded over collections of vertex-disjoint
    directed cycles inside it: sum over collections of prod (-w(C))."""
    cycles = [c for c in g.cycles if vertices.issuperset(c)]
    weights = [-_weight(Lambda, (*c, c[0])) for c in cycles]
    total = 1  # the empty collection

    def extend(start: int, used: frozenset[int], prod) -> None:
        nonlocal total
        for m in range(start, len(cycles)):
            if used.isdisjoint(cycles[m]):
                p = prod * weights[m]
                total = total + p
                extend(m + 1, used | frozenset(cycles[m]), p)

    extend(0, frozenset(), 1)
    return total


def path_matrix(Lambda, g: MixedGraph, acyclic: bool = False):
    """N[k][i] = sum over simple paths P: k -> i of w(P) det(I - Lambda)_{V \\ P}, and
    det(I - Lambda); (I - Lambda)^{-1} = N / det. With acyclic=True every determinant is
    taken as 1 (the trek rule, exact only without directed cycles)."""
    V = frozenset(range(g.n))
    dets: dict[frozenset[int], object] = {}

    def det(S: frozenset[int]):
        if acyclic:
            return 1
        if S not in dets:
            dets[S] = cycle_determinant(Lambda, g, S)
        return dets[S]

    N = [[0] * g.n for _ in range(g.n)]
    for k in range(g.n):
        for i in range(g.n):
            for P in g.paths(k, i):
                N[k][i] = N[k][i] + _weight(Lambda, P) * det(V - frozenset(P))
    return N, det(V)


def covariance_closed_form(Lambda, Omega, g: MixedGraph, acyclic: bool = False) -> np.ndarray:
    """Sigma_ij = sum_{k,l} N[k][i] Omega[k, l] N[l][j] / det(I - Lambda)^2: the sum over
    one-connections between i and j. Object arrays stay exact (Fractions)."""
    N, d = path_matrix(Lambda, g, acyclic)
    Nm = np.array(N, dtype=np.asarray(Lambda).dtype)
    return (Nm.T @ np.asarray(Omega) @ Nm) / (d * d)


# --------------------------------------------------------------------------- identifiability


def vech_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n)


def jacobian(Lambda: np.ndarray, Omega: np.ndarray, g: MixedGraph) -> np.ndarray:
    """d vech(Sigma) / d theta, theta = (Lambda on D, Omega diagonal, Omega on B)."""
    n = g.n
    M = np.linalg.inv(np.eye(n) - Lambda)
    Sigma = M.T @ Omega @ M
    iu = vech_indices(n)
    cols = []
    for k, j in g.directed:
        E = np.zeros((n, n))
        E[k, j] = 1.0
        dS = M.T @ E.T @ Sigma + Sigma @ E @ M
        cols.append(dS[iu])
    for k in range(n):
        E = np.zeros((n, n))
        E[k, k] = 1.0
        cols.append((M.T @ E @ M)[iu])
    for k, j in g.bidirected:
        E = np.zeros((n, n))
        E[k, j] = E[j, k] = 1.0
        cols.append((M.T @ E @ M)[iu])
    return np.array(cols).T


def numerical_rank(J: np.ndarray, tol: float) -> int:
    s = np.linalg.svd(J, compute_uv=False)
    return int(np.sum(s > tol * s[0])) if s.size and s[0] > 0 else 0


def generic_rank(rng: np.random.Generator, g: MixedGraph, weight: float, tol: float,
                 draws: int = 3) -> int:
    """Max Jacobian rank over `draws` random parameter points (a near-singular draw can only
    lower the rank, so the max is the generic rank with high probability)."""
    return max(numerical_rank(jacobian(*random_parameters(rng, g, weight), g), tol)
               for _ in range(draws))


CONTRASTS: dict[str, MixedGraph] = {
    # not simple: two edges between the same pair of vertices
    "bow2": MixedGraph(2, ((0, 1),), ((0, 1),)),
    "two-cycle": MixedGraph(2, ((0, 1), (1, 0))),
    "3-cycle+bows": MixedGraph(3, ((0, 1), (1, 2), (2, 0)), ((0, 1), (1, 2), (0, 2))),
    # fewer parameters (8) than covariances (10), still not finite-to-one: the bow's
    # lambda_01 and omega_01 trade off and nothing downstream separates them
    "bow-chain4": MixedGraph(4, ((0, 1), (1, 2), (2, 3)), ((0, 1),)),
}
