import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    H = h_prev.shape[-1]
    W_h, W_x = W_f[:, :H], W_f[:, H:]
    return torch.sigmoid(torch.einsum("bh,oh->bo", h_prev, W_h) + torch.einsum("bi,oi->bo", x_t, W_x) + b_f)
