"""Reusable rules for exercise specs: properties of one output and relations between two.

Trusted side. They compare tensors the student returned (already plain
tensors) and say in a short phrase what broke; the spec gives each rule its
English and Korean statement.

Every helper here is ``portable``: the rule it builds remembers the helper's
name and arguments, so a student release can build it again from data (its
bank) without the spec, whose file also holds the reference. A rule written
in a spec by hand stays with the official grader.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from grader.checks.compare import compare, tolerance
from grader.exercise import Case, Property, Relation

F = TypeVar("F", bound=Callable[..., Any])
PORTABLE: dict[str, Callable[..., Any]] = {}


def portable(helper: F) -> F:
    """Make what ``helper`` builds carry a recipe: its name and (data-only) arguments."""

    @functools.wraps(helper)
    def build(*args: Any, **kwargs: Any) -> Any:
        made = helper(*args, **kwargs)
        recipe = (helper.__name__, list(args), dict(kwargs))
        if isinstance(made, Property | Relation):
            return dataclasses.replace(made, recipe=recipe)
        made.recipe = recipe  # a transform: a plain function
        return made

    PORTABLE[helper.__name__] = build
    return build  # type: ignore[return-value]


def recipe_data(value: Any) -> Any:
    """A recipe as JSON data (a portable argument nests as ``{"$rule": ...}``); TypeError if not data."""
    if getattr(value, "recipe", None) is not None:
        name, args, kwargs = value.recipe
        keywords = {k: recipe_data(v) for k, v in kwargs.items()}
        return {"$rule": [name, [recipe_data(a) for a in args], keywords]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [recipe_data(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: recipe_data(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} is not data")


def rebuild(data: Any) -> Any:
    """The rule (or argument) ``recipe_data`` described, built by the same helper."""
    if isinstance(data, dict) and set(data) == {"$rule"}:
        name, args, kwargs = data["$rule"]
        return PORTABLE[name](*(rebuild(a) for a in args), **{k: rebuild(v) for k, v in kwargs.items()})
    if isinstance(data, list):
        return [rebuild(v) for v in data]
    if isinstance(data, dict):
        return {k: rebuild(v) for k, v in data.items()}
    return data


def _first(value: Any) -> torch.Tensor:
    first: torch.Tensor = value[0] if isinstance(value, tuple | list) else value
    return first


def close(a: torch.Tensor, b: torch.Tensor, subject: str, output: int = 0) -> dict[str, str] | None:
    """None when ``a`` and ``b`` agree within the float tolerance, else where they differ, as data.

    ``subject`` names what was compared (a key of ``feedback.messages.SUBJECTS``).
    """
    about = {"subject": subject, "output_index": str(output)}
    if a.shape != b.shape:
        return {"finding": "shapes-differ", **about, "a": str(tuple(a.shape)), "b": str(tuple(b.shape))}
    mismatch = compare(a, b.to(a.dtype), tolerance(a.dtype, a.numel()))
    if mismatch is None:
        return None
    return {"finding": "differs-at", **about, "index": str(list(mismatch.index)),
            "got": f"{mismatch.obtained:.6g}", "want": f"{mismatch.expected:.6g}"}


@portable
def flipped(axes: dict[str, int]) -> Callable[[Case], Case | None]:
    """A transform reversing each named input along its axis; names absent from a case are skipped.

    The first name decides: a case with fewer than two entries along its axis says nothing.
    """
    first, axis = next(iter(axes.items()))

    def transform(case: Case) -> Case | None:
        if case[first].shape[axis] < 2:
            return None
        return {**case, **{n: case[n].flip(a) for n, a in axes.items() if case.get(n) is not None}}

    return transform


@portable
def equivariant(key: str, en: str, ko: str, axes: dict[str, int], out_axis: int,
                key_ko: str = "") -> Relation:
    """Reversing the inputs along ``axes`` reverses every output along ``out_axis``, nothing else."""

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        pairs = zip(_outputs(out), _outputs(other_out), strict=False)
        for i, (a, b) in enumerate(pairs):
            if broken := close(b, a.flip(out_axis), "reversed", i):
                return broken
        return None

    return Relation(key, en, ko, flipped(axes), holds, key_ko)


@portable
def batch_rows_independent(*names: str, per_batch: dict[str, int] | None = None) -> Relation:
    """Reversing the batch of ``names`` reverses every output's batch, and changes nothing else.

    ``per_batch`` names inputs that carry a batch axis only at some rank (a mask given per batch
    row as (B, Lq, Lk) or shared as (Lq, Lk)): name -> the rank at which they are batched.
    """
    rule = equivariant("batch rows independent", "each batch row depends only on its own inputs",
                       "각 배치 행은 자기 입력에만 의존해야 합니다", dict.fromkeys(names, 0), 0,
                       "배치 행끼리 독립")

    def transform(case: Case) -> Case | None:
        other = rule.transform(case)
        if other is None:
            return None
        for name, rank in (per_batch or {}).items():
            value = case.get(name)
            if value is not None and value.dim() == rank:
                other[name] = value.flip(0)
        return other

    return Relation(rule.key, rule.en, rule.ko, transform, rule.holds, rule.key_ko)


def _outputs(value: Any) -> Sequence[torch.Tensor]:
    return list(value) if isinstance(value, tuple | list) else [value]


@portable
def invariant(key: str, en: str, ko: str, transform: Callable[[Case], Case | None],
              key_ko: str = "") -> Relation:
    """The (first) output is unchanged when the input is transformed."""

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        return close(_first(other_out), _first(out), "changed")

    return Relation(key, en, ko, transform, holds, key_ko)


@portable
def future_does_not_leak(en: str, ko: str, axes: dict[str, int], when: str | None = None) -> Relation:
    """Changing the last step of the named inputs leaves every earlier step of output 0 unchanged.

    ``axes`` maps each input to its time axis; the first output's axis 1 is its time axis.
    ``when`` names a boolean input the rule depends on (e.g. ``causal``).
    """
    first, axis = next(iter(axes.items()))

    def transform(case: Case) -> Case | None:
        if (when is not None and not case[when]) or case[first].shape[axis] < 2:
            return None
        other = dict(case)
        for name, a in axes.items():
            changed = case[name].clone()
            changed.select(a, -1).add_(1.0)  # exact in every float dtype
            other[name] = changed
        return other

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        return close(_first(other_out)[:, :-1], _first(out)[:, :-1], "earlier-step")

    return Relation("future does not leak", en, ko, transform, holds, "미래 정보가 새지 않음")


@portable
def shifted(name: str, by: float) -> Callable[[Case], Case | None]:
    """A transform adding ``by`` (exact in float32) to every element of input ``name``."""
    return lambda case: {**case, name: case[name] + by}


# --- properties of one output -------------------------------------------------------------


@portable
def values_between(key: str, en: str, ko: str, low: float, high: float, key_ko: str = "") -> Property:
    """Every value of the (first) output lies in [low, high] (and none is NaN)."""

    def holds(case: Case, out: Any) -> dict[str, str] | None:
        values = _first(out)
        bad = (values < low) | (values > high) | values.isnan()
        if not bad.any():
            return None
        example = values[bad][0].item()
        return {"finding": "outside", "count": str(int(bad.sum())), "low": f"{low:g}", "high": f"{high:g}",
                "example": f"{example:.4g}"}

    return Property(key, en, ko, holds, key_ko)


@portable
def slices_sum_to_one(key: str, en: str, ko: str, dim_input: str, key_ko: str = "") -> Property:
    """Every slice of the (first) output along the dimension input ``dim_input`` names sums to 1."""

    def holds(case: Case, out: Any) -> dict[str, str] | None:
        p = _first(out)
        totals = p.double().sum(dim=case[dim_input])
        tol = 1e-4 if p.dtype == torch.float32 else 1e-10
        worst = (totals - 1).abs().max().item() if totals.numel() else 0.0
        if worst <= tol:
            return None
        return {"finding": "slice-sum", "total": f"{1 + worst:.6g}", "off": f"{worst:.3g}"}

    return Property(key, en, ko, holds, key_ko)


@portable
def zero_weight_past_lengths(key: str, en: str, ko: str, lengths_input: str, output_index: int,
                             key_ko: str = "") -> Property:
    """Output ``output_index`` (weights over keys, last axis) is exactly 0 at keys past each row's length."""

    def holds(case: Case, out: Any) -> dict[str, str] | None:
        lengths = case.get(lengths_input)
        if lengths is None:
            return None
        weights = out[output_index]
        padded = torch.arange(weights.shape[-1]) >= lengths[:, None, None]
        leaked = weights[padded.expand_as(weights)]
        if bool((leaked == 0).all()):
            return None
        return {"finding": "padded-weight", "weight": f"{leaked[leaked != 0][0].item():.4g}"}

    return Property(key, en, ko, holds, key_ko)
