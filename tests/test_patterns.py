"""Causes with no entry of their own: precision, sign, scale, layout, a term left out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks import patterns
from grader.course import Course
from grader.exercise import load_spec
from grader.grading import grade_reference
from grader.results import Failure, Kind


def _pattern(course: Course, exercise: str, function: str,
             wrong: Callable[..., object]) -> dict[str, str] | None:
    entry = course.resolve(exercise)
    spec = load_spec(course.spec_file(entry), entry.id)
    result = grade_reference(course, entry, {**spec.references(), function: wrong})
    found = [c.failure.pattern for c in result.checks
             if c.failure is not None and c.kind == "matches-reference" and c.failure.pattern]
    return found[0] if found else None


def _gate(h_prev: torch.Tensor, x_t: torch.Tensor, W_f: torch.Tensor, b_f: torch.Tensor) -> torch.Tensor:
    return torch.cat([h_prev, x_t], -1) @ W_f.T + b_f


def test_float32_inside_a_float64_function_is_named_precision(course: Course) -> None:
    def wrong(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return torch.sigmoid(_gate(h_prev.float(), x_t.float(), W_f.float(), b_f.float())).to(h_prev.dtype)

    assert _pattern(course, "05", "forget_gate", wrong) == {"pattern": "precision"}


def test_a_flipped_sign_is_named(course: Course) -> None:
    def wrong(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return -torch.sigmoid(_gate(h_prev, x_t, W_f, b_f))

    assert _pattern(course, "05", "forget_gate", wrong) == {"pattern": "sign"}


def test_a_term_left_out_is_named_by_the_specs_own_input_name(course: Course) -> None:
    def wrong(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return torch.sigmoid(x_t @ W_f[:, h_prev.shape[-1]:].T + b_f)

    expected = {"pattern": "as-if", "argument": "h_prev", "value": "0"}
    assert _pattern(course, "05", "forget_gate", wrong) == expected


def test_a_scale_factor_is_named_as_an_expression_of_the_input_when_one_fits(course: Course) -> None:
    def doubled(x, dim=-1):  # type: ignore[no-untyped-def]
        return 2 * torch.softmax(x, dim)

    assert _pattern(course, "09", "softmax", doubled) == {"pattern": "scale", "factor": "2"}

    def times_d(q, k):  # type: ignore[no-untyped-def]
        return q @ k.transpose(-2, -1) * q.shape[-1] ** 0.5

    found = _pattern(course, "08", "attention_scores", times_d)
    assert found is not None and found["pattern"] == "scale"
    assert found["factor"] in ("q.shape[-1]", "k.shape[-1]")


@given(st.integers(2, 4), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_any_permutation_of_axes_is_found(rows: int, cols: int, seed: int) -> None:
    want = torch.randn(rows, cols, cols, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    got = want.transpose(-2, -1)
    found = patterns._layout(None, {}, got, want, torch.float64)  # type: ignore[arg-type]
    assert found == {"order": "[0, 2, 1]"}
    assert patterns._layout(None, {}, want, want, torch.float64) is None  # type: ignore[arg-type]


@given(st.floats(0.01, 100).filter(lambda f: abs(f - 1) > 0.01), st.integers(0, 2**32 - 1))
def test_a_constant_factor_is_found_and_the_sign_apart_from_it(factor: float, seed: int) -> None:
    want = torch.randn(3, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert patterns._scale(None, {}, factor * want, want, torch.float64) is not None  # type: ignore[arg-type]
    assert patterns._sign(None, {}, -want, want, torch.float64) == {}  # type: ignore[arg-type]
    assert patterns._sign(None, {}, factor * want, want, torch.float64) is None  # type: ignore[arg-type]


def test_an_assert_where_the_spec_asks_for_value_error_is_named(course: Course) -> None:
    def asserting(x, n):  # type: ignore[no-untyped-def]
        assert 1 <= n < x.shape[1]
        return x.unfold(1, n, 1)[:, : x.shape[1] - n], x[:, n:]

    entry = course.resolve("01")
    spec = load_spec(course.spec_file(entry), entry.id)
    result = grade_reference(course, entry, {**spec.references(), "autoregressive_windows": asserting})
    found = [c.failure.pattern for c in result.checks if c.kind == "raises-value-error" and c.failure]
    assert found == [{"pattern": "assert"}]


@given(st.floats(0.01, 100).filter(lambda f: abs(f - 1) > 0.01),
       st.floats(-3, 3).filter(lambda v: abs(v) > 0.1))
def test_one_value_is_never_called_a_scale_or_a_sign(course: Course, wrong: float, q: float) -> None:
    """A 1x1 output (a replayed shrunk input) fits any factor: no scale or sign is claimed from it."""
    from grader.checks.target import Target
    from grader.sandbox.runner import LocalRunner

    entry = course.resolve("08")
    spec = load_spec(course.spec_file(entry), entry.id)
    reference = spec.references()["attention_scores"]
    student = {**spec.references(), "attention_scores": lambda q, k: wrong * reference(q, k)}
    target = Target(spec, spec.function("attention_scores"), LocalRunner(student))
    case = {"q": torch.tensor([[q]], dtype=torch.float64), "k": torch.tensor([[1.0]], dtype=torch.float64)}
    failure = Failure(Kind.WRONG_VALUE)
    assert patterns.find_pattern(target, [case], failure) is None
    bigger = {"q": torch.tensor([[q, 1.0]], dtype=torch.float64),
              "k": torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=torch.float64)}
    found = patterns.find_pattern(target, [case, bigger], failure)
    assert found is not None and found["pattern"] in ("scale", "sign")


@given(st.integers(1, 6), st.integers(0, 2**32 - 1), st.floats(-60, -1), st.booleans())
def test_a_hidden_infinity_is_named_only_when_all_else_is_right(size: int, seed: int, clamped: float,
                                                                wrong_elsewhere: bool) -> None:
    """-inf expected (log 0), a finite number obtained there (log(p + eps)), everything else right:
    lost-infinity. Also wrong elsewhere, or no infinity expected at all: not this cause."""
    generator = torch.Generator().manual_seed(seed)
    want = torch.randn(size + 1, generator=generator, dtype=torch.float64)
    want[0] = -torch.inf
    got = want.clone()
    got[0] = clamped
    if wrong_elsewhere:
        got[1:] += 1.0
    found = patterns._lost_infinity(None, {}, got, want, torch.float64)  # type: ignore[arg-type]
    assert found == (None if wrong_elsewhere else {"value": "-inf"})
    # No infinity expected: never evidence; at most consistent with the cause, where off by a hair.
    alone = patterns._lost_infinity(None, {}, got[1:], want[1:], torch.float64)  # type: ignore[arg-type]
    assert alone is (None if wrong_elsewhere else patterns.CONSISTENT)


def _clamped(states, initial, transition):  # type: ignore[no-untyped-def]
    logs = transition.clamp_min(1e-30).log()
    return initial.clamp_min(1e-30).log()[states[:, 0]] + logs[states[:, :-1], states[:, 1:]].sum(-1)


def _plus_epsilon(states, initial, transition):  # type: ignore[no-untyped-def]
    logs = (transition + 1e-9).log()  # also a hair off where p = 1, the input shrinking prefers
    return (initial + 1e-9).log()[states[:, 0]] + logs[states[:, :-1], states[:, 1:]].sum(-1)


@pytest.mark.parametrize("wrong", [_clamped, _plus_epsilon], ids=["clamped", "plus-epsilon"])
def test_a_clamped_log_probability_is_named_lost_infinity(course: Course,
                                                           wrong: Callable[..., object]) -> None:
    entry = course.resolve("02")
    spec = load_spec(course.spec_file(entry), entry.id)
    result = grade_reference(course, entry, {**spec.references(), "markov_log_likelihood": wrong})
    found = [c.failure.pattern for c in result.checks if c.failure is not None and c.failure.pattern]
    assert {"pattern": "lost-infinity", "value": "-inf"} in found


MIXING = [lambda a, b: a @ b, lambda a, b: torch.bmm(a[None], b[None]), lambda a, b: torch.addmm(a, a, b),
          lambda a, b: torch.einsum("ij,jk->ik", a, b), lambda a, b: a.index_put_((torch.tensor([0]),), b[0])]


@given(st.sampled_from(MIXING), st.booleans())
def test_torch_refusing_to_mix_float32_and_float64_is_named_on_float64_inputs(
        op: Callable[[torch.Tensor, torch.Tensor], object], float64_inputs: bool) -> None:
    """The messages are torch's own (whatever this torch version says); the cause is named only
    where the input had float64 tensors, which a float32 tensor of the student's then met."""
    try:
        op(torch.eye(2), torch.eye(2, dtype=torch.float64))
    except RuntimeError as exc:
        said = str(exc)
    failure = Failure(Kind.RAISED, {"type": "RuntimeError", "message": said, "line": "3"})
    case = {"x": torch.zeros(2, dtype=torch.float64 if float64_inputs else torch.float32)}
    named = patterns.default_dtype(failure, case)
    assert named == ({"pattern": "default-dtype"} if float64_inputs else None)
    other = Failure(Kind.RAISED, {"type": "RuntimeError",
                             "message": "mat1 and mat2 shapes cannot be multiplied"})
    assert patterns.default_dtype(other, case) is None


