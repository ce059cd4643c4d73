"""The built-in scenarios: metadata only. Each module is imported when a run starts."""

from __future__ import annotations

from .base import Paper, ScenarioMeta
from .registry import register

_PKG = "paramlab.scenarios"

register(ScenarioMeta(
    id="matrix-sensing-overparam",
    title="Over-parameterization slows GD in matrix sensing",
    theme="over-parameterization",
    paper=Paper(
        title="How Over-Parameterization Slows Down Gradient Descent in Matrix Sensing: "
              "The Curses of Symmetry and Initialization",
        authors="Nuoya Xiong, Lijun Ding, Simon S. Du", year=2023, arxiv="2310.01769"),
    claim="Symmetric XX^T GD with k > r converges only sublinearly (Omega(1/T^2)) while "
          "k = r is linear; asymmetric FG^T with k > r converges linearly, faster with "
          "larger init scale alpha, and imbalance between F and G helps.",
    paper_reports="sym k>r: error >= Omega(1/T^2) (polynomial); sym k=r and asym k>r: "
                  "exp(-Omega(T)) and exp(-Omega(alpha^2 T)) (linear); a one-step "
                  "modification makes the asymmetric rate independent of alpha.",
    entry_point=f"{_PKG}.matrix_sensing_overparam:SCENARIO",
    status="reproduces",
))
