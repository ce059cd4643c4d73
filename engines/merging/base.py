"""The shared machinery of the merge methods: task vectors, the method registry, and the
sign-election helpers that more than one method uses.

Every method works on task vectors tau_i = theta_i - theta_0 stacked as one tensor T of
shape (n tasks, d parameters) and returns the merged delta (d,), so the merged model is
theta_0 + merge(T). State dicts are flattened with `stack` and restored with `unstack`;
`merge` accepts either form.

The layout follows mergekit's `merge_methods`: a registry maps a method's name to a
`MergeMethod`, and each method declares its parameters as `ParamSpec`s (the project's one
parameter system, engines/params.py). That declaration drives validation
(`method.resolve(...)` names the bad parameter, the value and what is allowed) and the
generated docs (`describe()`), so a later paper adds a method with one decorated function
in a module of its own (imported by this package's `__init__`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from paramlab.engines.params import ParamError, ParamSpec, closest, validate

Tensor = torch.Tensor
Layout = list[tuple[str, torch.Size]]


class MergeParamError(ParamError):
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
class MergeMethod:
    """A named merge method: fn(T (n, d), gen, **params) -> merged delta (d,)."""

    name: str
    summary: str
    reference: str
    params: tuple[ParamSpec, ...]
    fn: Callable[..., Tensor]
    stochastic: bool = False  # needs a torch.Generator (gen=...)

    def resolve(self, **given: Any) -> dict[str, Any]:
        """Validate `given` over the declared defaults; raise one line per problem."""
        out = {p.name: p.default for p in self.params}
        try:
            out.update(validate({p.name: p for p in self.params}, given, owner=self.name))
        except ParamError as exc:
            raise MergeParamError(str(exc)) from None
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
            lines.append(f"  {p.name}: {p.allowed()}, default {p.default!r} - {p.help}")
        return "\n".join(lines)


METHODS: dict[str, MergeMethod] = {}


def register(name: str, *, summary: str, reference: str,
             params: Sequence[ParamSpec] = (), stochastic: bool = False
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
        close = closest(name, list(METHODS))
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


# --------------------------------------------------------------------------- shared parts

LAM = ParamSpec.of("lam", 1.0, "scaling lambda of the merged task vector", range=(0.0, 100.0))


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
