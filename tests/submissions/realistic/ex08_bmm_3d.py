"""Scores with torch.bmm, as many tutorials write them for (batch, length, d_k) tensors only."""
import math

import torch


def attention_scores(q, k):
    d_k = q.size(2)
    return torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d_k)
