import torch
import torch.nn.functional as F


def lstm_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = F.linear(x_t, W_ih, b_ih) + F.linear(h_prev, W_hh, b_hh)
    i = torch.sigmoid(z[:, 0:H])
    f = torch.sigmoid(z[:, H:2 * H])
    g = torch.tanh(z[:, 2 * H:3 * H])
    o = torch.sigmoid(z[:, 3 * H:])
    c = torch.addcmul(f * c_prev, i, g)
    return o * c.tanh(), c
