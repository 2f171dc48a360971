"""Reference for exercise-05 (forget gate). Imports only torch: gradable like a student file."""

from __future__ import annotations

import torch
from torch import Tensor


def gate_preactivation(h_prev: Tensor, x_t: Tensor, W_f: Tensor, b_f: Tensor) -> Tensor:
    return torch.cat([h_prev, x_t], dim=-1) @ W_f.T + b_f


def forget_gate(h_prev: Tensor, x_t: Tensor, W_f: Tensor, b_f: Tensor) -> Tensor:
    return torch.sigmoid(gate_preactivation(h_prev, x_t, W_f, b_f))
