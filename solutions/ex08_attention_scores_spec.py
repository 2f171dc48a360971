"""exercise-08 attention-scores: inputs, reference, rules and known mistakes."""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.strategies import batch_shapes, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex08_attention_scores import attention_scores


@st.composite
def queries_and_keys(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    batch = draw(batch_shapes())
    Lq, Lk, d_k = draw(sizes(1, 4)), draw(sizes(1, 4)), draw(sizes(1, 5))
    return {"q": draw(tensors((*batch, Lq, d_k), dtype)), "k": draw(tensors((*batch, Lk, d_k), dtype))}


EXERCISE = Exercise(
    id="exercise-08",
    functions=[Function(name="attention_scores", reference=attention_scores, inputs=queries_and_keys)],
    mistakes=[
        Mistake("no-scaling", "attention_scores", lambda q, k: q @ k.transpose(-2, -1),
                "The scores are not divided by √d_k; without it they grow with d_k and the softmax saturates.",
                "√d_k로 나누지 않았습니다. 나누지 않으면 d_k가 클수록 score가 커져 softmax가 포화됩니다."),
        Mistake("divided-by-d", "attention_scores", lambda q, k: q @ k.transpose(-2, -1) / q.shape[-1],
                "The scores were divided by d_k; the scale is 1/√d_k.",
                "d_k로 나눴습니다. 스케일은 1/√d_k입니다."),
        Mistake("scaled-by-key-count", "attention_scores",
                lambda q, k: q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2]),
                "The scores were divided by √Lk (the number of keys); the scale uses d_k, the vector size.",
                "√Lk(키의 개수)로 나눴습니다. 스케일은 벡터 차원 d_k를 씁니다."),
        Mistake("scaled-by-query-count", "attention_scores",
                lambda q, k: q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2]),
                "The scores were divided by √Lq (the number of queries, q.shape[-2]); the scale uses d_k, "
                "the vector size, q.shape[-1].",
                "√Lq(쿼리의 개수, q.shape[-2])로 나눴습니다. 스케일은 벡터 차원 d_k, 즉 q.shape[-1]을 씁니다."),
        Mistake("keys-times-queries", "attention_scores", lambda q, k: attention_scores(k, q),
                "k qᵀ was computed: rows must be queries and columns keys, (..., Lq, Lk).",
                "k qᵀ를 계산했습니다. 행은 쿼리, 열은 키인 (..., Lq, Lk)여야 합니다."),
        Mistake("float32-output", "attention_scores", lambda q, k: attention_scores(q, k).float(),
                "The result is always float32; outputs keep the input's dtype.",
                "결과가 항상 float32입니다. 출력은 입력의 dtype을 유지해야 합니다."),
    ],
    hints=[
        Hint('Each score compares one query with one key by a dot product, scaled so its size does not grow with d_k.',
             '각 score는 쿼리 하나와 키 하나를 내적으로 비교하고, d_k가 커져도 크기가 커지지 않도록 scaling합니다.'),
        Hint('q @ k.transpose(-2, -1) works for any leading batch dimensions and gives (..., Lq, Lk); .T would also flip the batch dimensions.',
             'q @ k.transpose(-2, -1)은 앞쪽 배치 차원이 몇 개든 (..., Lq, Lk)를 줍니다. .T는 배치 차원까지 뒤집습니다.'),
        Hint('Divide by math.sqrt(d_k) with d_k = q.shape[-1] (the feature size, not Lk and not d_k itself).',
             'd_k = q.shape[-1]일 때 math.sqrt(d_k)로 나누세요 (Lk도, d_k 자체도 아닙니다).'),
    ],
)
