"""exercise-03 rnn: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, future_does_not_leak
from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex03_rnn import rnn_cell, rnn_forward


@st.composite
def cell_inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, I, H = draw(sizes(1, 3)), draw(sizes(1, 3)), draw(sizes(1, 4))
    return {
        "x_t": draw(tensors((B, I), dtype)), "h_prev": draw(tensors((B, H), dtype)),
        "W_xh": draw(tensors((H, I), dtype)), "W_hh": draw(tensors((H, H), dtype)),
        "b_h": draw(tensors((H,), dtype)),
    }


@st.composite
def sequence_inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, T, I, H, O = (draw(sizes(1, 3)), draw(sizes(1, 4)), draw(sizes(1, 3)),
                     draw(sizes(1, 3)), draw(sizes(1, 3)))
    half = 0.5  # keeps tanh out of saturation over several steps
    return {
        "xs": draw(tensors((B, T, I), dtype)), "h0": draw(tensors((B, H), dtype)),
        "W_xh": draw(tensors((H, I), dtype, scale=half)), "W_hh": draw(tensors((H, H), dtype, scale=half)),
        "b_h": draw(tensors((H,), dtype)), "W_hy": draw(tensors((O, H), dtype)),
        "b_y": draw(tensors((O,), dtype)),
    }


def _forward_with(cell: Any) -> Any:
    def forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):  # type: ignore[no-untyped-def]
        h, ys = h0, []
        for t in range(xs.shape[1]):
            h = cell(xs[:, t], h, W_xh, W_hh, b_h)
            ys.append(h @ W_hy.T + b_y)
        return torch.stack(ys, dim=1), h
    return forward


def _output_before_update(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):  # type: ignore[no-untyped-def]
    h, ys = h0, []
    for t in range(xs.shape[1]):
        ys.append(h @ W_hy.T + b_y)
        h = rnn_cell(xs[:, t], h, W_xh, W_hh, b_h)
    return torch.stack(ys, dim=1), h


def _no_recurrence(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):  # type: ignore[no-untyped-def]
    hs = [rnn_cell(xs[:, t], h0, W_xh, W_hh, b_h) for t in range(xs.shape[1])]
    return torch.stack([h @ W_hy.T + b_y for h in hs], dim=1), hs[-1]


EXERCISE = Exercise(
    id="exercise-03",
    functions=[
        Function(name="rnn_cell", reference=rnn_cell, inputs=cell_inputs,
                 relations=[batch_rows_independent("x_t", "h_prev")]),
        Function(name="rnn_forward", reference=rnn_forward, inputs=sequence_inputs,
                 relations=[batch_rows_independent("xs", "h0"),
                            future_does_not_leak("changing the last input x_T leaves every earlier output "
                                                 "y_1 … y_(T-1) unchanged",
                                                 "마지막 입력 x_T를 바꿔도 그 이전 출력 y_1 … y_(T-1)은 "
                                                 "변하지 않아야 합니다", {"xs": 1})]),
    ],
    mistakes=[
        Mistake("relu-not-tanh", "rnn_cell",
                lambda x, h, Wx, Wh, b: torch.relu(x @ Wx.T + h @ Wh.T + b),
                "ReLU was used; this RNN uses tanh (a bounded nonlinearity, -1 to 1).",
                "ReLU를 사용했습니다. 이 RNN은 tanh(-1에서 1 사이)를 씁니다."),
        Mistake("sigmoid-not-tanh", "rnn_cell",
                lambda x, h, Wx, Wh, b: torch.sigmoid(x @ Wx.T + h @ Wh.T + b),
                "sigmoid was used; the RNN hidden state uses tanh.",
                "sigmoid를 사용했습니다. RNN의 hidden state는 tanh를 씁니다."),
        Mistake("hidden-term-missing", "rnn_cell",
                lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + b),
                "h_prev W_hhᵀ is missing: without it the cell has no memory of the past.",
                "h_prev W_hhᵀ 항이 빠졌습니다. 이 항이 없으면 과거 정보를 기억하지 못합니다."),
        Mistake("no-activation", "rnn_cell",
                lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b,
                "No tanh: a stack of linear steps collapses into one linear map.",
                "tanh가 없습니다. 선형 단계만 쌓으면 하나의 선형 변환과 같아집니다."),
        Mistake("output-before-update", "rnn_forward", _output_before_update,
                "y_t was computed from h_{t-1}; compute h_t first, then y_t = h_t W_hyᵀ + b_y.",
                "y_t를 h_{t-1}에서 계산했습니다. h_t를 먼저 구한 뒤 y_t = h_t W_hyᵀ + b_y입니다."),
        Mistake("no-recurrence", "rnn_forward", _no_recurrence,
                "Every step starts again from h0: the hidden state must be carried from step to step.",
                "매 시점이 h0에서 다시 시작합니다. hidden state를 다음 시점으로 넘겨야 합니다."),
        Mistake("tanh-on-output", "rnn_forward",
                lambda xs, h0, *p: (torch.tanh(rnn_forward(xs, h0, *p)[0]), rnn_forward(xs, h0, *p)[1]),
                "tanh was applied to y_t; the output layer is linear, y_t = h_t W_hyᵀ + b_y.",
                "y_t에 tanh를 적용했습니다. 출력층은 선형입니다: y_t = h_t W_hyᵀ + b_y."),
        Mistake("relu-cell-in-forward", "rnn_forward",
                _forward_with(lambda x, h, Wx, Wh, b: torch.relu(x @ Wx.T + h @ Wh.T + b)),
                "The unrolled RNN uses ReLU steps; each step is the tanh cell of rnn_cell.",
                "펼친 RNN이 ReLU를 씁니다. 각 시점은 rnn_cell의 tanh 셀입니다."),
    ],
    hints=[
        Hint('An RNN applies the same cell, with the same parameters, at every time step.',
             'RNN은 매 시간 단계마다 같은 파라미터의 같은 셀을 적용합니다.'),
        Hint('rnn_cell: h_t = tanh(x_t W_xhᵀ + h_prev W_hhᵀ + b_h). rnn_forward: loop over t, feed h back in, and compute y_t from the new h_t.',
             'rnn_cell: h_t = tanh(x_t W_xhᵀ + h_prev W_hhᵀ + b_h). rnn_forward: t에 대해 반복하며 h를 다시 넣고, 새 h_t로 y_t를 계산하세요.'),
        Hint('In the loop: h = rnn_cell(xs[:, t], h, ...); ys.append(h @ W_hy.T + b_y). Stack with torch.stack(ys, dim=1) and return (ys, h). Do not write into a preallocated tensor in place if autograd must flow.',
             '반복문 안에서 h = rnn_cell(xs[:, t], h, ...); ys.append(h @ W_hy.T + b_y). torch.stack(ys, dim=1)로 쌓고 (ys, h)를 반환하세요.'),
    ],
)
