"""Real code, written the way real code is written, gets a named cause in English and in Korean.

Each file under ``tests/submissions/realistic/`` carries one mistake as it appears in
textbooks, tutorials and homework (a module built inside the function, numpy ported to
torch, a textbook's variable names and gate order). Graded once each in the real sandbox
(and one through the real ``grade`` command), each must be named: by its known mistake, or
by a cause any wrong output can show (``checks.patterns``), in both languages' results.json.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from pathlib import Path

import pytest
import torch

from grader.course import load_course
from grader.feedback.explain import explain
from grader.feedback.gradescope import results_json
from grader.feedback.messages import PATTERNS
from grader.grading import grade_warm
from grader.results import ExerciseResult, Kind
from tests.conftest import ROOT, grade

REALISTIC = ROOT / "tests" / "submissions" / "realistic"
CAUSES = {
    "ex01_assert.py": ("exercise-01", "pattern", "assert"),
    "ex02_distributions_categorical.py": ("exercise-02", "pattern", "lost-infinity"),
    "ex02_log_of_product.py": ("exercise-02", "mistake", "probability-not-log"),
    "ex02_loop_transposed.py": ("exercise-02", "mistake", "transition-transposed"),
    "ex03_numpy_style_relu.py": ("exercise-03", "mistake", "relu-not-tanh"),
    "ex03_numpy_weights_untransposed.py": ("exercise-03", "pattern", "untransposed"),
    "ex03_outputs_before_step.py": ("exercise-03", "mistake", "output-before-update"),
    "ex03_outputs_preallocated.py": ("exercise-03", "pattern", "default-dtype-output"),
    "ex04_diag_chain_reversed.py": ("exercise-04", "mistake", "reversed-chain"),
    "ex04_eye_without_dtype.py": ("exercise-04", "pattern", "default-dtype"),
    "ex04_reduce_matmul.py": ("exercise-04", "mistake", "reversed-order"),
    "ex04_tanh_derivative_of_h.py": ("exercise-04", "mistake", "derivative-of-preactivation"),
    "ex05_dropout_on_input.py": ("exercise-05", "pattern", "random"),
    "ex05_input_at_top_level.py": ("exercise-05", "pattern", "top-level-code"),
    "ex05_keras_hard_sigmoid.py": ("exercise-05", "mistake", "hard-sigmoid-keras"),
    "ex05_module_concat_order.py": ("exercise-05", "mistake", "concat-order"),
    "ex05_numpy_float32.py": ("exercise-05", "mistake", "float32-output"),
    "ex05_only_x.py": ("exercise-05", "pattern", "as-if"),
    "ex06_dl2_fgio.py": ("exercise-06", "mistake", "gate-order-fgio"),
    "ex07_d2l_reset_before.py": ("exercise-07", "mistake", "reset-before-matmul"),
    "ex07_in_place_update.py": ("exercise-07", "kind", "modified-input"),
    "ex07_keras_reset_before_swapped.py": ("exercise-07", "mistake", "update-inverted+reset-before-matmul"),
    "ex08_bmm_3d.py": ("exercise-08", "pattern", "fixed-rank"),
    "ex08_tensor_dk.py": ("exercise-08", "pattern", "precision"),
    "ex09_np_port_sum_all.py": ("exercise-09", "mistake", "normalized-over-everything"),
    "ex09_textbook_unstable.py": ("exercise-09", "mistake", "not-stable"),
    "ex10_mask_true_hides_1e9.py": ("exercise-10", "mistake", "mask-inverted"),
    "ex10_mask_zero.py": ("exercise-10", "mistake", "mask-filled-with-zero"),
    "ex11_annotated_subsequent_mask.py": ("exercise-11", "pattern", "extra-axis"),
    "ex11_minus_1e9.py": ("exercise-11", "mistake", "minus-1e9"),
    "ex11_padding_le.py": ("exercise-11", "mistake", "padding-inclusive"),
    "ex12_query_projection_untransposed.py": ("exercise-12", "pattern", "as-transposed"),
    "ex12_view_no_transpose.py": ("exercise-12", "mistake", "heads-split-without-transpose"),
    "ex13_annotated_layernorm.py": ("exercise-13", "mistake", "layernorm-unbiased-std"),
    "ex13_annotated_prenorm.py": ("exercise-13", "mistake", "pre-norm+layernorm-unbiased-std"),
    "ex13_layernorm_eps_outside.py": ("exercise-13", "mistake", "layernorm-eps-outside-sqrt"),
    "ex13_module_load_state_dict.py": ("exercise-13", "pattern", "unreached"),
    "ex13_padding_true_means_ignore.py": ("exercise-13", "mistake", "padding-mask-inverted"),
    "ex13_padding_true_means_ignore_1e9.py": ("exercise-13", "mistake", "padding-mask-inverted"),
}


def test_every_realistic_file_has_its_expected_cause() -> None:
    assert sorted(CAUSES) == sorted(p.name for p in REALISTIC.glob("*.py"))


@functools.cache
def _graded(name: str) -> ExerciseResult:
    """The file graded once, in the real sandbox, for both languages' feedback (rendered from the data):
    in a child of the zygote this process keeps, as grade watch does (torch is started once)."""
    course = load_course(ROOT / "course.yaml")
    path = REALISTIC / name
    return grade_warm(course, course.resolve(CAUSES[name][0]), path.read_bytes(), str(path))


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", sorted(CAUSES))
def test_real_code_gets_a_named_cause(name: str, lang: str) -> None:
    exercise, how, cause = CAUSES[name]
    result = _graded(name)
    assert not result.passed and result.exercise == exercise
    outputs = "\n".join(t["output"] for t in results_json([result], lang)["tests"])
    if how == "mistake":
        named = set(re.findall(r"\*\* \\?\[([\w+-]+)\\?\]", outputs))
        assert cause in named, (named, outputs[:3000])
    elif how == "kind":
        assert any(c.failure is not None and c.failure.kind.value == cause for c in result.checks)
    else:
        words = max(re.split(r"{[^}]*}", PATTERNS[cause][lang]), key=len)[:30]  # the longest fixed part
        assert words.lower() in outputs.lower(), outputs[:3000]
    if lang == "ko":
        assert re.search("[가-힣]", outputs)


def test_the_input_shown_is_the_mistake_not_its_side_symptom() -> None:
    """The Annotated Transformer's layer (pre-norm, unbiased std) gives NaN at D = 1 (0/0 in the std).

    Shrinking meets that first; the student must instead see a finite wrong value on an
    input where pre-norm shows, with both slips named.
    """
    run = grade("exercise-13", "--file", str(REALISTIC / "ex13_annotated_prenorm.py"), "--json",
                "--lang", "en", timeout=300)
    first = next(t["output"] for t in json.loads(run.out)["tests"] if "(float32)" in t["name"])
    assert "differs from the expected values" in first and "inf or NaN" not in first, first[:1500]
    assert "[pre-norm+layernorm-unbiased-std]" in first
    x = re.search(r"x = torch.tensor\((\[\[\[.*?\]\]\])", first)
    assert x is not None and len(json.loads(x.group(1))[0][0]) > 1, first[:1500]  # D > 1


SCALED_GRADIENT = """
import torch

