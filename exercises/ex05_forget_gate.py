"""exercise-05 forget-gate: the LSTM forget gate (망각 게이트).

Fill in ``forget_gate`` below, then run ``grade exercise-05``.
"""

from __future__ import annotations

from torch import Tensor


def forget_gate(h_prev: Tensor, x_t: Tensor, W_f: Tensor, b_f: Tensor) -> Tensor:
    """Forget gate f_t = σ([h_prev, x_t] W_fᵀ + b_f); every value lies in (0, 1).

    망각 게이트: f_t = σ([h_prev, x_t] W_fᵀ + b_f). 모든 값은 (0, 1) 범위입니다.
    f_t가 0이면 이전 셀 스테이트의 정보를 잊고, 1이면 온전히 기억합니다.

    Shapes / 크기:
        h_prev (B, H), x_t (B, I), W_f (H, H+I), b_f (H,)  ->  f_t (B, H)

    Trap / 주의:
        Concatenate h_prev FIRST, then x_t: W_f's first H columns act on h_prev.
        h_prev를 먼저, 그다음 x_t를 이어 붙이세요 (W_f의 앞 H개 열이 h_prev에 곱해집니다).
        Use a sigmoid, not tanh; keep the input's dtype; do not modify the inputs.
        tanh가 아니라 시그모이드를 쓰고, 입력의 dtype을 유지하며, 입력을 바꾸지 마세요.
    """
    raise NotImplementedError("exercise-05: implement forget_gate")
