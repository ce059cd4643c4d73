"""Model merging from task vectors: weight averaging, Task Arithmetic, TIES, DARE, PCB
(and `pcb_random`, PCB's pipeline with random scores: a control).

`base` holds the machinery every method shares (task vectors, the registry of methods with
their `ParamSpec` parameters, sign election); each method lives in a module of its own and
registers itself on import. Use a method by name: `merge("ties", T, k=0.2)`, or look it up
with `get(name)` / `METHODS`.

Every method except the weight average ends with "x lam": the result is linear in lam, so
a lambda sweep computes the direction once (lam=1) and scales it.
Also `dare` (DARE drop-and-rescale), `pcb` (PCB-Merging), `task_arithmetic` (Task
Arithmetic), `ties` (TIES merging), `weight_average` (uniform weight averaging).
"""

# isort: off
# the methods register themselves on import, in this order (describe_all lists them so)
from . import weight_average, task_arithmetic, ties, dare, pcb  # noqa: F401
# isort: on
from .base import (
    LAM,
    METHODS,
    Layout,
    MergeMethod,
    MergeParamError,
    Tensor,
    add,
    describe_all,
    disjoint_mean,
    elect_sign,
    get,
    merge,
    register,
    stack,
    task_vector,
    unstack,
)
from .dare import dare_rescale
from .pcb import clamp_rows, minmax_rows, score_weighted_mean
from .ties import topk_mask

__all__ = ["LAM", "METHODS", "Layout", "MergeMethod", "MergeParamError", "Tensor", "add",
           "clamp_rows", "dare_rescale", "describe_all", "disjoint_mean", "elect_sign", "get",
           "merge", "minmax_rows", "register", "score_weighted_mean", "stack", "task_vector",
           "topk_mask", "unstack"]
