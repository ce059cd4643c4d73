"""PAC generalization of approximate invariance across a parameterized family of
interventions on a linear SEM (Parulekar, Shanmugam, Shakkottai, ICML 2023, arXiv
2205.15196).

A linear SEM over covariates X_0..X_{d-1} and a target Y (the last variable), in the
convention of `stats.linear_iv.LinearSEM`: V = B^T V + diag(noise_sd) E, B[k, j] the weight
of k -> j. An intervention of the family acts on a fixed set of sites J (|J| = s): for
each site j it scales the incoming weights and the own noise,

    B[:, j] -> (1 + t_j) B[:, j],   noise_sd[j] -> (1 + c t'_j) noise_sd[j],          (1)

with t, t' ~ U(-a, a) (c = `noise_scale`); theta = (t, t') = 0 is the observational SEM.
Every intervened SEM has the exact covariance Sigma(theta) = (I - B)^{-T} Omega (I - B)^{-1}.

A representation is a subset S of the covariates; its regression coefficient in an
environment is beta_S(theta) = Sigma_SS^{-1} Sigma_SY, a rational function of theta. The
paper's eps-approximate invariance on environment theta is
|| beta_S(theta) - beta_S(0) ||_inf <= eps. The PAC statement: keep the subsets that are
eps-invariant on K environments drawn from the family; with probability >= 1 - delta each
kept subset violates (2 eps)-invariance on at most a fraction gamma(K) of unseen
environments, gamma(K) of order (complexity + log 1/delta) / K; for a finite class of N
subsets the realizable (Occam) bound is gamma(K) = (ln N + ln 1/delta) / K (`occam_bound`).

Finite samples: with n mean-zero Gaussian samples per environment, the uncentred moment
matrix V^T V is Wishart(Sigma, n) exactly, so `sample_moments` draws it by the Bartlett
decomposition at a cost independent of n (tested against scipy and against real samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import combinations

import numpy as np

from paramlab.engines.stats.linear_iv import LinearSEM

# --------------------------------------------------------------------------- the family


@dataclass(frozen=True)
class InterventionFamily:
    """A linear SEM (target Y = the last variable) and the intervention family (1)."""

    sem: LinearSEM
    sites: tuple[int, ...]  # intervened covariates
    a: float  # t, t' ~ U(-a, a)
    noise_scale: float = 0.5  # c in (1): own-noise sd scaled by 1 + c t'

    @property
    def p(self) -> int:
        return self.sem.p

    @property
    def d(self) -> int:
        return self.sem.p - 1

    def draw(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """m intervention parameters theta = (t, t'), shape (m, 2 s)."""
        return rng.uniform(-self.a, self.a, size=(m, 2 * len(self.sites)))

    def weights(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The intervened B (m, p, p) and noise sd (m, p) for parameters theta (m, 2 s)."""
        theta = np.atleast_2d(theta)
        s = len(self.sites)
        B = np.repeat(self.sem.B[None], len(theta), axis=0)
        sd = np.repeat(self.sem.noise_sd[None], len(theta), axis=0)
        for i, j in enumerate(self.sites):
            B[:, :, j] *= (1.0 + theta[:, i])[:, None]
            sd[:, j] *= 1.0 + self.noise_scale * theta[:, s + i]
        return B, sd

    def covariances(self, theta: np.ndarray) -> np.ndarray:
        """Exact covariances Sigma(theta) (m, p, p), batched."""
        B, sd = self.weights(theta)
        M = np.linalg.inv(np.eye(self.p) - B)  # (I - B)^{-1}
        Mt = np.swapaxes(M, -1, -2)
        return Mt @ (sd[:, :, None] ** 2 * M)

    def sem_at(self, theta: np.ndarray) -> LinearSEM:
        """One intervened SEM, for sampling (tests)."""
        B, sd = self.weights(np.asarray(theta)[None])
        return LinearSEM(self.sem.blocks, B[0], sd[0])


SITE_ORDER = (0, 2, 3)  # s = 1: {X0}; s = 2: {X0, X2}; s = 3: {X0, X2, X3}


def random_world(rng: np.random.Generator, d: int, a: float = 1.0, s: int = 2,
                 noise_scale: float = 0.5, w_range: tuple[float, float] = (0.5, 1.5),
                 child_weight: float = 1.5, child_noise: float = 0.5) -> InterventionFamily:
    """A random SEM on d >= 4 covariates and Y with the sites {X0 (a parent of Y),
    X2 (a child of Y)} (s = 2; `SITE_ORDER` for other s).

    Causal order: the upstream covariates X4.. (first half of the extras), X0, X1, Y, X2,
    X3, then the downstream extras. Y's parents are X0 and X1; X2 = child_weight * Y +
    child_noise * noise (the strong spurious child the family intervenes on); X3 is a
    child of Y (and possibly of X2) that is never intervened on. Every other covariate
    draws up to two parents among the nodes before it, so in-degrees stay bounded as d
    grows. Weights are +-U(w_range); noise sds U(0.7, 1.2)."""
    if d < 4:
        raise ValueError(f"d: need at least 4 covariates, got {d}")
    extra = list(range(4, d))
    up, down = extra[: len(extra) // 2], extra[len(extra) // 2:]
    Y = d
    order = [*up, 0, 1, Y, 2, 3, *down]
    p = d + 1
    B = np.zeros((p, p))

    def w() -> float:
        return float(rng.choice([-1.0, 1.0]) * rng.uniform(*w_range))

    for pos, node in enumerate(order):
        before = order[:pos]
        if node == Y:
            B[0, Y], B[1, Y] = w(), w()
            continue
        if node == 2:
            B[Y, 2] = child_weight * rng.choice([-1.0, 1.0])
            continue
        if node == 3:
            B[Y, 3] = w()
            if rng.random() < 0.5:
                B[2, 3] = w()
            continue
        k = min(len(before), int(rng.integers(1, 3)))  # one or two parents
        if node in up or node in (0, 1):
            if not before or rng.random() < 0.3:  # some upstream roots
                continue
        for parent in rng.choice(before, size=k, replace=False):
            B[int(parent), node] = w()
    sd = rng.uniform(0.7, 1.2, size=p)
    sd[2] = child_noise
    blocks = {"X": slice(0, d), "Y": slice(d, d + 1)}
    return InterventionFamily(LinearSEM(blocks, B, sd), sites=SITE_ORDER[:s], a=a,
                              noise_scale=noise_scale)


# --------------------------------------------------------------------------- finite samples


def sample_moments(rng: np.random.Generator, Sigma: np.ndarray, n: int) -> np.ndarray:
    """Uncentred second moments V^T V / n of n samples of N(0, Sigma), for a batch of
    covariances (..., p, p), drawn exactly as Wishart(Sigma, n) / n by the Bartlett
    decomposition: W = L A A^T L^T, L = chol(Sigma), A lower triangular with
    A_ii = sqrt(chi2(n - i)) (i from 0) and N(0, 1) below the diagonal."""
    Sigma = np.asarray(Sigma)
    p = Sigma.shape[-1]
    batch = Sigma.shape[:-2]
    L = np.linalg.cholesky(Sigma)
    A = np.tril(rng.standard_normal((*batch, p, p)), k=-1)
    diag = np.sqrt(rng.chisquare(n - np.arange(p), size=(*batch, p)))
    A[..., np.arange(p), np.arange(p)] = diag
    LA = L @ A
    return LA @ np.swapaxes(LA, -1, -2) / n


# --------------------------------------------------------------------------- representations


def subsets(d: int, max_size: int) -> list[tuple[int, ...]]:
    """All nonempty covariate subsets of size <= max_size (d = 6, 3: 41; d = 12, 3: 298)."""
    return [c for k in range(1, max_size + 1) for c in combinations(range(d), k)]


@dataclass(frozen=True)
class SubsetIndex:
    """Subsets grouped by size, as index arrays, for batched regressions."""

    subsets: tuple[tuple[int, ...], ...]

    @cached_property
    def groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(positions in `subsets`, (n_k, k) covariate indices)] per size k."""
        out = []
        for k in sorted({len(s) for s in self.subsets}):
            pos = np.array([i for i, s in enumerate(self.subsets) if len(s) == k])
            out.append((pos, np.array([self.subsets[i] for i in pos])))
        return out

    @property
    def max_size(self) -> int:
        return max(len(s) for s in self.subsets)

    def coefficients(self, M: np.ndarray, y: int, mask: np.ndarray | None = None
                     ) -> np.ndarray:
        """beta_S = M_SS^{-1} M_Sy for every subset S from moment matrices M (e, p, p):
        (e, N, max_size), NaN-padded past each subset's size (and for the whole row of a
        subset outside `mask`, when given: it is not computed)."""
        M = np.asarray(M)
        out = np.full((M.shape[0], len(self.subsets), self.max_size), np.nan)
        for pos, idx in self.groups:
            if mask is not None:
                keep = mask[pos]
                pos, idx = pos[keep], idx[keep]
                if not len(pos):
                    continue
            k = idx.shape[1]
            Mss = M[:, idx[:, :, None], idx[:, None, :]]  # (e, n_k, k, k)
            Msy = M[:, idx, y]  # (e, n_k, k)
            out[:, pos, :k] = np.linalg.solve(Mss, Msy[..., None])[..., 0]
        return out


def deviation(beta: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|| beta - ref ||_inf over the last axis, ignoring NaN padding: (e, N) for
    beta (e, N, k) and ref (N, k)."""
    diff = np.abs(beta - ref)
    out = np.max(np.where(np.isnan(diff), -np.inf, diff), axis=-1)
    return np.where(np.isneginf(out), np.nan, out)


def survivors(train_dev: np.ndarray, eps: float, ks: tuple[int, ...]) -> np.ndarray:
    """(len(ks), N) masks: subsets eps-invariant on each of the first K training
    environments (train_dev (K_max, N)), for each K in ks."""
    ok = np.cumprod(train_dev <= eps, axis=0).astype(bool)
    return np.stack([ok[k - 1] for k in ks])


def occam_bound(n_hypotheses: int, k: int, delta: float) -> float:
    """Realizable finite-class PAC bound: with probability >= 1 - delta every hypothesis
    consistent with k i.i.d. environments has violation probability <= this."""
    return (np.log(n_hypotheses) + np.log(1.0 / delta)) / k


# --------------------------------------------------------------------------- one world


@dataclass(frozen=True)
class WorldResult:
    """One world's K sweep. Violation rates are exact (population covariances) over the
    unseen test environments; training used sample moments (n per environment) or the
    exact covariances (n = 0)."""

    ks: tuple[int, ...]
    passing: np.ndarray  # (len(ks), N) bool: eps-invariant on the first K environments
    violation: np.ndarray  # (N,) share of test environments with deviation > ratio * eps
    violation_eps: np.ndarray  # (N,) the same at eps itself (the plain PAC event)
    erm_violation: float  # all covariates, pooled OLS over the K_max training environments
    selected: int  # best-predicting subset passing at K_max (-1: none)
    selected_violation: float  # its test violation against its pooled coefficient
    parents_pass: bool  # the causal parent set passes at K_max

    def worst(self, which: str = "violation") -> np.ndarray:
        """(len(ks),) worst-case violation over the passing subsets (0 when none pass)."""
        v = getattr(self, which)
        return np.array([v[m].max() if m.any() else 0.0 for m in self.passing])

    def mean_passing(self) -> np.ndarray:
        return np.array([self.violation[m].mean() if m.any() else 0.0
                         for m in self.passing])


def evaluate_world(rng: np.random.Generator, fam: InterventionFamily, index: SubsetIndex,
                   ks: tuple[int, ...], eps: float, ratio: float, n: int, m_test: int,
                   parents: tuple[int, ...] = (0, 1), naive: bool = False) -> WorldResult:
    """Draw K_max training and m_test test interventions, keep the subsets whose
    coefficient stays within eps of the observational one on the first K training
    environments (naive: on the first environment only, whatever K), and measure every
    subset's exact violation rate on the test environments.

    The observational reference and the training coefficients come from n samples per
    environment (Wishart moments; n = 0: exact); the test is exact: beta_S(theta) and
    beta_S(0) from the population covariances."""
    y, d, k_max = fam.d, fam.d, max(ks)
    zero = np.zeros((1, 2 * len(fam.sites)))
    theta_train, theta_test = fam.draw(rng, k_max), fam.draw(rng, m_test)
    S_obs, S_train, S_test = (fam.covariances(t) for t in (zero, theta_train, theta_test))
    if n:
        M_obs, M_train = sample_moments(rng, S_obs, n), sample_moments(rng, S_train, n)
    else:
        M_obs, M_train = S_obs, S_train
    if naive:
        M_train = np.repeat(M_train[:1], k_max, axis=0)
    train_dev = deviation(index.coefficients(M_train, y), index.coefficients(M_obs, y)[0])
    passing = survivors(train_dev, eps, ks)
    need = passing.any(axis=0)  # survivors are nested in K: only these can be worst
    test_dev = deviation(index.coefficients(S_test, y, need),
                         index.coefficients(S_obs, y, need)[0])
    violation = np.where(need, np.nan_to_num((test_dev > ratio * eps).mean(axis=0)), 0.0)
    violation_eps = np.where(need, np.nan_to_num((test_dev > eps).mean(axis=0)), 0.0)

    # ERM on all covariates: pooled OLS over the training environments, against the
    # population OLS of each unseen environment
    pooled = M_train.mean(axis=0)
    b_erm = np.linalg.solve(pooled[:d, :d], pooled[:d, y])
    b_test = np.linalg.solve(S_test[:, :d, :d], S_test[:, :d, y][..., None])[..., 0]
    erm_violation = float((np.abs(b_test - b_erm).max(axis=-1) > ratio * eps).mean())

    # the selected invariant representation: the passing subset that predicts Y best in
    # the pooled training data (smallest residual variance), judged the same way as ERM
    final = passing[-1]
    selected, selected_violation = -1, 0.0
    if final.any():
        b_pool = index.coefficients(pooled[None], y, final)[0]
        resid = np.full(len(index.subsets), np.inf)
        for i in np.flatnonzero(final):
            S = list(index.subsets[i])
            resid[i] = pooled[y, y] - pooled[y, S] @ b_pool[i, :len(S)]
        selected = int(np.argmin(resid))
        S = list(index.subsets[selected])
        b_sel = np.linalg.solve(S_test[:, S][:, :, S], S_test[:, S, y][..., None])[..., 0]
        dev_sel = np.abs(b_sel - b_pool[selected, :len(S)]).max(axis=-1)
        selected_violation = float((dev_sel > ratio * eps).mean())
    parents_pass = bool(final[index.subsets.index(tuple(parents))])
    return WorldResult(tuple(ks), passing, violation, violation_eps, erm_violation,
                       selected, selected_violation, parents_pass)
