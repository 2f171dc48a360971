"""compare(): equal tensors pass; a perturbation beyond tolerance is found at its exact index."""

from __future__ import annotations

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.compare import compare, tolerance
from grader.checks.strategies import sizes, tensors


@st.composite
def float_tensors(draw: st.DrawFn) -> torch.Tensor:
    shape = draw(st.lists(sizes(1, 4), min_size=1, max_size=3))
    return draw(tensors(shape, torch.float64))


@given(float_tensors(), st.sampled_from([torch.float32, torch.float64]))
def test_a_tensor_matches_itself(t: torch.Tensor, dtype: torch.dtype) -> None:
    assert compare(t.to(dtype), t, tolerance(dtype, t.numel())) is None


@given(float_tensors(), st.data())
def test_a_perturbation_is_located_exactly(t: torch.Tensor, data: st.DataObject) -> None:
    """One element moved by 1 is reported at its index, with both values and the counts."""
    flat = data.draw(st.integers(0, t.numel() - 1))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), t.shape))
    wrong = t.clone()
    wrong[index] += 1.0
    mismatch = compare(wrong, t, tolerance(torch.float64, t.numel()))
    assert mismatch is not None
    assert mismatch.index == index
    assert mismatch.mismatched == 1 and mismatch.total == t.numel()
    assert mismatch.obtained == float(wrong[index]) and mismatch.expected == float(t[index])
    assert math.isclose(mismatch.max_abs_diff, 1.0, rel_tol=1e-9)


@given(float_tensors())
def test_float32_rounding_is_within_tolerance(t: torch.Tensor) -> None:
    """A float32 answer to a float64 question passes: the tolerance covers its rounding."""
    scaled = t * 1.1
    assert compare(scaled.float(), scaled, tolerance(torch.float32, t.numel())) is None


def test_non_finite_values_must_match_exactly() -> None:
    expected = torch.tensor([-math.inf, 1.0])
    assert compare(torch.tensor([-math.inf, 1.0]), expected, tolerance(torch.float64, 2)) is None
    mismatch = compare(torch.tensor([math.nan, 1.0]), expected, tolerance(torch.float64, 2))
    assert mismatch is not None and mismatch.index == (0,) and math.isnan(mismatch.obtained)


@given(float_tensors(), st.data())
def test_a_number_where_an_infinity_is_expected_is_infinitely_off(t: torch.Tensor,
                                                                  data: st.DataObject) -> None:
    """Expected -inf (log 0), obtained a finite number: off by inf, never "max absolute difference 0"."""
    flat = data.draw(st.integers(0, t.numel() - 1))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), t.shape))
    expected = t.clone()
    expected[index] = data.draw(st.sampled_from([-math.inf, math.inf]))
    mismatch = compare(t, expected, tolerance(torch.float64, t.numel()))
    assert mismatch is not None and mismatch.index == index and mismatch.mismatched == 1
    assert mismatch.max_abs_diff == math.inf and mismatch.max_rel_diff == math.inf


def test_nan_where_a_number_is_expected_is_found() -> None:
    mismatch = compare(torch.tensor([0.5, math.nan]), torch.tensor([0.5, 0.5]), tolerance(torch.float32, 2))
    assert mismatch is not None and mismatch.index == (1,)


def test_booleans_compare_exactly() -> None:
    mismatch = compare(torch.tensor([True, False, True]), torch.tensor([True, True, True]),
                       tolerance(torch.bool, 3))
    assert mismatch is not None and mismatch.index == (1,) and mismatch.mismatched == 1


@given(st.lists(st.integers(1, 5), min_size=0, max_size=4).flatmap(
    lambda shape: st.tuples(st.just(tuple(shape)), st.integers(0, max(0, math.prod(shape) - 1)))))
def test_unravel_finds_the_element_numpy_finds(shape_and_flat: tuple[tuple[int, ...], int]) -> None:
    import numpy as np

    from grader.checks.compare import unravel

    shape, flat = shape_and_flat
    assert unravel(flat, shape) == tuple(int(i) for i in np.unravel_index(flat, shape))


def test_a_wrong_value_is_located_without_importing_sympy() -> None:
    """torch.unravel_index's argument check imports sympy: 0.3 s and 20 MB in every grading process."""
    import subprocess
    import sys

    code = ("import sys, torch; from grader.checks.compare import compare, tolerance; "
            "got = torch.zeros(2, 3); want = got.clone(); want[1, 2] = 1.0; "
            "m = compare(got, want, tolerance(got.dtype, got.numel())); "
            "print(m.index, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(1,", "2)", "False"]
