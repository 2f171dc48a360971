"""Masks written from the picture: positions up to the length are real (an off-by-one)."""
import math

import torch


def causal_mask(length, device=None):
    return torch.tril(torch.ones(length, length, dtype=torch.bool, device=device))


def padding_mask(lengths, max_len):
    positions = torch.arange(max_len, device=lengths.device)
    return positions[None, :] <= lengths[:, None]


def masked_attention(q, k, v, causal=False, key_lengths=None):
    Lq, Lk = q.shape[-2], k.shape[-2]
    if causal and Lq != Lk:
        raise ValueError("causal attention needs Lq == Lk")
    allowed = torch.ones(q.shape[:-2] + (Lq, Lk), dtype=torch.bool, device=q.device)
    if causal:
        allowed = allowed & causal_mask(Lq, q.device)
    if key_lengths is not None:
        allowed = allowed & (torch.arange(Lk, device=q.device) < key_lengths[..., None])[..., None, :]
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~allowed, float("-inf"))
    any_allowed = allowed.any(-1, keepdim=True)
    scores = torch.where(any_allowed, scores, torch.zeros_like(scores))
    e = torch.exp(scores - scores.max(-1, keepdim=True).values) * allowed
    weights = e / e.sum(-1, keepdim=True).clamp_min(1e-30)
    return weights @ v, weights
