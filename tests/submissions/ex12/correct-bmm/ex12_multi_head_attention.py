import math

import torch


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, Lq, D = query.shape
    Lk = key.shape[1]
    if D % num_heads:
        raise ValueError("D must be divisible by num_heads")
    d = D // num_heads

    def split(x, W, b, L):
        return torch.addmm(b, x.reshape(-1, D), W.t()).reshape(B, L, num_heads, d).permute(0, 2, 1, 3)

    q, k, v = split(query, W_q, b_q, Lq), split(key, W_k, b_k, Lk), split(value, W_v, b_v, Lk)
    s = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(d)
    if mask is not None:
        m = mask.reshape(-1, 1, Lq, Lk) if mask.dim() == 3 else mask
        s = s.masked_fill(m.logical_not(), float("-inf"))
    e = (s - s.amax(-1, keepdim=True)).exp()
    w = e / e.sum(-1, keepdim=True)
    out = torch.einsum("bhqk,bhkd->bqhd", w, v).reshape(B, Lq, D)
    return out @ W_o.T + b_o, w
