"""exercise-13 transformer-encoder-layer: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, equivariant
from grader.checks.strategies import masks, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake, switched

from .ex13_transformer_encoder_layer import _attention, encoder_layer


@st.composite
def layer_inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, L, h, d, F_ = draw(sizes(1, 2)), draw(sizes(1, 4)), draw(sizes(1, 2)), draw(sizes(1, 3)), draw(sizes(1, 4))
    D = h * d
    shapes = {
        "self_attn.in_proj_weight": (3 * D, D), "self_attn.in_proj_bias": (3 * D,),
        "self_attn.out_proj.weight": (D, D), "self_attn.out_proj.bias": (D,),
        "linear1.weight": (F_, D), "linear1.bias": (F_,), "linear2.weight": (D, F_), "linear2.bias": (D,),
        "norm1.weight": (D,), "norm1.bias": (D,), "norm2.weight": (D,), "norm2.bias": (D,),
    }
    params = {name: draw(tensors(shape, dtype, scale=0.5)) for name, shape in shapes.items()}
    case: dict[str, Any] = {"x": draw(tensors((B, L, D), dtype)), "params": params, "num_heads": h}
    if draw(st.booleans()):
        case["key_padding_mask"] = draw(masks((B, L)))
    return case


def _filled_attention(x: torch.Tensor, p: dict[str, torch.Tensor], num_heads: int, keep: torch.Tensor,
                      fill: float) -> torch.Tensor:
    """The reference's self-attention, with the hidden keys' scores set to ``fill`` (say -1e9) instead of
    -inf: where every key is hidden, the weights are even instead of NaN."""
    B, L, D = x.shape
    q, k, v = (x @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"]).chunk(3, dim=-1)
    q, k, v = (t.reshape(B, L, num_heads, D // num_heads).transpose(1, 2) for t in (q, k, v))
    scores = (q @ k.transpose(-2, -1) / (D // num_heads) ** 0.5).masked_fill(~keep[:, None, None, :], fill)
    out = scores.softmax(-1) @ v
    return out.transpose(1, 2).reshape(B, L, D) @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]


def _layer(*, pre_norm: bool = False, residual: bool = True, ff_residual: bool = True, activation: Any = F.relu,
           affine: bool = True, inverted: bool = False, eps: float = 1e-5,
           unbiased: bool = False, eps_outside: bool = False,
           fill: float | None = None):  # type: ignore[no-untyped-def]
    def layer(x, params, num_heads, key_padding_mask=None):  # type: ignore[no-untyped-def]
        D = x.shape[-1]
        mask = key_padding_mask
        if mask is not None and inverted:
            mask = ~mask

        def norm(t, which):  # type: ignore[no-untyped-def]
            w, b = (params[f"{which}.weight"], params[f"{which}.bias"]) if affine else (None, None)
            if unbiased:  # written by hand with torch.std, whose default divides by D − 1
                centred = t - t.mean(-1, keepdim=True)
                var = (centred * centred).sum(-1, keepdim=True) / (D - 1)  # D = 1: 0/0, as torch.var gives
                normed = centred / torch.sqrt(var + eps)
                return normed * w + b if affine else normed
            if eps_outside:  # (x - mean) / (std + eps), the biased std: eps added outside the root
                centred = t - t.mean(-1, keepdim=True)
                normed = centred / ((centred * centred).mean(-1, keepdim=True).sqrt() + eps)
                return normed * w + b if affine else normed
            return F.layer_norm(t, (D,), w, b, eps=eps)

        def ff(t):  # type: ignore[no-untyped-def]
            hidden = activation(t @ params["linear1.weight"].T + params["linear1.bias"])
            return hidden @ params["linear2.weight"].T + params["linear2.bias"]

        def attention(t):  # type: ignore[no-untyped-def]
            return (_attention(t, params, num_heads, mask) if fill is None or mask is None
                    else _filled_attention(t, params, num_heads, mask, fill))

        if pre_norm:
            x = x + attention(norm(x, "norm1"))
            return x + ff(norm(x, "norm2"))
        attended = attention(x)
        x = norm(x + attended if residual else attended, "norm1")
        out = norm(x + ff(x) if ff_residual else ff(x), "norm2")
        if inverted and fill is None and mask is not None:
            # A sequence of real tokens only now has every key masked: -inf's softmax is NaN there.
            out = out.masked_fill(~mask.any(-1)[:, None, None], float("nan"))
        return out

    return layer


EXERCISE = Exercise(
    id="exercise-13",
    functions=[Function(name="encoder_layer", reference=encoder_layer, inputs=layer_inputs,
                        tolerance_scale=8.0,
                        relations=[batch_rows_independent("x", "key_padding_mask"),
                                   equivariant("positions have no order",
                                               "without positional encoding, reversing the sequence "
                                               "(and its padding mask) reverses the output",
                                               "위치 인코딩이 없으므로 시퀀스(와 패딩 마스크)를 뒤집으면 "
                                               "출력도 그대로 뒤집혀야 합니다",
                                               {"x": 1, "key_padding_mask": 1}, 1, "위치에 순서가 없음")])],
    mistakes=[
        Mistake("pre-norm", "encoder_layer", switched(_layer, pre_norm=True),
                "LayerNorm was applied before each sub-layer (pre-norm); this layer is post-norm: "
                "x = LN1(x + MHA(x)), y = LN2(x + FFN(x)).",
                "각 sub layer 앞에 LayerNorm을 적용했습니다(pre-norm). 이 층은 post-norm입니다: "
                "x = LN1(x + MHA(x)), y = LN2(x + FFN(x))."),
        Mistake("attention-residual-missing", "encoder_layer", switched(_layer, residual=False),
                "The residual connection around self-attention is missing: LN1(x + MHA(x)).",
                "셀프 어텐션의 residual 연결이 빠졌습니다: LN1(x + MHA(x))."),
        Mistake("ff-residual-missing", "encoder_layer", switched(_layer, ff_residual=False),
                "The residual connection around the feed-forward block is missing: LN2(x + FFN(x)).",
                "피드 포워드 블록의 residual 연결이 빠졌습니다: LN2(x + FFN(x))."),
        Mistake("gelu-not-relu", "encoder_layer", switched(_layer, activation=F.gelu),
                "GELU was used in the feed-forward block; this layer uses ReLU.",
                "피드 포워드 블록에 GELU를 썼습니다. 이 층은 ReLU를 씁니다."),
        Mistake("layernorm-without-affine", "encoder_layer", switched(_layer, affine=False),
                "LayerNorm ignored norm*.weight and norm*.bias (the learned scale and shift).",
                "LayerNorm이 norm*.weight와 norm*.bias(학습되는 scale과 shift)를 무시했습니다."),
        Mistake("layernorm-unbiased-std", "encoder_layer", switched(_layer, unbiased=True),
                "LayerNorm divided by the unbiased std (torch.std / var's default, over D − 1); "
                "LayerNorm uses the biased variance, over D (unbiased=False).",
                "LayerNorm을 불편 표준편차(torch.std / var의 기본값, D − 1로 나눔)로 나누었습니다. "
                "LayerNorm은 편향 분산(D로 나눔, unbiased=False)을 씁니다."),
        Mistake("layernorm-eps-outside-sqrt", "encoder_layer", switched(_layer, eps_outside=True),
                "LayerNorm divided by std + eps; nn.LayerNorm divides by √(var + eps). They differ where "
                "a row's variance is small, and most in the gradient.",
                "LayerNorm을 std + eps로 나눴습니다. nn.LayerNorm은 √(var + eps)로 나눕니다. 분산이 작은 행에서 "
                "차이가 나고, gradient에서 가장 크게 납니다."),
        Mistake("layernorm-eps-1e-6", "encoder_layer", switched(_layer, eps=1e-6),
                "LayerNorm used eps = 1e-6; nn.LayerNorm's default, used here, is eps = 1e-5.",
                "LayerNorm에 eps = 1e-6을 썼습니다. 여기서 쓰는 nn.LayerNorm의 기본값은 eps = 1e-5입니다."),
        Mistake("padding-mask-inverted", "encoder_layer", switched(_layer, inverted=True),
                "key_padding_mask is inverted: True marks a real token here "
                "(nn.TransformerEncoderLayer's own src_key_padding_mask uses True = padding).",
                "key_padding_mask가 반대입니다. 여기서 True는 실제 토큰입니다 "
                "(nn.TransformerEncoderLayer의 src_key_padding_mask는 True = 패딩).",
                also=(_layer(inverted=True, fill=-1e9),)),  # -1e9 for -inf: a hidden row gets even weights
    ],
    hints=[
        Hint('A post-norm encoder layer: self-attention with a residual connection and LayerNorm, then a feed-forward network with a residual connection and LayerNorm.',
             'post-norm 인코더 층: 잔차 연결과 LayerNorm이 있는 셀프 어텐션, 그다음 잔차 연결과 LayerNorm이 있는 feed-forward 네트워크입니다.'),
        Hint('in_proj_weight stacks W_q, W_k, W_v (3D rows): chunk it (and in_proj_bias) into three. key_padding_mask is True for real tokens, so it can be used as the attention mask over keys.',
             'in_proj_weight는 W_q, W_k, W_v를 쌓은 것(3D행)입니다: 그것과 in_proj_bias를 셋으로 나누세요. key_padding_mask는 실제 토큰이 True이므로 키에 대한 어텐션 마스크로 쓸 수 있습니다.'),
        Hint('x = LN1(x + MHA(x, x, x)), y = LN2(x + linear2(relu(linear1(x)))), with F.layer_norm(t, (D,), weight, bias, eps=1e-5): the norm comes after each residual sum, not before the sub-layer.',
             'x = LN1(x + MHA(x, x, x)), y = LN2(x + linear2(relu(linear1(x)))), F.layer_norm(t, (D,), weight, bias, eps=1e-5) 사용: LayerNorm은 sub layer 앞이 아니라 각 잔차 합 다음에 옵니다.'),
    ],
)
