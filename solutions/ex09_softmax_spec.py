"""exercise-09 softmax: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import invariant, shifted, slices_sum_to_one
from grader.checks.strategies import batch_shapes, masks, sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex09_softmax import softmax

FORBIDDEN = ("softmax", "scaled_dot_product", "multi_head_attention")


@st.composite
def logits(draw: st.DrawFn, dtype: torch.dtype, scale: float = 1.0, neg_inf: bool = False) -> dict[str, Any]:
    shape = (*draw(batch_shapes()), draw(sizes(1, 5)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    x = draw(tensors(shape, dtype, scale=scale))
    if neg_inf:  # -inf entries, but every slice along dim keeps a finite one
        keep = draw(masks(tuple(s for i, s in enumerate(shape) if i != dim % len(shape))
                          + (shape[dim],)))
        x = x.masked_fill(~keep.movedim(-1, dim), float("-inf"))
    return {"x": x, "dim": dim}


def _naive(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)


EXERCISE = Exercise(
    id="exercise-09",
    forbidden=FORBIDDEN,
    functions=[
        Function(
            name="softmax",
            reference=softmax,
            inputs=logits,
            edge_cases={
                "huge inputs": lambda dtype: logits(dtype, scale=2.0**100 if dtype == torch.float32 else 2.0**1000),
                "-inf entries": lambda dtype: logits(dtype, neg_inf=True),
            },
            names_ko={"huge inputs": "아주 큰 입력", "-inf entries": "-inf 원소"},
            properties=[slices_sum_to_one("slices sum to 1", "every slice along dim sums to 1",
                                          "dim 방향의 각 슬라이스 합은 1이어야 합니다", "dim",
                                          key_ko="슬라이스 합이 1")],
            relations=[invariant("shift invariance", "softmax(x + c) = softmax(x): adding a constant changes nothing",
                                 "softmax(x + c) = softmax(x): 상수를 더해도 결과는 같아야 합니다",
                                 shifted("x", 1.0), key_ko="shift 불변성")],
        )
    ],
    mistakes=[
        Mistake("not-stable", "softmax", _naive,
                "exp(x) overflows for large x: subtract the maximum along dim first (softmax(x) = softmax(x − max)).",
                "큰 x에서 exp(x)가 overflow됩니다. dim 방향 최댓값을 먼저 빼세요 (softmax(x) = softmax(x − max))."),
        Mistake("last-dim-always", "softmax", lambda x, dim=-1: softmax(x, -1),
                "The softmax always runs over the last dimension; use the dim argument.",
                "항상 마지막 차원으로 softmax합니다. dim 인자를 사용하세요."),
        Mistake("normalized-over-everything", "softmax",
                lambda x, dim=-1: (x - x.max()).exp() / (x - x.max()).exp().sum(),
                "The whole tensor was normalized at once; each slice along dim must sum to 1 on its own.",
                "텐서 전체를 한 번에 정규화했습니다. dim 방향의 각 슬라이스가 따로 합이 1이어야 합니다."),
        Mistake("global-max-shift", "softmax",
                lambda x, dim=-1: _naive(x - x.max(), dim),
                "The global maximum was subtracted; a slice far below it underflows to 0/0 = NaN. "
                "Subtract the maximum of each slice (amax(dim, keepdim=True)).",
                "전체 최댓값을 뺐습니다. 그보다 훨씬 작은 슬라이스는 0/0 = NaN이 됩니다. "
                "각 슬라이스의 최댓값(amax(dim, keepdim=True))을 빼세요."),
        Mistake("max-without-keepdim", "softmax",
                lambda x, dim=-1: _naive(x - x.amax(dim), dim),
                "The maximum was taken without keepdim=True, so x − max broadcasts it along the wrong "
                "axis (a wrong shape, wrong values, or a size error). Use x.amax(dim, keepdim=True).",
                "keepdim=True 없이 최댓값을 구해 x − max가 엉뚱한 축으로 broadcast됩니다 (shape이나 값이 "
                "틀리거나 크기 오류). x.amax(dim, keepdim=True)를 쓰세요."),
        Mistake("log-softmax", "softmax",
                lambda x, dim=-1: (x - x.amax(dim, keepdim=True))
                - (x - x.amax(dim, keepdim=True)).exp().sum(dim, keepdim=True).log(),
                "This is log-softmax (log probabilities); return the probabilities themselves.",
                "log-softmax(로그 확률)를 계산했습니다. 확률 자체를 반환하세요."),
    ],
    hints=[
        Hint('softmax(x) = exp(x) / Σ exp(x) along dim, but exp overflows for large x.',
             'softmax(x) = dim 방향으로 exp(x) / Σ exp(x)이지만, 큰 x에서 exp가 overflow됩니다.'),
        Hint('softmax(x − c) = softmax(x) for any constant c: subtract the maximum along dim (keepdim=True) so the largest exponent is 0.',
             '어떤 상수 c에 대해서도 softmax(x − c) = softmax(x)입니다: dim 방향 최댓값을 빼서(keepdim=True) 가장 큰 지수가 0이 되게 하세요.'),
        Hint('m = x.amax(dim, keepdim=True); e = (x − m).exp(); return e / e.sum(dim, keepdim=True). -inf entries then become exp(-inf) = 0 by themselves.',
             'm = x.amax(dim, keepdim=True); e = (x − m).exp(); e / e.sum(dim, keepdim=True)를 반환하세요. -inf 원소는 저절로 exp(-inf) = 0이 됩니다.'),
    ],
)
