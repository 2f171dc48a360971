"""exercise-07 gru-cell: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent
from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake, switched

from .ex07_gru_cell import gru_cell


@st.composite
def gru_inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, I, H = draw(sizes(1, 3)), draw(sizes(1, 3)), draw(sizes(1, 3))
    return {
        "x_t": draw(tensors((B, I), dtype)), "h_prev": draw(tensors((B, H), dtype)),
        "W_ih": draw(tensors((3 * H, I), dtype)), "W_hh": draw(tensors((3 * H, H), dtype)),
        "b_ih": draw(tensors((3 * H,), dtype)), "b_hh": draw(tensors((3 * H,), dtype)),
    }


def _cell(order: str = "rzn", *, inverted: bool = False, reset: str = "inside",
          ) -> Callable[..., torch.Tensor]:
    """A GRU cell with one classic slip switched on."""

    def cell(x, h, W_ih, W_hh, b_ih, b_hh):  # type: ignore[no-untyped-def]
        xs = dict(zip(order, (x @ W_ih.T + b_ih).chunk(3, dim=-1), strict=True))
        hs = dict(zip(order, (h @ W_hh.T + b_hh).chunk(3, dim=-1), strict=True))
        r = torch.sigmoid(xs["r"] + hs["r"])
        z = torch.sigmoid(xs["z"] + hs["z"])
        H = h.shape[-1]
        if reset == "inside":
            n = torch.tanh(xs["n"] + r * hs["n"])
        elif reset == "before":  # Keras reset_after=False, d2l's GRU from scratch: r ⊙ h, then the matmul
            n_rows = slice(order.index("n") * H, (order.index("n") + 1) * H)
            n = torch.tanh(xs["n"] + (r * h) @ W_hh[n_rows].T + b_hh[n_rows])
        elif reset == "bias-outside":
            b_hn = b_hh[order.index("n") * H:(order.index("n") + 1) * H]
            n = torch.tanh(xs["n"] + r * (hs["n"] - b_hn) + b_hn)
        else:  # no reset gate at all
            n = torch.tanh(xs["n"] + hs["n"])
        return z * n + (1 - z) * h if inverted else (1 - z) * n + z * h

    return cell


EXERCISE = Exercise(
    id="exercise-07",
    functions=[Function(name="gru_cell", reference=gru_cell, inputs=gru_inputs,
                        relations=[batch_rows_independent("x_t", "h_prev")])],
    mistakes=[
        Mistake("update-inverted", "gru_cell", switched(_cell, inverted=True),
                "z and 1 − z are swapped: h_t = (1 − z) ⊙ n + z ⊙ h_prev, so z keeps the old state.",
                "z와 1 − z가 바뀌었습니다. h_t = (1 − z) ⊙ n + z ⊙ h_prev이므로 z는 이전 상태를 유지하는 비율입니다."),
        Mistake("gate-order-zrn", "gru_cell", switched(_cell, order="zrn"),
                "Rows were read as z, r, n; PyTorch's order is r, z, n (reset, update, new).",
                "행을 z, r, n 순서로 읽었습니다. PyTorch의 순서는 r, z, n입니다."),
        Mistake("reset-bias-outside", "gru_cell", switched(_cell, reset="bias-outside"),
                "r multiplied h W_hnᵀ only; in PyTorch's GRU it multiplies (h W_hnᵀ + b_hn), bias included.",
                "r을 h W_hnᵀ에만 곱했습니다. PyTorch의 GRU는 b_hn을 포함한 (h W_hnᵀ + b_hn)에 곱합니다."),
        Mistake("reset-before-matmul", "gru_cell", switched(_cell, reset="before"),
                "r was applied to h_prev before the matmul, n = tanh(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn) "
                "(Keras's reset_after=False, d2l's GRU); PyTorch applies it after: n = tanh(… + r ⊙ (h W_hnᵀ + b_hn)).",
                "r을 행렬곱 전에 h_prev에 곱했습니다: n = tanh(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn) "
                "(Keras의 reset_after=False, d2l의 GRU). PyTorch는 행렬곱 뒤에 곱합니다: n = tanh(… + r ⊙ (h W_hnᵀ + b_hn))."),
        Mistake("reset-gate-missing", "gru_cell", switched(_cell, reset="none"),
                "The reset gate is not applied to the hidden part of n.",
                "n의 hidden 부분에 리셋 게이트가 적용되지 않았습니다."),
        Mistake("returns-candidate", "gru_cell",
                lambda x, h, W_ih, W_hh, b_ih, b_hh: _candidate(x, h, W_ih, W_hh, b_ih, b_hh),
                "n was returned; the new state interpolates, h_t = (1 − z) ⊙ n + z ⊙ h_prev.",
                "n을 그대로 반환했습니다. 새 상태는 h_t = (1 − z) ⊙ n + z ⊙ h_prev입니다."),
    ],
    hints=[
        Hint('A GRU has a reset gate (리셋 게이트) and an update gate (업데이트 게이트), and no separate cell state.',
             'GRU에는 리셋 게이트와 업데이트 게이트가 있고 별도의 셀 스테이트는 없습니다.'),
        Hint("Compute gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh separately and chunk each into (r, z, n) parts: the reset gate must act on gh's n part only.",
             'gi = x W_ihᵀ + b_ih와 gh = h W_hhᵀ + b_hh를 따로 계산해 각각 (r, z, n)으로 나누세요: 리셋 게이트는 gh의 n 부분에만 작용해야 합니다.'),
        Hint('r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h_t = (1 − z) ⊙ n + z ⊙ h_prev: z keeps the old state, 1 − z takes the new one.',
             'r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h_t = (1 − z) ⊙ n + z ⊙ h_prev: z는 이전 상태를, 1 − z는 새 상태를 취합니다.'),
    ],
)


def _candidate(x, h, W_ih, W_hh, b_ih, b_hh):  # type: ignore[no-untyped-def]
    x_r, _, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, _, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    return torch.tanh(x_n + torch.sigmoid(x_r + h_r) * h_n)
