"""An RNN cell and loop in the style of CS231n's rnn_step_forward, with ReLU as the nonlinearity."""
import torch


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    a = x_t.mm(W_xh.t()) + h_prev.mm(W_hh.t()) + b_h
    return torch.clamp(a, min=0)


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    N, T, D = xs.shape
    h = h0
    outputs = []
    for t in range(T):
        h = rnn_cell(xs[:, t, :], h, W_xh, W_hh, b_h)
        outputs.append(h.mm(W_hy.t()) + b_y)
    return torch.stack(outputs, 1), h
