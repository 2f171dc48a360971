import torch, math

def attention_scores(q, k):
    n = q.size(-2)
    return torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(n)
