"""exercise-01 autoregressive-windows: fixed-timespan AR(N) training pairs (고정 timespan 자기회귀 모델).

Fill in ``autoregressive_windows`` below, then run ``grade exercise-01``.
"""

from __future__ import annotations

from torch import Tensor


def autoregressive_windows(x: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """Cut each sequence into windows of the past n values and the value that follows.

    과거 N개의 정보만 쓰는 Autoregressive model(AR(N))의 학습 쌍을 만듭니다.
    n = 1이면 바로 전 과거에만 의존하는 first-order Markov model입니다.

    inputs[b, t] = x[b, t : t+n]      (B, T-n, n)
    targets[b, t] = x[b, t+n]         (B, T-n)

    Shapes / 크기:
        x (B, T) float, n int  ->  (inputs (B, T-n, n), targets (B, T-n))

    Trap / 주의:
        There are T-n windows, not T-n+1: the last window would have no target.
        윈도우는 T-n+1개가 아니라 T-n개입니다 (마지막 윈도우에는 타깃이 없습니다).
        Raise ValueError unless 1 <= n < T. / 1 <= n < T가 아니면 ValueError를 발생시키세요.
    """
    raise NotImplementedError("exercise-01: implement autoregressive_windows")
