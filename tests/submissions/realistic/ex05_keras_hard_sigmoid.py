"""A forget gate with Keras 1's default recurrent activation, hard_sigmoid."""
import torch


def hard_sigmoid(x):
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def forget_gate(h_prev, x_t, W_f, b_f):
    concat = torch.cat((h_prev, x_t), dim=-1)
    return hard_sigmoid(concat @ W_f.t() + b_f)