def test_a_weight_used_untransposed_is_named_from_the_shape_error_or_from_the_values(course: Course) -> None:
    """``x @ W`` for ``x @ W.T``: a rectangular weight makes torch refuse the shapes, a square one
    gives the reference's output with that weight transposed (here in a tuple output's second part)."""
    def cell(x_t, h_prev, W_xh, W_hh, b_h):  # type: ignore[no-untyped-def]
        return torch.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)

    assert _pattern(course, "03", "rnn_cell", cell) == {"pattern": "untransposed", "argument": "W_xh"}
    entry = course.resolve("12")
    reference = load_spec(course.spec_file(entry), entry.id).function("multi_head_attention").reference

    def heads(query, key, value, W_q, *rest, **options):  # type: ignore[no-untyped-def]
        return reference(query, key, value, W_q.T, *rest, **options)

    found = _pattern(course, "12", "multi_head_attention", heads)
    assert found == {"pattern": "as-transposed", "argument": "W_q", "value": "T"}


def _rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):  # type: ignore[no-untyped-def]  # the parameter names only
    raise AssertionError("never called")


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.sampled_from(["W_xh", "W_hh"]))
def test_a_refused_product_names_the_one_argument_whose_transpose_fits(batch: int, inputs: int, hidden: int,
                                                                        weight: str) -> None:
    """``x_t @ W`` for any sizes, in torch's own words: where torch refuses it, the weight is named when
    no other argument has its shape; and an argument is named only where its transpose would fit."""
    from types import SimpleNamespace

    from grader.exercise import Function

    case = {"x_t": torch.randn(batch, inputs), "h_prev": torch.randn(batch, hidden),
            "W_xh": torch.randn(hidden, inputs), "W_hh": torch.randn(hidden, hidden),
            "b_h": torch.randn(hidden)}
    try:
        case["x_t"] @ case[weight]
        return  # the shapes fit: nothing was refused
    except RuntimeError as exc:
        failure = Failure(Kind.RAISED, {"type": "RuntimeError", "message": str(exc), "line": "2"})
    target = SimpleNamespace(function=Function("rnn_cell", _rnn_cell, st.nothing()))
    named = patterns.untransposed(target, failure, case)  # type: ignore[arg-type]
    alike = [n for n, t in case.items() if t.shape == case[weight].shape]
    fits = case[weight].shape[1] == inputs  # (x_t @ weight.T) would have worked
    assert named == ({"pattern": "untransposed", "argument": weight} if fits and alike == [weight] else None)


