"""Reference for exercise-04 (gradient flow). Imports only torch: gradable like a student file."""

from __future__ import annotations

import torch
from torch import Tensor


def linear_collapse(weights: list[Tensor]) -> Tensor:
    W = weights[0]
    for layer in weights[1:]:
        W = layer @ W
    return W


def hidden_jacobian(W_hh: Tensor, hs: Tensor) -> Tensor:
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype, device=W_hh.device)
    for h_t in hs:
        J = (1 - h_t**2).unsqueeze(-1) * (W_hh @ J)
    return J
