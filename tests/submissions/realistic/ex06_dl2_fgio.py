"""LSTM cell as in 밑바닥부터 시작하는 딥러닝 2 (ch. 6, LSTM.forward), ported from numpy to torch."""
import torch


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def lstm_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    Wx, Wh, b = W_ih.T, W_hh.T, b_ih + b_hh
    N, H = h_prev.shape
    A = torch.matmul(x_t, Wx) + torch.matmul(h_prev, Wh) + b

    # slice
    f = A[:, :H]
    g = A[:, H:2*H]
    i = A[:, 2*H:3*H]
    o = A[:, 3*H:]

    f = sigmoid(f)
    g = torch.tanh(g)
    i = sigmoid(i)
    o = sigmoid(o)

    c_next = f * c_prev + g * i
    h_next = o * torch.tanh(c_next)
    return h_next, c_next
