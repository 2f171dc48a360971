"""exercise-02 markov-log-likelihood: a first-order Markov model (마르코프 모델).

Fill in ``markov_log_likelihood`` below, then run ``grade exercise-02``.
"""

from __future__ import annotations

from torch import Tensor


def markov_log_likelihood(states: Tensor, initial: Tensor, transition: Tensor) -> Tensor:
    """Log-likelihood of each state sequence under a first-order Markov model.

    현재는 바로 전 과거에만 dependent하다는 가정(Markov model) 아래에서
    결합분포의 로그 가능도를 계산합니다:

        log p(s) = log initial[s_0] + Σ_{t≥1} log transition[s_{t-1}, s_t]

    Shapes / 크기:
        states (B, T) int64 with values in [0, K), initial (K,), transition (K, K)  ->  (B,)
        Row i of transition is the distribution of the next state given state i.
        transition의 i번째 행은 상태 i 다음에 올 상태의 분포입니다.

    Trap / 주의:
        Return the dtype of ``initial``. A zero probability gives -inf, never NaN.
        결과는 initial의 dtype을 따릅니다. 확률이 0이면 NaN이 아니라 -inf입니다.
    """
    raise NotImplementedError("exercise-02: implement markov_log_likelihood")
