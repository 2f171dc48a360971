import torch
import torch.nn.functional as F


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(F.linear(x_t, W_xh) + F.linear(h_prev, W_hh, b_h))


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    hs = []
    h = h0
    for x_t in xs.unbind(1):
        h = rnn_cell(x_t, h, W_xh, W_hh, b_h)
        hs.append(h)
    H = torch.stack(hs, 1)
    return F.linear(H, W_hy, b_y), h