def linear_collapse(weights):
    W = weights[0] * 1.5 - weights[0].detach() * 0.5  # the same values; weights[0]'s gradient times 1.5
    for w in weights[1:]:
        W = w @ W
    return W

def hidden_jacobian(W_hh, hs):
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for h in hs:
        J = torch.diag(1 - h ** 2) @ W_hh @ J
    return J
"""


@pytest.mark.parametrize("name", ["ex04_scaled_gradient.py", "ex13_module_load_state_dict.py"])
def test_a_gradient_failure_snippet_runs_and_prints_the_gradient_it_names(name: str, tmp_path: Path) -> None:
    """Pasted into Python after the student's file, the snippet runs, and the gradient it prints, of a
    tensor inside a list or a dict (``weights[0].grad``, ``params['norm2.bias'].grad``), is the one
    shown; None where none reaches it."""
    if name in CAUSES:
        path, result = REALISTIC / name, _graded(name)
    else:
        course = load_course(ROOT / "course.yaml")
        path = tmp_path / name
        path.write_text(SCALED_GRADIENT)
        result = grade_warm(course, course.resolve("04"), path.read_bytes(), str(path))
    failure = next(c.failure for c in result.checks
                   if c.failure is not None and c.failure.kind is Kind.WRONG_GRADIENT)
    argument = failure.detail["argument"]
    assert argument.startswith(("weights[", "params["))  # a tensor inside a list or a dict
    snippet = explain(failure, "en").snippet
    assert snippet.endswith(f"print({argument}.grad)")
    namespace: dict[str, object] = {}
    exec(path.read_text(), namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(snippet, namespace)
    printed = eval(f"{argument}.grad", namespace)
    shown = eval(failure.detail["got_grad"], {"torch": torch})
    if printed is None:
        assert failure.detail.get("unreached") == "1" and not shown.any()
    else:
        assert torch.equal(printed, shown)


def test_an_error_met_in_the_gradient_check_is_reproduced_by_its_snippet() -> None:
    """The gradient check calls with inputs that require grad; its snippet shows them so, and
    pasted after the student's file it raises what the check reported."""
    path = REALISTIC / "ex07_in_place_update.py"
    failure = next(c.failure for c in _graded(path.name).checks
                   if c.kind == "gradients-match" and c.failure is not None)
    assert failure.kind is Kind.RAISED and "requires_grad_()" in dict(failure.inputs)["h_prev"]
    namespace: dict[str, object] = {}
    exec(path.read_text(), namespace)
    with pytest.raises(RuntimeError, match="in-place"):
        exec(explain(failure, "en").snippet, namespace)
