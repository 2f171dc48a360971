import torch, math
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(v.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    scores = scores - scores.max(-1, keepdim=True).values
    w = scores.exp()
    w = w / w.sum(-1, keepdim=True)
    return w @ v, w
