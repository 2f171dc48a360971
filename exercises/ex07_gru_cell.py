"""exercise-07 gru-cell: one GRU step (리셋 게이트와 업데이트 게이트).

Fill in ``gru_cell`` below, then run ``grade exercise-07``.
"""

from __future__ import annotations

from torch import Tensor


def gru_cell(x_t: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor,
             b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step, rows in PyTorch's order reset, update, new (r, z, n).

    GRU는 LSTM의 cell state와 hidden state를 하나의 벡터로 합쳤습니다.
    하나의 gate controller z가 forget과 input 게이트를 모두 제어합니다.
        r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)         reset gate (리셋 게이트)
        z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)         update gate (업데이트 게이트)
        n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))
        h_t = (1 − z) ⊙ n + z ⊙ h_prev

    Shapes / 크기:
        x_t (B, I), h_prev (B, H), W_ih (3H, I), W_hh (3H, H), b_ih (3H,), b_hh (3H,)  ->  h_t (B, H)

    Trap / 주의:
        r multiplies (h W_hnᵀ + b_hn), bias included; z keeps the OLD state.
        r은 b_hn을 포함한 (h W_hnᵀ + b_hn) 전체에 곱해지고, z는 이전 상태를 유지하는 비율입니다.
        Must agree with torch.nn.GRUCell.
    """
    raise NotImplementedError("exercise-07: implement gru_cell")
