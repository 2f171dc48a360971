import torch


def linear_collapse(weights):
    W = weights[0]
    for layer in weights[1:]:
        W = W @ layer
    return W


def hidden_jacobian(W_hh, hs):
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for h in hs:
        J = torch.diag(1 - h**2) @ W_hh @ J
    return J
