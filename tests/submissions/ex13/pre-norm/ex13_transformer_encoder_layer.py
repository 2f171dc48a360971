import math

import torch
import torch.nn.functional as F


def _mha(x, p, h, keep):
    B, L, D = x.shape
    q, k, v = (x @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"]).chunk(3, -1)
    q, k, v = (t.view(B, L, h, D // h).transpose(1, 2) for t in (q, k, v))
    s = q @ k.transpose(-2, -1) / math.sqrt(D // h)
    if keep is not None:
        s = s.masked_fill(~keep[:, None, None, :], float("-inf"))
    w = torch.exp(s - s.amax(-1, keepdim=True))
    w = w / w.sum(-1, keepdim=True)
    o = (w @ v).transpose(1, 2).reshape(B, L, D)
    return o @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]


def encoder_layer(x, params, num_heads, key_padding_mask=None):
    D = x.shape[-1]
    ln1 = F.layer_norm(x, (D,), params["norm1.weight"], params["norm1.bias"], 1e-5)
    x = x + _mha(ln1, params, num_heads, key_padding_mask)
    ln2 = F.layer_norm(x, (D,), params["norm2.weight"], params["norm2.bias"], 1e-5)
    ff = torch.relu(ln2 @ params["linear1.weight"].T + params["linear1.bias"])
    return x + ff @ params["linear2.weight"].T + params["linear2.bias"]
