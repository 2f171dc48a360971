"""Reference for exercise-03 (RNN cell and unrolled forward). Imports only torch."""

from __future__ import annotations

import torch
from torch import Tensor


def rnn_cell(x_t: Tensor, h_prev: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor) -> Tensor:
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def rnn_forward(xs: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor,
                W_hy: Tensor, b_y: Tensor) -> tuple[Tensor, Tensor]:
    h = h0
    ys = []
    for t in range(xs.shape[1]):
        h = rnn_cell(xs[:, t], h, W_xh, W_hh, b_h)
        ys.append(h @ W_hy.T + b_y)
    return torch.stack(ys, dim=1), h
