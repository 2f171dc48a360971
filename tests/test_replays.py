"""Replays: meeting recorded inputs first changes how long a class run takes, never a verdict.

A passing check gives exactly the plain run's result; a failing one the same verdict, kind and
diagnosed mistake, on an input that may be an earlier submission's smallest failing one.
"""

from __future__ import annotations

import collections

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
            if a.same_cause_as:  # failed as an earlier check did: when it met it depends on the replays
                assert b.same_cause_as == a.same_cause_as and b.failure is None, a.name
            elif a.failure is None:
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


class _Counting:
    """A runner that notes each call (the objects it was asked about, and how) before answering."""

    def __init__(self, inner: LocalRunner) -> None:
        self.inner, self.asked = inner, collections.Counter[tuple[object, ...]]()
        self.alive: list[object] = []  # no id is reused while the test counts

    def call(self, call):  # type: ignore[no-untyped-def]
        self.asked[(*map(id, call.args), *map(id, call.kwargs.values()), call.echo_inputs,
                    call.cotangents is None)] += 1
        self.alive.append(call)
        return self.inner.call(call)

    def call_many(self, calls):  # type: ignore[no-untyped-def]
        return [self.call(c) for c in calls]


@pytest.mark.parametrize("number", ["05", "12"])
def test_explaining_a_failure_asks_the_student_about_each_input_once(course: Course, number: str) -> None:
    """The diagnosis and the signature meet inputs the check already asked about: they get its answers."""
    from grader.checks.catalog import standard_checks
    from grader.checks.engine import run_check
    from grader.checks.target import Target

    entry = course.resolve(number)
    exercise = load_spec(course.spec_file(entry), entry.id)
    mistake = exercise.mistakes[0]
    check = next(c for c in standard_checks(exercise) if c.kind == "matches-reference")
    runner = _Counting(LocalRunner({**exercise.references(), mistake.function: mistake.impl}))
    status, _, failure = run_check(check, Target(exercise, exercise.function(check.function), runner), 50)
    assert status.value == "failed" and failure is not None and failure.suspected_mistake == mistake.id
    assert max(runner.asked.values()) == 1, runner.asked.most_common(3)
