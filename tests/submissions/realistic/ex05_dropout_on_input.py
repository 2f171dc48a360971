"""Exercise 05 from an LSTM tutorial that regularizes the input inside the cell with the functional
dropout, whose training flag defaults to True: the gate is random, call after call."""

import torch
import torch.nn.functional as F


def forget_gate(h_prev, x_t, W_f, b_f):
    x_t = F.dropout(x_t, p=0.2)
    combined = torch.cat((h_prev, x_t), dim=1)
    return torch.sigmoid(F.linear(combined, W_f, b_f))
