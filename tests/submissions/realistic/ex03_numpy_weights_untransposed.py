"""Exercise 03 ported from a NumPy RNN tutorial, where the weights are stored (in, out) and a step is
x @ W_xh: the course's weights are (out, in), as PyTorch's, and act as x @ W.T."""

import torch


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = h0
    ys = []
    for t in range(xs.shape[1]):
        h = rnn_cell(xs[:, t, :], h, W_xh, W_hh, b_h)
        ys.append(h @ W_hy.T + b_y)
    return torch.stack(ys, dim=1), h
