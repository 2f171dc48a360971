import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    return torch.sigmoid(torch.cat([h_prev, x_t], dim=-1) @ W_f.T + 2 * b_f)
