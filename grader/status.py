"""The student's loop: where each exercise stands, remembered between runs.

Trusted side. Every ``grade exercise-NN`` on the student's own file records its
result in a small gradebook beside course.yaml (``.grade/``), keyed by the
file's sha256 like a class run's. ``grade status`` then reads it, grades only
the files changed since (torch imported once for all of them), and says what
to do next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grader.course import Course, ExerciseEntry
from grader.gradebook import Gradebook, GradeKey, course_version, file_digest, grader_version
from grader.results import ExerciseResult, Kind
from grader.submission import Submission

FOLDER = ".grade"
ME = "me"


@dataclass(frozen=True, slots=True)
class ExerciseState:
    entry: ExerciseEntry
    state: str
    """``not-started`` (missing, or every function still raises NotImplementedError),
    ``failing`` or ``passing``."""
    score: float
    max_score: float


def _key(course: Course, entry: ExerciseEntry, digest: str) -> GradeKey:
    return GradeKey(ME, entry.id, digest, grader_version(), course_version(course))


def _book(course: Course) -> Gradebook | None:
    try:
        return Gradebook(course.root / FOLDER)
    except Exception:  # a read-only course folder: status still works, it just remembers nothing
        return None


def remember(course: Course, entry: ExerciseEntry, result: ExerciseResult) -> None:
    """Record a result of the student's own file, keyed by the content that was graded (best effort)."""
    book = _book(course)
    if book is not None:
        with book:
            book.record(_key(course, entry, result.digest), result)


def state_of(result: ExerciseResult) -> str:
    if result.passed:
        return "passing"
    kinds = {c.failure.kind for c in result.checks if c.failure is not None}
    missing = result.problem is not None and result.problem.kind is Kind.MISSING_FILE
    if missing or kinds == {Kind.NOT_IMPLEMENTED}:
        return "not-started"
    return "failing"


def course_status(course: Course) -> list[ExerciseState]:
    """Each exercise's state, grading (once, all together) the files changed since they were last graded."""
    from grader.classroom import StudentFile, grade_files

    book = _book(course)
    known: dict[str, ExerciseResult] = {}
    stale: list[tuple[GradeKey, StudentFile]] = []
    for entry in course.exercises:
        path = course.student_file(entry)
        source = Submission(entry.id, path, functions=entry.functions).source()
        key = _key(course, entry, file_digest(source))
        cached = book.result(key) if book is not None else None
        if cached is not None:
            known[entry.id] = cached
        else:
            stale.append((key, StudentFile(entry, str(path), source)))
    results = grade_files(course, ME, [file for _, file in stale]) if stale else []
    for (key, _), result in zip(stale, results, strict=True):
        known[key.exercise] = result
        if book is not None:
            book.record(key, result)
    if book is not None:
        book.close()
    return [ExerciseState(e, state_of(known[e.id]), known[e.id].score, known[e.id].max_score)
            for e in course.exercises]


def next_hint_level(course: Course, exercise: str, asked: int | None, available: int) -> int:
    """The hint level to show: ``asked``, else one more than last time (remembered in ``.grade/``)."""
    path = course.root / FOLDER / "hints.json"
    try:
        seen = json.loads(path.read_text())
        seen = seen if isinstance(seen, dict) else {}
    except (OSError, ValueError):
        seen = {}
    last = seen.get(exercise, 0) if isinstance(seen.get(exercise, 0), int) else 0
    level = max(1, min(asked if asked is not None else last + 1, available))
    seen[exercise] = max(last, level)
    try:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(seen))
    except OSError:
        pass  # a read-only folder: hints still show, the next one is just not remembered
    return level


def next_to_do(states: list[ExerciseState]) -> ExerciseState | None:
    """The first exercise, in course order, that is not passing."""
    return next((s for s in states if s.state != "passing"), None)
