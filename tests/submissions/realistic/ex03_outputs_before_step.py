"""A char-RNN style loop: the output is read from the hidden state before it is updated."""
import torch


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = h0
    ys = []
    for t in range(xs.shape[1]):
        ys.append(h @ W_hy.T + b_y)
        h = rnn_cell(xs[:, t], h, W_xh, W_hh, b_h)
    return torch.stack(ys, dim=1), h
