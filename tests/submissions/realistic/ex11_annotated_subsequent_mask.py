"""Masks as The Annotated Transformer builds them: (1, L, L) and (B, 1, L), shaped to broadcast."""
import numpy as np
import torch


def causal_mask(length, device=None):
    attn_shape = (1, length, length)
    subsequent_mask = np.triu(np.ones(attn_shape), k=1).astype("uint8")
    return (torch.from_numpy(subsequent_mask) == 0).to(device)


def padding_mask(lengths, max_len):
    return (torch.arange(max_len)[None, :] < lengths[:, None]).unsqueeze(-2)


def masked_attention(q, k, v, causal=False, key_lengths=None):
    if causal and q.size(-2) != k.size(-2):
        raise ValueError("causal attention needs as many queries as keys")
    scores = torch.matmul(q, k.transpose(-2, -1)) / q.size(-1) ** 0.5
    allowed = torch.ones_like(scores, dtype=torch.bool)
    if causal:
        allowed = allowed & causal_mask(q.size(-2), q.device)
    if key_lengths is not None:
        allowed = allowed & padding_mask(key_lengths, k.size(-2))
    scores = scores.masked_fill(~allowed, float("-inf"))
    top = scores.amax(-1, keepdim=True)
    top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
    e = torch.exp(scores - top)
    p_attn = e / e.sum(-1, keepdim=True).clamp_min(1e-30)
    return p_attn @ v, p_attn
