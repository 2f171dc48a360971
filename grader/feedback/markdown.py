"""Markdown: one failure (for results.json's ``output``), and a student's whole feedback file.

Trusted side. Student text (messages, printed output) only ever appears inside
code fences or after the explanation's own words, never as Markdown structure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from grader.feedback import escape
from grader.feedback.explain import check_title, explain, left_out
from grader.feedback.messages import LABELS, text
from grader.results import ExerciseResult, Failure, Status

if TYPE_CHECKING:
    from grader.gradebook import Override


def failure_markdown(failure: Failure, lang: str, exercise: str = "exercise-NN") -> str:
    explained = explain(failure, lang, exercise, escape=escape.markdown)
    parts = [explained.message]
    if explained.mismatch:
        parts.append(explained.mismatch)
    if explained.mistake:
        parts.append(f"**{text(LABELS, 'mistake', lang)}:** {explained.mistake}")
    if explained.cause:
        parts.append(f"**{text(LABELS, 'likely-cause', lang)}:** {explained.cause}")
    if explained.snippet:
        parts.append(f"**{explained.input_label}:**\n\n```python\n{explained.snippet}\n```")
    if explained.output:
        parts.append(f"**{text(LABELS, 'output', lang)}:**\n\n```\n{_fenced(explained.output[-1500:])}\n```")
    # No replay command: whoever reads this (Gradescope, a class run's feedback) could not run it.
    return "\n\n".join(parts)


def _fenced(body: str) -> str:
    # Printed backticks cannot close the fence (a zero-width space, spelled out by ``terminal``, breaks them).
    return escape.terminal(body).replace("```", "`\u200b``")


def points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


Overrides = Mapping[str, "Override"]
"""The instructor's adjustments in force for one student, by exercise id (``grade override``)."""


def adjusted_score(results: list[ExerciseResult], overrides: Overrides) -> float:
    """The points that count: the grader's, or the override's where one is in force."""
    graded = {r.exercise: r.score for r in results}
    return sum({**graded, **{ex: o.points for ex, o in overrides.items()}}.values())


def adjustments(results: list[ExerciseResult], overrides: Overrides, lang: str) -> list[str]:
    """One sentence per override: its points, the grader's, and the instructor's reason (Markdown)."""
    graded = {r.exercise: r.score for r in results}
    return [f"{ex}: " + text(LABELS, "adjusted", lang, points=points(o.points),
                             graded=points(graded[ex]) if ex in graded else "-",
                             reason=escape.markdown(o.reason))
            for ex, o in sorted(overrides.items())]


def student_markdown(student: str, results: list[ExerciseResult], lang: str,
                     overrides: Overrides | None = None) -> str:
    """A student's feedback: the score of each exercise (an override marked), then every failing check."""
    adjusted = dict(overrides or {})
    score, most = adjusted_score(results, adjusted), sum(r.max_score for r in results)
    lines = [f"# {escape.markdown(student)}", "",
             f"**{text(LABELS, 'score', lang)}: {points(score)} / {points(most)}**", "",
             f"| {text(LABELS, 'exercise', lang)} | {text(LABELS, 'points', lang)} | |", "|---|---:|---|"]
    for r in results:
        mark = "✓" if r.passed else "✗"
        shown = f"{points(adjusted[r.exercise].points)}\\*" if r.exercise in adjusted else points(r.score)
        lines.append(f"| {r.exercise} {r.title} | {shown} / {points(r.max_score)} | {mark} |")
    graded = {r.exercise for r in results}
    lines += [f"| {ex} | {points(o.points)}\\* | |" for ex, o in sorted(adjusted.items()) if ex not in graded]
    if adjusted:
        lines += [""] + [f"\\* {line}  " for line in adjustments(results, adjusted, lang)]
    for r in results:
        if r.passed and not r.left_out:
            continue
        lines += ["", f"## {r.exercise} {r.title}", ""]
        lines += [f"- {line}" for line in left_out(r, lang)] + ([""] if r.left_out else [])
        if r.problem is not None:
            lines += [failure_markdown(r.problem, lang, r.exercise), ""]
        for check in r.checks:
            if check.status is not Status.PASSED and check.failure is not None:
                body = failure_markdown(check.failure, lang, r.exercise)
                lines += [f"### ✗ {check_title(check, lang)}", "", body, ""]
    return "\n".join(lines).rstrip() + "\n"
