"""exercise-02 markov-log-likelihood: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.strategies import indices, probabilities, sizes
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex02_markov_log_likelihood import markov_log_likelihood


@st.composite
def chains(draw: st.DrawFn, dtype: torch.dtype, zeros: bool = False) -> dict[str, Any]:
    B, T, K = draw(sizes(1, 3)), draw(sizes(1, 5)), draw(sizes(1, 4))
    return {
        "states": draw(indices((B, T), K)),
        "initial": draw(probabilities((K,), dtype, zeros=zeros)),
        "transition": draw(probabilities((K, K), dtype, zeros=zeros)),
    }


def _steps(states: torch.Tensor, transition: torch.Tensor) -> torch.Tensor:
    return torch.log(transition)[states[:, :-1], states[:, 1:]]


EXERCISE = Exercise(
    id="exercise-02",
    functions=[
        Function(
            name="markov_log_likelihood",
            reference=markov_log_likelihood,
            inputs=chains,
            edge_cases={"zero probabilities": lambda dtype: chains(dtype, zeros=True)},
            names_ko={"zero probabilities": "확률이 0인 전이"},
        )
    ],
    mistakes=[
        Mistake("transition-transposed", "markov_log_likelihood",
                lambda s, p0, A: markov_log_likelihood(s, p0, A.T),
                "transition[s_t, s_{t-1}] was used; row i of transition is the next-state "
                "distribution given state i, so it is transition[s_{t-1}, s_t].",
                "transition[s_t, s_{t-1}]을 썼습니다. i번째 행이 상태 i 다음 상태의 분포이므로 "
                "transition[s_{t-1}, s_t]입니다."),
        Mistake("missing-initial", "markov_log_likelihood",
                lambda s, p0, A: _steps(s, A).sum(-1),
                "The initial term log initial[s_0] is missing.",
                "초기 항 log initial[s_0]이 빠졌습니다."),
        Mistake("probability-not-log", "markov_log_likelihood",
                lambda s, p0, A: p0[s[:, 0]] * A[s[:, :-1], s[:, 1:]].prod(-1),
                "The product of probabilities was returned; the spec asks for its logarithm.",
                "확률의 곱을 반환했습니다. 명세는 그 로그 값을 요구합니다."),
        Mistake("last-step-dropped", "markov_log_likelihood",
                lambda s, p0, A: torch.log(p0)[s[:, 0]] + _steps(s[:, :-1], A).sum(-1)
                if s.shape[1] > 1 else torch.log(p0)[s[:, 0]],
                "The last transition (s_{T-2} -> s_{T-1}) is not counted: an off-by-one in the time loop.",
                "마지막 전이(s_{T-2} -> s_{T-1})가 빠졌습니다. 시간 반복문의 경계를 확인하세요."),
        Mistake("float32-output", "markov_log_likelihood",
                lambda s, p0, A: markov_log_likelihood(s, p0, A).float(),
                "The result is always float32; it must have the dtype of initial.",
                "결과가 항상 float32입니다. initial의 dtype을 따라야 합니다."),
    ],
    hints=[
        Hint('The log-likelihood of a chain is a sum of log-probabilities: one for the first state, one per transition.',
             '체인의 log-likelihood는 log 확률의 합입니다: 첫 상태에 하나, 전이마다 하나.'),
        Hint('log initial[s_0] comes from initial indexed by states[:, 0]; transition[s_(t-1), s_t] for every t ≥ 1 comes from indexing transition with two index tensors at once.',
             'log initial[s_0]은 states[:, 0]으로 initial을 인덱싱해 얻고, t ≥ 1의 transition[s_(t-1), s_t]는 두 인덱스 텐서로 transition을 한 번에 인덱싱해 얻습니다.'),
        Hint('transition[states[:, :-1], states[:, 1:]] has shape (B, T-1): take its log and sum over dim 1. Take logs of probabilities (log 0 = -inf), never multiply probabilities first: the product underflows.',
             'transition[states[:, :-1], states[:, 1:]]의 shape은 (B, T-1)입니다. log를 취한 뒤 dim 1로 더하세요. 확률을 먼저 곱하면 underflow가 나므로 log를 먼저 취하세요 (log 0 = -inf).'),
    ],
)
