import torch.nn.functional as F


def encoder_layer(x, params, num_heads, key_padding_mask=None):
    B, L, D = x.shape
    q, k, v = F.linear(x, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"]).chunk(3, -1)
    q, k, v = (t.view(B, L, num_heads, -1).transpose(1, 2) for t in (q, k, v))
    mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(B, L, D)
    a = F.linear(a, params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"])
    x = F.layer_norm(x + a, (D,), params["norm1.weight"], params["norm1.bias"])
    ff = F.linear(F.gelu(F.linear(x, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return F.layer_norm(x + ff, (D,), params["norm2.weight"], params["norm2.bias"])
