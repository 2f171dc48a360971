"""Replays: meeting recorded inputs first changes how long a class run takes, never a result."""

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
        assert repr(replayed) == repr(plain)  # repr: a NaN in a mismatch is never == itself


def test_only_passing_checks_are_recorded(course: Course) -> None:
    entry = course.resolve("09")
    exercise = load_spec(course.spec_file(entry), entry.id)
    mistake = exercise.mistakes[0]
    replays = Replays()
    runner = LocalRunner({mistake.function: mistake.impl})
    results = grade_checks(exercise, runner, entry.points, replays=replays)
    passed = sum(c.status.value == "passed" for c in results)
    assert len(replays.cases) == passed < len(results)
