"""exercise-03 rnn: one RNN step, then the RNN unrolled in time (순환 신경망).

Fill in ``rnn_cell`` and ``rnn_forward`` below, then run ``grade exercise-03``.
"""

from __future__ import annotations

from torch import Tensor


def rnn_cell(x_t: Tensor, h_prev: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor) -> Tensor:
    """One step: h_t = tanh(x_t W_xhᵀ + h_prev W_hhᵀ + b_h).

    현재 hidden state h_t는 직전 시점의 hidden state h_{t-1}과 입력 x_t로 갱신됩니다.

    Shapes / 크기:
        x_t (B, I), h_prev (B, H), W_xh (H, I), W_hh (H, H), b_h (H,)  ->  h_t (B, H)

    Trap / 주의:
        The activation is tanh (not ReLU, not sigmoid). / 활성 함수는 tanh입니다.
    """
    raise NotImplementedError("exercise-03: implement rnn_cell")


def rnn_forward(xs: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor,
                W_hy: Tensor, b_y: Tensor) -> tuple[Tensor, Tensor]:
    """Unroll the RNN over T steps with shared parameters; y_t = h_t W_hyᵀ + b_y.

    시간 순으로 펼치면 parameter를 공유하는(shared parameter) 하나의 네트워크가 됩니다.
    모든 시점에서 같은 W_xh, W_hh, W_hy를 사용합니다.

    Shapes / 크기:
        xs (B, T, I), h0 (B, H), W_hy (O, H), b_y (O,)  ->  (ys (B, T, O), h_T (B, H))

    Trap / 주의:
        Carry h from step to step; y_t uses the new h_t; the output layer has no tanh.
        h를 다음 시점으로 넘기고, y_t는 새 h_t로 계산하며, 출력층에는 tanh가 없습니다.
        Must agree with torch.nn.RNN (tanh, one layer) when its two biases sum to b_h.
    """
    raise NotImplementedError("exercise-03: implement rnn_forward")
