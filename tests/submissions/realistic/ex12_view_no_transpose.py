"""Multi-head attention that splits heads with view(B, h, L, d), skipping the transpose."""
import math

import torch


def _softmax(x):
    e = (x - x.max(dim=-1, keepdim=True).values).exp()
    return e / e.sum(dim=-1, keepdim=True)


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, L, D = query.shape
    if D % num_heads:
        raise ValueError("D must be divisible by num_heads")
    d = D // num_heads
    q = (query @ W_q.T + b_q).view(B, num_heads, -1, d)
    k = (key @ W_k.T + b_k).view(B, num_heads, -1, d)
    v = (value @ W_v.T + b_v).view(B, num_heads, -1, d)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        m = mask if mask.dim() == 2 else mask.unsqueeze(1)
        scores = scores.masked_fill(~m, float("-inf"))
    weights = _softmax(scores)
    out = (weights @ v).reshape(B, L, D)
    return out @ W_o.T + b_o, weights