def test_a_random_function_is_named_random_and_a_deterministic_one_never(course: Course) -> None:
    """Dropout left in (the functional one trains by default): each call is seeded alike, so only
    a call with another seed shows it. The same function without dropout is named otherwise."""
    import torch.nn.functional as F

    def dropped(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return torch.sigmoid(F.dropout(_gate(h_prev, x_t, W_f, b_f), p=0.5))

    def halved(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return torch.sigmoid(_gate(h_prev, x_t, W_f, b_f)) * 0.5

    assert _pattern(course, "05", "forget_gate", dropped) == {"pattern": "random"}
    assert _pattern(course, "05", "forget_gate", halved) == {"pattern": "scale", "factor": "0.5"}


def test_code_written_for_one_rank_is_named_and_code_right_by_coincidence_is_not(course: Course) -> None:
    """bmm works for 3-D inputs, and for any failing input once it is given 3 dimensions; dividing
    by sqrt(Lq) is right only where Lq = d_k, as on drawn 3-D inputs of size 1, and is not fixed-rank."""
    import math

    def bmm(q, k):  # type: ignore[no-untyped-def]
        return torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.size(2))

    def by_length(q, k):  # type: ignore[no-untyped-def]
        return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2])

    assert _pattern(course, "08", "attention_scores", bmm) == {"pattern": "fixed-rank", "argument": "q",
                                                                 "rank": "3"}
    found = _pattern(course, "08", "attention_scores", by_length)
    assert found is None or found["pattern"] != "fixed-rank", found


