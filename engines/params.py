"""The one parameter system: typed, range-checked, self-describing parameters.

Used by every scenario's `Params` dataclass (fields declared with `param(...)`) and by the
engines' method registries (a merge method's parameters are `ParamSpec`s), so a bad value
gets the same one-line message everywhere: the name, the value and what is allowed, e.g.
`k: expected an integer in [1, 50], got 'abc'`. Seeds are checked here too
(`check_seed`), so that every front-end rejects the same values.

Standard library only: `paramlab list` and the CLI's start-up import this module.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# numpy's SeedSequence takes any non-negative integer; torch.manual_seed wants < 2**64.
# One bound for every engine, so that a seed that starts a run never dies inside it.
SEED_MAX = 2**63 - 1


class ParamError(ValueError):
    """A bad parameter value; the message names the parameter, the value and what is allowed."""


_KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_CLOSED = ("both", "left", "right", "neither")


def param(
    default: Any,
    *,
    help: str,
    range: tuple[float, float] | None = None,
    choices: tuple[Any, ...] | None = None,
    log: bool = False,
    closed: str = "both",
) -> Any:
    """Declare one field of a `Params` dataclass: default, valid range or choices, help text.

    `log=True` marks a parameter usually varied on a log scale (sweeps and plots use it);
    `closed` says which ends of `range` are allowed (both, left, right, neither).
    """
    if closed not in _CLOSED:
        raise ValueError(f"closed: expected one of {', '.join(_CLOSED)}, got {closed!r}")
    meta = {"help": help, "range": range, "choices": choices, "log": log, "closed": closed}
    return field(default=default, metadata={"paramlab": meta})


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: its type (from the default or the annotation), default,
    help, and what is allowed. `coerce` turns a CLI string or a JSON value into it."""

    name: str
    kind: type
    default: Any
    help: str
    range: tuple[float, float] | None = None
    choices: tuple[Any, ...] | None = None
    log: bool = False
    closed: str = "both"

    @classmethod
    def of(cls, name: str, default: Any, help: str, **kw: Any) -> ParamSpec:
        """A spec whose type is the default's (engine method parameters declare this way)."""
        kind = type(default) if default is not None else float
        if kind not in _KIND_WORDS:
            raise TypeError(f"{name}: unsupported param type {kind!r}")
        return cls(name, kind, default, help, **kw)

    def allowed(self) -> str:
        word = _KIND_WORDS[self.kind]
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.range is not None:
            lo, hi = self.range
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            return f"{word} in {left}{fmt_num(lo)}, {fmt_num(hi)}{right}"
        return word

    def in_range(self, value: float) -> bool:
        if self.range is None:
            return True
        lo, hi = self.range
        ok_lo = value >= lo if self.closed in ("both", "left") else value > lo
        ok_hi = value <= hi if self.closed in ("both", "right") else value < hi
        return ok_lo and ok_hi

    def coerce(self, value: Any) -> Any:
        """Turn a CLI string (or a JSON value) into this field's type, or raise ParamError."""
        bad = ParamError(f"{self.name}: expected {self.allowed()}, got {value!r}")
        kind = self.kind
        if kind is bool:
            out: Any = _to_bool(value)
        elif kind is int:
            out = _to_int(value)
        elif kind is float:
            out = _to_float(value)
        else:
            out = value.strip() if isinstance(value, str) else None
        if out is None:
            raise bad
        if self.choices is not None and out not in self.choices:
            raise bad
        if kind is not str and kind is not bool and not self.in_range(out):
            raise bad
        return out


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "1", "yes", "on"):
            return True
        if word in ("false", "0", "no", "off"):
            return False
    return None


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            f = _to_float(value)
            return int(f) if f is not None and f.is_integer() else None
    return None


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = _eval_fraction(value)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def _eval_fraction(text: str) -> float:
    """Accept '0.3', '1e-3' and simple fractions such as '1/3' for float params."""
    text = text.strip()
    if "/" in text:
        num, _, den = text.partition("/")
        return float(num) / float(den)
    return float(text)


def fmt_num(x: float) -> str:
    """A range bound as a person writes it: 50, 0.001, 1e+06."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e6 else f"{x:g}"


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed as every engine accepts it: an integer in [0, SEED_MAX]; else ParamError."""
    out = _to_int(value)
    if out is None or not 0 <= out <= SEED_MAX:
        raise ParamError(f"{name}: expected an integer in [0, 2**63-1], got {value!r}")
    return out


def closest(word: str, options: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, options, n=n, cutoff=0.5)


def validate(specs: Mapping[str, ParamSpec], values: Mapping[str, Any],
             owner: str = "") -> dict[str, Any]:
    """Coerce `values` by their specs; unknown names and bad values are collected and
    raised as one ParamError, one line each (prefixed by `owner: ` when given)."""
    prefix = f"{owner}: " if owner else ""
    errors = []
    out: dict[str, Any] = {}
    for name, raw in values.items():
        spec = specs.get(name)
        if spec is None:
            close = closest(name, list(specs))
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            errors.append(f"{prefix}{name}: unknown parameter{hint}; "
                          f"known: {', '.join(specs) or 'none'}")
            continue
        try:
            out[name] = spec.coerce(raw)
        except ParamError as exc:
            errors.append(f"{prefix}{exc}")
    if errors:
        raise ParamError("\n".join(errors))
    return out


@dataclass(frozen=True)
class Params:
    """Base of every scenario's params dataclass. Fields are declared with `param(...)`.

    Subclasses may override `check_consistency` for rules that tie fields together
    (e.g. k >= r); it returns one message per violated rule.
    """

    @classmethod
    def specs(cls) -> list[ParamSpec]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("paramlab")
            if meta is None:
                continue
            kind = hints[f.name]
            if kind not in _KIND_WORDS:
                raise TypeError(f"{cls.__name__}.{f.name}: unsupported param type {kind!r}")
            out.append(ParamSpec(f.name, kind, f.default, meta["help"], meta["range"],
                                 meta["choices"], meta["log"], meta.get("closed", "both")))
        return out

    @classmethod
    def build(cls, values: Mapping[str, Any] | None = None) -> Params:
        """Validate and coerce `values` (strings or JSON values) over the defaults.

        Raises ParamError with one line per problem.
        """
        kwargs = validate({s.name: s for s in cls.specs()}, dict(values or {}))
        obj = cls(**kwargs)
        problems = obj.check_consistency()
        if problems:
            raise ParamError("\n".join(problems))
        return obj

    def check_consistency(self) -> list[str]:
        return []

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Params:
        return dataclasses.replace(self, **changes)
