"""Reusable rules for exercise specs: properties of one output and relations between two.

Trusted side. They compare tensors the student returned (already plain
tensors) and say in a short phrase what broke; the spec gives each rule its
English and Korean statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.checks.compare import compare, tolerance
from grader.exercise import Case, Relation


def _first(value: Any) -> torch.Tensor:
    first: torch.Tensor = value[0] if isinstance(value, tuple | list) else value
    return first


def close(a: torch.Tensor, b: torch.Tensor, what: str) -> dict[str, str] | None:
    """None when ``a`` and ``b`` agree within the float tolerance, else where they differ."""
    if a.shape != b.shape:
        return {"found": f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ"}
    mismatch = compare(a, b.to(a.dtype), tolerance(a.dtype, a.numel()))
    if mismatch is None:
        return None
    got, want = f"{mismatch.obtained:.6g}", f"{mismatch.expected:.6g}"
    return {"found": f"{what}: at index {list(mismatch.index)}, {got} instead of {want}"}


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


def equivariant(key: str, en: str, ko: str, axes: dict[str, int], out_axis: int,
                key_ko: str = "") -> Relation:
    """Reversing the inputs along ``axes`` reverses every output along ``out_axis``, nothing else."""

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        pairs = zip(_outputs(out), _outputs(other_out), strict=False)
        for i, (a, b) in enumerate(pairs):
            if broken := close(b, a.flip(out_axis), f"output {i} for the reversed input"):
                return broken
        return None

    return Relation(key, en, ko, flipped(axes), holds, key_ko)


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


def invariant(key: str, en: str, ko: str, transform: Callable[[Case], Case | None],
              pick: Callable[[Any], torch.Tensor] = _first, key_ko: str = "") -> Relation:
    """The (picked) output is unchanged when the input is transformed."""

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        return close(pick(other_out), pick(out), "the output on the changed input")

    return Relation(key, en, ko, transform, holds, key_ko)


def future_does_not_leak(en: str, ko: str, axes: dict[str, int],
                         when: Callable[[Case], bool] = lambda case: True) -> Relation:
    """Changing the last step of the named inputs leaves every earlier step of output 0 unchanged.

    ``axes`` maps each input to its time axis; the first output's axis 1 is its time axis.
    """
    first, axis = next(iter(axes.items()))

    def transform(case: Case) -> Case | None:
        if not when(case) or case[first].shape[axis] < 2:
            return None
        other = dict(case)
        for name, a in axes.items():
            changed = case[name].clone()
            changed.select(a, -1).add_(1.0)  # exact in every float dtype
            other[name] = changed
        return other

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        return close(_first(other_out)[:, :-1], _first(out)[:, :-1], "an earlier step's output")

    return Relation("future does not leak", en, ko, transform, holds, "미래 정보가 새지 않음")
