import math

import torch


def causal_mask(length, device=None):
    return torch.tril(torch.ones(length, length, dtype=torch.bool, device=device))


def padding_mask(lengths, max_len):
    return torch.arange(max_len)[None, :] < lengths[:, None]


def masked_attention(q, k, v, causal=False, key_lengths=None):
    if causal and q.shape[1] != k.shape[1]:
        raise ValueError("Lq != Lk")
    s = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(~causal_mask(q.shape[1]), float("-inf"))
    if key_lengths is not None:
        s = s.masked_fill(~padding_mask(key_lengths, k.shape[1])[:, None, :], float("-inf"))
    e = torch.exp(s - s.amax(-1, keepdim=True))
    w = e / e.sum(-1, keepdim=True)
    return w @ v, w
