"""TIES merging: trim each task vector to its largest entries, elect signs, and
average the entries that agree with the elected sign."""

from __future__ import annotations

import torch

from paramlab.engines.params import ParamSpec

from .base import LAM, Tensor, disjoint_mean, elect_sign, register


def topk_mask(T: Tensor, k: float) -> Tensor:
    """Keep each row's int(k*d) largest |entries| (at least one).

    Convention: mergekit's `sparsify.magnitude` (topk of int(density * d)), i.e. exactly
    the fraction k of the paper's "keep the top-k% values". The TIES authors' code
    (`topk_values_mask`) instead takes the (d - int(k*d))-th smallest |tau| by kthvalue and
    keeps every entry >= it: int(k*d) + 1 entries always, and more when |tau| ties at the
    threshold. The one-entry difference is immaterial at d ~ 25k; tests pin both counts."""
    n, d = T.shape
    m = max(1, int(k * d))
    idx = torch.topk(T.abs(), m, dim=1).indices
    return torch.zeros_like(T, dtype=torch.bool).scatter_(1, idx, True)


@register("ties", summary="trim to top-k |tau|, elect signs, disjoint mean, x lam",
          reference="Yadav et al. 2023, arXiv 2306.01708", params=(
              ParamSpec.of("k", 0.2, "fraction of each task vector kept (largest |tau|)",
                           range=(0.0, 1.0), closed="right"),
              ParamSpec.of("elect", "mass", "sign election: sum of values or of signs",
                           choices=("mass", "count")),
              LAM))
def ties(T: Tensor, k: float, elect: str, lam: float) -> Tensor:
    trimmed = T * topk_mask(T, k)                      # step 1: trim
    sign = elect_sign(trimmed, elect)                  # step 2: elect
    return lam * disjoint_mean(trimmed, sign)           # step 3: disjoint merge
