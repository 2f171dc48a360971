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
