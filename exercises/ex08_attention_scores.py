"""exercise-08 attention-scores: scaled dot-product scores (어텐션 스코어).

Fill in ``attention_scores`` below, then run ``grade exercise-08``.
"""

from __future__ import annotations

from torch import Tensor


def attention_scores(q: Tensor, k: Tensor) -> Tensor:
    """scores = q kᵀ / √d_k for every query against every key.

    쿼리 q 벡터와 모든 키 k 벡터를 내적한 뒤, score가 너무 커지지 않도록
    k 벡터의 차원 d_k의 제곱근으로 나눕니다.

    Shapes / 크기:
        q (..., Lq, d_k), k (..., Lk, d_k)  ->  scores (..., Lq, Lk); Lq ≠ Lk is allowed.
        ``...`` is any number of leading batch dimensions. / ``...``는 임의 개수의 배치 차원입니다.

    Trap / 주의:
        Divide by √d_k (the last dimension), not by d_k and not by √Lk; transpose only the last two dims.
        d_k나 √Lk가 아니라 √d_k로 나누고, 마지막 두 차원만 전치하세요.
    """
    raise NotImplementedError("exercise-08: implement attention_scores")
