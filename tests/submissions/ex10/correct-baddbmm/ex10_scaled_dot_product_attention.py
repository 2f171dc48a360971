import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(k.shape[-1])
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    m = scores.max(dim=-1, keepdim=True).values
    w = torch.exp(scores - m)
    w = w / w.sum(-1, keepdim=True)
    return torch.matmul(w, v), w
