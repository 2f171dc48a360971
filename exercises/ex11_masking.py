"""exercise-11 masking: causal and padding masks (디코더의 마스크드 셀프 어텐션).

Fill in ``causal_mask``, ``padding_mask`` and ``masked_attention`` below, then run ``grade exercise-11``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """(L, L) bool, True where key j ≤ query i: a position sees itself and the past only.

    디코더의 마스크드 셀프 어텐션에서는 미래의 단어를 볼 수 없습니다.

    Trap / 주의: j ≤ i (the diagonal is True), dtype torch.bool. / 대각선은 True, dtype은 bool입니다.
    """
    raise NotImplementedError("exercise-11: implement causal_mask")


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool, True where the position is a real token: position < lengths[b].

    패딩 위치는 False, 실제 토큰 위치는 True입니다. lengths는 0일 수도 있습니다.

    Shapes / 크기: lengths (B,) int64, max_len int  ->  (B, max_len) bool
    """
    raise NotImplementedError("exercise-11: implement padding_mask")


def masked_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = False,
                     key_lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention with a causal mask and/or a padding mask over the keys.

    Shapes / 크기:
        q (B, Lq, d), k (B, Lk, d), v (B, Lk, d_v), key_lengths (B,) int64 or None
        ->  (out (B, Lq, d_v), weights (B, Lq, Lk))

    Trap / 주의:
        ``causal`` needs Lq == Lk, else raise ValueError. Both masks may apply together.
        A query row with no allowed key gets all-zero weights and output: never NaN.
        causal은 Lq == Lk일 때만 가능합니다 (아니면 ValueError). 볼 수 있는 키가 하나도 없는
        쿼리 행은 가중치와 출력이 모두 0이어야 합니다 (NaN 금지).
        Built-in softmax and attention are not allowed. / 내장 softmax와 어텐션 함수는 사용할 수 없습니다.
    """
    raise NotImplementedError("exercise-11: implement masked_attention")
