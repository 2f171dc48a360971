"""Markdown: one failure (for results.json's ``output``), and a student's whole feedback file.

Trusted side. Student text (messages, printed output) only ever appears inside
code fences or after the explanation's own words, never as Markdown structure.
"""

from __future__ import annotations

from grader.feedback import escape
from grader.feedback.explain import check_title, explain
from grader.feedback.messages import LABELS, text
from grader.results import ExerciseResult, Failure, Status


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


def student_markdown(student: str, results: list[ExerciseResult], lang: str) -> str:
    """A student's feedback: the score of each exercise, then every failing check explained."""
    score, most = sum(r.score for r in results), sum(r.max_score for r in results)
    lines = [f"# {escape.markdown(student)}", "",
             f"**{text(LABELS, 'score', lang)}: {points(score)} / {points(most)}**", "",
             f"| {text(LABELS, 'exercise', lang)} | {text(LABELS, 'points', lang)} | |", "|---|---:|---|"]
    for r in results:
        mark = "✓" if r.passed else "✗"
        lines.append(f"| {r.exercise} {r.title} | {points(r.score)} / {points(r.max_score)} | {mark} |")
    for r in results:
        if r.passed:
            continue
        lines += ["", f"## {r.exercise} {r.title}", ""]
        if r.problem is not None:
            lines += [failure_markdown(r.problem, lang, r.exercise), ""]
        for check in r.checks:
            if check.status is not Status.PASSED and check.failure is not None:
                body = failure_markdown(check.failure, lang, r.exercise)
                lines += [f"### ✗ {check_title(check, lang)}", "", body, ""]
    return "\n".join(lines).rstrip() + "\n"
