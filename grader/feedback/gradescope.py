"""Gradescope's results.json for one or more exercise results (the schema in course-spec).

Trusted side. Only this process writes results; the student's process never
sees where they go.
"""

from __future__ import annotations

from typing import Any

from grader.feedback.explain import check_title, left_out, withheld
from grader.feedback.markdown import Overrides, adjusted_score, adjustments, failure_markdown
from grader.feedback.messages import LABELS, text
from grader.results import CheckResult, ExerciseResult, Status


def _test(result: ExerciseResult, check: CheckResult, lang: str) -> dict[str, Any]:
    if check.failure is not None:
        output = failure_markdown(check.failure, lang, result.exercise)
    elif result.problem is not None and check.status is not Status.PASSED:
        output = failure_markdown(result.problem, lang)
    elif check.same_cause_as:
        output = text(LABELS, "same-cause", lang, check=check.same_cause_as)
    elif not check.credited:
        output = withheld(check, lang)
    else:
        output = ""
    return {
        "name": f"{result.exercise}: {check_title(check, lang)}",
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if check.status is Status.PASSED else "failed",
        "output": output,
        "output_format": "md",
        "visibility": "visible",
    }


def results_json(results: list[ExerciseResult], lang: str,
                 overrides: Overrides | None = None) -> dict[str, Any]:
    """Gradescope's document; ``overrides``: the instructor's adjustments, which set the score that counts."""
    adjusted = dict(overrides or {})
    tests = [_test(r, c, lang) for r in results for c in r.checks]
    score = round(adjusted_score(results, adjusted), 4)
    max_score = round(sum(r.max_score for r in results), 4)
    problems = [failure_markdown(r.problem, lang) for r in results if r.problem is not None]
    notes = [f"{r.exercise}: {line}" for r in results for line in left_out(r, lang)]
    output = "\n\n".join([*adjustments(results, adjusted, lang), *problems, *notes])
    extra: dict[str, Any] = {"sandbox": sorted({r.sandbox for r in results if r.sandbox})}
    if adjusted:
        extra["overrides"] = {ex: {"points": o.points, "reason": o.reason, "by": o.author, "at": o.made_at}
                              for ex, o in sorted(adjusted.items())}
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(sum(r.seconds for r in results), 3),
        "output": output or f"{text(LABELS, 'score', lang)}: {score:g} / {max_score:g}",
        "output_format": "md",
        "tests": tests,
        # The tier each file was graded under: an instructor can tell a fenced grade from one that was not.
        "extra_data": extra,
    }
