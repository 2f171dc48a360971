import math


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, Lq, D = query.shape
    if D % num_heads:
        raise ValueError("D % num_heads")
    d = D // num_heads
    q, k, v = [(x @ W.T + b).view(B, -1, num_heads, d).transpose(1, 2)
               for x, W, b in ((query, W_q, b_q), (key, W_k, b_k), (value, W_v, b_v))]
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        s = s.masked_fill(~(mask if mask.dim() == 2 else mask[:, None]), float("-inf"))
    e = (s - s.amax(-1, keepdim=True)).exp()
    w = e / e.sum(-1, keepdim=True)
    out = (w @ v).transpose(1, 2).reshape(B, Lq, D) @ W_o.T + b_o
    return out, w.mean(dim=1)
