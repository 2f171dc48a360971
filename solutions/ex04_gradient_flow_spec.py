"""exercise-04 gradient-flow: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex04_gradient_flow import hidden_jacobian, linear_collapse


@st.composite
def stacks(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    dims = draw(st.lists(sizes(1, 4), min_size=2, max_size=5))
    return {"weights": [draw(tensors((dims[k + 1], dims[k]), dtype)) for k in range(len(dims) - 1)]}


@st.composite
def hidden_states(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    H, T = draw(sizes(1, 4)), draw(sizes(1, 4))
    return {"W_hh": draw(tensors((H, H), dtype)), "hs": torch.tanh(draw(tensors((T, H), dtype)))}


def _product(matrices: list[torch.Tensor]) -> torch.Tensor:
    W = matrices[0]
    for M in matrices[1:]:
        W = W @ M
    return W


def _jacobian_with(derivative: Any, before: bool = False) -> Any:
    def jacobian(W_hh: torch.Tensor, hs: torch.Tensor) -> torch.Tensor:
        J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
        for h_t in hs:
            step = derivative(h_t).unsqueeze(-1) * W_hh
            J = J @ step if before else step @ J
        return J
    return jacobian


def _one_step_late(wrap: bool) -> Any:
    """D_t from the state before h_t: h_0 = 0 at the first step, or (``wrap``) hs[-1], as hs[t-1] gives."""
    def jacobian(W_hh: torch.Tensor, hs: torch.Tensor) -> torch.Tensor:
        first = hs[-1:] if wrap else torch.zeros_like(hs[:1])
        return _jacobian_with(lambda h: 1 - h**2)(W_hh, torch.cat([first, hs[:-1]]))
    return jacobian


EXERCISE = Exercise(
    id="exercise-04",
    functions=[
        Function(name="linear_collapse", reference=linear_collapse, inputs=stacks),
        Function(name="hidden_jacobian", reference=hidden_jacobian, inputs=hidden_states),
    ],
    mistakes=[
        Mistake("reversed-order", "linear_collapse", _product,
                "The matrices were multiplied in list order; applying layer 0 first means "
                "W = weights[-1] @ ... @ weights[0].",
                "행렬을 리스트 순서대로 곱했습니다. 0번 층을 먼저 적용하면 "
                "W = weights[-1] @ ... @ weights[0]입니다."),
        Mistake("transposed-result", "linear_collapse", lambda ws: linear_collapse(ws).T,
                "The result is transposed: x Wᵀ must equal the stack, so W maps inputs along its columns.",
                "결과가 전치되었습니다. x Wᵀ가 전체 층과 같아야 합니다."),
        Mistake("last-layer-dropped", "linear_collapse",
                lambda ws: linear_collapse(ws[:-1]) if len(ws) > 1 else ws[0],
                "The last layer is missing from the product.",
                "마지막 층이 곱에서 빠졌습니다."),
        Mistake("derivative-missing", "hidden_jacobian", _jacobian_with(torch.ones_like),
                "The tanh derivative D_t = diag(1 - h_t²) is missing: only W_hh was multiplied.",
                "tanh의 도함수 D_t = diag(1 - h_t²)가 빠졌습니다. W_hh만 곱했습니다."),
        Mistake("derivative-of-preactivation", "hidden_jacobian",
                _jacobian_with(lambda h: 1 - torch.tanh(h) ** 2),
                "1 - tanh(h_t)² was used; h_t is already tanh of the pre-activation, so D_t = 1 - h_t².",
                "1 - tanh(h_t)²를 썼습니다. h_t가 이미 tanh 값이므로 D_t = 1 - h_t²입니다."),
        Mistake("one-minus-h", "hidden_jacobian", _jacobian_with(lambda h: 1 - h),
                "D_t = 1 - h_t was used; the derivative of tanh is 1 - tanh², i.e. 1 - h_t².",
                "D_t = 1 - h_t를 썼습니다. tanh의 도함수는 1 - tanh², 즉 1 - h_t²입니다."),
        Mistake("reversed-chain", "hidden_jacobian", _jacobian_with(lambda h: 1 - h**2, before=True),
                "The chain rule was applied in the wrong order: the latest step goes on the left, "
                "D_T W_hh ... D_1 W_hh.",
                "연쇄 법칙의 곱 순서가 반대입니다. 가장 최근 시점이 왼쪽입니다: D_T W_hh ... D_1 W_hh."),
        Mistake("derivative-one-step-late", "hidden_jacobian", _one_step_late(wrap=False),
                "D_t was computed from the state before it, h_(t-1) (with h_0 = 0 at the first step); "
                "D_t = diag(1 - h_t²) uses the step's own state, and hs[t-1] is h_t.",
                "D_t를 그 이전 상태 h_(t-1)로 계산했습니다(첫 단계는 h_0 = 0). D_t = diag(1 - h_t²)는 "
                "그 시점의 상태를 씁니다. hs[t-1]이 h_t입니다."),
        Mistake("derivative-one-step-late-wrapped", "hidden_jacobian", _one_step_late(wrap=True),
                "D_t was computed from the state before it, h_(t-1), and the first step took hs[-1] (h_T): "
                "indexing hs[t-1] from t = 0 wraps around. D_t = diag(1 - h_t²) uses the step's own state.",
                "D_t를 그 이전 상태 h_(t-1)로 계산했고, 첫 단계는 hs[-1](h_T)을 썼습니다: t = 0부터 "
                "hs[t-1]로 인덱싱하면 끝으로 돌아갑니다. D_t = diag(1 - h_t²)는 그 시점의 상태를 씁니다."),
        Mistake("transposed-jacobian", "hidden_jacobian", lambda W, hs: hidden_jacobian(W, hs).T,
                "The Jacobian is transposed: entry (i, j) is ∂h_T[i]/∂h_0[j].",
                "야코비안이 전치되었습니다. (i, j) 원소는 ∂h_T[i]/∂h_0[j]입니다."),
    ],
    hints=[
        Hint("A stack of linear layers is itself one linear layer; a tanh RNN's Jacobian is a product of per-step Jacobians.",
             '선형 층을 쌓아도 하나의 선형 층입니다. tanh RNN의 Jacobian은 단계별 Jacobian의 곱입니다.'),
        Hint('linear_collapse: with x ↦ x Wᵀ per layer in list order, the whole stack is x (W_n … W_2 W_1)ᵀ. hidden_jacobian: ∂h_t/∂h_(t-1) = diag(1 − h_t²) W_hh.',
             'linear_collapse: 층마다 x ↦ x Wᵀ를 순서대로 적용하면 전체는 x (W_n … W_2 W_1)ᵀ입니다. hidden_jacobian: ∂h_t/∂h_(t-1) = diag(1 − h_t²) W_hh.'),
        Hint('Multiply the later layer on the left: W = weights[k] @ W. For the Jacobian start from J = I and, for t = 1 … T, set J = (1 − hs[t-1]²)[:, None] * W_hh @ J: the newest step goes on the left.',
             '나중 층을 왼쪽에 곱하세요: W = weights[k] @ W. Jacobian은 J = I에서 시작해 t = 1 … T에 대해 J = (1 − hs[t-1]²)[:, None] * W_hh @ J: 가장 최근 단계가 왼쪽입니다.'),
    ],
)
