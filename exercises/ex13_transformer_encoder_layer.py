"""exercise-13 transformer-encoder-layer: one post-norm encoder layer (인코더 층).

Fill in ``encoder_layer`` below, then run ``grade exercise-13``.
"""

from __future__ import annotations

from torch import Tensor


def encoder_layer(x: Tensor, params: dict[str, Tensor], num_heads: int,
                  key_padding_mask: Tensor | None = None) -> Tensor:
    """x = LN1(x + MHA(x, x, x));  y = LN2(x + W2 relu(W1 x + b1) + b2).

    하나의 encoder layer는 멀티 헤드 셀프 어텐션과 position-wise FFNN, 두 개의 sub layer로 나뉩니다.
    각 sub layer 뒤에 residual 연결과 LayerNorm(post-norm)이 옵니다.

    params has exactly the state-dict names of torch.nn.TransformerEncoderLayer:
        self_attn.in_proj_weight (3D, D), self_attn.in_proj_bias (3D,),
        self_attn.out_proj.weight (D, D), self_attn.out_proj.bias (D,),
        linear1.weight (F, D), linear1.bias (F,), linear2.weight (D, F), linear2.bias (D,),
        norm1.weight, norm1.bias, norm2.weight, norm2.bias (D,)

    Shapes / 크기:
        x (B, L, D), key_padding_mask (B, L) bool, True = real token  ->  y (B, L, D)

    Trap / 주의:
        Post-norm (LayerNorm AFTER the residual add), ReLU, no dropout, LayerNorm eps 1e-5.
        LayerNorm은 residual 덧셈 뒤에 적용합니다 (pre-norm 아님). ReLU, dropout 없음, eps 1e-5.
        Must agree with torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward,
        dropout=0.0, batch_first=True) in eval mode.
    """
    raise NotImplementedError("exercise-13: implement encoder_layer")
