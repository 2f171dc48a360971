"""Gus, exercise 5."""
import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    # forget gate
    stacked = torch.cat((h_prev, x_t), dim=-1)
    return torch.sigmoid(stacked @ W_f.T - b_f)
