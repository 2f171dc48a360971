import torch


def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    W_hr, W_hz, W_hn = W_hh.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, -1)
    r = torch.sigmoid(x_r + h_prev @ W_hr.T + b_hr)
    z = torch.sigmoid(x_z + h_prev @ W_hz.T + b_hz)
    n = torch.tanh(x_n + r * (h_prev @ W_hn.T) + b_hn)
    return (1 - z) * n + z * h_prev
