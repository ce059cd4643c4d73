"""Task Arithmetic: the scaled sum of the task vectors."""

from __future__ import annotations

from .base import LAM, Tensor, register


@register("task_arithmetic", summary="lam * sum_i tau_i",
          reference="Ilharco et al. 2023, arXiv 2212.04089", params=(LAM,))
def task_arithmetic(T: Tensor, lam: float) -> Tensor:
    return lam * T.sum(dim=0)
