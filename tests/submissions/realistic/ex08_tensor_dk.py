"""Scaled scores as in many tutorials: the scale is built with torch.tensor(d_k), a float32 tensor."""
import torch


def attention_scores(q, k):
    d_k = q.size(-1)
    return torch.matmul(q, k.transpose(-2, -1)) / torch.sqrt(torch.tensor(d_k, dtype=torch.float32))
