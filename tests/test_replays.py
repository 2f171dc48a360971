"""Replays: meeting recorded inputs first changes how long a class run takes, never a verdict.

A passing check gives exactly the plain run's result; a failing one the same verdict, kind and
diagnosed mistake, on an input that may be an earlier submission's smallest failing one.
"""

from __future__ import annotations

import pytest

from grader.checks.engine import Replays, grade_checks
from grader.course import Course
from grader.exercise import load_spec
from grader.sandbox.runner import LocalRunner


@pytest.mark.parametrize("number", ["05", "09"])
def test_a_warmed_replay_gives_every_submission_the_result_a_plain_run_gives(course: Course,
                                                                             number: str) -> None:
    entry = course.resolve(number)
    exercise = load_spec(course.spec_file(entry), entry.id)
    replays = Replays()
    reference = exercise.references()
    first = grade_checks(exercise, LocalRunner(reference), entry.points, replays=replays)
    assert replays.cases and all(c.status.value == "passed" for c in first)
    submissions = [reference, *({**reference, m.function: m.impl} for m in exercise.mistakes)]
    for functions in submissions:
        plain = grade_checks(exercise, LocalRunner(functions), entry.points)
        replayed = grade_checks(exercise, LocalRunner(functions), entry.points, replays=replays)
        for a, b in zip(plain, replayed, strict=True):
            assert (a.name, a.status, a.score) == (b.name, b.status, b.score)
            if a.failure is None:
                assert repr(a) == repr(b)  # repr: a NaN in a mismatch is never == itself
            else:
                assert b.failure is not None and b.failure.kind == a.failure.kind
                assert b.failure.suspected_mistake == a.failure.suspected_mistake, a.name
                assert b.failure.inputs and b.failure.replay  # still an input to paste, and a token


def test_only_passing_checks_are_recorded(course: Course) -> None:
    entry = course.resolve("09")
    exercise = load_spec(course.spec_file(entry), entry.id)
    mistake = exercise.mistakes[0]
    replays = Replays()
    runner = LocalRunner({mistake.function: mistake.impl})
    results = grade_checks(exercise, runner, entry.points, replays=replays)
    passed = sum(c.status.value == "passed" for c in results)
    assert len(replays.cases) == passed < len(results)


def test_a_repeated_mistake_reuses_the_earlier_smallest_input(course: Course) -> None:
    entry = course.resolve("05")
    exercise = load_spec(course.spec_file(entry), entry.id)
    mistake = exercise.mistakes[0]
    functions = {**exercise.references(), mistake.function: mistake.impl}
    replays = Replays()
    grade_checks(exercise, LocalRunner(exercise.references()), entry.points, replays=replays)
    first = grade_checks(exercise, LocalRunner(functions), entry.points, replays=replays)
    assert replays.shrunk
    again = grade_checks(exercise, LocalRunner(functions), entry.points, replays=replays)
    for a, b in zip(first, again, strict=True):
        assert (a.status, a.score) == (b.status, b.score)
        if a.failure is not None and b.failure is not None:
            assert a.failure.inputs == b.failure.inputs
            assert a.failure.suspected_mistake == b.failure.suspected_mistake
    assert any(a.failure is not None for a in first)
