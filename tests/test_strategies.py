"""Our strategies: valid by construction, and their snippets rebuild exactly the same input."""

from __future__ import annotations

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.snippets import literal
from grader.checks.strategies import (
    broadcast_shapes,
    indices,
    masks,
    noncontiguous,
    probabilities,
    sizes,
    tensors,
)

SHAPES = st.lists(sizes(1, 4), min_size=1, max_size=3)


@given(SHAPES.flatmap(lambda s: masks(s)))
def test_masks_keep_one_true_per_row(mask: torch.Tensor) -> None:
    assert mask.dtype == torch.bool
    assert bool(mask.any(dim=-1).all())


@given(SHAPES.flatmap(lambda s: probabilities(s, torch.float64, zeros=True)))
def test_probabilities_are_distributions(p: torch.Tensor) -> None:
    assert bool((p >= 0).all())
    assert torch.allclose(p.sum(-1), torch.ones(p.shape[:-1], dtype=p.dtype))
    assert bool((p > 0).any(-1).all())


@given(SHAPES, sizes(1, 6), st.data())
def test_indices_stay_in_bounds(shape: list[int], bound: int, data: st.DataObject) -> None:
    t = data.draw(indices(shape, bound))
    assert t.dtype == torch.int64 and bool(((t >= 0) & (t < bound)).all())


@given(st.lists(sizes(1, 4), min_size=2, max_size=4).flatmap(broadcast_shapes))
def test_broadcast_shapes_broadcast(shape: tuple[int, ...]) -> None:
    full = torch.Size(shape)
    assert len(full) >= 2


@given(SHAPES.flatmap(lambda s: tensors(s, torch.float32)))
def test_values_are_exact_in_float32(t: torch.Tensor) -> None:
    """Both dtypes see the same numbers, so float32 and float64 checks agree on inputs."""
    assert torch.equal(t.double().float(), t)
    assert bool((t.abs() <= 2).all())


@given(SHAPES.flatmap(lambda s: tensors(s, torch.float64)), st.booleans(), st.booleans())
def test_literal_rebuilds_the_same_tensor(t: torch.Tensor, strided: bool, grad: bool) -> None:
    """The snippet a student pastes gives back the very input: values, dtype, shape, layout."""
    if strided:
        t = noncontiguous(t)
    if grad:
        t = t.clone().requires_grad_()
    rebuilt = eval(literal(t), {"torch": torch, "float": float})  # noqa: S307 - our own literal
    assert rebuilt.dtype == t.dtype and rebuilt.shape == t.shape
    assert torch.equal(rebuilt.detach(), t.detach())
    assert rebuilt.is_contiguous() == t.is_contiguous()
    assert rebuilt.requires_grad == t.requires_grad


def test_literal_writes_special_floats() -> None:
    t = torch.tensor([math.inf, -math.inf, math.nan])
    rebuilt = eval(literal(t), {"torch": torch, "float": float})  # noqa: S307
    assert rebuilt[0] == math.inf and rebuilt[1] == -math.inf and math.isnan(rebuilt[2])


def test_noncontiguous_keeps_values() -> None:
    t = torch.arange(6.0).reshape(2, 3)
    assert not noncontiguous(t).is_contiguous()
    assert torch.equal(noncontiguous(t), t)
    assert not noncontiguous(torch.arange(3.0)).is_contiguous()
