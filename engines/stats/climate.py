"""A toy ClimateBench: emission pathways -> regional climate with internal variability,
and the linear pattern scaling (LPS) emulator of Luetjens et al. (2024, "The impact of
internal variability on benchmarking deep learning climate emulators").

World (T years, R regions; one pathway = cumulative CO2 C(t), CO2 emissions E(t) and an
aerosol loading a(t) in [0, 1]):

    global temperature   Tg(t) = C(t) - 0.5 a(t)                       (warming - aerosol cooling)
    forced temperature   tas_r(t) = Tg(t) p_tas_r
    forced precipitation pr_r(t)  = 0.3 Tg(t) p_pr_r + nl tanh(3 (a(t) - 0.5)) p_aer_r
    member k             forced + AR(1) internal variability (rho, sigma), independent per
                         member and region, stationary variance sigma^2

The aerosol term of precipitation has its own spatial pattern and is nonlinear in a(t): a
single pattern scaled by one global predictor (LPS) cannot represent it; a neural
emulator can, if the targets are not dominated by internal variability. Training targets
are the mean of the first M members (ClimateBench: M = 3; the paper's MPI-ESM targets:
M = 50).

LPS (the paper's linear baseline, two stages):
  1. global mean of the target g(t) regressed on the pathway predictors [1, C, a];
  2. each region regressed on the global mean, y_r = alpha_r + beta_r g (one pattern);
  prediction: y_r = alpha_r + beta_r g_hat(t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paramlab.engines.linalg.linear import min_norm_least_squares

T_YEARS = 86  # 2015-2100

# --------------------------------------------------------------------------- pathways


@dataclass(frozen=True)
class Pathway:
    name: str
    E: np.ndarray  # (T,) CO2 emissions (arbitrary units)
    aer: np.ndarray  # (T,) aerosol loading in [0, 1]

    @property
    def C(self) -> np.ndarray:
        """Cumulative emissions, scaled so that the high pathway ends near 3."""
        return np.cumsum(self.E) / T_YEARS

    def predictors(self) -> np.ndarray:
        """(T, 3): cumulative CO2, aerosol, emissions (the emulators' inputs)."""
        return np.stack([self.C, self.aer, self.E], axis=1)


def pathways(T: int = T_YEARS) -> tuple[list[Pathway], Pathway]:
    """Five training pathways (ClimateBench-like: low, high, rivalry, GHG-only, aerosol-only)
    and the held-out middle-of-the-road test pathway (ssp245-like)."""
    s = np.linspace(0.0, 1.0, T)
    train = [
        Pathway("ssp126-like", 1.0 + 1.5 * s - 2.8 * s**2, 0.7 * np.exp(-3 * s) + 0.05),
        Pathway("ssp585-like", 1.0 + 3.0 * s + 1.0 * s**2, 0.7 - 0.45 * s),
        Pathway("ssp370-like", 1.0 + 2.2 * s, 0.7 + 0.25 * np.sin(np.pi * s)),
        Pathway("ghg-only", 1.0 + 2.5 * s, np.full(T, 0.1)),
        Pathway("aer-only", np.full(T, 0.3), 0.5 + 0.45 * np.sin(2 * np.pi * s)),
    ]
    test = Pathway("ssp245-like", 1.0 + 1.4 * s - 0.9 * s**2, 0.7 - 0.5 * s)
    return train, test


# --------------------------------------------------------------------------- world


@dataclass(frozen=True)
class Patterns:
    tas: np.ndarray  # (R,) warming pattern, mean ~1
    pr: np.ndarray  # (R,) precipitation response to warming
    aer: np.ndarray  # (R,) precipitation response to aerosols (a different pattern)

    @classmethod
    def draw(cls, rng: np.random.Generator, R: int) -> Patterns:
        """Random patterns; the aerosol pattern is made orthogonal to a constant and to the
        warming pattern of precipitation (unit RMS), so it is a genuinely different map that
        one scaled pattern cannot absorb (with a random draw the overlap, and with it the
        LPS error, varies a lot from seed to seed)."""
        tas = 1.0 + 0.3 * rng.standard_normal(R)
        pr = rng.standard_normal(R)
        basis, _ = np.linalg.qr(np.column_stack([np.ones(R), pr]))
        aer = rng.standard_normal(R)
        aer -= basis @ (basis.T @ aer)
        return cls(tas, pr, aer / np.sqrt(np.mean(aer**2)))


def forced(p: Pathway, pat: Patterns, nl: float) -> dict[str, np.ndarray]:
    """The forced response of each variable, (T, R)."""
    Tg = p.C - 0.5 * p.aer
    return {"tas": np.outer(Tg, pat.tas),
            "pr": 0.3 * np.outer(Tg, pat.pr) + nl * np.outer(np.tanh(3 * (p.aer - 0.5)), pat.aer)}


def ar1_noise(rng: np.random.Generator, members: int, T: int, R: int, rho: float,
              sigma: float) -> np.ndarray:
    """(members, T, R) AR(1) internal variability with stationary std sigma."""
    x = np.empty((members, T, R))
    x[:, 0] = sigma * rng.standard_normal((members, R))
    innov = sigma * np.sqrt(1 - rho**2)
    for t in range(1, T):
        x[:, t] = rho * x[:, t - 1] + innov * rng.standard_normal((members, R))
    return x


# --------------------------------------------------------------------------- LPS


@dataclass(frozen=True)
class PatternScaling:
    coef_global: np.ndarray  # (3,) g = c0 + c1 C + c2 a
    alpha: np.ndarray  # (R,)
    beta: np.ndarray  # (R,)

    @classmethod
    def fit(cls, predictors: np.ndarray, Y: np.ndarray) -> PatternScaling:
        """predictors (N, >=2) with columns C, a first; Y (N, R) training targets."""
        g = Y.mean(axis=1)
        A = np.column_stack([np.ones(len(g)), predictors[:, :2]])
        coef = min_norm_least_squares(A, g)
        B = np.column_stack([np.ones(len(g)), g])
        ab = min_norm_least_squares(B, Y)  # (2, R): one pattern per region
        return cls(coef, ab[0], ab[1])

    def predict(self, predictors: np.ndarray) -> np.ndarray:
        g_hat = np.column_stack([np.ones(len(predictors)), predictors[:, :2]]) @ self.coef_global
        return self.alpha[None, :] + np.outer(g_hat, self.beta)


def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - target) ** 2)))
