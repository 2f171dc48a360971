"""A one-liner from a homework forum: the stack collapsed with functools.reduce, in list order."""
from functools import reduce

import torch


def linear_collapse(weights):
    return reduce(torch.matmul, weights)


def hidden_jacobian(W_hh, hs):
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for h in hs:
        J = torch.diag(1 - h ** 2) @ W_hh @ J
    return J
