"""exercise-11 masking: inputs, reference, rules and known mistakes."""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import future_does_not_leak, zero_weight_past_lengths
from grader.checks.strategies import indices, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake, switched

from .ex11_masking import causal_mask, masked_attention, padding_mask

FORBIDDEN = ("softmax", "scaled_dot_product", "multi_head_attention")


def lengths_only(dtype: torch.dtype | None) -> st.SearchStrategy[dict[str, Any]]:
    return sizes(1, 6).map(lambda n: {"length": n})


@st.composite
def paddings(draw: st.DrawFn, dtype: torch.dtype | None) -> dict[str, Any]:
    B, max_len = draw(sizes(1, 4)), draw(sizes(1, 5))
    return {"lengths": draw(indices((B,), max_len + 1)), "max_len": max_len}


@st.composite
def attention_inputs(draw: st.DrawFn, dtype: torch.dtype, empty_rows: bool = False) -> dict[str, Any]:
    B, Lq, d, d_v = draw(sizes(1, 3)), draw(sizes(1, 4)), draw(sizes(1, 3)), draw(sizes(1, 3))
    causal = draw(st.booleans())
    Lk = Lq if causal else draw(sizes(1, 4))
    case: dict[str, Any] = {
        "q": draw(tensors((B, Lq, d), dtype)), "k": draw(tensors((B, Lk, d), dtype)),
        "v": draw(tensors((B, Lk, d_v), dtype)), "causal": causal,
    }
    if empty_rows or draw(st.booleans()):
        low = 0 if empty_rows else 1  # a length of 0 leaves a query row with no key at all
        case["key_lengths"] = draw(indices((B,), Lk + 1 - low)) + low
    return case


@st.composite
def causal_with_unequal_lengths(draw: st.DrawFn) -> dict[str, Any]:
    B, Lq, d = draw(sizes(1, 2)), draw(sizes(1, 3)), draw(sizes(1, 3))
    Lk = Lq + draw(sizes(1, 2))
    q, k = draw(tensors((B, Lq, d))), draw(tensors((B, Lk, d)))
    return {"q": q, "k": k, "v": draw(tensors((B, Lk, d))), "causal": True}


def _allowed(q, k, causal, key_lengths, *, strict=False, pad_queries=False):  # type: ignore[no-untyped-def]
    B, Lq, Lk = q.shape[0], q.shape[1], k.shape[1]
    allowed = torch.ones(B, Lq, Lk, dtype=torch.bool)
    if causal:
        allowed = allowed & torch.ones(Lq, Lk, dtype=torch.bool).tril(-1 if strict else 0)
    if key_lengths is not None:
        if pad_queries:
            allowed = allowed & padding_mask(key_lengths, Lq).unsqueeze(-1)
        else:
            allowed = allowed & padding_mask(key_lengths, Lk).unsqueeze(1)
    return allowed


def _attention(*, nan_rows=False, ignore_causal=False, big_negative=False, **flags):  # type: ignore[no-untyped-def]
    def attend(q, k, v, causal=False, key_lengths=None):  # type: ignore[no-untyped-def]
        allowed = _allowed(q, k, causal and not ignore_causal, key_lengths, **flags)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if big_negative:  # the tutorials' -1e9: a row with no allowed key becomes uniform, not zero
            e = (scores.masked_fill(~allowed, -1e9) - scores.masked_fill(~allowed, -1e9).amax(-1, keepdim=True)).exp()
            weights = e / e.sum(-1, keepdim=True)
            return weights @ v, weights
        scores = scores.masked_fill(~allowed, -math.inf)
        if not nan_rows:
            scores = torch.where(allowed.any(-1, keepdim=True), scores, torch.zeros_like(scores))
        e = (scores - scores.amax(-1, keepdim=True)).exp()
        weights = e / e.sum(-1, keepdim=True)
        weights = weights if nan_rows else weights * allowed
        return weights @ v, weights
    return attend


