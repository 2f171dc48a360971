"""A forget gate that only looks at the input: the recurrent half of W_f is never used."""
import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    H = h_prev.size(-1)
    W_x = W_f[:, H:]
    return torch.sigmoid(x_t @ W_x.T + b_f)
