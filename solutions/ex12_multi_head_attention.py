"""Reference for exercise-12 (multi-head attention). Imports only torch: gradable like a student file."""

from __future__ import annotations

import math

from torch import Tensor


def _softmax(x: Tensor) -> Tensor:
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor,
                         W_q: Tensor, W_k: Tensor, W_v: Tensor, W_o: Tensor,
                         b_q: Tensor, b_k: Tensor, b_v: Tensor, b_o: Tensor,
                         num_heads: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    B, Lq, D = query.shape
    if D % num_heads != 0:
        raise ValueError(f"D={D} is not divisible by num_heads={num_heads}")
    d = D // num_heads

    def heads(x: Tensor, W: Tensor, b: Tensor) -> Tensor:  # (B, L, D) -> (B, h, L, d)
        return (x @ W.T + b).view(B, -1, num_heads, d).transpose(1, 2)

    q, k, v = heads(query, W_q, b_q), heads(key, W_k, b_k), heads(value, W_v, b_v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 2 else mask.unsqueeze(1)), float("-inf"))
    weights = _softmax(scores)
    out = (weights @ v).transpose(1, 2).reshape(B, Lq, D)
    return out @ W_o.T + b_o, weights
