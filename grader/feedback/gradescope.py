"""Gradescope's results.json for one or more exercise results (the schema in course-spec).

Trusted side. Only this process writes results; the student's process never
sees where they go.
"""

from __future__ import annotations

from typing import Any

from grader.feedback.explain import check_title, explain
from grader.feedback.messages import LABELS, text
from grader.results import CheckResult, ExerciseResult, Failure, Status


def _markdown(failure: Failure, lang: str, exercise: str = "exercise-NN") -> str:
    explained = explain(failure, lang, exercise)
    parts = [explained.message]
    if explained.mismatch:
        parts.append(explained.mismatch)
    if explained.mistake:
        parts.append(f"**{text(LABELS, 'mistake', lang)}:** {explained.mistake}")
    if explained.snippet:
        parts.append(f"**{text(LABELS, 'input', lang)}:**\n\n```python\n{explained.snippet}\n```")
    if explained.output:
        parts.append(f"**{text(LABELS, 'output', lang)}:**\n\n```\n{explained.output[-1500:]}\n```")
    if explained.replay:
        parts.append(f"**{text(LABELS, 'replay', lang)}:** `{explained.replay}`")
    return "\n\n".join(parts)


def _test(result: ExerciseResult, check: CheckResult, lang: str) -> dict[str, Any]:
    if check.failure is not None:
        output = _markdown(check.failure, lang, result.exercise)
    elif result.problem is not None and check.status is not Status.PASSED:
        output = _markdown(result.problem, lang)
    else:
        output = ""
    return {
        "name": f"{result.exercise}: {check_title(check, lang)}",
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if check.status is Status.PASSED else "failed",
        "output": output,
    }


def results_json(results: list[ExerciseResult], lang: str) -> dict[str, Any]:
    tests = [_test(r, c, lang) for r in results for c in r.checks]
    score = round(sum(r.score for r in results), 4)
    max_score = round(sum(r.max_score for r in results), 4)
    problems = [_markdown(r.problem, lang) for r in results if r.problem is not None]
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(sum(r.seconds for r in results), 3),
        "output": "\n\n".join(problems) or f"{text(LABELS, 'score', lang)}: {score:g} / {max_score:g}",
        "output_format": "md",
        "tests": tests,
    }
