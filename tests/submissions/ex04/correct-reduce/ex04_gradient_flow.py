from functools import reduce

import torch


def linear_collapse(weights):
    return reduce(lambda acc, w: torch.mm(w, acc), weights[1:], weights[0])


def hidden_jacobian(W_hh, hs):
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for t in range(hs.shape[0]):
        D = torch.diag(1 - hs[t] ** 2)
        J = D @ W_hh @ J
    return J
