"""Golden renderings at width 80, English and Korean: what a student sees, kept exactly.

After a deliberate change to the feedback, regenerate with
``UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden_render.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from grader.feedback.gradescope import results_json
from grader.feedback.terminal import render_exercise
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Mismatch, Status

GOLDEN = Path(__file__).parent / "golden"


def sample() -> ExerciseResult:
    """One exercise with a diagnosed value failure, a crash, a forbidden call and a pass."""
    wrong = Failure(
        Kind.WRONG_VALUE,
        {"where": "output", "mistake_en": "x_t was concatenated before h_prev; the spec puts h_prev first.",
         "mistake_ko": "x_t를 h_prev보다 먼저 이어 붙였습니다. 명세는 h_prev가 먼저입니다."},
        call="forget_gate(h_prev, x_t, W_f, b_f)",
        inputs=(("h_prev", "torch.tensor([[0.0]], dtype=torch.float32)"),
                ("x_t", "torch.tensor([[1.0]], dtype=torch.float32)"),
                ("W_f", "torch.tensor([[0.0, 1.0]], dtype=torch.float32)"),
                ("b_f", "torch.tensor([0.0], dtype=torch.float32)")),
        mismatch=Mismatch((0, 0), 0.5, 0.731059, 0.231059, 0.31606, 1, 1, 1.07896e-05, 1.07896e-05),
        suspected_mistake="concat-order", replay="r1.TOKEN",
    )
    crashed = Failure(Kind.CRASHED, {"detail": "exited with status 0"}, output="bye\n")
    forbidden = Failure(Kind.FORBIDDEN_CALL, {"calls": "softmax"})
    checks = (
        CheckResult("forget_gate: matches reference (float32)", "matches-reference", "forget_gate", "float32",
                    Status.FAILED, 0.0, 2.0, 31, wrong),
        CheckResult("forget_gate: keeps inputs", "keeps-inputs", "forget_gate", "", Status.FAILED,
                    0.0, 1.0, 1, crashed),
        CheckResult("forget_gate: no forbidden calls", "no-forbidden-calls", "forget_gate", "", Status.FAILED,
                    0.0, 1.0, 1, forbidden),
        CheckResult("forget_gate: gradients match", "gradients-match", "forget_gate", "", Status.PASSED,
                    1.0, 1.0, 15),
    )
    return ExerciseResult("exercise-05", "LSTM forget gate (망각 게이트)", "ex05_forget_gate.py", checks, 2.5)


def collapse() -> ExerciseResult:
    """A stub: "not implemented" explained once, every other check pointing there."""
    first = "forget_gate: matches the reference (float32)"
    checks = (
        CheckResult(first, "matches-reference", "forget_gate", "float32", Status.FAILED, 0.0, 2.0, 1,
                    Failure(Kind.NOT_IMPLEMENTED, {"type": "NotImplementedError", "line": "12"})),
        CheckResult("forget_gate: matches the reference (float64)", "matches-reference", "forget_gate",
                    "float64", Status.FAILED, 0.0, 2.0, 0, same_cause_as=first),
        CheckResult("forget_gate: leaves its inputs unchanged", "keeps-inputs", "forget_gate", "",
                    Status.FAILED, 0.0, 1.0, 0, same_cause_as=first),
    )
    return ExerciseResult("exercise-05", "LSTM forget gate (망각 게이트)", "ex05_forget_gate.py", checks, 0.4,
                          sandbox="bubblewrap")


def gradient() -> ExerciseResult:
    """A gradient failure, reproducible from the snippet: the upstream gradient and both gradients."""
    failure = Failure(
        Kind.WRONG_GRADIENT,
        {"argument": "b_f", "grad_out": "torch.tensor([[1.5409960746765137]], dtype=torch.float32)",
         "got_grad": "torch.tensor([0.7704980373382568], dtype=torch.float32)",
         "want_grad": "torch.tensor([0.3852490186691284], dtype=torch.float32)"},
        call="forget_gate(h_prev, x_t, W_f, b_f)",
        inputs=(("h_prev", "torch.tensor([[0.0]], dtype=torch.float32).requires_grad_()"),
                ("x_t", "torch.tensor([[0.0]], dtype=torch.float32).requires_grad_()"),
                ("W_f", "torch.tensor([[0.0, 0.0]], dtype=torch.float32).requires_grad_()"),
                ("b_f", "torch.tensor([0.0], dtype=torch.float32).requires_grad_()")),
        mismatch=Mismatch((0,), 0.770498, 0.385249, 0.385249, 1.0, 1, 1, 4.31584e-05, 4.31584e-05),
        replay="r1.TOKEN",
    )
    checks = (CheckResult("forget_gate: gradients match the reference", "gradients-match", "forget_gate", "",
                          Status.FAILED, 0.0, 1.0, 3, failure),)
    return ExerciseResult("exercise-05", "LSTM forget gate (망각 게이트)", "ex05_forget_gate.py", checks, 0.9,
                          sandbox="landlock")


SAMPLES = {"": sample, "collapse_": collapse, "gradient_": gradient}


def render(lang: str, prefix: str = "") -> str:
    stream = io.StringIO()
    console = Console(file=stream, width=80, color_system=None, legacy_windows=False)
    render_exercise(SAMPLES[prefix](), console, lang)
    return stream.getvalue()


@pytest.mark.parametrize("name", [f"{prefix}{kind}" for prefix in SAMPLES
                                  for kind in ("terminal_en.txt", "terminal_ko.txt", "results_en.json")])
def test_rendering_matches_the_golden_file(name: str) -> None:
    prefix = next(p for p in sorted(SAMPLES, key=len, reverse=True) if name.startswith(p))
    kind = name.removeprefix(prefix)
    lang = kind.split("_")[1].split(".")[0]
    shown = render(lang, prefix) if kind.startswith("terminal") else json.dumps(
        results_json([SAMPLES[prefix]()], lang), ensure_ascii=False, indent=2) + "\n"
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(shown, encoding="utf-8")
    assert shown == golden.read_text(encoding="utf-8")


def test_golden_terminal_output_fits_80_columns() -> None:
    from rich.cells import cell_len

    for lang in ("en", "ko"):
        for prefix in SAMPLES:
            assert max(cell_len(line) for line in render(lang, prefix).splitlines()) <= 80