def test_a_wrong_shape_that_is_the_reference_with_axes_swapped_is_named_layout(course: Course) -> None:
    """torch.stack along dim 0 where the batch comes first: a shape error whose values are all there."""
    def stacked(x, n):  # type: ignore[no-untyped-def]
        if not 1 <= n < x.shape[1]:
            raise ValueError("n")
        steps = range(x.shape[1] - n)
        return torch.stack([x[:, t:t + n] for t in steps], 1), torch.stack([x[:, t + n] for t in steps], 0)

    found = _pattern(course, "01", "autoregressive_windows", stacked)
    assert found == {"pattern": "layout", "order": "[1, 0]"}


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.lists(st.integers(0, 3), min_size=1,
                                                                      max_size=2), st.integers(0, 2**32 - 1))
def test_axes_of_size_one_added_or_dropped_are_found_and_nothing_else_is(shape: list[int], spots: list[int],
                                                                          seed: int) -> None:
    want = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    more = want
    for spot in spots:  # an unsqueeze, wherever it was put
        more = more.unsqueeze(min(spot, more.dim()))
    assert patterns._axes_added(more, want) == len(spots)
    assert patterns._axes_added(want, more) == -len(spots)  # the same, seen from the other side
    assert patterns._axes_added(want, want) == 0
    assert patterns._axes_added(more + 1, want) == 0  # other values
    assert patterns._axes_added(torch.cat([more, more], -1), want) == 0  # other sizes


def test_a_mask_with_an_extra_axis_and_a_bare_squeeze_are_named(course: Course) -> None:
    def broadcastable(length, device=None):  # type: ignore[no-untyped-def]
        return torch.ones(1, length, length, dtype=torch.bool, device=device).tril()  # (1, L, L)

    def squeezed(h_prev, x_t, W_f, b_f):  # type: ignore[no-untyped-def]
        return torch.sigmoid(_gate(h_prev, x_t, W_f, b_f)).squeeze()  # (H,) when B = 1

    assert _pattern(course, "11", "causal_mask", broadcastable) == {"pattern": "extra-axis"}
    assert _pattern(course, "05", "forget_gate", squeezed) == {"pattern": "missing-axis"}
