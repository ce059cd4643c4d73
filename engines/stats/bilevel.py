"""Inexact bilevel hyperparameter learning: MAID (Salehi, Mukherjee, Roberts, Ehrhardt 2023,
arXiv 2308.10098) against a fixed-step HOAG-like method, on per-feature ridge penalties.

Problem (both levels quadratic in w, so every error bound below is computable):
    lower  g(w; theta) = 1/2 ||X_tr w - y_tr||^2 / n_tr + 1/2 sum_i e^{theta_i} w_i^2
           H(theta) = A + diag(e^theta), A = X_tr^T X_tr / n_tr, b = X_tr^T y_tr / n_tr
    upper  f(w) = 1/2 ||X_val w - y_val||^2 / n_val,  F(theta) = f(w*(theta))
    hypergradient (implicit function theorem): H q = grad f(w*),
           grad F = -e^theta * w* * q
Inexact oracle: warm-started CG on H w = b until ||H w - b|| <= mu eps, mu = min e^theta +
lambda_min(A), which certifies ||w - w*|| <= eps; CG on H q = grad f(w) to residual delta.
A-posteriori bounds (derived for this quadratic lower level):
    ||q - q*|| <= (delta + L_f eps) / mu,   L_f = lambda_max(X_val^T X_val / n_val)
    ||p - grad F|| <= ||e^theta * q||_inf eps + (||b - A w||_inf + lambda_max(A) eps)
                       * (delta + L_f eps) / mu          (uses D w* = b - A w*)
    |f(w) - F(theta)| <= ||grad f(w)|| eps + L_f eps^2 / 2.
Counting: `matvecs` is the number of H-products spent by CG (the lower-level compute).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CG_CAP = 500  # matvecs per CG solve (only a diverging fixed-step run ever reaches it)
THETA_CAP = 700.0  # exp overflows beyond; a run that gets there has diverged


@dataclass
class RidgeBilevel:
    X_tr: np.ndarray
    y_tr: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    A: np.ndarray = field(init=False)
    b: np.ndarray = field(init=False)
    C: np.ndarray = field(init=False)
    c: np.ndarray = field(init=False)
    f0: float = field(init=False)
    lam_min: float = field(init=False)
    lam_max: float = field(init=False)
    L_f: float = field(init=False)

    def __post_init__(self) -> None:
        n, nv = len(self.y_tr), len(self.y_val)
        self.A = self.X_tr.T @ self.X_tr / n
        self.b = self.X_tr.T @ self.y_tr / n
        self.C = self.X_val.T @ self.X_val / nv
        self.c = self.X_val.T @ self.y_val / nv
        self.f0 = float(self.y_val @ self.y_val) / (2 * nv)
        ev = np.linalg.eigvalsh(self.A)
        self.lam_min, self.lam_max = float(ev[0]), float(ev[-1])
        self.L_f = float(np.linalg.eigvalsh(self.C)[-1])

    @property
    def dim(self) -> int:
        return self.A.shape[0]

    def f(self, w: np.ndarray) -> float:
        return float(0.5 * w @ self.C @ w - self.c @ w + self.f0)

    def grad_f(self, w: np.ndarray) -> np.ndarray:
        return self.C @ w - self.c

    def exact(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """F(theta), grad F(theta), w*(theta) by direct solves (the reference oracle)."""
        d = np.exp(theta)
        H = self.A + np.diag(d)
        w = np.linalg.solve(H, self.b)
        q = np.linalg.solve(H, self.grad_f(w))
        return self.f(w), -d * w * q, w


def synthetic_ridge(rng: np.random.Generator, p: int = 50, n_relevant: int = 10,
                    n_train: int = 100, n_val: int = 200, noise: float = 0.5) -> tuple[
                        RidgeBilevel, np.ndarray]:
    """y = X beta + noise * N(0, 1), X ~ N(0, I_p); beta_i = N(0,1) + sign(N(0,1)) on the
    first n_relevant features, 0 elsewhere. Returns the problem and the relevance mask."""
    beta = np.zeros(p)
    beta[:n_relevant] = rng.standard_normal(n_relevant) + np.sign(
        rng.standard_normal(n_relevant))
    X = rng.standard_normal((n_train + n_val, p))
    y = X @ beta + noise * rng.standard_normal(n_train + n_val)
    relevant = np.zeros(p, bool)
    relevant[:n_relevant] = True
    return RidgeBilevel(X[:n_train], y[:n_train], X[n_train:], y[n_train:]), relevant


def cg(matvec, rhs: np.ndarray, x0: np.ndarray, tol: float,
       cap: int = CG_CAP) -> tuple[np.ndarray, int]:
    """Conjugate gradients from x0 until ||rhs - M x|| <= tol; returns (x, matvecs).
    Overflow (a diverging fixed-step run) is left to the caller's finiteness checks."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _cg(matvec, rhs, x0, tol, cap)


