import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    z = torch.cat([h_prev, x_t], dim=-1) @ W_f.T - b_f
    return torch.sigmoid(z)
