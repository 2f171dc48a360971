import math


def scaled_dot_product_attention(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask, float("-inf"))
    s = s - s.amax(-1, keepdim=True)
    w = s.exp() / s.exp().sum(-1, keepdim=True)
    return w @ v, w
