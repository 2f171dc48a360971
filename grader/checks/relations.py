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


def batch_rows_independent(*names: str) -> Relation:
    """Reversing the batch of ``names`` reverses every output's batch, and changes nothing else."""

    def transform(case: Case) -> Case | None:
        if case[names[0]].shape[0] < 2:
            return None
        return {**case, **{n: case[n].flip(0) for n in names}}

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        pairs = zip(_outputs(out), _outputs(other_out), strict=False)
        for i, (a, b) in enumerate(pairs):
            if broken := close(b, a.flip(0), f"output {i} for the reversed batch"):
                return broken
        return None

    return Relation("batch rows independent", "each batch row depends only on its own inputs",
                    "각 배치 행은 자기 입력에만 의존해야 합니다", transform, holds)


def _outputs(value: Any) -> Sequence[torch.Tensor]:
    return list(value) if isinstance(value, tuple | list) else [value]


def invariant(key: str, en: str, ko: str, transform: Callable[[Case], Case | None],
              pick: Callable[[Any], torch.Tensor] = _first) -> Relation:
    """The (picked) output is unchanged when the input is transformed."""

    def holds(case: Case, out: Any, other: Case, other_out: Any) -> dict[str, str] | None:
        return close(pick(other_out), pick(out), "the output on the changed input")

    return Relation(key, en, ko, transform, holds)
