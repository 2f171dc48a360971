"""exercise-12 multi-head-attention: inputs, reference, rules and known mistakes."""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, flipped, invariant
from grader.checks.strategies import masks, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake, switched

from .ex12_multi_head_attention import _softmax, multi_head_attention


@st.composite
def mha_inputs(draw: st.DrawFn, dtype: torch.dtype | None, divisible: bool = True) -> dict[str, Any]:
    dtype = dtype or torch.float32
    B, Lq, h, d = draw(sizes(1, 2)), draw(sizes(1, 3)), draw(sizes(1, 3)), draw(sizes(1, 3))
    D = h * d if divisible else h * d + draw(sizes(1, h - 1)) if h > 1 else 0
    if not divisible and h == 1:  # one head divides everything: use two
        h, D = 2, 2 * d + 1
    self_attention = draw(st.booleans())
    Lk = Lq if self_attention else draw(sizes(1, 3))
    query = draw(tensors((B, Lq, D), dtype))
    key = query if self_attention else draw(tensors((B, Lk, D), dtype))
    value = query if self_attention else draw(tensors((B, Lk, D), dtype))
    case: dict[str, Any] = {"query": query, "key": key, "value": value}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        case[name] = draw(tensors((D, D), dtype, scale=0.5))
    for name in ("b_q", "b_k", "b_v", "b_o"):
        case[name] = draw(tensors((D,), dtype))
    case["num_heads"] = h
    if draw(st.booleans()):
        case["mask"] = draw(masks(draw(st.sampled_from([(Lq, Lk), (B, Lq, Lk)]))))
    return case


def _mha(*, split: str = "view", scale: str = "head", average: bool = False, project: bool = True,
         inverted: bool = False, fill: float = float("-inf")):  # type: ignore[no-untyped-def]
    """Multi-head attention with one slip switched on. ``split``: "view" splits and merges the heads
    right; "reshape" splits and merges them with reshape alone; "merge-reshape" splits right but merges
    with reshape alone."""

    def attend(query, key, value, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, num_heads, mask=None):  # type: ignore[no-untyped-def]
        B, Lq, D = query.shape
        d = D // num_heads

        def heads(x, W, b):  # type: ignore[no-untyped-def]
            y = x @ W.T + b
            if split == "reshape":
                return y.reshape(B, num_heads, -1, d)
            return y.view(B, -1, num_heads, d).transpose(1, 2)

        q, k, v = heads(query, W_q, b_q), heads(key, W_k, b_k), heads(value, W_v, b_v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d if scale == "head" else D)
        if mask is not None:
            m = mask if mask.dim() == 2 else mask.unsqueeze(1)
            scores = scores.masked_fill(m if inverted else ~m, fill)
        weights = _softmax(scores)
        merged = weights @ v
        together = split in ("reshape", "merge-reshape")  # (B, h, Lq, d) read as if it were (B, Lq, h, d)
        out = merged.reshape(B, Lq, D) if together else merged.transpose(1, 2).reshape(B, Lq, D)
        out = out @ W_o.T + b_o if project else out
        return out, weights.mean(dim=1) if average else weights

    return attend


