import torch


def rnn_cell(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.relu(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    ys, h = [], h0
    for t in range(xs.shape[1]):
        h = torch.tanh(xs[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        ys.append(h @ W_hy.T + b_y)
    return torch.stack(ys, 1), h
