"""Rules across two calls: each relation holds for a right function and catches a wrong one."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, invariant
from grader.checks.strategies import sizes, tensors


@st.composite
def batches(draw: st.DrawFn) -> dict[str, torch.Tensor]:
    B, H = draw(sizes(2, 4)), draw(sizes(1, 3))
    return {"h": draw(tensors((B, H), torch.float64)), "x": draw(tensors((B, H), torch.float64))}


def _check(relation, fn, case):  # type: ignore[no-untyped-def]
    other = relation.transform(case)
    if other is None:
        return None
    return relation.holds(case, fn(**case), other, fn(**other))


@given(batches())
def test_row_wise_functions_keep_batch_rows_independent(case: dict[str, torch.Tensor]) -> None:
    relation = batch_rows_independent("h", "x")
    assert _check(relation, lambda h, x: torch.sigmoid(h + 2 * x), case) is None


@given(batches())
def test_mixing_batch_rows_is_caught(case: dict[str, torch.Tensor]) -> None:
    relation = batch_rows_independent("h", "x")
    case["h"][0] += 1.0  # rows differ, so a batch mean moves with their order
    mixed = _check(relation, lambda h, x: h - h[0:1] + x, case)
    assert mixed is not None and "reversed batch" in mixed["found"]


@given(batches())
def test_invariance_holds_and_breaks(case: dict[str, torch.Tensor]) -> None:
    shifted = invariant("shift", "en", "ko", lambda c: {**c, "x": c["x"] + 1.0})
    assert _check(shifted, lambda h, x: torch.softmax(x, -1), case) is None
    not_invariant = _check(shifted, lambda h, x: x.exp() / (1 + x.exp().sum(-1, keepdim=True)), case)
    assert not_invariant is not None
