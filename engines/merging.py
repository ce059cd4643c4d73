"""Model merging from task vectors: weight averaging, Task Arithmetic, TIES, DARE, PCB.

Every method works on task vectors tau_i = theta_i - theta_0 stacked as one tensor T of
shape (n tasks, d parameters) and returns the merged delta (d,), so the merged model is
theta_0 + merge(T). State dicts are flattened with `stack` and restored with `unstack`;
`merge` accepts either form.

The layout follows mergekit's `merge_methods`: a registry maps a method's name to a
`MergeMethod`, and each method declares its parameters (name, default, range or choices,
help). That declaration drives validation (`method.resolve(...)` names the bad parameter,
the value and what is allowed) and the generated docs (`describe()`), so a later paper adds
a method with one decorated function.

Every method except the weight average ends with "x lam": the result is linear in lam, so
a lambda sweep computes the direction once (lam=1) and scales it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

Tensor = torch.Tensor
Layout = list[tuple[str, torch.Size]]


class MergeParamError(ValueError):
    """A bad method name or parameter; the message says what is allowed."""


# --------------------------------------------------------------------------- task vectors


def task_vector(finetuned: Mapping[str, Tensor], pretrained: Mapping[str, Tensor],
                keys: Sequence[str] | None = None) -> dict[str, Tensor]:
    """tau = theta_ft - theta_0 over `keys` (default: every key of `pretrained`)."""
    keys = list(pretrained) if keys is None else list(keys)
    return {k: (finetuned[k] - pretrained[k]).detach() for k in keys}


def stack(task_vectors: Sequence[Mapping[str, Tensor]]) -> tuple[Tensor, Layout]:
    """Flatten n state-dict task vectors into T (n, d) and the layout to undo it."""
    layout = [(k, v.shape) for k, v in task_vectors[0].items()]
    rows = [torch.cat([tv[k].reshape(-1) for k, _ in layout]) for tv in task_vectors]
    return torch.stack(rows), layout


def unstack(flat: Tensor, layout: Layout) -> dict[str, Tensor]:
    """Inverse of `stack` for one flat vector (d,)."""
    out, i = {}, 0
    for k, shape in layout:
        n = math.prod(shape)
        out[k] = flat[i:i + n].reshape(shape)
        i += n
    return out


def add(pretrained: Mapping[str, Tensor], delta: Mapping[str, Tensor],
        scale: float = 1.0) -> dict[str, Tensor]:
    """theta_0 + scale * delta (keys missing from delta are copied unchanged)."""
    return {k: v + scale * delta[k] if k in delta else v.clone()
            for k, v in pretrained.items()}


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class MethodParam:
    """One declared parameter of a merge method."""

    name: str
    default: Any
    help: str
    range: tuple[float, float] | None = None
    closed: str = "both"  # which ends of `range` are included: both, left, right, neither
    choices: tuple[Any, ...] | None = None
    required: bool = False

    @property
    def kind(self) -> type:
        return type(self.default) if self.default is not None else float

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        word = {int: "an integer", float: "a number", str: "a string",
                bool: "true or false"}[self.kind]
        if self.range is None:
            return word
        lo, hi = self.range
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{word} in {left}{lo:g}, {hi:g}{right}"

    def check(self, method: str, value: Any) -> Any:
        bad = MergeParamError(f"{method}: {self.name}: expected {self.allowed()}, "
                              f"got {value!r}")
        kind = self.kind
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise bad
        if self.choices is not None and value not in self.choices:
            raise bad
        if self.range is not None:
            lo, hi = self.range
            if isinstance(value, float) and not math.isfinite(value):
                raise bad
            ok_lo = value >= lo if self.closed in ("both", "left") else value > lo
            ok_hi = value <= hi if self.closed in ("both", "right") else value < hi
            if not (ok_lo and ok_hi):
                raise bad
        return value


@dataclass(frozen=True)
class MergeMethod:
    """A named merge method: fn(T (n, d), gen, **params) -> merged delta (d,)."""

    name: str
    summary: str
    reference: str
    params: tuple[MethodParam, ...]
    fn: Callable[..., Tensor]
    stochastic: bool = False  # needs a torch.Generator (gen=...)

    def resolve(self, **given: Any) -> dict[str, Any]:
        """Validate `given` over the declared defaults; raise one message per problem."""
        declared = {p.name: p for p in self.params}
        errors, out = [], {}
        for name in given:
            if name not in declared:
                close = difflib.get_close_matches(name, list(declared), n=2, cutoff=0.5)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                known = ", ".join(declared) or "none"
                errors.append(f"{self.name}: {name}: unknown parameter{hint}; known: {known}")
        for p in self.params:
            if p.name in given:
                try:
                    out[p.name] = p.check(self.name, given[p.name])
                except MergeParamError as exc:
                    errors.append(str(exc))
            elif p.required:
                errors.append(f"{self.name}: {p.name}: required ({p.help})")
            else:
                out[p.name] = p.default
        if errors:
            raise MergeParamError("\n".join(errors))
        return out

    def __call__(self, T: Tensor, *, gen: torch.Generator | None = None,
                 **given: Any) -> Tensor:
        kwargs = self.resolve(**given)
        if T.ndim != 2:
            raise ValueError(f"{self.name}: expected task vectors of shape (n, d), "
                             f"got {tuple(T.shape)}")
        if self.stochastic:
            if gen is None:
                raise MergeParamError(f"{self.name}: needs a torch.Generator (gen=...) "
                                      "for its random drop")
            kwargs["gen"] = gen
        return self.fn(T, **kwargs)

    def describe(self) -> str:
        lines = [f"{self.name}: {self.summary} ({self.reference})"]
        for p in self.params:
            req = "required" if p.required else f"default {p.default!r}"
            lines.append(f"  {p.name}: {p.allowed()}, {req} - {p.help}")
        return "\n".join(lines)


METHODS: dict[str, MergeMethod] = {}


def register(name: str, *, summary: str, reference: str,
             params: Sequence[MethodParam] = (), stochastic: bool = False
             ) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """Decorator: add `fn(T, **params)` to the registry under `name`."""

    def deco(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
        if name in METHODS:
            raise ValueError(f"merge method {name!r} is registered twice")
        METHODS[name] = MergeMethod(name, summary, reference, tuple(params), fn, stochastic)
        return fn

    return deco


def get(name: str) -> MergeMethod:
    try:
        return METHODS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(METHODS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise MergeParamError(f"unknown merge method {name!r}{hint}; known: "
                              f"{', '.join(METHODS)}") from None


def merge(name: str, task_vectors: Tensor | Sequence[Mapping[str, Tensor]], *,
          gen: torch.Generator | None = None, **params: Any) -> Tensor | dict[str, Tensor]:
    """Merged delta from stacked task vectors (n, d) -> (d,), or from a list of state-dict
    task vectors -> a state-dict delta (add it to theta_0 with `add`)."""
    method = get(name)
    if isinstance(task_vectors, Tensor):
        return method(task_vectors, gen=gen, **params)
    T, layout = stack(task_vectors)
    return unstack(method(T, gen=gen, **params), layout)


def describe_all() -> str:
    return "\n".join(m.describe() for m in METHODS.values())


# --------------------------------------------------------------------------- helpers


def minmax_rows(x: Tensor) -> Tensor:
    """Row-wise min-max normalization to [0, 1] (PCB's `normalize(x, dim=1)`); a constant
    row maps to 0 instead of the reference code's 0/0."""
    lo = x.min(dim=1, keepdim=True).values
    hi = x.max(dim=1, keepdim=True).values
    return (x - lo) / (hi - lo).clamp_min(1e-12)


def clamp_rows(x: Tensor, min_ratio: float = 0.0, max_ratio: float = 0.0) -> Tensor:
    """PCB reference `clamp`: clip each row to [its int(d*min_ratio)-th smallest value,
    its int(d*(1-max_ratio)-1)-th smallest]. Kept index for index, so max_ratio > 0
    always clips at least the largest entry (the reference's off-by-one)."""
    d = x.shape[1]
    s = torch.sort(x, dim=1).values
    lo = s[:, int(d * min_ratio)].unsqueeze(1)
    hi = s[:, int(d * (1 - max_ratio) - 1)].unsqueeze(1)
    return torch.clamp(x, lo, hi)


def topk_mask(T: Tensor, k: float) -> Tensor:
    """Keep each row's int(k*d) largest |entries| (mergekit's `magnitude` sparsify; the
    TIES reference's kthvalue version keeps one more entry on ties at the threshold)."""
    n, d = T.shape
    m = max(1, int(k * d))
    idx = torch.topk(T.abs(), m, dim=1).indices
    return torch.zeros_like(T, dtype=torch.bool).scatter_(1, idx, True)


def elect_sign(T: Tensor, how: str = "mass") -> Tensor:
    """TIES sign election: sign of sum_i tau_i ("mass") or of sum_i sign(tau_i) ("count");
    entries with no winner take the majority sign over all entries."""
    votes = T.sum(dim=0) if how == "mass" else torch.sign(T).sum(dim=0)
    sign = torch.sign(votes)
    majority = torch.sign(sign.sum())
    return torch.where(sign == 0, majority, sign)


def disjoint_mean(T: Tensor, sign: Tensor) -> Tensor:
    """Mean over the tasks whose entry agrees with the elected sign (zeros excluded)."""
    agree = torch.where(sign > 0, T > 0, T < 0)
    kept = T * agree
    count = agree.sum(dim=0).clamp_min(1)
    return kept.sum(dim=0) / count


def dare_rescale(T: Tensor, keep: Tensor, p: float) -> Tensor:
    """DARE: drop the entries where keep is False, rescale the rest by 1 / (1 - p)."""
    return T * keep / (1.0 - p)


# --------------------------------------------------------------------------- methods

_LAM = MethodParam("lam", 1.0, "scaling lambda of the merged task vector", range=(0.0, 100.0))


@register("weight_average", summary="theta_0 + mean_i tau_i (uniform model soup)",
          reference="Wortsman et al. 2022, model soups")
def weight_average(T: Tensor) -> Tensor:
    return T.mean(dim=0)


@register("task_arithmetic", summary="lam * sum_i tau_i",
          reference="Ilharco et al. 2023, arXiv 2212.04089", params=(_LAM,))
def task_arithmetic(T: Tensor, lam: float) -> Tensor:
    return lam * T.sum(dim=0)


@register("ties", summary="trim to top-k |tau|, elect signs, disjoint mean, x lam",
          reference="Yadav et al. 2023, arXiv 2306.01708", params=(
              MethodParam("k", 0.2, "fraction of each task vector kept (largest |tau|)",
                          range=(0.0, 1.0), closed="right"),
              MethodParam("elect", "mass", "sign election: sum of values or of signs",
                          choices=("mass", "count")),
              _LAM))
def ties(T: Tensor, k: float, elect: str, lam: float) -> Tensor:
    trimmed = T * topk_mask(T, k)                      # step 1: trim
    sign = elect_sign(trimmed, elect)                  # step 2: elect
    return lam * disjoint_mean(trimmed, sign)           # step 3: disjoint merge


@register("dare", summary="drop each entry with prob. p, rescale by 1/(1-p), sum "
          "(or TIES consensus), x lam", reference="Yu et al. 2024, arXiv 2311.03099",
          stochastic=True, params=(
              MethodParam("p", 0.9, "drop probability", range=(0.0, 1.0), closed="left"),
              MethodParam("rescale", True, "rescale kept entries by 1/(1-p)"),
              MethodParam("consensus", "sum", "combine the dropped vectors by a plain sum "
                          "(DARE+TA) or by TIES sign election and disjoint mean",
                          choices=("sum", "ties")),
              _LAM))
def dare(T: Tensor, p: float, rescale: bool, consensus: str, lam: float,
         gen: torch.Generator) -> Tensor:
    keep = (torch.rand(T.shape, generator=gen, device=gen.device) >= p).to(T.device)
    dropped = dare_rescale(T, keep, p) if rescale else T * keep
    if consensus == "ties":
        return lam * disjoint_mean(dropped, elect_sign(dropped))
    return lam * dropped.sum(dim=0)


@register("pcb", summary="parameter competition balancing: intra x inter scores, keep "
          "the top ratio, score-weighted mean, x lam",
          reference="Du et al. 2024, arXiv 2410.02396 (code: duguodong7/pcb-merging)",
          params=(
              MethodParam("ratio", 0.1, "fraction of each task's entries kept by score",
                          range=(0.0, 1.0), closed="right"),
              MethodParam("clamp", 1e-4, "outlier clip of |tau| at this quantile on both "
                          "ends (0 disables)", range=(0.0, 0.5), closed="left"),
              MethodParam("activation", "tanh", "inter-balancing: tanh(tau_i * sum_j tau_j) "
                          "as in the public code, or sum_j softmax(norm(tau_i * tau_j)) as in "
                          "the paper's text", choices=("tanh", "softmax")),
              MethodParam("inter_sign", 1, "sign of the inter-balancing term; -1 rewards "
                          "conflict instead of agreement (an ablation)", choices=(1, -1)),
              _LAM))
def pcb(T: Tensor, ratio: float, clamp: float, activation: str, inter_sign: int,
        lam: float) -> Tensor:
    n, d = T.shape
    # outlier clip of |tau| (reference: clamp(|tau|, 1e-4, 1e-4)), signs restored
    tau_abs = clamp_rows(T.abs(), clamp, clamp)
    tau = torch.sign(T) * tau_abs
    # intra-balancing (self-awareness): exp(n * norm(|tau_i|)^2), Eq. 2 with softmax's exp
    intra = torch.exp(n * minmax_rows(tau_abs) ** 2)
    # inter-balancing (cross-awareness): agreement of tau_i with the other tasks, Eq. 3;
    # the public code uses the raw tau (before the clip) here
    if activation == "tanh":
        inter = torch.tanh(inter_sign * T * T.sum(dim=0))
    else:
        # row j of T[i] * T is tau_i * tau_j; softmax over the d parameters, sum over j
        inter = torch.stack([torch.softmax(minmax_rows(inter_sign * T[i] * T), dim=1)
                             .sum(dim=0) for i in range(n)])
    score = intra * inter                              # PCB matrix beta
    # drop: entries below each row's (1 - ratio) quantile clip to it and normalize to 0
    scale = minmax_rows(clamp_rows(score, 1.0 - ratio, 0.0))
    merged = (tau * scale).sum(dim=0) / scale.sum(dim=0).clamp_min(1e-12)   # Eq. 5
    return lam * merged
