"""Runs each check under hypothesis and turns what it found into a CheckResult.

Trusted side. Grading is deterministic, the way hypothesis's ``minimal()``
is: derandomized, no example database, no deadline, one bug reported. The
same file therefore always meets the same examples and gets the same score.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis.errors import Flaky, HypothesisException

from grader.checks.diagnose import diagnose
from grader.checks.properties import Check, Target, standard_checks
from grader.checks.snippets import call_source, literal
from grader.exercise import Case, Exercise
from grader.results import CheckResult, Failure, Kind, Status
from grader.sandbox.runner import WorkerGone

SETTINGS = settings(
    database=None, derandomize=True, deadline=None, report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
)

GONE_KINDS = {
    "timeout": Kind.TIMEOUT, "crashed": Kind.CRASHED, "output-limit": Kind.OUTPUT_LIMIT,
    "memory-limit": Kind.MEMORY_LIMIT, "malformed": Kind.MALFORMED, "gave-up": Kind.GAVE_UP,
}


class _Stop(BaseException):  # noqa: N818 - BaseException: hypothesis must not shrink it
    """A failure that any input shows (the function is missing or not written yet)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind.value)
        self.failure = failure


UNCONDITIONAL = {Kind.NOT_IMPLEMENTED, Kind.MISSING_FUNCTION}


class _Found(Exception):
    def __init__(self, failure: Failure, case: Case) -> None:
        super().__init__(failure.kind.value)
        self.failure, self.case = failure, case


def gone_failure(gone: WorkerGone) -> Failure:
    return Failure(GONE_KINDS.get(gone.reason, Kind.CRASHED), {"detail": gone.detail},
                   output=gone.output[-2000:])


def describe(target: Target, case: Case, failure: Failure) -> Failure:
    """Attach the input, as Python source, and the call to a failure."""
    args, kwargs = target.function.split(case)
    names = [p.name for p in target.function.parameters if p.name in case]
    positional = tuple(names[: len(args)])
    inputs = tuple((name, literal(case[name])) for name in names)
    call = call_source(target.function.name, positional, {k: k for k in kwargs})
    return dataclasses.replace(failure, inputs=inputs, call=call)


def run_check(check: Check, target: Target, examples: int) -> tuple[Status, int, Failure | None]:
    """Search for an input that breaks ``check``; shrink it; explain it."""
    seen, current = 0, None

    def test(case: Case) -> None:
        nonlocal seen, current
        seen, current = seen + 1, case
        failure = check.verify(target, case)
        if failure is not None:
            raise _Stop(failure) if failure.kind in UNCONDITIONAL else _Found(failure, case)

    search = settings(SETTINGS, max_examples=examples)(given(check.strategy)(test))
    try:
        search()
    except _Found as found:
        failure = describe(target, found.case, found.failure)
        try:
            mistake = diagnose(target, found.case, failure)
        except WorkerGone:
            mistake = None
        return Status.FAILED, seen, dataclasses.replace(failure, suspected_mistake=mistake)
    except _Stop as stop:
        return Status.FAILED, seen, stop.failure
    except WorkerGone as gone:
        failure = gone_failure(gone)
        return Status.FAILED, seen, describe(target, current, failure) if current else failure
    except Flaky:
        return Status.FAILED, seen, Failure(Kind.INCONSISTENT)
    except (HypothesisException, Exception) as exc:  # a bug in the course or the grader
        return Status.ERROR, seen, Failure(Kind.GRADER_ERROR, {"type": type(exc).__name__,
                                                               "message": str(exc)[:500]})
    return Status.PASSED, seen, None


def grade_checks(exercise: Exercise, runner: Any, points: float,
                 on_check: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run every standard check of ``exercise`` against one runner."""
    checks = standard_checks(exercise)
    total = sum(c.weight for c in checks)
    results = []
    for check in checks:
        target = Target(exercise, exercise.function(check.function), runner)
        status, seen, failure = run_check(check, target, max(1, round(exercise.examples * check.effort)))
        worth = round(points * check.weight / total, 4)
        result = CheckResult(name=check.name, kind=check.kind, function=check.function,
                             variant=check.variant, status=status,
                             score=worth if status is Status.PASSED else 0.0, max_score=worth,
                             examples=seen, failure=failure)
        results.append(result)
        if on_check is not None:
            on_check(result)
    return results


def not_run(exercise: Exercise, points: float) -> list[CheckResult]:
    """Every check, failed without running (the file could not be loaded)."""
    checks: Sequence[Check] = standard_checks(exercise)
    total = sum(c.weight for c in checks)
    return [CheckResult(name=c.name, kind=c.kind, function=c.function, variant=c.variant,
                        status=Status.FAILED, score=0.0,
                        max_score=round(points * c.weight / total, 4)) for c in checks]


def elapsed(start: float) -> float:
    return round(time.monotonic() - start, 3)
