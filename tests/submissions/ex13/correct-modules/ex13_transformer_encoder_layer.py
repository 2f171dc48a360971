import torch.nn.functional as F


def encoder_layer(x, params, num_heads, key_padding_mask=None):
    D = x.shape[-1]
    pad = None if key_padding_mask is None else ~key_padding_mask
    attn, _ = F.multi_head_attention_forward(
        x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), D, num_heads,
        params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"], None, None, False, 0.0,
        params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
        training=False, key_padding_mask=pad, need_weights=False)
    x = F.layer_norm(x + attn.transpose(0, 1), (D,), params["norm1.weight"], params["norm1.bias"], 1e-5)
    ff = F.linear(F.relu(F.linear(x, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return F.layer_norm(x + ff, (D,), params["norm2.weight"], params["norm2.bias"], 1e-5)
