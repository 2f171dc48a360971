"""Feedback: every message exists in English and Korean; failures render what the student needs."""

from __future__ import annotations

import io
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from grader.feedback.explain import explain
from grader.feedback.gradescope import results_json
from grader.feedback.messages import FAILURES, LABELS, TITLES, text
from grader.feedback.terminal import render_exercise
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Mismatch, Status

PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_every_failure_kind_has_both_languages_with_the_same_placeholders(kind: Kind) -> None:
    entry = FAILURES[kind.value]
    assert entry["en"].strip() and entry["ko"].strip()
    en = set(PLACEHOLDER.findall(entry["en"])) - {"rule_en"}
    ko = set(PLACEHOLDER.findall(entry["ko"])) - {"rule_ko"}
    assert en == ko


@pytest.mark.parametrize("table", [TITLES, LABELS], ids=["titles", "labels"])
def test_every_title_and_label_has_both_languages(table: dict[str, dict[str, str]]) -> None:
    for key, entry in table.items():
        assert set(entry) == {"en", "ko"}, key
        assert set(PLACEHOLDER.findall(entry["en"])) == set(PLACEHOLDER.findall(entry["ko"])), key


def _result() -> ExerciseResult:
    failure = Failure(
        Kind.WRONG_VALUE, {"where": "output", "mistake_en": "x_t came first.", "mistake_ko": "x_t가 먼저."},
        call="forget_gate(h_prev, x_t, W_f, b_f)",
        inputs=(("h_prev", "torch.tensor([[0.0]], dtype=torch.float32)"),),
        mismatch=Mismatch((0, 0), 0.5, 0.731059, 0.231059, 0.31606, 1, 1, 1e-05, 1e-05),
        suspected_mistake="concat-order", output="\x1b[31m[bold]hello[/bold]",
    )
    checks = (
        CheckResult("forget_gate: matches reference (float32)", "matches-reference", "forget_gate",
                    "float32", Status.FAILED, 0.0, 2.5, 31, failure),
        CheckResult("forget_gate: keeps inputs", "keeps-inputs", "forget_gate", "", Status.PASSED,
                    2.5, 2.5, 10),
    )
    return ExerciseResult("exercise-05", "LSTM forget gate", "ex05_forget_gate.py", checks, 1.5)


@pytest.mark.parametrize(("lang", "phrases"), [
    ("en", ["The output differs from the expected values.", "1 / 1 elements differ",
            "Worst at index [0, 0]: got 0.5, expected 0.731059", "[concat-order] x_t came first.",
            "h_prev = torch.tensor([[0.0]], dtype=torch.float32)", "forget_gate(h_prev, x_t, W_f, b_f)",
            "Score: 2.5 / 5"]),
    ("ko", ["출력의 값이 정답과 다릅니다.", "원소 1개 중 1개가 다릅니다", "[concat-order] x_t가 먼저.",
            "실패하는 가장 작은 입력", "점수: 2.5 / 5"]),
])
def test_terminal_rendering_at_width_80(lang: str, phrases: list[str]) -> None:
    stream = io.StringIO()
    render_exercise(_result(), Console(file=stream, width=80, color_system=None), lang)
    shown = stream.getvalue()
    flat = " ".join(line.strip(" │╭╮╰╯─") for line in shown.splitlines())
    for phrase in phrases:
        assert phrase in flat or phrase in shown, phrase
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_student_output_is_shown_as_text_not_markup() -> None:
    stream = io.StringIO()
    render_exercise(_result(), Console(file=stream, width=80, color_system=None), "en", verbose=True)
    assert "[bold]hello[/bold]" in stream.getvalue()


def test_results_json_has_markdown_per_test() -> None:
    data = results_json([_result()], "en")
    failed = data["tests"][0]
    assert failed["status"] == "failed" and failed["score"] == 0 and failed["max_score"] == 2.5
    assert "```python" in failed["output"] and "concat-order" in failed["output"]
    assert data["tests"][1]["status"] == "passed"
    assert data["score"] == 2.5 and data["max_score"] == 5


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_every_kind_explains_without_unfilled_placeholders(kind: Kind) -> None:
    detail = {key: "X" for key in ("file", "reason", "line", "type", "message", "function", "detail",
                                   "where", "expected", "obtained", "rule_en", "rule_ko", "found",
                                   "argument", "raised", "case", "calls")}
    for lang in ("en", "ko"):
        message = explain(Failure(kind, detail), lang).message
        assert "{" not in message and message
    assert text(FAILURES, kind.value, "en", **detail) != text(FAILURES, kind.value, "ko", **detail)


