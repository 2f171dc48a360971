"""exercise-05 forget-gate: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.relations import batch_rows_independent, values_between
from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex05_forget_gate import forget_gate, gate_preactivation


@st.composite
def gate_inputs(draw: st.DrawFn, dtype: torch.dtype, scale: float = 1.0) -> dict[str, Any]:
    B, H, I = draw(sizes(1, 3)), draw(sizes(1, 4)), draw(sizes(1, 4))
    return {
        "h_prev": draw(tensors((B, H), dtype)),
        "x_t": draw(tensors((B, I), dtype, scale=scale)),
        "W_f": draw(tensors((H, H + I), dtype)),
        "b_f": draw(tensors((H,), dtype)),
    }


EXERCISE = Exercise(
    id="exercise-05",
    functions=[
        Function(
            name="forget_gate",
            reference=forget_gate,
            inputs=gate_inputs,
            edge_cases={"large inputs": lambda dtype: gate_inputs(dtype, scale=16.0)},
            names_ko={"large inputs": "큰 입력"},
            # σ saturates to exactly 0 or 1 in floating point, so the closed interval is checked.
            properties=[values_between("values in (0, 1)", "every gate value lies in (0, 1)",
                                       "모든 게이트 값은 (0, 1) 범위에 있어야 합니다", 0.0, 1.0,
                                       key_ko="값이 (0, 1) 범위")],
            relations=[batch_rows_independent("h_prev", "x_t")],
        )
    ],
    mistakes=[
        Mistake("concat-order", "forget_gate",
                lambda h, x, W, b: torch.sigmoid(torch.cat([x, h], -1) @ W.T + b),
                "x_t was concatenated before h_prev; the spec puts h_prev first.",
                "x_t를 h_prev보다 먼저 이어 붙였습니다. 명세는 h_prev가 먼저입니다."),
        Mistake("tanh-not-sigmoid", "forget_gate",
                lambda h, x, W, b: torch.tanh(gate_preactivation(h, x, W, b)),
                "tanh was used; a gate uses the sigmoid so its values lie in (0, 1).",
                "tanh를 사용했습니다. 게이트는 (0, 1) 값을 내는 시그모이드를 씁니다."),
        Mistake("missing-bias", "forget_gate",
                lambda h, x, W, b: torch.sigmoid(torch.cat([h, x], -1) @ W.T),
                "The bias b_f is missing.",
                "편향 b_f가 빠졌습니다."),
        Mistake("float32-output", "forget_gate",
                lambda h, x, W, b: forget_gate(h, x, W, b).float(),
                "The result is always float32; outputs keep the input's dtype (float64 stays float64).",
                "결과가 항상 float32입니다. 출력은 입력의 dtype을 유지해야 합니다 (float64는 float64로)."),
        Mistake("hard-sigmoid", "forget_gate",
                lambda h, x, W, b: torch.nn.functional.hardsigmoid(gate_preactivation(h, x, W, b)),
                "A hard sigmoid (relu6(z + 3) / 6) was used; the gate is the smooth sigmoid σ(z) = 1 / (1 + e^(−z)).",
                "hard sigmoid(relu6(z + 3) / 6)를 썼습니다. 게이트는 매끄러운 시그모이드 σ(z) = 1 / (1 + e^(−z))입니다."),
        Mistake("hard-sigmoid-keras", "forget_gate",
                lambda h, x, W, b: (0.2 * gate_preactivation(h, x, W, b) + 0.5).clamp(0, 1),
                "Keras's hard sigmoid (clip(0.2 z + 0.5, 0, 1)) was used; the gate is the smooth sigmoid σ(z).",
                "Keras의 hard sigmoid(clip(0.2 z + 0.5, 0, 1))를 썼습니다. 게이트는 매끄러운 시그모이드 σ(z)입니다."),
        Mistake("no-activation", "forget_gate",
                lambda h, x, W, b: gate_preactivation(h, x, W, b),
                "No sigmoid: the gate returns the pre-activation.",
                "시그모이드가 빠져 활성화 전 값을 그대로 반환합니다."),
    ],
    hints=[
        Hint('The forget gate (망각 게이트) decides how much of the cell state to keep: a sigmoid of a linear function of [h_prev, x_t].',
             '망각 게이트는 셀 스테이트를 얼마나 유지할지 정합니다: [h_prev, x_t]의 선형 함수에 sigmoid를 씌운 값입니다.'),
        Hint("Concatenate along the last dimension with h_prev first: torch.cat([h_prev, x_t], dim=-1) has shape (B, H+I), matching W_f's H+I columns.",
             '마지막 차원을 따라 h_prev를 먼저 이어 붙이세요: torch.cat([h_prev, x_t], dim=-1)의 shape은 (B, H+I)이고 W_f의 열 H+I개와 맞습니다.'),
        Hint('f_t = torch.sigmoid(cat @ W_f.T + b_f). Use torch.sigmoid, not 1/(1+exp(-z)) by hand: the hand-written form overflows for large negative z.',
             'f_t = torch.sigmoid(cat @ W_f.T + b_f). 1/(1+exp(-z))를 직접 쓰지 말고 torch.sigmoid를 쓰세요: 직접 쓴 식은 큰 음수 z에서 overflow됩니다.'),
    ],
)
