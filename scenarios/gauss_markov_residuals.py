"""The Gauss-Markov adjunction, reduced to what a computer can check (Kamiura 2025).

The paper is conceptual: it builds a category of parameters and a category of data, links
them by an adjoint pair of functors and reads ordinary least squares through it. It reports
no experiments. This scenario checks the concrete linear-algebra content the adjunction
organises, on a synthetic regression y = X beta + eps (n x p, anisotropic columns):

1. Dual flow. Gradient descent on 1/2 ||y - X beta||^2 is run twice, once in parameter
   space (beta_{t+1} = beta_t + eta X^T (y - X beta_t)) and once in data space on the
   residual alone (r_{t+1} = r_t - eta X X^T r_t). A variation of parameters must map to
   a variation of residuals through -X: r_t - r_hat = -X (beta_t - beta_hat) at every
   step. This is an algebraic identity (it holds for any beta_hat with r_hat = y - X
   beta_hat, ridge included), so it is a mechanism-tier sanity check to rounding error,
   labelled "(identity)", and does not count as evidence.
2. The limit. beta_t -> beta_hat = X^+ y (OLS) and the minimum residual r_hat is orthogonal
   to the data: X^T r_hat = 0 (the "preservation of limits" of the right adjoint).
3. Gauss-Markov (BLUE), by Monte Carlo over noise draws with X fixed: OLS is unbiased and
   has a smaller variance, coefficient by coefficient, than weighted least squares with
   weights w log-uniform in [1/spread, spread] (linear and unbiased), and the exact
   covariance gap Cov_WLS - Cov_OLS is PSD; ridge is the biased contrast.

Thresholds (spec, fixed in advance): orthogonality <= 1e-10, GD relative error <= 1e-3
with >= 400 steps (<= 1e-2 with fewer), min Var_WLS/Var_OLS >= 1.05,
lambda_min(Cov_WLS - Cov_OLS)/lambda_max(Cov_OLS) >= -1e-10, dual flow <= 1e-10.

Re-calibration (issue 11, 2026-12), with the reasons:
- GD steps 400 -> 1000 (default), 200 -> 600 (quick); the quick threshold therefore becomes
  the spec's 1e-3 too (old: 1e-2). At eta = 1/L the error contracts like (1 - 1/kappa)^T
  ~ exp(-T/kappa) with kappa = cond(X^T X) ~ (scale_hi/scale_lo)^2 = 44; measured over
  designs (seeds 0-199) kappa is 35-69. 200 steps put exp(-200/kappa) at the 1e-2
  threshold by design, 400 steps put exp(-400/69) = 3e-3 above 1e-3. The step counts now
  satisfy T >= kappa_max ln(1/tol) with a margin (600/69 = 8.7 > ln 1e3 = 6.9), so the
  criterion measures that GD converges to OLS, not where kappa fell. Cost: milliseconds.
- "ridge bias / OLS bias >= 5" is replaced. Its denominator, the Monte-Carlo bias of an
  unbiased estimator, is pure noise (the ratio ranged 4.6-78). Both biases are now read
  on their known scale: the Hotelling statistic chi2 = draws * b^T Cov^{-1} b of the
  Monte-Carlo mean bias b, with Cov the exact covariance of the estimator. For an unbiased
  estimator chi2 ~ chi-square(p) exactly (Gaussian noise). Paper tier: OLS unbiased,
  chi2_OLS <= chi2_p(0.999) (fails on 1 in 1000 seeds by chance); contrast: ridge biased,
  chi2_ridge >= chi2_p(0.999).
- The dual-flow identity moves to the mechanism tier (see 1.).

Control (issue 11): `noise=heteroscedastic` draws Var eps_i = sigma^2 / w_i with the same
weights w that WLS uses, so WLS is Aitken's generalized least squares and OLS is no
longer best: "OLS best linear unbiased: min_j Var_WLS / Var_OLS" (and the exact covariance
gap) must fail there, while OLS stays unbiased and the limit checks still pass. Other
broken variants that fail: `estimator=ridge` (ridge taken as "the" estimator is not
orthogonal and is not GD's limit), `lr_mult > 2` (GD diverges).

Measured on seeds 0-19 (issue 11): before, quick 17/20 and default 18/20 (GD error up to
2.2e-2 against 1e-2 quick and 1.1e-3 against 1e-3 default; ridge/OLS bias ratio down to
4.6). After, quick 20/20 and default 20/20: GD error <= 5.4e-5 (quick) and <= 1.5e-7
(default); chi2 OLS 2.1-14.4 and ridge 496-14,600 against chi2_8(0.999) = 26.1; min
Var_WLS/Var_OLS 1.45-1.74. The heteroscedastic control fails on 20/20 seeds (quick):
min Var_WLS/Var_OLS 0.37-0.46, covariance gap -0.61 to -0.50, while OLS stays unbiased
(chi2 3.6-12.5) and GD still converges.

What the console cannot show is the categorical semantics itself; that stays in the paper.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .base import (
    Criterion,
    Metric,
    Note,
    Panel,
    PaperRow,
    Params,
    RunContext,
    Scenario,
    Table,
    Verdict,
    param,
)
from .history import History
from .measure import ratio


@dataclass(frozen=True)
class GaussMarkovParams(Params):
    n: int = param(200, range=(20, 2000), help="number of samples")
    p: int = param(8, range=(1, 50), help="number of features")
    sigma: float = param(1.0, range=(0.01, 5.0), help="noise standard deviation")
    noise: str = param("homoscedastic", choices=("homoscedastic", "heteroscedastic"),
                       help="iid noise (Gauss-Markov's premise), or Var eps_i = sigma^2/w_i "
                            "with the WLS weights w (control: WLS is then best)")
    scale_lo: float = param(0.3, range=(0.05, 1.0), help="smallest feature scale")
    scale_hi: float = param(2.0, range=(1.0, 5.0), help="largest feature scale")
    lr_mult: float = param(1.0, range=(0.1, 2.5), help="GD step size in units of 1/L")
    steps: int = param(1000, range=(10, 5000), help="gradient-descent steps")
    mc_draws: int = param(2000, range=(100, 20000), log=True,
                          help="Monte-Carlo noise draws for the Gauss-Markov comparison")
    weight_spread: float = param(5.0, range=(1.0, 20.0),
                                 help="WLS weights log-uniform in [1/spread, spread]")
    ridge_lambda: float = param(5.0, range=(0.0, 1000.0), help="ridge penalty (contrast)")
    estimator: str = param("ols", choices=("ols", "ridge"),
                           help="what is taken as beta_hat: OLS, or ridge (broken variant)")

    def check_consistency(self) -> list[str]:
        if self.p >= self.n:
            return [f"p: must be < n ({self.n}) for a full-rank design, got {self.p}"]
        return []


def run(p: GaussMarkovParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.linalg import gauss_markov as gm
    from paramlab.engines.linalg import linear

    rng = ctx.rng
    X = gm.design(rng, p.n, p.p, p.scale_lo, p.scale_hi)
    beta_true = rng.standard_normal(p.p)
    w = np.exp(rng.uniform(-np.log(p.weight_spread), np.log(p.weight_spread), p.n))
    noise_var = p.sigma**2 * (1.0 / w if p.noise == "heteroscedastic" else np.ones(p.n))
    noise_sd = np.sqrt(noise_var)
    y = X @ beta_true + noise_sd * rng.standard_normal(p.n)

    if p.estimator == "ols":
        beta_hat = linear.min_norm_least_squares(X, y)
    else:
        beta_hat = linear.ridge_primal(X, y, p.ridge_lambda)
    r_hat = y - X @ beta_hat
    L = gm.smoothness(X)
    eta = p.lr_mult / L
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    yield Note(f"n={p.n}, p={p.p}, cond(X^T X)={(s[0] / s[-1]) ** 2:.1f}, eta={p.lr_mult:g}/L;"
               f" beta_hat from {p.estimator}")

    paths = gm.gd_paths(X, y, eta, p.steps)
    dual = gm.dual_flow_error(X, paths, beta_hat, r_hat)
    beta_err = np.linalg.norm(paths.beta - beta_hat[None, :], axis=1)
    excess = np.sum(paths.resid**2, axis=1) - float(r_hat @ r_hat)
    # the two slowest directions: v for parameters, u for residuals (u_i = X v_i / s_i)
    slow = [len(s) - 1, max(len(s) - 2, 0)]
    bc = (paths.beta - beta_hat[None, :]) @ Vt[slow].T
    rc = (paths.resid - r_hat[None, :]) @ U[:, slow]
    if len(s) == 1:
        bc[:, 1] = 0.0
        rc[:, 1] = 0.0
    for t in range(p.steps + 1):
        yield Metric(t, {"beta_err": float(beta_err[t]), "excess_resid": float(excess[t]),
                         "dual_err": float(dual[t]),
                         "beta_c1": float(bc[t, 0]), "beta_c2": float(bc[t, 1]),
                         "resid_c1": float(rc[t, 0]), "resid_c2": float(rc[t, 1])})
        if ctx.should_stop():
            return

    # Gauss-Markov by Monte Carlo: X and beta fixed, fresh noise per draw
    Y = (X @ beta_true)[:, None] + noise_sd[:, None] * rng.standard_normal((p.n, p.mc_draws))
    B_ols = linear.min_norm_least_squares(X, Y)
    B_wls = gm.weighted_least_squares(X, Y, w)
    B_ridge = linear.ridge_primal(X, Y, p.ridge_lambda)
    var_ols, var_wls = B_ols.var(axis=1, ddof=1), B_wls.var(axis=1, ddof=1)
    bias_ols = np.abs(B_ols.mean(axis=1) - beta_true)
    bias_ridge = np.abs(B_ridge.mean(axis=1) - beta_true)
    # exact covariances of the linear estimators under the simulated noise
    cov_ols = gm.estimator_covariance(gm.wls_operator(X, np.ones(p.n)), noise_var)
    cov_wls = gm.estimator_covariance(gm.wls_operator(X, w), noise_var)
    cov_ridge = gm.estimator_covariance(gm.ridge_operator(X, p.ridge_lambda), noise_var)
    gap_min = float(np.linalg.eigvalsh(cov_wls - cov_ols)[0] / np.linalg.eigvalsh(cov_ols)[-1])

    def hotelling(B: np.ndarray, cov: np.ndarray) -> float:
        # draws * b^T Cov^-1 b for the Monte-Carlo mean bias b: chi-square(p) when unbiased
        b = B.mean(axis=1) - beta_true
        return float(p.mc_draws * b @ np.linalg.solve(cov, b))
    cols = [f"b{j + 1}" for j in range(p.p)]
    yield Table("variance per coefficient", ["OLS", "WLS"], cols,
                [var_ols.tolist(), var_wls.tolist()])
    yield Table("|bias| per coefficient", ["OLS", "ridge"], cols,
                [bias_ols.tolist(), bias_ridge.tolist()])
    mse_ols = float(np.mean(np.sum((B_ols - beta_true[:, None]) ** 2, axis=0)))
    mse_wls = float(np.mean(np.sum((B_wls - beta_true[:, None]) ** 2, axis=0)))
    yield Metric(p.steps, {
        "orthogonality": gm.relative_orthogonality(X, r_hat),
        "gd_rel_error": float(beta_err[-1] / max(np.linalg.norm(beta_hat), 1e-300)),
        "dual_err_max": float(np.max(dual)),
        "var_ratio_min": float(np.min(var_wls / var_ols)),
        "cov_gap_min": gap_min,
        "bias_ols": float(np.linalg.norm(B_ols.mean(axis=1) - beta_true)),
        "bias_ridge": float(np.linalg.norm(B_ridge.mean(axis=1) - beta_true)),
        "chi2_bias_ols": hotelling(B_ols, cov_ols),
        "chi2_bias_ridge": hotelling(B_ridge, cov_ridge),
        "mse_ols": mse_ols, "mse_wls": mse_wls,
    })


def gd_threshold(p: GaussMarkovParams) -> float:
    return 1e-3 if p.steps >= 400 else 1e-2


def check(history: History, p: GaussMarkovParams) -> Verdict:
    from scipy.stats import chi2

    def last(name: str) -> float:
        return history.last(name)

    chi2_crit = float(chi2.ppf(0.999, p.p))
    criteria = (
        Criterion.at_most("orthogonality |X^T r_hat| / (|X| |r_hat|)",
                          last("orthogonality"), 1e-10),
        Criterion.at_most("GD relative error |b_T - b_hat| / |b_hat|",
                          last("gd_rel_error"), gd_threshold(p)),
        Criterion.at_least("OLS best linear unbiased: min_j Var_WLS / Var_OLS (Monte Carlo)",
                           last("var_ratio_min"), 1.05),
        Criterion.at_least("lambda_min(Cov_WLS - Cov_OLS) / lambda_max(Cov_OLS)",
                           last("cov_gap_min"), -1e-10),
        Criterion.at_most("OLS unbiased: Hotelling chi2 of its mean bias (chi2_p 0.999)",
                          last("chi2_bias_ols"), chi2_crit),
        Criterion.at_least("ridge biased: Hotelling chi2 of its mean bias (chi2_p 0.999)",
                           last("chi2_bias_ridge"), chi2_crit),
        Criterion.at_most("dual flow (identity): max_t |(r_t - r_hat) + X(b_t - b_hat)|",
                          last("dual_err_max"), 1e-10, tier="mechanism"),
        Criterion.at_most("MSE OLS / MSE WLS", ratio(last("mse_ols"), last("mse_wls")), 1.0,
                          tier="mechanism"),
    )
    return Verdict.of(criteria, f"X^T r_hat {last('orthogonality'):.1e}, GD error "
                      f"{last('gd_rel_error'):.1e}, Var WLS/OLS >= {last('var_ratio_min'):.2f},"
                      f" bias chi2 OLS {last('chi2_bias_ols'):.1f} vs ridge "
                      f"{last('chi2_bias_ridge'):.0f}")


SCENARIO = Scenario(
    params=GaussMarkovParams,
    run=run,
    check=check,
    panels=(
        Panel("GD: |beta_t - beta_hat| and |r_t|^2 - |r_hat|^2",
              series=("beta_err", "excess_resid"), logy=True, xlabel="step",
              labels={"beta_err": "|b_t - b_hat|", "excess_resid": "|r_t|^2 - |r_hat|^2"}),
        Panel("dual-flow error (relative)", series=("dual_err",), logy=True, xlabel="step",
              labels={"dual_err": "|(r_t - r_hat) + X(b_t - b_hat)|"}),
        Panel("parameter path b_t - b_hat (two slowest directions v)", series=("beta_c2",),
              x="beta_c1", xlabel="along v_p", labels={"beta_c2": "along v_(p-1)"}),
        Panel("residual path r_t - r_hat (two slowest directions u = Xv/s)",
              series=("resid_c2",), x="resid_c1", xlabel="along u_p",
              labels={"resid_c2": "along u_(p-1)"}),
        Panel("variance per coefficient: OLS vs WLS (Monte Carlo)", kind="bars",
              table="variance per coefficient"),
        Panel("|bias| per coefficient: OLS vs ridge", kind="bars",
              table="|bias| per coefficient"),
    ),
    presets={"quick": {"steps": 600}},
    key_metric="beta_err",
    total_steps=lambda p: p.steps,
    notes=__doc__ or "",
    paper_reports="No numbers (a conceptual paper): the dual flow, OLS / minimum-residual "
                  "correspondence and Gauss-Markov optimality are stated as theorems of the "
                  "categorical formulation.",
    paper_rows=(
        PaperRow("minimum residual orthogonal to the data, X^T r_hat = 0", "not reported",
                 "relative", "theorem (limit preservation)",
                 "orthogonality |X^T r_hat| / (|X| |r_hat|)"),
        PaperRow("GD's limit is the OLS estimator", "not reported", "relative error",
                 "theorem (dual flow)", "GD relative error |b_T - b_hat| / |b_hat|"),
        PaperRow("OLS is best among linear unbiased estimators (iid noise)", "not reported",
                 "variance ratio", "Gauss-Markov theorem",
                 "OLS best linear unbiased: min_j Var_WLS / Var_OLS (Monte Carlo)"),
        PaperRow("OLS is unbiased", "not reported", "chi2", "Gauss-Markov theorem",
                 "OLS unbiased: Hotelling chi2 of its mean bias (chi2_p 0.999)"),
        PaperRow("residual variation = -X (parameter variation)", "not reported",
                 "relative", "theorem (dual flow)",
                 "dual flow (identity): max_t |(r_t - r_hat) + X(b_t - b_hat)|"),
    ),
    status="reproduces",
)
