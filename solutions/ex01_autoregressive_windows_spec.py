"""exercise-01 autoregressive-windows: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake

from .ex01_autoregressive_windows import autoregressive_windows


@st.composite
def series(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    B, T = draw(sizes(1, 3)), draw(sizes(2, 7))
    return {"x": draw(tensors((B, T), dtype)), "n": draw(st.integers(1, T - 1))}


@st.composite
def bad_orders(draw: st.DrawFn) -> dict[str, Any]:
    B, T = draw(sizes(1, 2)), draw(sizes(1, 5))
    n = draw(st.one_of(st.integers(-2, 0), st.integers(T, T + 2)))
    return {"x": draw(tensors((B, T), torch.float32)), "n": n}


def _windows(x: torch.Tensor, n: int, start: int, count: int) -> torch.Tensor:
    _check(x, n)
    return torch.stack([x[:, t + start: t + start + n] for t in range(count)], dim=1)


def _check(x: torch.Tensor, n: int) -> torch.Tensor:
    # The value mistakes validate n like the reference, so only "no-validation" skips it.
    if not 1 <= n < x.shape[1]:
        raise ValueError("n out of range")
    return x


EXERCISE = Exercise(
    id="exercise-01",
    functions=[
        Function(
            name="autoregressive_windows",
            reference=autoregressive_windows,
            inputs=series,
            invalid={"n < 1 or n >= T": bad_orders()},
            names_ko={"n < 1 or n >= T": "n < 1 또는 n >= T"},
        )
    ],
    mistakes=[
        Mistake("target-is-last-input", "autoregressive_windows",
                lambda x, n: (autoregressive_windows(x, n)[0], x[:, n - 1: x.shape[1] - 1]),
                "The target is the last value of its own window (x[t+n-1]); it must be the next one, x[t+n].",
                "타깃이 윈도우의 마지막 값(x[t+n-1])입니다. 다음 값 x[t+n]이어야 합니다."),
        Mistake("window-shifted", "autoregressive_windows",
                lambda x, n: (_windows(x, n, 1, x.shape[1] - n), x[:, n:]),
                "Each window starts one step late (x[t+1 : t+n+1]), so it contains its own target.",
                "윈도우가 한 칸 늦게 시작해(x[t+1 : t+n+1]) 타깃을 포함합니다."),
        Mistake("one-window-too-many", "autoregressive_windows",
                lambda x, n: (_check(x, n).unfold(1, n, 1), x[:, n - 1:]),
                "There are T-n+1 windows; the last window has no target, so there must be T-n.",
                "윈도우가 T-n+1개입니다. 마지막 윈도우에는 타깃이 없으므로 T-n개여야 합니다."),
        Mistake("window-axis-swapped", "autoregressive_windows",
                lambda x, n: (autoregressive_windows(x, n)[0].transpose(1, 2), x[:, n:]),
                "inputs has shape (B, n, T-n): the window axis must come last, (B, T-n, n).",
                "inputs의 shape이 (B, n, T-n)입니다. 윈도우 축이 마지막인 (B, T-n, n)이어야 합니다."),
        Mistake("no-validation", "autoregressive_windows",
                lambda x, n: (x.unfold(1, n, 1)[:, : x.shape[1] - n], x[:, n:]),
                "n outside 1 <= n < T is not rejected with ValueError.",
                "1 <= n < T를 벗어난 n에 ValueError를 발생시키지 않습니다."),
    ],
    hints=[
        Hint('Row t of the inputs is the window of n values just before target t.',
             'inputs의 t번째 행은 target t 바로 앞의 n개 값으로 이루어진 window입니다.'),
        Hint('There are T - n windows: window t covers x[:, t:t+n] and its target is x[:, t+n]. Check n first: 1 ≤ n < T, else ValueError.',
             'window는 T - n개입니다. window t는 x[:, t:t+n]이고 target은 x[:, t+n]입니다. 먼저 n을 확인하세요: 1 ≤ n < T가 아니면 ValueError.'),
        Hint('x.unfold(1, n, 1) gives every window of length n (T - n + 1 of them); the last one has no target, so keep the first T - n. Return copies, not views that share memory with x, if you change them later.',
             'x.unfold(1, n, 1)은 길이 n인 모든 window(T - n + 1개)를 줍니다. 마지막 window는 target이 없으므로 앞의 T - n개만 쓰세요.'),
    ],
)
