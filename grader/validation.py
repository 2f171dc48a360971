"""grade validate: the course checks itself (for instructors).

Trusted side; it runs only course files (references, stubs, known mistakes),
in this process, through the same checks a student's file meets.
Every reference must pass every check, every stub must fail with "not
implemented", and every known mistake must fail at least one check and be
named as itself there (a mistake the diagnosis cannot tell apart is a course bug).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course import Course, ExerciseEntry
from grader.grading import grade_reference
from grader.results import ExerciseResult, Kind, Status


@dataclass(frozen=True, slots=True)
class ExerciseValidation:
    exercise: str
    reference_failures: tuple[str, ...]
    """Checks the reference fails (must be none)."""
    stub_problems: tuple[str, ...]
    """Checks the stub does not fail with "not implemented" (must be none)."""
    mistakes_caught: tuple[str, ...]
    mistakes_missed: tuple[str, ...]
    """Known mistakes that pass every check (must be none)."""
    misdiagnosed: tuple[str, ...] = field(default=())
    """Known mistakes caught but not named as themselves by any failing check."""

    @property
    def ok(self) -> bool:
        return not (self.reference_failures or self.stub_problems or self.mistakes_missed
                    or self.misdiagnosed)


def _failed(result: ExerciseResult) -> list[str]:
    return [c.name for c in result.checks if c.status is not Status.PASSED]


def _stub_functions(course: Course, entry: ExerciseEntry) -> dict[str, Callable[..., Any]]:
    path: Path = course.student_file(entry)
    spec = importlib.util.spec_from_file_location(f"_stub_{entry.module}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in entry.functions}


def validate_exercise(course: Course, entry: ExerciseEntry) -> ExerciseValidation:
    from grader.exercise import load_spec

    exercise = load_spec(course.spec_file(entry), entry.id)
    reference = grade_reference(course, entry)
    stub = grade_reference(course, entry, _stub_functions(course, entry), shrink=False)
    # A stub says "not implemented" once per function; its other checks point there (same cause).
    stub_problems = [c.name for c in stub.checks
                     if c.status is Status.PASSED or (c.failure is None and not c.same_cause_as)
                     or (c.failure is not None and c.failure.kind is not Kind.NOT_IMPLEMENTED)]
    caught, missed, misdiagnosed = [], [], []
    for mistake in exercise.mistakes:
        functions = {**exercise.references(), mistake.function: mistake.impl}
        result = grade_reference(course, entry, functions, shrink=False)
        if not any(c.status is Status.FAILED for c in result.checks):
            missed.append(mistake.id)
            continue
        caught.append(mistake.id)
        named = {c.failure.suspected_mistake for c in result.checks if c.failure is not None}
        if mistake.id not in named:
            misdiagnosed.append(mistake.id)
    return ExerciseValidation(entry.id, tuple(_failed(reference)), tuple(stub_problems),
                              tuple(caught), tuple(missed), tuple(misdiagnosed))


def validate_course(
    course: Course, only: ExerciseEntry | None = None,
    on_exercise: Callable[[ExerciseValidation], None] | None = None,
) -> list[ExerciseValidation]:
    report = []
    for entry in [only] if only else course.exercises:
        item = validate_exercise(course, entry)
        report.append(item)
        if on_exercise is not None:
            on_exercise(item)
    return report
