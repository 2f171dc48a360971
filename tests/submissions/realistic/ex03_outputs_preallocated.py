"""An unrolled RNN that fills a preallocated output, the way many course notebooks write it."""
import torch


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    batch_size, seq_len, _ = xs.shape
    outputs = torch.zeros(batch_size, seq_len, W_hy.shape[0])
    h = h0
    for t in range(seq_len):
        h = rnn_cell(xs[:, t, :], h, W_xh, W_hh, b_h)
        outputs[:, t, :] = h @ W_hy.T + b_y
    return outputs, h
