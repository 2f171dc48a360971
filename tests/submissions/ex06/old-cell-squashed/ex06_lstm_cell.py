import torch

def lstm_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = x_t @ W_ih.t() + b_ih + h_prev @ W_hh.t() + b_hh
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    h_t = o * torch.tanh(c_prev)
    c_t = f * c_prev + i * g
    return h_t, c_t
