"""exercise-06 lstm-cell: one LSTM step with its cell state (셀 스테이트와 게이트).

Fill in ``lstm_cell`` below, then run ``grade exercise-06``.
"""

from __future__ import annotations

from torch import Tensor


def lstm_cell(x_t: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor,
              b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step: gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, split into i, f, g, o.

    LSTM은 RNN의 hidden state에 cell state를 추가한 구조입니다.
        i = σ(·) input gate (입력 게이트), f = σ(·) forget gate (망각 게이트),
        g = tanh(·) cell candidate (셀 스테이트 후보), o = σ(·) output gate (출력 게이트)
        c_t = f ⊙ c_prev + i ⊙ g,    h_t = o ⊙ tanh(c_t)

    Shapes / 크기:
        x_t (B, I), h_prev (B, H), c_prev (B, H), W_ih (4H, I), W_hh (4H, H),
        b_ih (4H,), b_hh (4H,)  ->  (h_t (B, H), c_t (B, H))

    Trap / 주의:
        Gate rows follow PyTorch's order i, f, g, o (not i, f, o, g); g uses tanh, not σ.
        게이트 행 순서는 PyTorch와 같은 i, f, g, o입니다. g에는 시그모이드가 아니라 tanh를 씁니다.
        Must agree with torch.nn.LSTMCell.
    """
    raise NotImplementedError("exercise-06: implement lstm_cell")
