import torch, math
def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, Lq, D = query.shape
    Lk = key.shape[1]
    if D % num_heads:
        raise ValueError("D % num_heads != 0")
    d = D // num_heads
    q = (query @ W_q.T + b_q).view(B, Lq, num_heads, d).transpose(1, 2)
    k = (key @ W_k.T + b_k).view(B, Lk, num_heads, d).transpose(1, 2)
    v = (value @ W_v.T + b_v).view(B, Lk, num_heads, d).transpose(1, 2)
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        m = mask if mask.dim() == 2 else mask[:, None]
        s = s.masked_fill(~m, float("-inf"))
    s = s - s.amax(-1, keepdim=True)
    w = s.exp(); w = w / w.sum(-1, keepdim=True)
    out = (w @ v).reshape(B, Lq, D)
    return out @ W_o.T + b_o, w