def _cg(matvec, rhs: np.ndarray, x0: np.ndarray, tol: float, cap: int) -> tuple[
        np.ndarray, int]:
    x = x0.copy()
    r = rhs - matvec(x)
    used = 1
    rr = float(r @ r)
    if not np.isfinite(rr):
        return x, used
    d = r.copy()
    while rr > tol * tol and used < cap:
        Md = matvec(d)
        used += 1
        a = rr / float(d @ Md)
        x += a * d
        r -= a * Md
        rr_new = float(r @ r)
        d = r + (rr_new / rr) * d
        rr = rr_new
    return x, used


def reference_optimum(prob: RidgeBilevel, rng: np.random.Generator, theta0: np.ndarray,
                      starts: int = 3, bounds: tuple[float, float] = (-12.0, 25.0)) -> float:
    """L* by L-BFGS-B with exact hypergradients, best of `starts` starts (theta0 and
    theta0 + N(0, 2^2) perturbations)."""
    from scipy.optimize import minimize

    def fun(t):
        v, g, _ = prob.exact(t)
        return v, g

    best = np.inf
    for s in range(starts):
        t0 = theta0 if s == 0 else theta0 + 2.0 * rng.standard_normal(prob.dim)
        t0 = np.clip(t0, *bounds)
        res = minimize(fun, t0, jac=True, method="L-BFGS-B", bounds=[bounds] * prob.dim,
                       options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10})
        best = min(best, float(res.fun))
    return best


@dataclass
class Trace:
    """One run: per accepted iteration (index 0 = the start)."""

    loss: list[float] = field(default_factory=list)  # exact F(theta_k)
    matvecs: list[int] = field(default_factory=list)  # cumulative CG matvecs
    step: list[float] = field(default_factory=list)  # step size used to reach theta_k
    eps: list[float] = field(default_factory=list)  # lower-level accuracy at iteration k
    theta: np.ndarray | None = None
    diverged: bool = False


class _Oracle:
    """Inexact lower-level and adjoint solves at one theta, warm-started across calls."""

    def __init__(self, prob: RidgeBilevel):
        self.prob = prob
        self.w = np.zeros(prob.dim)
        self.q = np.zeros(prob.dim)
        self.matvecs = 0

    def solve_w(self, theta: np.ndarray, eps: float, w0: np.ndarray) -> tuple[
            np.ndarray, float]:
        d = np.exp(theta)
        mu = float(d.min()) + self.prob.lam_min
        A = self.prob.A
        w, used = cg(lambda v: A @ v + d * v, self.prob.b, w0, mu * eps)
        self.matvecs += used
        return w, mu

    def hypergrad(self, theta: np.ndarray, eps: float, delta: float) -> tuple[
            np.ndarray, np.ndarray, float]:
        """(w, p, omega): inexact w, inexact hypergradient p and the bound on ||p - grad F||."""
        prob = self.prob
        d = np.exp(theta)
        w, mu = self.solve_w(theta, eps, self.w)
        q, used = cg(lambda v: prob.A @ v + d * v, prob.grad_f(w), self.q, delta)
        self.matvecs += used
        self.w, self.q = w, q
        p = -d * w * q
        omega = (np.max(np.abs(d * q)) * eps
                 + (np.max(np.abs(prob.b - prob.A @ w)) + prob.lam_max * eps)
                 * (delta + prob.L_f * eps) / mu)
        return w, p, float(omega)

    def value_error(self, w: np.ndarray, eps: float) -> float:
        return float(np.linalg.norm(self.prob.grad_f(w)) * eps + self.prob.L_f * eps ** 2 / 2)


