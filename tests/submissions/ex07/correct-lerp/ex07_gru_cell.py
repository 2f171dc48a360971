import torch


def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi = torch.addmm(b_ih, x_t, W_ih.t())
    gh = torch.addmm(b_hh, h_prev, W_hh.t())
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return torch.lerp(n, h_prev, z)
