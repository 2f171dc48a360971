"""Exercise 12 -- Ben's solution (multi head attention)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def scaled_attention(Q: Tensor, K: Tensor, V: Tensor, m: Tensor | None) -> tuple[Tensor, Tensor]:
    # attention for every head at once
    s = torch.matmul(Q, K.transpose(-2, -1)) / math.sqrt(Q.shape[-1])
    if m is not None:
        if m.dim() == 3:
            m = m.unsqueeze(1)  # broadcast over heads
        s = s.masked_fill(m.logical_not(), float("-inf"))
    p = torch.softmax(s, dim=-1)
    return torch.matmul(p, V), p


def join(t: Tensor) -> Tensor:
    """Heads back together."""
    n, h, seq, d = t.shape
    return t.transpose(1, 2).contiguous().view(n, seq, h * d)


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor,
                         W_q: Tensor, W_k: Tensor, W_v: Tensor, W_o: Tensor,
                         b_q: Tensor, b_k: Tensor, b_v: Tensor, b_o: Tensor,
                         num_heads: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    if query.shape[-1] % num_heads != 0:
        raise ValueError("D has to be a multiple of num_heads")
    Q = split(query @ W_q.T + b_q, num_heads)
    K = split(key @ W_k.T + b_k, num_heads)
    V = split(value @ W_v.T + b_v, num_heads)
    ctx, attn = scaled_attention(Q, K, V, mask)
    return join(ctx) @ W_o.T + b_o, attn


def split(t: Tensor, h: int) -> Tensor:
    """Cut the model dimension into h heads."""
    n, seq, dm = t.shape
    return t.view(n, seq, h, dm // h).transpose(1, 2)
