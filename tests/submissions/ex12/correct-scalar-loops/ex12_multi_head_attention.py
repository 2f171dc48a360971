"""A slow but correct student: every product and sum as Python loops over scalars.

The slowest correct file the tests keep: the course's call limit (2 s) must leave it far more
room than it needs (it answers each call in about 0.03 s).
"""
import math
import torch


def _linear(x, W, b):  # (L, Din) -> (L, Dout), scalar by scalar
    rows = []
    for i in range(x.shape[0]):
        row = []
        for o in range(W.shape[0]):
            s = b[o]
            for j in range(x.shape[1]):
                s = s + x[i, j] * W[o, j]
            row.append(s)
        rows.append(torch.stack(row))
    return torch.stack(rows)


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):
    B, Lq, D = query.shape
    if D % num_heads != 0:
        raise ValueError("D must be divisible by num_heads")
    d = D // num_heads
    outs, weights_all = [], []
    for bi in range(B):
        q, k, v = _linear(query[bi], W_q, b_q), _linear(key[bi], W_k, b_k), _linear(value[bi], W_v, b_v)
        heads_out, heads_w = [], []
        for h in range(num_heads):
            sl = slice(h * d, (h + 1) * d)
            rows_w, rows_o = [], []
            for i in range(Lq):
                scores = []
                for j in range(k.shape[0]):
                    s = q[i, 0] * 0
                    for c in range(h * d, (h + 1) * d):
                        s = s + q[i, c] * k[j, c]
                    s = s / math.sqrt(d)
                    if mask is not None:
                        m = mask[bi, i, j] if mask.dim() == 3 else mask[i, j]
                        if not bool(m):
                            s = s * 0 + float("-inf")
                    scores.append(s)
                sc = torch.stack(scores)
                w = torch.exp(sc - sc.max())
                w = w / w.sum()
                rows_w.append(w)
                o = []
                for c in range(d):
                    acc = w[0] * 0
                    for j in range(k.shape[0]):
                        acc = acc + w[j] * v[j, h * d + c]
                    o.append(acc)
                rows_o.append(torch.stack(o))
            heads_w.append(torch.stack(rows_w))
            heads_out.append(torch.stack(rows_o))
        weights_all.append(torch.stack(heads_w))
        concat = torch.cat(heads_out, dim=-1)
        outs.append(_linear(concat, W_o, b_o))
    return torch.stack(outs), torch.stack(weights_all)
