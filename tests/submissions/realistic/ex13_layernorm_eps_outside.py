"""An encoder layer whose LayerNorm divides by the biased std plus eps, eps outside the square root."""
import torch.nn.functional as F


class LayerNorm:
    def __init__(self, a_2, b_2, eps=1e-5):
        self.a_2, self.b_2, self.eps = a_2, b_2, eps

    def __call__(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True, unbiased=False)
        return self.a_2 * (x - mean) / (std + self.eps) + self.b_2


def _attention(x, p, num_heads, key_padding_mask):
    B, L, D = x.shape
    q, k, v = (x @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"]).chunk(3, dim=-1)
    q, k, v = (t.reshape(B, L, num_heads, D // num_heads).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / (D // num_heads) ** 0.5
    if key_padding_mask is not None:
        scores = scores.masked_fill(~key_padding_mask[:, None, None, :], float("-inf"))
    out = scores.softmax(-1) @ v
    return out.transpose(1, 2).reshape(B, L, D) @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]


def encoder_layer(x, params, num_heads, key_padding_mask=None):
    norm1 = LayerNorm(params["norm1.weight"], params["norm1.bias"])
    norm2 = LayerNorm(params["norm2.weight"], params["norm2.bias"])
    x = norm1(x + _attention(x, params, num_heads, key_padding_mask))
    ff = F.relu(x @ params["linear1.weight"].T + params["linear1.bias"]) @ params["linear2.weight"].T
    return norm2(x + ff + params["linear2.bias"])
