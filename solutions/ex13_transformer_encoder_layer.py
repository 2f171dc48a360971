"""Reference for exercise-13 (Transformer encoder layer). Imports only torch."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def _attention(x: Tensor, p: dict[str, Tensor], num_heads: int, key_padding_mask: Tensor | None) -> Tensor:
    B, L, D = x.shape
    q, k, v = (x @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"]).chunk(3, dim=-1)
    q, k, v = (t.reshape(B, L, num_heads, D // num_heads).transpose(1, 2) for t in (q, k, v))
    mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.transpose(1, 2).reshape(B, L, D) @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]


def encoder_layer(x: Tensor, params: dict[str, Tensor], num_heads: int,
                  key_padding_mask: Tensor | None = None) -> Tensor:
    D = x.shape[-1]
    x = F.layer_norm(x + _attention(x, params, num_heads, key_padding_mask), (D,),
                     params["norm1.weight"], params["norm1.bias"], eps=1e-5)
    hidden = F.relu(x @ params["linear1.weight"].T + params["linear1.bias"])
    ff = hidden @ params["linear2.weight"].T + params["linear2.bias"]
    return F.layer_norm(x + ff, (D,), params["norm2.weight"], params["norm2.bias"], eps=1e-5)
