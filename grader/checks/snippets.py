"""Inputs as copy-pasteable Python source: ``torch.tensor([...])`` literals and the call.

Trusted side. A student pastes the snippet into a REPL and gets exactly the
tensor the check used, layout included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from grader.checks.strategies import noncontiguous


def literal(value: Any) -> str:
    """Python source that rebuilds ``value`` (tensors, numbers, lists, dicts)."""
    if isinstance(value, torch.Tensor):
        return _tensor_literal(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, torch.dtype):
        return str(value)
    return repr(value)


def _number(x: float) -> str:
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "-float('inf')"
    return repr(x)


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(i) for i in items) + "]"
    if isinstance(items, bool):
        return repr(items)
    return _number(float(items)) if isinstance(items, float) else repr(items)


def _tensor_literal(t: torch.Tensor) -> str:
    plain = t.detach()
    body = _nested(plain.tolist()) if plain.dim() else _nested(plain.item())
    if plain.numel() == 0:
        body = f"torch.empty({tuple(plain.shape)}"
        text = f"{body}, dtype={plain.dtype})"
    else:
        text = f"torch.tensor({body}, dtype={plain.dtype})"
        if plain.numel() > 1 and not plain.is_contiguous():
            text = _layout(plain, text)
    if t.requires_grad:
        text += ".requires_grad_()"
    return text


def _layout(t: torch.Tensor, text: str) -> str:
    """Rebuild the non-contiguous layout the way ``strategies.noncontiguous`` makes it."""
    if t.dim() >= 2 and t.shape[-1] > 1 and t.shape[-2] > 1:
        return f"{text}.transpose(-1, -2).contiguous().transpose(-1, -2)"
    assert not noncontiguous(t.contiguous()).is_contiguous()
    return f"torch.stack([{text}] * 2, dim=-1)[..., 0]"


def call_source(function: str, args: tuple[str, ...], kwargs: Mapping[str, Any]) -> str:
    parts = list(args) + [f"{k}={v}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"
