import torch


def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, -1)
    h_r, h_z, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, -1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return z * n + (1 - z) * h_prev
