"""Reference for exercise-01 (AR(N) windows). Imports only torch: gradable like a student file."""

from __future__ import annotations

from torch import Tensor


def autoregressive_windows(x: Tensor, n: int) -> tuple[Tensor, Tensor]:
    T = x.shape[1]
    if not 1 <= n < T:
        raise ValueError(f"n must satisfy 1 <= n < T={T}, got n={n}")
    inputs = x.unfold(1, n, 1)[:, : T - n]
    targets = x[:, n:]
    return inputs, targets
