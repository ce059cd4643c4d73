"""DARE: drop each task-vector entry at random and rescale the rest, then sum
(DARE + Task Arithmetic) or combine by TIES sign election."""

from __future__ import annotations

import torch

from paramlab.engines.params import ParamSpec

from .base import LAM, Tensor, disjoint_mean, elect_sign, register


def dare_rescale(T: Tensor, keep: Tensor, p: float) -> Tensor:
    """DARE: drop the entries where keep is False, rescale the rest by 1 / (1 - p)."""
    return T * keep / (1.0 - p)


@register("dare", summary="drop each entry with prob. p, rescale by 1/(1-p), sum "
          "(or TIES consensus), x lam", reference="Yu et al. 2024, arXiv 2311.03099",
          stochastic=True, params=(
              ParamSpec.of("p", 0.9, "drop probability", range=(0.0, 1.0), closed="left"),
              ParamSpec.of("rescale", True, "rescale kept entries by 1/(1-p)"),
              ParamSpec.of("consensus", "sum", "combine the dropped vectors by a plain sum "
                           "(DARE+TA) or by TIES sign election and disjoint mean",
                           choices=("sum", "ties")),
              LAM))
def dare(T: Tensor, p: float, rescale: bool, consensus: str, lam: float,
         gen: torch.Generator) -> Tensor:
    keep = (torch.rand(T.shape, generator=gen, device=gen.device) >= p).to(T.device)
    dropped = dare_rescale(T, keep, p) if rescale else T * keep
    if consensus == "ties":
        return lam * disjoint_mean(dropped, elect_sign(dropped))
    return lam * dropped.sum(dim=0)
