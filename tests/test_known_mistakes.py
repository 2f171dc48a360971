"""Course quality: every reference passes, every stub says "not implemented",
every known mistake fails a check and is diagnosed as itself."""

from __future__ import annotations

import pytest

from grader.course import Course
from grader.exercise import load_spec
from grader.validation import validate_exercise
from tests.conftest import NUMBERS, ROOT


@pytest.mark.parametrize("number", NUMBERS)
def test_course_validates(course: Course, number: str) -> None:
    report = validate_exercise(course, course.resolve(number))
    assert report.reference_failures == ()
    assert report.stub_problems == ()
    assert report.mistakes_missed == ()
    assert report.misdiagnosed == ()
    assert report.ok


@pytest.mark.parametrize("number", NUMBERS)
def test_each_exercise_lists_at_least_four_mistakes_with_both_languages(course: Course, number: str) -> None:
    entry = course.resolve(number)
    exercise = load_spec(course.spec_file(entry), entry.id)
    assert len(exercise.mistakes) >= 4
    assert len({m.id for m in exercise.mistakes}) == len(exercise.mistakes)
    for mistake in exercise.mistakes:
        assert mistake.function in entry.functions
        assert mistake.en.strip() and mistake.ko.strip()
        assert any("\uac00" <= ch <= "\ud7a3" for ch in mistake.ko), mistake.id  # Hangul
    assert [f.name for f in exercise.functions] == list(entry.functions)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_file_made_from_a_mistake_is_named_through_the_real_grade_command(course: Course, number: str,
                                                                            tmp_path) -> None:  # type: ignore[no-untyped-def]
    """End to end: a student file behaving like one known mistake, graded by ``grade`` in its own process.

    The file builds its functions from the spec (so it needs the course on disk: the rlimits tier,
    which does not fence files); one mistake per exercise, a different one for each.
    """
    import json
    import re

    from tests.conftest import grade

    entry = course.resolve(number)
    exercise = load_spec(course.spec_file(entry), entry.id)
    assert exercise.mistakes, f"{entry.id} lists no known mistakes"
    mistake = exercise.mistakes[int(number) % len(exercise.mistakes)]
    student = tmp_path / entry.file
    student.write_text(
        "from pathlib import Path\n"
        "from grader.exercise import load_spec\n"
        f"_spec = load_spec(Path({str(course.spec_file(entry))!r}), {entry.id!r})\n"
        f"_wrong = _spec.mistake({mistake.id!r}).impl\n"
        f"globals().update({{**_spec.references(), {mistake.function!r}: _wrong}})\n")
    run = grade(entry.id, "--file", str(student), "--json", "--allow-unsandboxed", "--lang", "en",
                env={"GRADER_SANDBOX": "rlimits"},
                timeout=300)
    assert run.code == 1, run.err[-2000:]
    outputs = " ".join(test["output"] for test in json.loads(run.out)["tests"])
    named = set(re.findall(r"This looks like a known mistake:\*\* \[([\w-]+)\]", outputs))
    assert named == {mistake.id}, (mistake.id, named)


def _pairs(course: Course) -> list[tuple[str, str]]:
    found = []
    for entry in course.exercises:
        exercise = load_spec(course.spec_file(entry), entry.id)
        found += [(entry.id, pair.id) for pair in exercise.pairs()]
    return found


def test_mistakes_built_by_one_builder_combine_into_pairs(course: Course) -> None:
    pairs = _pairs(course)
    assert ("exercise-07", "update-inverted+reset-before-matmul") in pairs
    for exercise_id, pair_id in pairs:  # never two settings of one switch (two gate orders at once)
        exercise = load_spec(course.spec_file(course.resolve(exercise_id)), exercise_id)
        first, second = exercise.mistake(pair_id).parts
        impl = exercise.mistake(pair_id).impl
        assert len(impl.switches) == len(exercise.mistake(first).impl.switches) + len(
            exercise.mistake(second).impl.switches)


def _sampled_pairs() -> list[tuple[str, str]]:
    """A seeded sample of every exercise's pairs (all of them take minutes): the same ones every run."""
    import random

    from grader.course import load_course

    pairs = _pairs(load_course(ROOT / "course.yaml"))
    return sorted(random.Random(13).sample(pairs, min(12, len(pairs))))


@pytest.mark.parametrize("chosen", _sampled_pairs(), ids="+".join)
def test_two_slips_together_are_named_as_the_pair(course: Course, chosen: tuple[str, str]) -> None:
    """Two combinable slips, graded in-process, are named as the pair: unless together they behave
    exactly like a single known mistake (then that single one is the honest name)."""
    from grader.grading import grade_reference

    exercise_id, pair_id = chosen
    entry = course.resolve(exercise_id)
    exercise = load_spec(course.spec_file(entry), exercise_id)
    pair = exercise.mistake(pair_id)
    result = grade_reference(course, entry, {**exercise.references(), pair.function: pair.impl}, shrink=False)
    found = {c.failure.suspected_mistake for c in result.checks if c.failure is not None} - {None}
    assert any(c.failure is not None for c in result.checks), pair_id
    if pair_id not in found:
        assert len(found) == 1 and "+" not in next(iter(found)), (pair_id, found)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_mistake_named_on_one_check_is_the_cause_of_the_others_it_fails(course: Course,
                                                                         number: str) -> None:
    """float32, float64, large inputs: one mistake, explained once; the other checks it fails point there."""
    from grader.grading import grade_reference

    entry = course.resolve(number)
    exercise = load_spec(course.spec_file(entry), entry.id)
    mistake = exercise.mistakes[0]
    result = grade_reference(course, entry, {**exercise.references(), mistake.function: mistake.impl})
    named = [c for c in result.checks if c.failure is not None and c.failure.suspected_mistake == mistake.id]
    assert len(named) == 1, [(c.name, c.failure) for c in result.checks]
    for check in result.checks:
        if check.failure is not None and check.failure.suspected_mistake is not None:
            assert check is named[0]  # no second box with the same mistake
        if check.same_cause_as:
            assert any(c.name == check.same_cause_as for c in result.checks)
