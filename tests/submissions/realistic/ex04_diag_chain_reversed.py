"""Backprop through time as lecture slides draw it: each new factor multiplied on the right."""
import torch


def linear_collapse(weights):
    W = weights[0]
    for layer in weights[1:]:
        W = layer @ W
    return W


def hidden_jacobian(W_hh, hs):
    H = W_hh.shape[0]
    jac = torch.eye(H, dtype=W_hh.dtype)
    for t in range(hs.shape[0]):
        D_t = torch.diag(1.0 - hs[t] * hs[t])
        jac = jac @ (D_t @ W_hh)
    return jac
