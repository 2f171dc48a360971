"""Masked attention as in The Annotated Transformer: masked scores are filled with -1e9."""
import math

import torch


def causal_mask(length, device=None):
    return torch.tril(torch.ones(length, length, device=device)).bool()


def padding_mask(lengths, max_len):
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def masked_attention(q, k, v, causal=False, key_lengths=None):
    B, Lq, Lk = q.size(0), q.size(1), k.size(1)
    if causal and Lq != Lk:
        raise ValueError("causal attention needs Lq == Lk")
    mask = torch.ones(B, Lq, Lk, dtype=torch.bool)
    if causal:
        mask = mask & causal_mask(Lq)
    if key_lengths is not None:
        mask = mask & padding_mask(key_lengths, Lk)[:, None, :]
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(mask == 0, -1e9)
    e = (scores - scores.max(dim=-1, keepdim=True).values).exp()
    p_attn = e / e.sum(dim=-1, keepdim=True)
    return torch.matmul(p_attn, v), p_attn
