"""Uniform weight averaging of the fine-tuned models (model soups)."""

from __future__ import annotations

from .base import Tensor, register


@register("weight_average", summary="theta_0 + mean_i tau_i (uniform model soup)",
          reference="Wortsman et al. 2022, model soups")
def weight_average(T: Tensor) -> Tensor:
    return T.mean(dim=0)
