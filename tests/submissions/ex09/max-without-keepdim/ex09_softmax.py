import torch
def softmax(x, dim=-1):
    e = torch.exp(x - x.max(dim).values)
    return e / e.sum(dim, keepdim=True)
