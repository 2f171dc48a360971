"""exercise-12 multi-head-attention: self- and encoder-decoder attention (멀티 헤드 어텐션).

Fill in ``multi_head_attention`` below, then run ``grade exercise-12``.
"""

from __future__ import annotations

from torch import Tensor


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor,
                         W_q: Tensor, W_k: Tensor, W_v: Tensor, W_o: Tensor,
                         b_q: Tensor, b_k: Tensor, b_v: Tensor, b_o: Tensor,
                         num_heads: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Project, split D into num_heads heads, attend per head, concatenate, project out.

    멀티 헤드 어텐션은 어텐션을 병렬적으로 수행합니다. 논문에서는 512차원을 8개로 나눠
    64차원의 Q, K, V로 어텐션을 수행했습니다 (512 = 8 × 64).
    셀프 어텐션: query = key = value. 인코더-디코더 어텐션: query는 디코더, key = value는 인코더.

    Shapes / 크기:
        query (B, Lq, D), key and value (B, Lk, D); W_* (D, D) and b_* (D,) act as x Wᵀ + b;
        mask bool (Lq, Lk) or (B, Lq, Lk), True = may attend
        ->  (out (B, Lq, D), weights (B, num_heads, Lq, Lk)), per head, not averaged

    Trap / 주의:
        Split heads with view(B, L, h, D/h).transpose(1, 2), not reshape(B, h, L, D/h);
        scale by √(D/h), the head size. D % num_heads != 0 raises ValueError.
        헤드는 view 후 transpose로 나누고, √(D/h)로 나누세요. D가 num_heads로 나누어떨어지지 않으면 ValueError.
        Must agree with torch.nn.MultiheadAttention (batch_first, in_proj_weight = cat(W_q, W_k, W_v)).
    """
    raise NotImplementedError("exercise-12: implement multi_head_attention")
