"""Exercise 12 in the style of a blog post's multi-head attention: four projections written out
by hand, one of them (the query's) as x @ W instead of x @ W.T. With D x D weights nothing fails
to multiply; the values are just wrong."""

import math

import torch


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    batch, len_q, d_model = query.shape
    len_k = key.shape[1]
    if d_model % num_heads != 0:
        raise ValueError("d_model must be divisible by num_heads")
    d_head = d_model // num_heads

    Q = torch.matmul(query, W_q) + b_q
    K = torch.matmul(key, W_k.t()) + b_k
    V = torch.matmul(value, W_v.t()) + b_v

    Q = Q.view(batch, len_q, num_heads, d_head).permute(0, 2, 1, 3)
    K = K.view(batch, len_k, num_heads, d_head).permute(0, 2, 1, 3)
    V = V.view(batch, len_k, num_heads, d_head).permute(0, 2, 1, 3)

    energy = torch.matmul(Q, K.permute(0, 1, 3, 2)) / math.sqrt(d_head)
    if mask is not None:
        if mask.dim() == 2:
            mask = mask.unsqueeze(0)
        energy = energy.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
    energy = energy - energy.max(dim=-1, keepdim=True).values
    attention = torch.exp(energy)
    attention = attention / attention.sum(dim=-1, keepdim=True)

    x = torch.matmul(attention, V).permute(0, 2, 1, 3).contiguous().view(batch, len_q, d_model)
    return torch.matmul(x, W_o.t()) + b_o, attention