EXERCISE = Exercise(
    id="exercise-11",
    forbidden=FORBIDDEN,
    functions=[
        Function(name="causal_mask", reference=causal_mask, inputs=lengths_only,
                 differentiable=False, float_dtypes=()),
        Function(name="padding_mask", reference=padding_mask, inputs=paddings,
                 differentiable=False, float_dtypes=()),
        Function(
            name="masked_attention",
            reference=masked_attention,
            inputs=attention_inputs,
            edge_cases={"rows with no allowed key": lambda dtype: attention_inputs(dtype, empty_rows=True)},
            invalid={"causal with Lq != Lk": causal_with_unequal_lengths()},
            names_ko={"rows with no allowed key": "허용된 키가 없는 행", "causal with Lq != Lk": "Lq != Lk인 causal"},
            properties=[zero_weight_past_lengths("padded keys get zero weight",
                                                 "a padded key gets exactly zero weight",
                                                 "패딩된 키의 가중치는 정확히 0이어야 합니다", "key_lengths", 1,
                                                 key_ko="패딩된 키의 가중치 0")],
            relations=[future_does_not_leak("under a causal mask, changing a later key "
                                            "or value leaves earlier outputs unchanged",
                                            "causal 마스크에서는 뒤쪽 키나 값을 바꿔도 앞쪽 출력이 변하지 않아야 합니다",
                                            {"k": 1, "v": 1}, when="causal")],
        ),
    ],
    mistakes=[
        Mistake("diagonal-excluded", "causal_mask",
                lambda length, device=None: torch.ones(length, length, dtype=torch.bool).tril(-1),
                "The diagonal is False: a position may attend to itself (key j ≤ query i).",
                "대각선이 False입니다. 각 위치는 자기 자신을 볼 수 있습니다 (키 j ≤ 쿼리 i)."),
        Mistake("future-not-past", "causal_mask",
                lambda length, device=None: torch.ones(length, length, dtype=torch.bool).triu(),
                "The mask lets each position see the future instead of the past (upper triangle).",
                "각 위치가 과거 대신 미래를 보게 됩니다 (위 삼각형)."),
        Mistake("float-mask", "causal_mask",
                lambda length, device=None: torch.ones(length, length).tril(),
                "The mask is a float tensor; masks in this course are torch.bool.",
                "마스크가 float 텐서입니다. 이 과정의 마스크는 torch.bool입니다."),
        Mistake("padding-inclusive", "padding_mask",
                lambda lengths, max_len: torch.arange(max_len) <= lengths.unsqueeze(-1),
                "position <= length was used; position t is a real token when t < lengths[b].",
                "position <= length를 썼습니다. 위치 t는 t < lengths[b]일 때 실제 토큰입니다."),
        Mistake("padding-inverted", "padding_mask",
                lambda lengths, max_len: torch.arange(max_len) >= lengths.unsqueeze(-1),
                "The mask marks the padding as True; True means a real token.",
                "패딩 위치를 True로 표시했습니다. True는 실제 토큰입니다."),
        Mistake("nan-for-empty-rows", "masked_attention", switched(_attention, nan_rows=True),
                "A query row with no allowed key gives NaN (softmax of all -inf); it must get all-zero weights.",
                "볼 수 있는 키가 없는 쿼리 행이 NaN이 됩니다(모두 -inf인 softmax). 가중치가 모두 0이어야 합니다."),
        Mistake("minus-1e9", "masked_attention", switched(_attention, big_negative=True),
                "Masked scores were set to -1e9: a row with no allowed key then gets uniform weights "
                "(the mean of v); here it must get zero weights and a zero output.",
                "마스킹된 점수를 -1e9로 두었습니다: 허용된 키가 없는 행이 균등 가중치(v의 평균)를 받습니다. "
                "여기서는 가중치와 출력이 0이어야 합니다."),
        Mistake("causal-ignored", "masked_attention", switched(_attention, ignore_causal=True),
                "causal=True did not hide the future keys.",
                "causal=True인데 미래의 키를 가리지 않았습니다."),
        Mistake("causal-diagonal-excluded", "masked_attention", switched(_attention, strict=True),
                "The causal mask hides the diagonal: a query may attend to its own position.",
                "causal 마스크가 대각선을 가립니다. 쿼리는 자기 위치를 볼 수 있습니다."),
        Mistake("padding-on-queries", "masked_attention", switched(_attention, pad_queries=True),
                "key_lengths masked query rows; it masks the keys (the last axis of the scores).",
                "key_lengths로 쿼리 행을 가렸습니다. 가려야 할 것은 키(score의 마지막 축)입니다."),
    ],
    hints=[
        Hint('Two masks: causal (a query sees only keys at or before it) and padding (only real tokens). Combine them with logical and.',
             '마스크는 두 가지입니다: causal(쿼리는 자기 위치까지의 키만 봄)과 padding(실제 토큰만). 논리곱으로 합치세요.'),
        Hint('causal_mask: torch.ones(L, L, dtype=torch.bool).tril() (the diagonal included). padding_mask: torch.arange(max_len) < lengths[:, None].',
             'causal_mask: torch.ones(L, L, dtype=torch.bool).tril() (대각선 포함). padding_mask: torch.arange(max_len) < lengths[:, None].'),
        Hint("A query row with no allowed key would be a softmax of all -inf, which is NaN: compute the softmax over the allowed keys only and give such rows all-zero weights (e.g. with torch.where on the row's 'any allowed').",
             '허용된 키가 없는 쿼리 행은 모두 -inf의 softmax가 되어 NaN입니다: 허용된 키에 대해서만 softmax를 계산하고 그런 행은 가중치를 모두 0으로 두세요 (예: 행마다 허용된 키가 있는지로 torch.where).'),
    ],
)
