"""Course quality: every reference passes, every stub says "not implemented",
every known mistake fails a check and is diagnosed as itself."""

from __future__ import annotations

import pytest

from grader.course import Course
from grader.exercise import load_spec
from grader.validation import validate_exercise

NUMBERS = [f"{n:02d}" for n in range(1, 14)]


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