def test_every_worded_check_variant_has_a_korean_name(course) -> None:  # type: ignore[no-untyped-def]
    from grader.checks.catalog import standard_checks
    from grader.exercise import load_spec

    missing = []
    for entry in course.exercises:
        for check in standard_checks(load_spec(course.spec_file(entry), entry.id)):
            worded = check.variant and not re.fullmatch(r"float\d+", check.variant)
            if worded and not re.search("[가-힣]", check.variant_ko):
                missing.append(f"{entry.id} {check.name}")
    assert not missing


def test_korean_titles_use_the_korean_variant() -> None:
    from grader.feedback.explain import check_title

    check = CheckResult("f: holds (batch rows independent)", "holds", "f", "batch rows independent",
                        Status.PASSED, 1.0, 1.0, variant_ko="배치 행끼리 독립")
    assert check_title(check, "ko") == "f: 규칙을 지킴 (배치 행끼리 독립)"
    assert check_title(check, "en") == "f: obeys a rule (batch rows independent)"


# "shape" is not here: the course's Korean notes use it as their own word ("행렬 shape이 같아야").
ENGLISH = re.compile(r"\b(values?|value\(s\)|outside|instead|gradient|output|expected|got|slice|padded|"
                     r"differ|index|step|reversed|changed)\b")


FOUND = {"rule_en": "values lie in (0, 1)", "rule_ko": "값이 (0, 1) 안에 있음", "output_index": "0",
         "a": "(1,)", "b": "(2,)", "index": "[0]", "got": "1", "want": "2", "count": "3", "low": "0",
         "high": "1", "example": "1.2", "total": "1.1", "off": "0.1", "weight": "0.2"}


@pytest.mark.parametrize("failure", [
    Failure(Kind.WRONG_STRUCTURE, {"part": "output", "argument": "", "index": "", "expected_count": "2",
                                   "obtained_count": "3"}),
    Failure(Kind.WRONG_STRUCTURE, {"part": "output", "argument": "", "index": "[1]", "expected_count": "2",
                                   "obtained_type": "Tensor"}),
    Failure(Kind.WRONG_SHAPE, {"part": "gradient", "argument": "h_prev", "index": "", "expected": "(1, 2)",
                               "obtained": "(2, 1)"}),
    *[Failure(Kind.OUT_OF_RANGE, {**FOUND, "finding": finding, "subject": subject})
      for finding in ("shapes-differ", "differs-at", "outside", "slice-sum", "padded-weight")
      for subject in ("reversed", "changed", "earlier-step")],
])
def test_korean_feedback_carries_no_english_words(failure: Failure) -> None:
    """Checks return values; only the catalog words them, so Korean feedback reads Korean throughout."""
    korean = explain(failure, "ko").message
    assert not ENGLISH.search(korean.replace("torch.Tensor", "")), korean
    english = explain(failure, "en").message
    assert "{" not in korean + english and not ENGLISH.search(korean)


@pytest.mark.parametrize(("kind", "detail", "start"), [
    (Kind.SYNTAX_ERROR, {"file": "ex05_forget_gate.py", "line": "3", "type": "SyntaxError", "message": "x"},
     "ex05_forget_gate.py, line 3"),
    (Kind.WRONG_SHAPE, {"part": "gradient", "argument": "h_prev", "index": "", "expected": "(1,)",
                        "obtained": "(2,)"}, "The gradient of h_prev"),
    (Kind.WRONG_VALUE, {"part": "output", "argument": "", "index": "[0]"}, "The output[0]"),
    (Kind.WRONG_VALUE, {"where": "gradient of W_f"}, "The gradient of W_f"),  # a result recorded earlier
])
def test_names_are_never_capitalized_and_our_own_words_are(kind: Kind, detail: dict[str, str],
                                                           start: str) -> None:
    assert explain(Failure(kind, detail), "en").message.startswith(start)


def _catalogs() -> tuple[str, ...]:
    """Every en/ko table of ``messages``: a new one is audited without being listed here."""
    from grader.feedback import messages

    return tuple(name for name, table in vars(messages).items()
                 if name.isupper() and isinstance(table, dict) and table
                 and all(isinstance(v, dict) and "en" in v for v in table.values()))


CATALOGS = _catalogs()
CODE_WORDS = frozenset({
    # Python and torch names a Korean sentence quotes as they are written
    "AssertionError", "NaN", "NotImplementedError", "ValueError", "assert", "raise", "import", "if",
    "python", "O", "x", "y", "autograd", "dim", "dtype", "float32", "float64", "grad", "inf", "reshape",
    "print", "device", "training", "False", "True", "None", "p", "L", "transpose", "atol", "rtol", "grade",
    "exercises", "MiB", "keepdim", "squeeze", "unsqueeze", "sleep",
    "Ctrl-C",
    # the course's own Korean notes use these English words as Korean technical terms, or as a gloss
    "shape", "gradient", "in-place",
    # product names, as Korean writes them
    "Jupyter", "IPython", "Python", "torch", "NumPy",
    # the command line's own words: metavariables, option values, the environments a student works in
    "PATH", "NOTEBOOK", "exercise-NN", "Colab", "CUDA", "GPU", "auto", "cpu", "cuda",
    # the sandbox's tools and terms (grade doctor), as their own documentation writes them
    "bubblewrap", "bwrap", "Landlock", "seccomp", "root", "uid", "TCP", "CPU", "doctor",
})


