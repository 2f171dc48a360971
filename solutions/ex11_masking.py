"""Reference for exercise-11 (causal and padding masks). Imports only torch."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    return torch.arange(max_len, device=lengths.device) < lengths.unsqueeze(-1)


def masked_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = False,
                     key_lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
    B, Lq, Lk = q.shape[0], q.shape[1], k.shape[1]
    if causal and Lq != Lk:
        raise ValueError(f"a causal mask needs Lq == Lk, got Lq={Lq}, Lk={Lk}")
    allowed = torch.ones(B, Lq, Lk, dtype=torch.bool, device=q.device)
    if causal:
        allowed = allowed & causal_mask(Lq, q.device)
    if key_lengths is not None:
        allowed = allowed & padding_mask(key_lengths, Lk).unsqueeze(1)
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~allowed, float("-inf"))
    # A row with no allowed key would be softmax(-inf, ..., -inf) = NaN: give it zeros instead.
    scores = torch.where(allowed.any(dim=-1, keepdim=True), scores, torch.zeros_like(scores))
    e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
    weights = e / e.sum(dim=-1, keepdim=True) * allowed
    return weights @ v, weights
