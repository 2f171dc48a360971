"""exercise-09 softmax: a numerically stable softmax (소프트맥스).

Fill in ``softmax`` below, then run ``grade exercise-09``.
"""

from __future__ import annotations

from torch import Tensor


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """p = exp(x) / Σ exp(x) along ``dim``, computed stably; each slice sums to 1.

    normalized score가 sum to one이 되도록 softmax를 취합니다.
    큰 값에서도 inf/NaN이 나오지 않도록 안정적으로 계산해야 합니다.

    Shapes / 크기:
        x (...) float, dim an int (negative allowed)  ->  p, same shape and dtype as x

    Trap / 주의:
        exp(1000.) overflows: subtract the maximum along ``dim`` first (softmax(x) = softmax(x − c)).
        -inf entries get probability 0 (each slice keeps at least one finite entry).
        exp(1000.)은 overflow됩니다. dim 방향의 최댓값을 먼저 빼세요. -inf 위치의 확률은 0입니다.
        torch.softmax, F.softmax, Tensor.softmax, log_softmax and torch.special.softmax are not allowed.
        내장 softmax 함수는 사용할 수 없습니다.
    """
    raise NotImplementedError("exercise-09: implement softmax")
