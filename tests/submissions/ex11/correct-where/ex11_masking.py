import math

import torch


def causal_mask(length, device=None):
    i = torch.arange(length, device=device)
    return i[None, :] <= i[:, None]


def padding_mask(lengths, max_len):
    return torch.arange(max_len).expand(len(lengths), max_len) < lengths[:, None]


def masked_attention(q, k, v, causal=False, key_lengths=None):
    if causal and q.shape[1] != k.shape[1]:
        raise ValueError("causal attention needs Lq == Lk")
    keep = torch.ones(q.shape[0], q.shape[1], k.shape[1], dtype=torch.bool)
    if causal:
        keep &= causal_mask(q.shape[1])
    if key_lengths is not None:
        keep &= padding_mask(key_lengths, k.shape[1])[:, None, :]
    s = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
    s = torch.where(keep, s, torch.full_like(s, -1e30))
    e = torch.exp(s - s.max(-1, keepdim=True).values) * keep
    denom = e.sum(-1, keepdim=True)
    w = torch.where(denom > 0, e / denom.clamp_min(1e-30), torch.zeros_like(e))
    return torch.bmm(w, v), w
