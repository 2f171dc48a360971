"""A failure in words: the pieces every renderer shows, in one language.

Trusted side. Terminal, Markdown and results.json all show the same
``Explanation``; only the layout differs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from grader.feedback.messages import (
    FAILURES,
    FINDINGS,
    LABELS,
    LEFT_OUT,
    PATTERNS,
    STRUCTURE,
    SUBJECTS,
    TITLES,
    WHERE,
    text,
)
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Mismatch


@dataclass(frozen=True, slots=True)
class Explanation:
    message: str
    mismatch: str = ""
    snippet: str = ""
    mistake: str = ""
    output: str = ""
    replay: str = ""
    input_label: str = ""
    """What the snippet's input is: the smallest failing one, a bank's, or a token's."""
    cause: str = ""
    """A likely cause found without a known mistake (``checks.patterns``)."""


def withheld(check: CheckResult, lang: str) -> str:
    """Why a check that held earns nothing yet (one recorded before the reason was kept: values first)."""
    return text(LABELS, check.withheld_for or "values-first", lang)


def check_title(check: CheckResult, lang: str) -> str:
    title = text(TITLES, check.kind, lang)
    name = check.variant_ko if lang == "ko" and check.variant_ko else check.variant
    variant = f" ({name})" if name else ""
    return f"{check.function}: {title}{variant}"


def _where(detail: dict[str, str], lang: str) -> str:
    """What a failure is about, in words: the output, or an argument's gradient, and where in it."""
    if "part" not in detail:  # a result recorded before failures carried their place as data
        legacy = detail.get("where", "")
        if legacy.startswith("gradient of "):
            name, _, index = legacy.removeprefix("gradient of ").partition("[")
            detail = {"part": "gradient", "argument": name, "index": f"[{index}" if index else ""}
        elif legacy.startswith("output"):
            detail = {"part": "output", "index": legacy.removeprefix("output")}
        else:
            return legacy
    return text(WHERE, detail["part"], lang, argument=detail.get("argument", ""),
                index=detail.get("index", ""))


def _structure(detail: dict[str, str], lang: str) -> tuple[str, str]:
    """The expected and obtained structure of an output, in words."""
    expected = text(STRUCTURE, "count", lang, n=detail.get("expected_count", "?"))
    if "obtained_count" in detail:
        return expected, text(STRUCTURE, "count", lang, n=detail["obtained_count"])
    return expected, text(STRUCTURE, "type", lang, type=detail.get("obtained_type", "?"))


def _finding(detail: dict[str, str], lang: str) -> str:
    """What a broken rule found, in words."""
    if "finding" not in detail:
        return detail.get("found", "")
    subject = text(SUBJECTS, detail["subject"], lang, **detail) if "subject" in detail else ""
    return text(FINDINGS, detail["finding"], lang, **{**detail, "subject": subject})


def _number(x: float) -> str:
    return f"{x:.6g}"


def apart(got: float, want: float) -> tuple[str, str]:
    """Both numbers with as many digits as it takes to tell them apart (6 at least, 17 at most):
    "got 1.541, expected 1.541" says nothing."""
    for digits in range(6, 18):
        shown = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if shown[0] != shown[1] or got == want:
            return shown
    return shown


def describe_mismatch(m: Mismatch, lang: str) -> str:
    obtained, expected = apart(m.obtained, m.expected)
    return text(LABELS, "mismatch", lang, mismatched=m.mismatched, total=m.total,
                max_abs=_number(m.max_abs_diff), max_rel=_number(m.max_rel_diff),
                atol=_number(m.atol), rtol=_number(m.rtol), index=list(m.index),
                obtained=obtained, expected=expected)


TRUSTED_DETAIL = frozenset({"mistake_en", "mistake_ko", "rule_en", "rule_ko"})
"""Detail values written by the course (a spec's words); every other value may carry student text."""


def _backward_snippet(failure: Failure) -> str:
    """The failing input (its float tensors requiring grad), the upstream gradient, the backward call,
    and the gradient the failure is about (``x.grad``, ``params['norm1.bias'].grad``)."""
    lines = ["import torch", *(f"{name} = {source}" for name, source in failure.inputs)]
    lines += [f"grad_out = {failure.detail['grad_out']}", f"out = {failure.call}",
              "torch.autograd.backward(out, grad_out)", f"print({failure.detail.get('argument', '')}.grad)"]
    return "\n".join(lines)


INPUT_LABELS = {"shrunk": "input", "bank": "input-bank", "replay": "input-replay"}


def replay_command(exercise: str, token: str, given_file: str = "") -> str:
    """The command that runs one failing check again; it names the file when it is not the default."""
    file = f" --file {shlex.quote(given_file)}" if given_file else ""
    return f"grade {exercise}{file} --replay {token}"


