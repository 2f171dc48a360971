"""A GRU written after Keras's GRUCell(reset_after=False), with the update gate read the other way round."""
import torch


def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    hidden = h_prev.shape[-1]
    x_r, x_z, x_h = torch.split(x_t @ W_ih.T + b_ih, hidden, dim=-1)
    rec_r, rec_z, _ = torch.split(h_prev @ W_hh.T + b_hh, hidden, dim=-1)
    r = torch.sigmoid(x_r + rec_r)
    z = torch.sigmoid(x_z + rec_z)
    recurrent_h = (r * h_prev) @ W_hh[2 * hidden:].T + b_hh[2 * hidden:]
    hh = torch.tanh(x_h + recurrent_h)
    return z * hh + (1 - z) * h_prev
