"""Hypothesis strategies for course inputs: shared, shrink-friendly.

Trusted side. Sizes are drawn before values, and values are small floats, so
a failing input shrinks to ``B=1, H=1`` tensors of small integers. Valid
masks are built constructively (every row keeps one True), never filtered.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st


def sizes(min_value: int = 1, max_value: int = 4) -> st.SearchStrategy[int]:
    return st.integers(min_value, max_value)


def tensors(shape: Sequence[int], dtype: torch.dtype = torch.float32,
            scale: float = 1.0) -> st.SearchStrategy[torch.Tensor]:
    """A tensor of ``shape`` whose values shrink one by one towards 0.

    By default each value is one drawn byte naming a multiple of 1/64 in
    [-2, 2) (see ``_VALUES``), times ``scale`` (a power of two keeps it exact
    in float32 and float64 alike): several times faster to draw than a list
    of floats.
    """
    return _tensors(tuple(shape), dtype, scale)


@functools.lru_cache(maxsize=4096)
def _tensors(shape: tuple[int, ...], dtype: torch.dtype, scale: float) -> st.SearchStrategy[torch.Tensor]:
    # One strategy object per shape: hypothesis validates a strategy once, not at every draw.
    return _bytes(math.prod(shape)).map(lambda b: _from_bytes(b, shape, dtype, scale))


_MAX_BYTES = 256


def _simplicity(k: int) -> tuple[int, int, bool]:
    """Sort key of k/64: fewer fraction bits first, then smaller magnitude, then positive."""
    bits = 6 - ((k & -k).bit_length() - 1) if k else 0
    return (max(bits, 0), abs(k), k < 0)


# Byte b means _VALUES[b]: 0, 1, -1, -2, 0.5, -0.5, 1.5, ... So when hypothesis shrinks
# bytes towards 0, values shrink towards small integers, then halves, then finer steps.
_VALUES = np.array(sorted(range(-128, 128), key=_simplicity), dtype=np.float64) / 64.0


def _from_bytes(raw: np.ndarray, shape: Sequence[int], dtype: torch.dtype, scale: float) -> torch.Tensor:
    picked = _VALUES[raw] * scale
    return torch.from_numpy(picked).to(dtype).reshape(tuple(shape))


@st.composite
def batch_shapes(draw: st.DrawFn, max_dims: int = 2, max_size: int = 3) -> tuple[int, ...]:
    """Leading batch dimensions for ``...`` in the spec: none, one or two."""
    return tuple(draw(st.lists(sizes(1, max_size), max_size=max_dims)))


@functools.lru_cache(maxsize=1024)
def _bytes(count: int) -> st.SearchStrategy[np.ndarray]:
    """``count`` drawn bytes as a uint8 array: one cheap draw, shrinking towards 0.

    The upper length bound does not depend on ``count``: when the shrinker makes
    a shape smaller, the bytes already drawn stay valid (only the first ``count``
    are read), so sizes and values shrink together instead of the data resetting.
    """
    raw = st.binary(min_size=count, max_size=max(count, _MAX_BYTES))
    return raw.map(lambda b: np.frombuffer(b[:count], dtype=np.uint8))


def indices(shape: Sequence[int], bound: int) -> st.SearchStrategy[torch.Tensor]:
    """int64 values in [0, bound), shrinking towards 0."""
    return _indices(tuple(shape), bound)


@functools.lru_cache(maxsize=4096)
def _indices(shape: tuple[int, ...], bound: int) -> st.SearchStrategy[torch.Tensor]:
    return _bytes(math.prod(shape)).map(lambda a: torch.from_numpy((a % bound).astype(np.int64)).view(shape))


@st.composite
def probabilities(draw: st.DrawFn, shape: Sequence[int], dtype: torch.dtype,
                  zeros: bool = False) -> torch.Tensor:
    """Rows (over the last dimension) that sum to 1; with ``zeros`` some entries are exactly 0.

    Shrinks towards uniform rows. With ``zeros``, every row keeps one positive entry.
    """
    weights = draw(_bytes(math.prod(shape))).astype(np.float64)
    raw = torch.from_numpy(1.0 + weights % 16).reshape(tuple(shape))
    if zeros:
        raw = torch.where(torch.from_numpy(weights % 3 == 1).reshape(tuple(shape)), 0.0, raw)
        keep = draw(indices(shape[:-1], shape[-1]))
        raw.scatter_(-1, keep.unsqueeze(-1), 1.0)
    return (raw / raw.sum(-1, keepdim=True)).to(dtype)


@st.composite
def masks(draw: st.DrawFn, shape: Sequence[int], keep_one: bool = True) -> torch.Tensor:
    """Boolean masks of ``shape`` (True = may attend); with ``keep_one`` every row has a True.

    Shrinks towards all-False rows that keep only their first entry.
    """
    mask = draw(_bytes(math.prod(shape))).reshape(tuple(shape)) % 2 == 1
    result = torch.from_numpy(mask.copy())
    if keep_one and shape and shape[-1] > 0:
        keep = draw(indices(shape[:-1], shape[-1]))
        result.scatter_(-1, keep.unsqueeze(-1), True)
    return result


@st.composite
def broadcast_shapes(draw: st.DrawFn, full: Sequence[int]) -> tuple[int, ...]:
    """A shape that broadcasts to ``full``: some leading dims dropped, some set to 1."""
    drop = draw(st.integers(0, max(0, len(full) - 2)))
    kept = list(full[drop:])
    for i in range(len(kept) - 1):
        if draw(st.booleans()):
            kept[i] = 1
    return tuple(kept)


def noncontiguous(tensor: torch.Tensor) -> torch.Tensor:
    """The same values in a non-contiguous layout (see ``literal``, which rebuilds it)."""
    if tensor.dim() >= 2 and tensor.shape[-1] > 1 and tensor.shape[-2] > 1:
        return tensor.transpose(-1, -2).contiguous().transpose(-1, -2)
    if tensor.dim() >= 1 and tensor.numel() > 1:
        return torch.stack([tensor, tensor], dim=-1)[..., 0]
    return tensor


def map_tensors(value: Any, fn: Any) -> Any:
    """Apply ``fn`` to every tensor inside nested lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, list | tuple):
        return type(value)(map_tensors(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: map_tensors(v, fn) for k, v in value.items()}
    return value


@st.composite
def with_layouts(draw: st.DrawFn, cases: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """Cases where, sometimes, every float tensor is non-contiguous."""
    case = draw(cases)
    if draw(st.booleans()):
        strided: dict[str, Any] = map_tensors(
            case, lambda t: noncontiguous(t) if t.is_floating_point() else t)
        return strided
    return case