def left_out(result: ExerciseResult, lang: str) -> list[str]:
    """A notebook's lines that were not graded, one sentence each."""
    return [text(LABELS, "left-out", lang, cell=n.cell, line=n.line, reason=text(LEFT_OUT, n.reason, lang))
            for n in result.left_out]


def _tensor_rule(returned: str, lang: str) -> str:
    """Advice for a value returned where a tensor was due, by its type (numpy.ndarray, list, float)."""
    rule = ("tensor-from-numpy" if returned.startswith("numpy.") else
            "tensor-from-list" if returned in ("list", "tuple") else
            "tensor-from-number" if returned in ("float", "int", "bool") else "")
    return text(LABELS, rule, lang) if rule else ""


def explain(failure: Failure, lang: str, exercise: str = "exercise-NN",
            escape: Callable[[str], str] = str, given_file: str = "") -> Explanation:
    """``failure`` in ``lang``; ``escape`` makes each student-given value inert for the destination."""
    detail = {k: v if k in TRUSTED_DETAIL else escape(str(v)) for k, v in failure.detail.items()}
    if "part" in detail or "where" in detail:
        detail["where"] = _where(detail, lang)
    if failure.kind is Kind.WRONG_STRUCTURE and "expected_count" in detail:
        detail["expected"], detail["obtained"] = _structure(detail, lang)
    if "finding" in detail:
        detail["found"] = _finding(detail, lang)
    if failure.kind is Kind.NO_VALUE_ERROR:
        raised = detail.get("raised")
        detail["raised"] = (text(LABELS, "raised-instead", lang, raised=raised) if raised
                            else text(LABELS, "returned-normally", lang))
    if failure.kind is Kind.WRONG_DTYPE:  # what the expected dtype says: keep the input's, or a mask
        expected = failure.detail.get("expected", "")
        rule = "dtype-mask" if expected == "torch.bool" else "dtype-float" if "float" in expected else ""
        detail["dtype_rule"] = text(LABELS, rule, lang) if rule else ""
    if failure.kind is Kind.NOT_A_TENSOR:  # what turns what they returned into a tensor
        detail["tensor_rule"] = _tensor_rule(failure.detail.get("type", ""), lang)
    if failure.kind is Kind.RAISED and not detail.get("line"):
        detail["line"] = "?"
    detail["at"] = text(LABELS, "at-cell" if detail.get("cell") else "at-line", lang,
                        cell=detail.get("cell", ""), line=detail.get("line", ""))
    message = text(FAILURES, failure.kind.value, lang, **detail)
    if message[:4] == "the ":  # a sentence that starts with our own words, never with a name
        message = "The " + message[4:]
    snippet = ""
    if failure.inputs and "grad_out" in failure.detail:
        snippet = _backward_snippet(failure)
    elif failure.inputs:
        lines = [f"{name} = {source}" for name, source in failure.inputs]
        snippet = "\n".join(["import torch", *lines, failure.call])
    mistake = ""
    if failure.suspected_mistake:
        explained = detail.get(f"mistake_{lang}") or detail.get("mistake_en", "")
        if failure.detail.get("mistakes_together"):
            explained = f"{text(LABELS, 'mistakes-together', lang)}:\n{explained}"
        mistake = f"[{failure.suspected_mistake}] {explained}".strip()
    cause = ""
    if failure.pattern:
        values = {k: escape(str(v)) for k, v in failure.pattern.items()}
        cause = text(PATTERNS, failure.pattern.get("pattern", ""), lang, **values)
    mismatch = describe_mismatch(failure.mismatch, lang) if failure.mismatch else ""
    if "got_grad" in failure.detail:
        grads = text(LABELS, "gradients", lang, argument=detail.get("argument", ""),
                     expected=failure.detail["want_grad"], obtained=failure.detail["got_grad"])
        mismatch = f"{mismatch}\n{grads}" if mismatch else grads
    if failure.mismatch and failure.kind is Kind.NON_FINITE:
        m = failure.mismatch
        first = text(LABELS, "first-non-finite", lang, index=list(m.index), obtained=_number(m.obtained),
                     expected=_number(m.expected))
        mismatch = mismatch.split("\n")[0] + "\n" + first
    return Explanation(
        message=message,
        mismatch=mismatch,
        snippet=snippet,
        mistake=mistake,
        output=failure.output.strip(),
        replay=replay_command(exercise, failure.replay, given_file) if failure.replay else "",
        input_label=text(LABELS, INPUT_LABELS.get(failure.origin, "input"), lang),
        cause=cause,
    )
