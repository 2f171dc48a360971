"""Encoder layer written out, True = ignore as nn.MultiheadAttention has it, and -1e9 for -inf."""
import math
import torch
import torch.nn.functional as F

def encoder_layer(x, params, num_heads, key_padding_mask=None):
    B, L, D = x.shape
    h = num_heads
    d = D // h
    W = params["self_attn.in_proj_weight"]; bias = params["self_attn.in_proj_bias"]
    q, k, v = F.linear(x, W, bias).chunk(3, dim=-1)
    q = q.view(B, L, h, d).transpose(1, 2)
    k = k.view(B, L, h, d).transpose(1, 2)
    v = v.view(B, L, h, d).transpose(1, 2)
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    if key_padding_mask is not None:
        s = s.masked_fill(key_padding_mask[:, None, None, :], -1e9)
    s = s - s.amax(-1, keepdim=True)
    w = s.exp(); w = w / w.sum(-1, keepdim=True)
    a = (w @ v).transpose(1, 2).reshape(B, L, D)
    a = F.linear(a, params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"])
    x = F.layer_norm(x + a, (D,), params["norm1.weight"], params["norm1.bias"])
    f = F.linear(F.relu(F.linear(x, params["linear1.weight"], params["linear1.bias"])),
                 params["linear2.weight"], params["linear2.bias"])
    return F.layer_norm(x + f, (D,), params["norm2.weight"], params["norm2.bias"])