def _record(tr: Trace, prob: RidgeBilevel, theta: np.ndarray, matvecs: int, step: float,
            eps: float) -> bool:
    if not np.all(np.isfinite(theta)) or np.max(theta) > THETA_CAP:
        tr.diverged = True
        tr.loss.append(np.inf)
    else:
        tr.loss.append(prob.exact(theta)[0])
    tr.matvecs.append(matvecs)
    tr.step.append(step)
    tr.eps.append(eps)
    return not tr.diverged


def maid(prob: RidgeBilevel, theta0: np.ndarray, iters: int, alpha0: float, eps0: float,
         eta: float = 0.1, rho: float = 0.5, tau: float = 0.5, nu: float = 1.05,
         growth: float = 1.5, backtracks: int = 10, loops: int = 3, eps_floor: float = 1e-12,
         backtracking: bool = True) -> Trace:
    """MAID (Algorithm 3 of the paper, with the reference code's loop structure).

    Each iteration: (i) shrink eps, delta by tau until the hypergradient bound satisfies
    omega <= (1 - eta) ||p|| (p is then a certified descent direction); (ii) inexact Armijo
    backtracking  f(w+) + e+ <= f(w) - e - eta alpha ||p||^2  with value errors e from the
    a-posteriori bound, up to `backtracks` + j halvings in each of `loops` accuracy loops
    (a failed loop shrinks eps, delta by tau and recomputes p); (iii) on success the
    accepted step grows by `growth` and eps, delta relax by nu. `backtracking=False` is the
    broken variant: the same adaptive accuracy, but every step is alpha0, accepted blindly.
    """
    tr = Trace()
    orc = _Oracle(prob)
    theta = theta0.astype(float).copy()
    alpha, eps, delta = alpha0, eps0, eps0
    _record(tr, prob, theta, 0, alpha, eps)
    for _ in range(iters):
        w, p, omega = orc.hypergrad(theta, eps, delta)
        while omega > (1 - eta) * np.linalg.norm(p) and eps > eps_floor:
            eps, delta = tau * eps, tau * delta
            w, p, omega = orc.hypergrad(theta, eps, delta)
        new_theta, accepted = None, alpha
        if not backtracking:
            new_theta = theta - alpha0 * p
        else:
            for j in range(loops):
                f_w = prob.f(w) - orc.value_error(w, eps)
                pp = float(p @ p)
                a = alpha
                for _b in range(backtracks + j):
                    cand = theta - a * p
                    if np.all(np.isfinite(cand)) and np.max(cand) < THETA_CAP:
                        w_c, _ = orc.solve_w(cand, eps, w)
                        if prob.f(w_c) + orc.value_error(w_c, eps) <= f_w - eta * a * pp:
                            new_theta, accepted = cand, a
                            break
                    a *= rho
                if new_theta is not None:
                    break
                eps, delta = max(tau * eps, eps_floor), max(tau * delta, eps_floor)
                w, p, omega = orc.hypergrad(theta, eps, delta)
        if new_theta is not None:
            theta = new_theta
            alpha = growth * accepted
            eps, delta = nu * eps, nu * delta
        if not _record(tr, prob, theta, orc.matvecs, accepted, eps):
            break
    tr.theta = theta
    return tr


def hoag_fixed(prob: RidgeBilevel, theta0: np.ndarray, iters: int, alpha0: float,
               eps0: float, power: float = 1.5) -> Trace:
    """HOAG-like baseline: fixed step alpha0, a-priori summable accuracy schedule
    eps_k = delta_k = eps0 k^-power (k = 1, 2, ...), no line search."""
    tr = Trace()
    orc = _Oracle(prob)
    theta = theta0.astype(float).copy()
    _record(tr, prob, theta, 0, alpha0, eps0)
    for k in range(1, iters + 1):
        eps = eps0 * k ** -power
        _, p, _ = orc.hypergrad(theta, eps, eps)
        theta = theta - alpha0 * p
        if not _record(tr, prob, theta, orc.matvecs, alpha0, eps):
            break
    tr.theta = theta
    return tr
