from __future__ import annotations

import math

import torch
from torch import Tensor


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor,
                         W_q: Tensor, W_k: Tensor, W_v: Tensor, W_o: Tensor,
                         b_q: Tensor, b_k: Tensor, b_v: Tensor, b_o: Tensor,
                         num_heads: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    B, Lq, D = query.shape
    Lk = key.shape[1]
    if D % num_heads:
        raise ValueError(f"{D} % {num_heads} != 0")
    hd = D // num_heads
    qs = torch.nn.functional.linear(query, W_q, b_q).reshape(B, Lq, num_heads, hd).permute(0, 2, 1, 3)
    ks = torch.nn.functional.linear(key, W_k, b_k).reshape(B, Lk, num_heads, hd).permute(0, 2, 3, 1)
    vs = torch.nn.functional.linear(value, W_v, b_v).reshape(B, Lk, num_heads, hd).permute(0, 2, 1, 3)
    logits = (qs @ ks) * (1.0 / math.sqrt(hd))
    if mask is not None:
        allowed = mask[None, None] if mask.dim() == 2 else mask[:, None]
        logits = torch.where(allowed, logits, torch.full_like(logits, -math.inf))
    w = logits.softmax(-1)
    heads = (w @ vs).permute(0, 2, 1, 3).reshape(B, Lq, D)
    return torch.nn.functional.linear(heads, W_o, b_o), w
