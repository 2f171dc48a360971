import math

import torch


def attention_scores(q, k):
    return torch.einsum("...qd,...kd->...qk", q, k) * (1.0 / math.sqrt(q.size(-1)))
