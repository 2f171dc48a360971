import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    z = torch.cat([x_t, h_prev], dim=1)
    return torch.sigmoid(z @ W_f.t() + b_f)
