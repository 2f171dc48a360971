"""course.yaml: bad files give one line naming file, line and field; ids resolve by every alias."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.course import Course, find_course_file, load_course
from grader.errors import CourseConfigError, UnknownExerciseError
from tests.conftest import NUMBERS

GOOD_ENTRY = """\
  - id: exercise-01
    slug: first-one
    file: ex01_first_one.py
    functions: [f]
    points: 5
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY.replace("points: 5", "points: ten"),
                 ":7: exercises[0].points: must be a positive number, got 'ten'", id="points-not-number"),
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY.replace("exercise-01", "ex-1"),
                 ":3: exercises[0].id: 'ex-1' does not have the form", id="bad-id"),
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY.replace("[f]", "[]"),
                 ":6: exercises[0].functions: must be a non-empty list of function names", id="no-functions"),
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY + GOOD_ENTRY,
                 ":8: exercises[1].id: duplicate id 'exercise-01'", id="duplicate-id"),
    pytest.param("course: c\nexercises: [\n", ": not valid YAML", id="not-yaml"),
    pytest.param("course: c\n", ": exercises: must be a non-empty list", id="no-exercises"),
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY + "    limits: {call_seconds: -1}\n",
                 ":8: exercises[0].limits.call_seconds: must be a positive number, got -1", id="bad-limit"),
    pytest.param("course: c\nexercises:\n" + GOOD_ENTRY + "    limits: {cpu: 3}\n",
                 ":8: exercises[0].limits.cpu: unknown limit", id="unknown-limit"),
    pytest.param("- just\n- a list\n", ": top level: must be a mapping", id="not-mapping"),
])
def test_malformed_course_is_one_line_with_where(tmp_path: Path, text: str, expected: str) -> None:
    """Every malformed course.yaml names the file, line and field in a single line."""
    path = _write(tmp_path, text)
    with pytest.raises(CourseConfigError) as info:
        load_course(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_missing_course_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(CourseConfigError, match="no course.yaml in"):
        find_course_file(tmp_path)


def test_course_found_from_a_subfolder(course: Course) -> None:
    assert find_course_file(course.root / "exercises") == course.root / "course.yaml"


def test_shipped_course_has_the_thirteen_exercises(course: Course) -> None:
    assert [e.id for e in course.exercises][:13] == [f"exercise-{n:02d}" for n in range(1, 14)]
    for entry in course.exercises:
        assert course.student_file(entry).is_file()
        assert course.spec_file(entry).is_file()
        assert entry.file.startswith(f"ex{entry.number}_")


@given(st.integers(1, len(NUMBERS)), st.sampled_from(["id", "number", "ex", "slug", "int"]))
def test_every_alias_resolves_to_its_exercise(n: int, form: str) -> None:
    """exercise-05, 05, ex05, forget-gate and 5 all name exercise-05."""
    course = load_course(Path(__file__).parent.parent / "course.yaml")
    entry = course.exercises[n - 1]
    alias = {"id": entry.id, "number": entry.number, "ex": f"ex{entry.number}",
             "slug": entry.slug, "int": str(n)}[form]
    assert course.resolve(alias) == entry


def test_unknown_exercise_suggests_the_closest(course: Course) -> None:
    with pytest.raises(UnknownExerciseError, match="Did you mean 'exercise-05'"):
        course.resolve("exercise-5x")


@pytest.mark.parametrize("name", ["exercise-99", "99", "ex99", f"ex-{len(NUMBERS) + 1}", "exercise0"])
def test_a_number_the_course_lacks_lists_the_exercises_and_guesses_nothing(course: Course, name: str) -> None:
    with pytest.raises(UnknownExerciseError) as info:
        course.resolve(name)
    said = str(info.value)
    assert "Did you mean" not in said and all(e.id in said for e in course.exercises)


@given(st.integers(1, len(NUMBERS)), st.sampled_from(["ex{n}", "ex{n:02d}", "ex-{n}", "exercise{n}",
                                                       "exercise-{n}", "EX{n}", " {n:02d} ", "ex_{n}"]))
def test_every_way_to_write_a_number_names_the_exercise(course: Course, n: int, form: str) -> None:
    assert course.resolve(form.format(n=n)) == course.exercises[n - 1]
