"""exercise-10 scaled-dot-product-attention: softmax attention (어텐션 가중치).

Fill in ``scaled_dot_product_attention`` below, then run ``grade exercise-10``.
"""

from __future__ import annotations

from torch import Tensor


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor,
                                 mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """weights = softmax(q kᵀ / √d_k, masked-out positions excluded); out = weights v.

    1. q, k 벡터의 내적  2. √d_k로 normalize  3. softmax로 어텐션 가중치(attention weight)
    4. 가중치로 value 벡터를 weighted sum. v의 차원 d_v는 d_k와 달라도 됩니다.

    Shapes / 크기:
        q (..., Lq, d_k), k (..., Lk, d_k), v (..., Lk, d_v),
        mask bool broadcastable to (..., Lq, Lk), True = may attend (every row keeps a True)
        ->  (out (..., Lq, d_v), weights (..., Lq, Lk))

    Trap / 주의:
        True in the mask means "may attend". Mask before the softmax (with -inf), over the key axis.
        마스크의 True는 "볼 수 있음"입니다. softmax 전에 -inf로 가리고, 키 축(마지막 축)으로 softmax하세요.
        Built-in softmax and attention (F.scaled_dot_product_attention, ...) are not allowed.
        내장 softmax와 어텐션 함수는 사용할 수 없습니다.
    """
    raise NotImplementedError("exercise-10: implement scaled_dot_product_attention")
