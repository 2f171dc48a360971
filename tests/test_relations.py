"""Rules across two calls: each relation holds for a right function and catches a wrong one."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, equivariant, future_does_not_leak, invariant
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
    last = case["h"][-1]
    # The first row differs from the last one clearly, at any magnitude (huge values included),
    # so subtracting the first row moves with the batch's order.
    case["h"][0] = torch.where(last.abs() > 1, -last, last + 3.0)
    mixed = _check(relation, lambda h, x: h - h[0:1] + x, case)
    assert mixed is not None and mixed["subject"] == "reversed"
    assert mixed["finding"] in ("differs-at", "shapes-differ")


@given(batches())
def test_invariance_holds_and_breaks(case: dict[str, torch.Tensor]) -> None:
    shifted = invariant("shift", "en", "ko", lambda c: {**c, "x": c["x"] + 1.0})
    assert _check(shifted, lambda h, x: torch.softmax(x, -1), case) is None
    not_invariant = _check(shifted, lambda h, x: x.exp() / (1 + x.exp().sum(-1, keepdim=True)), case)
    assert not_invariant is not None


@st.composite
def sequences(draw: st.DrawFn) -> dict[str, torch.Tensor]:
    B, T, H = draw(sizes(1, 3)), draw(sizes(2, 4)), draw(sizes(1, 3))
    return {"xs": draw(tensors((B, T, H), torch.float64)), "h": draw(tensors((B, H), torch.float64))}


def _running_sum(xs: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return xs.cumsum(1) + h.unsqueeze(1)


@given(sequences())
def test_a_causal_scan_does_not_leak_and_a_backward_scan_does(case: dict[str, torch.Tensor]) -> None:
    rule = future_does_not_leak("en", "ko", {"xs": 1})
    assert _check(rule, _running_sum, case) is None
    leaked = _check(rule, lambda xs, h: xs.flip(1).cumsum(1).flip(1) + h.unsqueeze(1), case)
    assert leaked is not None and leaked["subject"] == "earlier-step" and leaked["finding"] == "differs-at"


@given(sequences())
def test_the_leak_rule_is_silent_when_its_condition_is_false(case: dict[str, torch.Tensor]) -> None:
    rule = future_does_not_leak("en", "ko", {"xs": 1}, when="causal")
    assert rule.transform({**case, "causal": False}) is None
    assert (rule.transform({**case, "causal": True}) is None) == (case["xs"].shape[1] < 2)


@given(sequences())
def test_position_equivariance_holds_pointwise_and_breaks_for_a_scan(case: dict[str, torch.Tensor]) -> None:
    rule = equivariant("order", "en", "ko", {"xs": 1}, 1)
    assert _check(rule, lambda xs, h: torch.tanh(xs) + h.unsqueeze(1), case) is None
    case["xs"][:, 0] += 1.0  # makes the first step differ from the last, so order matters
    assert _check(rule, _running_sum, case) is not None


@given(sequences(), st.booleans())
def test_per_batch_inputs_are_flipped_only_at_their_batched_rank(case: dict[str, torch.Tensor],
                                                                  shared: bool) -> None:
    B, T = case["xs"].shape[:2]
    mask = torch.arange(B * T).reshape(B, T) % 2 == 0
    case["mask"] = mask[0] if shared else mask
    other = batch_rows_independent("xs", "h", per_batch={"mask": 2}).transform(case)
    if B < 2:
        assert other is None
        return
    assert other is not None
    assert torch.equal(other["mask"], case["mask"] if shared else mask.flip(0))


def test_every_portable_rule_of_the_course_rebuilds_from_its_data(course) -> None:  # type: ignore[no-untyped-def]
    import json

    from grader.checks.relations import rebuild, recipe_data
    from grader.exercise import load_spec

    rules = [rule for entry in course.exercises
             for fn in load_spec(course.spec_file(entry), entry.id).functions
             for rule in (*fn.properties, *fn.relations)]
    assert rules and all(rule.recipe is not None for rule in rules)
    for rule in rules:
        data = json.loads(json.dumps(recipe_data(rule)))
        again = rebuild(data)
        assert (again.key, again.en, again.ko, again.key_ko) == (rule.key, rule.en, rule.ko, rule.key_ko)
        assert recipe_data(again) == data
