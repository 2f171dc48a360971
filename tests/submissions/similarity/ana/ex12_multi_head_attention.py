"""exercise-12: my multi-head attention."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    # (B, L, D) -> (B, h, L, D/h)
    batch, length, dim = x.shape
    return x.view(batch, length, num_heads, dim // num_heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    # (B, h, L, d) -> (B, L, h*d)
    batch, heads, length, size = x.shape
    return x.transpose(1, 2).contiguous().view(batch, length, heads * size)


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        if mask.dim() == 3:
            mask = mask.unsqueeze(1)
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.matmul(weights, v), weights


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor,
                         W_q: Tensor, W_k: Tensor, W_v: Tensor, W_o: Tensor,
                         b_q: Tensor, b_k: Tensor, b_v: Tensor, b_o: Tensor,
                         num_heads: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    if query.shape[-1] % num_heads != 0:
        raise ValueError("model size must be divisible by the number of heads")
    q = split_heads(query @ W_q.T + b_q, num_heads)
    k = split_heads(key @ W_k.T + b_k, num_heads)
    v = split_heads(value @ W_v.T + b_v, num_heads)
    context, weights = attend(q, k, v, mask)
    return merge_heads(context) @ W_o.T + b_o, weights
