import math


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, Lq, D = query.shape
    if D % num_heads:
        raise ValueError("D % num_heads")
    d = D // num_heads
    q = (query @ W_q.T + b_q).reshape(B, num_heads, -1, d)
    k = (key @ W_k.T + b_k).reshape(B, num_heads, -1, d)
    v = (value @ W_v.T + b_v).reshape(B, num_heads, -1, d)
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        s = s.masked_fill(~(mask if mask.dim() == 2 else mask[:, None]), float("-inf"))
    e = (s - s.amax(-1, keepdim=True)).exp()
    w = e / e.sum(-1, keepdim=True)
    return (w @ v).reshape(B, Lq, D) @ W_o.T + b_o, w
