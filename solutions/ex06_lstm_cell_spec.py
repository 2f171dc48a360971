"""exercise-06 lstm-cell: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent
from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake, switched

from .ex06_lstm_cell import lstm_cell

Tensor = torch.Tensor


@st.composite
def lstm_inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, I, H = draw(sizes(1, 3)), draw(sizes(1, 3)), draw(sizes(1, 3))
    return {
        "x_t": draw(tensors((B, I), dtype)), "h_prev": draw(tensors((B, H), dtype)),
        "c_prev": draw(tensors((B, H), dtype)),
        "W_ih": draw(tensors((4 * H, I), dtype)), "W_hh": draw(tensors((4 * H, H), dtype)),
        "b_ih": draw(tensors((4 * H,), dtype)), "b_hh": draw(tensors((4 * H,), dtype)),
    }


def _cell(order: str = "ifgo", *, gate: Callable[[Tensor], Tensor] = torch.sigmoid,
          candidate: Callable[[Tensor], Tensor] = torch.tanh, forget: bool = True,
          squash_cell: bool = True, hidden_bias: bool = True,
          old_cell: bool = False) -> Callable[..., tuple[Tensor, Tensor]]:
    """An LSTM cell with one classic slip switched on."""

    def cell(x, h, c, W_ih, W_hh, b_ih, b_hh):  # type: ignore[no-untyped-def]
        pre = x @ W_ih.T + b_ih + h @ W_hh.T + (b_hh if hidden_bias else 0)
        parts = dict(zip(order, pre.chunk(4, dim=-1), strict=True))
        i, f, g, o = gate(parts["i"]), gate(parts["f"]), candidate(parts["g"]), gate(parts["o"])
        c_t = (f * c if forget else c) + i * g
        shown = c if old_cell else c_t
        return o * (torch.tanh(shown) if squash_cell else shown), c_t

    return cell


EXERCISE = Exercise(
    id="exercise-06",
    functions=[Function(name="lstm_cell", reference=lstm_cell, inputs=lstm_inputs,
                        relations=[batch_rows_independent("x_t", "h_prev", "c_prev")])],
    mistakes=[
        Mistake("gate-order-ifog", "lstm_cell", switched(_cell, order="ifog"),
                "Gate rows were read as i, f, o, g; PyTorch's order is i, f, g, o "
                "(input, forget, cell candidate, output).",
                "게이트 행을 i, f, o, g 순서로 읽었습니다. PyTorch의 순서는 i, f, g, o입니다."),
        Mistake("gate-order-fiog", "lstm_cell", switched(_cell, order="figo"),
                "The input and forget gate rows are swapped; the order is i, f, g, o.",
                "입력 게이트와 망각 게이트의 행이 바뀌었습니다. 순서는 i, f, g, o입니다."),
        Mistake("gate-order-fgio", "lstm_cell", switched(_cell, order="fgio"),
                "Gate rows were read as f, g, i, o (the order of 밑바닥부터 시작하는 딥러닝 2's LSTM); "
                "PyTorch's weights are ordered i, f, g, o.",
                "게이트 행을 f, g, i, o 순서로 읽었습니다(밑바닥부터 시작하는 딥러닝 2의 LSTM 순서). "
                "PyTorch 가중치의 순서는 i, f, g, o입니다."),
        Mistake("sigmoid-candidate", "lstm_cell", switched(_cell, candidate=torch.sigmoid),
                "The cell candidate g used σ; it uses tanh so it can add and subtract (-1 to 1).",
                "셀 스테이트 후보 g에 시그모이드를 썼습니다. g는 tanh(-1에서 1)를 써야 방향을 나타냅니다."),
        Mistake("forget-gate-ignored", "lstm_cell", switched(_cell, forget=False),
                "c_prev was carried without the forget gate: c_t = f ⊙ c_prev + i ⊙ g.",
                "망각 게이트 없이 c_prev를 그대로 더했습니다: c_t = f ⊙ c_prev + i ⊙ g."),
        Mistake("no-tanh-on-cell", "lstm_cell", switched(_cell, squash_cell=False),
                "h_t = o ⊙ c_t was used; the cell state is squashed first, h_t = o ⊙ tanh(c_t).",
                "h_t = o ⊙ c_t를 썼습니다. h_t = o ⊙ tanh(c_t)입니다."),
        Mistake("old-cell-squashed", "lstm_cell", switched(_cell, old_cell=True),
                "h_t = o ⊙ tanh(c_prev) was used: h_t squashes the new cell state, h_t = o ⊙ tanh(c_t).",
                "h_t = o ⊙ tanh(c_prev)를 썼습니다. h_t는 새 셀 스테이트를 씁니다: h_t = o ⊙ tanh(c_t)."),
        Mistake("hidden-bias-missing", "lstm_cell", switched(_cell, hidden_bias=False),
                "b_hh is missing: PyTorch's LSTM adds both biases, b_ih and b_hh.",
                "b_hh가 빠졌습니다. PyTorch의 LSTM은 b_ih와 b_hh를 모두 더합니다."),
    ],
    hints=[
        Hint('An LSTM cell computes four gates from x_t and h_prev at once, then updates the cell state (셀 스테이트) and the hidden state.',
             'LSTM 셀은 x_t와 h_prev로 네 게이트를 한 번에 계산한 뒤 셀 스테이트와 hidden state를 갱신합니다.'),
        Hint("gates = x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh has 4H columns in PyTorch's order i, f, g, o: split it with gates.chunk(4, dim=-1).",
             'gates = x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh의 4H개 열은 PyTorch 순서 i, f, g, o입니다: gates.chunk(4, dim=-1)로 나누세요.'),
        Hint('σ for i, f, o and tanh for g; c_t = f ⊙ c_prev + i ⊙ g, then h_t = o ⊙ tanh(c_t) (tanh of the new cell state, not of the old one). Return (h_t, c_t) in that order.',
             'i, f, o에는 σ, g에는 tanh를 씁니다. c_t = f ⊙ c_prev + i ⊙ g, 그다음 h_t = o ⊙ tanh(c_t) (새 셀 스테이트의 tanh). (h_t, c_t) 순서로 반환하세요.'),
    ],
)
