"""exercise-10 scaled-dot-product-attention: inputs, reference, rules and known mistakes."""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import flipped, invariant
from grader.checks.strategies import batch_shapes, broadcast_shapes, masks, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex10_scaled_dot_product_attention import _softmax, scaled_dot_product_attention

FORBIDDEN = ("softmax", "scaled_dot_product", "multi_head_attention")


@st.composite
def attention_inputs(draw: st.DrawFn, dtype: torch.dtype, scale: float = 1.0) -> dict[str, Any]:
    batch = draw(batch_shapes())
    Lq, Lk, d_k, d_v = draw(sizes(1, 4)), draw(sizes(1, 4)), draw(sizes(1, 4)), draw(sizes(1, 3))
    case = {
        "q": draw(tensors((*batch, Lq, d_k), dtype, scale=scale)),
        "k": draw(tensors((*batch, Lk, d_k), dtype, scale=scale)),
        "v": draw(tensors((*batch, Lk, d_v), dtype)),
    }
    if draw(st.booleans()):
        case["mask"] = draw(masks(draw(broadcast_shapes((*batch, Lq, Lk)))))
    return case


def _attend(scores: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, fill: float = -math.inf,
            inverted: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    if mask is not None:
        scores = scores.masked_fill(mask if inverted else ~mask, fill)
    weights = _softmax(scores)
    return weights @ v, weights


def _scores(q: torch.Tensor, k: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    return q @ k.transpose(-2, -1) / (scale or math.sqrt(q.shape[-1]))


def _softmax_over_queries(q, k, v, mask=None):  # type: ignore[no-untyped-def]
    scores = _scores(q, k)
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    e = (scores - scores.amax(dim=-2, keepdim=True)).exp()
    weights = e / e.sum(dim=-2, keepdim=True)
    return weights @ v, weights


def _mask_after_softmax(q, k, v, mask=None):  # type: ignore[no-untyped-def]
    weights = _softmax(_scores(q, k))
    if mask is not None:
        weights = weights * mask
    return weights @ v, weights


EXERCISE = Exercise(
    id="exercise-10",
    forbidden=FORBIDDEN,
    functions=[
        Function(
            name="scaled_dot_product_attention",
            reference=scaled_dot_product_attention,
            inputs=attention_inputs,
            edge_cases={"large scores": lambda dtype: attention_inputs(dtype, scale=64.0)},
            names_ko={"large scores": "큰 score"},
            relations=[invariant("key order irrelevant",
                                 "reordering keys and values together leaves the output unchanged",
                                 "키와 값의 순서를 함께 바꿔도 출력은 같아야 합니다",
                                 flipped({"k": -2, "v": -2, "mask": -1}), key_ko="키 순서와 무관")],
        )
    ],
    mistakes=[
        Mistake("no-scaling", "scaled_dot_product_attention",
                lambda q, k, v, mask=None: _attend(_scores(q, k, 1.0), v, mask),
                "The scores are not divided by √d_k before the softmax.",
                "softmax 전에 score를 √d_k로 나누지 않았습니다."),
        Mistake("scaled-by-value-size", "scaled_dot_product_attention",
                lambda q, k, v, mask=None: _attend(_scores(q, k, math.sqrt(v.shape[-1])), v, mask),
                "The scores were divided by √d_v, the size of v's vectors; the scale is √d_k, the size q "
                "and k share (q.shape[-1]). They differ here.",
                "score를 √d_v(v 벡터의 크기)로 나눴습니다. 스케일은 q와 k가 공유하는 크기 √d_k"
                "(q.shape[-1])입니다. 여기서는 둘이 다릅니다."),
        Mistake("mask-inverted", "scaled_dot_product_attention",
                lambda q, k, v, mask=None: _attend(_scores(q, k), v, mask, inverted=True),
                "The mask is inverted: in this course True means the key MAY be attended to.",
                "마스크가 반대입니다. 이 과정에서 True는 그 키를 볼 수 있다는 뜻입니다.",
                # -1e9 for -inf: a row the inverted mask hides whole gets even weights, not NaN
                also=(lambda q, k, v, mask=None: _attend(_scores(q, k), v, mask, fill=-1e9, inverted=True),)),
        Mistake("mask-filled-with-zero", "scaled_dot_product_attention",
                lambda q, k, v, mask=None: _attend(_scores(q, k), v, mask, fill=0.0),
                "Masked scores were set to 0; exp(0) = 1 still gives them weight. Use -inf.",
                "가려진 score를 0으로 채웠습니다. exp(0) = 1이라 여전히 가중치를 받습니다. -inf를 쓰세요."),
        Mistake("softmax-over-queries", "scaled_dot_product_attention", _softmax_over_queries,
                "The softmax ran over the query axis (dim=-2); each query's weights over the keys sum to 1.",
                "softmax를 쿼리 축(dim=-2)으로 했습니다. 각 쿼리의 키에 대한 가중치 합이 1이어야 합니다."),
        Mistake("mask-after-softmax", "scaled_dot_product_attention", _mask_after_softmax,
                "The mask was applied after the softmax, so the weights no longer sum to 1.",
                "softmax 뒤에 마스크를 적용해 가중치의 합이 1이 아닙니다."),
    ],
    hints=[
        Hint('Attention: scores from exercise-08, masked positions excluded, a softmax over the keys, then a weighted sum of the values.',
             '어텐션: exercise-08의 score에서 마스크된 위치를 제외하고, 키 방향으로 softmax한 뒤 값(value)의 가중합을 구합니다.'),
        Hint("Exclude a position by setting its score to -inf before the softmax (scores.masked_fill(~mask, float('-inf'))): True in this course's masks means may attend.",
             "softmax 전에 제외할 위치의 score를 -inf로 두세요 (scores.masked_fill(~mask, float('-inf'))): 이 과목의 마스크에서 True는 볼 수 있다는 뜻입니다."),
        Hint('Softmax over the last dimension (the keys), in the stable way of exercise-09, written by hand; weights @ v gives out. Return (out, weights).',
             '마지막 차원(키)으로 exercise-09의 안정적인 softmax를 직접 쓰고, weights @ v로 out을 구하세요. (out, weights)를 반환하세요.'),
    ],
)