def _ascii_words(korean: str) -> set[str]:
    """The ASCII words of a Korean sentence, less placeholders and code (a call, a dotted
    name, --an-option)."""
    korean = re.sub(r"{[^}]*}(?=[.(])", "x", korean)  # {argument}.T is code: x.T
    korean = re.sub(r"{[^}]*}|`[^`]*`|--[a-z][a-z-]*", "", korean)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_.()-]*[A-Za-z0-9_)]|[A-Za-z]", korean)
    return {w.rstrip(")") for w in words if not re.search(r"[.(_]", w)}


@pytest.mark.parametrize("catalog", CATALOGS)
def test_every_korean_catalog_entry_reads_korean(catalog: str) -> None:
    """The whole catalog, entry by entry: Korean text with no English word beyond code and the
    technical terms the course's Korean notes use themselves (a new English fragment fails here)."""
    from grader.feedback import messages

    for key, entry in getattr(messages, catalog).items():
        assert set(entry) >= {"en", "ko"}, (catalog, key)
        korean = entry["ko"]
        assert re.search("[가-힣]", korean), (catalog, key, korean)
        assert _ascii_words(korean) <= CODE_WORDS, (catalog, key, _ascii_words(korean) - CODE_WORDS)
        en, ko = (set(PLACEHOLDER.findall(t)) - {"rule_en", "rule_ko"} for t in (entry["en"], korean))
        assert en == ko, (catalog, key)


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False))
def test_got_and_expected_are_shown_with_the_digits_that_tell_them_apart(got: float, want: float) -> None:
    """Two different numbers never read the same ("got 1.541, expected 1.541"); equal ones do, and
    each reads back as itself to 6 significant digits at least."""
    from grader.feedback.explain import apart

    shown = apart(got, want)
    if got != want:
        assert shown[0] != shown[1]
    elif math.copysign(1, got) == math.copysign(1, want):
        assert shown[0] == shown[1]
    for text_, value in zip(shown, (got, want), strict=True):
        assert math.isclose(float(text_), value, rel_tol=1e-5)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("tier", ["bubblewrap", "landlock", "uid", "seccomp", "rlimits"])
def test_the_feedback_warns_beneath_the_score_where_only_resource_limits_held(tier: str, lang: str) -> None:
    """In the terminal, grade watch and a notebook's check() alike (they all render this way)."""
    from rich.console import Console

    from grader.feedback.messages import SANDBOX, text
    from grader.feedback.terminal import render_exercise
    from grader.results import ExerciseResult

    console = Console(file=io.StringIO(), width=100)
    render_exercise(ExerciseResult("exercise-05", "t", "f.py", (), 0.1, sandbox=tier), console, lang)
    shown = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert (text(SANDBOX, "unconfined", lang) in shown) == (tier == "rlimits")


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("expected", "rule"), [("torch.bool", "dtype-mask"),
                                                ("torch.float64", "dtype-float"), ("torch.int64", None)])
def test_a_wrong_dtype_says_what_the_expected_one_means(expected: str, rule: str | None, lang: str) -> None:
    """A mask made of numbers is told it is a mask, not to "keep the input's dtype" (its input is int64)."""
    from grader.feedback.explain import explain
    from grader.feedback.messages import LABELS, text
    from grader.results import Failure, Kind

    failure = Failure(Kind.WRONG_DTYPE, {"part": "output", "argument": "", "index": "",
                                         "expected": expected, "obtained": "torch.int32"})
    message = explain(failure, lang).message
    for key in ("dtype-mask", "dtype-float"):
        assert (text(LABELS, key, lang).strip() in message) == (key == rule), message


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("returned", "rule"), [
    ("numpy.ndarray", "tensor-from-numpy"), ("numpy.float64", "tensor-from-numpy"),
    ("list", "tensor-from-list"), ("tuple", "tensor-from-list"),
    ("float", "tensor-from-number"), ("int", "tensor-from-number"), ("dict", None), ("NoneType", None)])
def test_a_value_that_is_no_tensor_says_how_to_keep_one(returned: str, rule: str | None, lang: str) -> None:
    """.numpy(), .tolist() and .item() each get the way back that keeps the gradient; anything else, none."""
    failure = Failure(Kind.NOT_A_TENSOR, {"part": "output", "argument": "", "index": "", "type": returned})
    message = explain(failure, lang).message
    for key in ("tensor-from-numpy", "tensor-from-list", "tensor-from-number"):
        assert (text(LABELS, key, lang).strip() in message) == (key == rule), message
