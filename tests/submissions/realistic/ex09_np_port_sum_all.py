"""The numpy softmax every tutorial starts with, ported to torch: np.exp(x) / np.sum(np.exp(x))."""
import torch


def softmax(x, dim=-1):
    e_x = torch.exp(x - torch.max(x))
    return e_x / e_x.sum()