EXERCISE = Exercise(
    id="exercise-12",
    functions=[
        Function(
            name="multi_head_attention",
            reference=multi_head_attention,
            inputs=mha_inputs,
            invalid={"D % num_heads != 0": mha_inputs(None, divisible=False)},
            names_ko={"D % num_heads != 0": "D가 num_heads로 나누어떨어지지 않음"},
            tolerance_scale=4.0,
            relations=[batch_rows_independent("query", "key", "value", per_batch={"mask": 3}),
                       invariant("key order irrelevant",
                                 "reordering keys and values together leaves the output unchanged",
                                 "키와 값의 순서를 함께 바꿔도 출력은 같아야 합니다",
                                 flipped({"key": 1, "value": 1, "mask": -1}), key_ko="키 순서와 무관")],
        )
    ],
    mistakes=[
        Mistake("heads-split-without-transpose", "multi_head_attention", switched(_mha, split="reshape"),
                "Heads were split with reshape(B, h, L, D/h), which mixes positions and features; "
                "use view(B, L, h, D/h).transpose(1, 2).",
                "reshape(B, h, L, D/h)로 헤드를 나눠 위치와 특징이 섞였습니다. "
                "view(B, L, h, D/h).transpose(1, 2)를 쓰세요."),
        Mistake("heads-merged-without-transpose", "multi_head_attention", switched(_mha, split="merge-reshape"),
                "The heads were merged with reshape(B, Lq, D) straight from (B, h, Lq, D/h), which mixes "
                "positions and heads; transpose(1, 2) first: merged.transpose(1, 2).reshape(B, Lq, D).",
                "(B, h, Lq, D/h)를 바로 reshape(B, Lq, D)로 합쳐 위치와 헤드가 섞였습니다. "
                "먼저 transpose(1, 2)를 하세요: merged.transpose(1, 2).reshape(B, Lq, D)."),
        Mistake("scaled-by-model-dim", "multi_head_attention", switched(_mha, scale="model"),
                "The scores were divided by √D; each head uses its own size, √(D/num_heads).",
                "score를 √D로 나눴습니다. 각 헤드는 자신의 크기 √(D/num_heads)를 씁니다."),
        Mistake("weights-averaged", "multi_head_attention", switched(_mha, average=True),
                "The weights were averaged over heads; return them per head, (B, num_heads, Lq, Lk).",
                "가중치를 헤드에 대해 평균냈습니다. 헤드별로 (B, num_heads, Lq, Lk)를 반환하세요."),
        Mistake("no-output-projection", "multi_head_attention", switched(_mha, project=False),
                "The output projection W_o, b_o is missing after the heads are concatenated.",
                "헤드를 이어 붙인 뒤의 출력 투영 W_o, b_o가 빠졌습니다."),
        Mistake("mask-inverted", "multi_head_attention", switched(_mha, inverted=True),
                "The mask is inverted: True means may attend (nn.MultiheadAttention's True means ignore).",
                "마스크가 반대입니다. True는 볼 수 있음입니다 (nn.MultiheadAttention의 True는 무시).",
                also=(_mha(inverted=True, fill=-1e9),)),  # -1e9 for -inf: a hidden row gets even weights
    ],
    hints=[
        Hint('Multi-head attention (멀티 헤드 어텐션) projects query, key and value, splits the features into num_heads heads, attends in each head, then merges and projects the result.',
             '멀티 헤드 어텐션은 쿼리, 키, 값을 projection하고, feature를 num_heads개 헤드로 나누어 헤드마다 어텐션한 뒤 합쳐서 다시 projection합니다.'),
        Hint('Split (B, L, D) into heads with .view(B, L, h, D // h).transpose(1, 2) → (B, h, L, d): reshape(B, h, L, d) directly mixes positions and features.',
             '(B, L, D)를 .view(B, L, h, D // h).transpose(1, 2)로 (B, h, L, d)로 나누세요: 바로 reshape(B, h, L, d)하면 위치와 feature가 섞입니다.'),
        Hint('Scale by √(D/h), the head size; a (Lq, Lk) mask broadcasts over heads, a (B, Lq, Lk) one needs .unsqueeze(1). Merge with transpose(1, 2).reshape(B, Lq, D), apply W_o, and return the per-head weights (B, h, Lq, Lk), not their mean.',
             '헤드 크기 √(D/h)로 나누세요. (Lq, Lk) 마스크는 헤드에 broadcast되고, (B, Lq, Lk) 마스크는 .unsqueeze(1)이 필요합니다. transpose(1, 2).reshape(B, Lq, D)로 합치고 W_o를 적용한 뒤, 평균이 아닌 헤드별 가중치 (B, h, Lq, Lk)를 반환하세요.'),
    ],
)
