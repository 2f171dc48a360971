"""GRU step as in d2l.ai's "GRU from scratch" (9.2), with PyTorch's packed weights unpacked."""
import torch


def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    W_xr, W_xz, W_xh = W_ih.chunk(3)
    W_hr, W_hz, W_hh_ = W_hh.chunk(3)
    b_xr, b_xz, b_xh = b_ih.chunk(3)
    b_hr, b_hz, b_hh_ = b_hh.chunk(3)
    X, H = x_t, h_prev
    Z = torch.sigmoid((X @ W_xz.T + b_xz) + (H @ W_hz.T + b_hz))
    R = torch.sigmoid((X @ W_xr.T + b_xr) + (H @ W_hr.T + b_hr))
    H_tilde = torch.tanh((X @ W_xh.T + b_xh) + ((R * H) @ W_hh_.T + b_hh_))
    H = Z * H + (1 - Z) * H_tilde
    return H
