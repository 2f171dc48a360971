"""``grade override``: manual adjustments to the gradebook, checked before they are written.

Trusted side. An override replaces the grader's points for one (student,
exercise) in grades.csv, the reports and the LMS exports, and says so there.
It is kept by student and exercise, so reruns and changed files keep it;
undoing one keeps its record.
"""

from __future__ import annotations

import difflib
import getpass

import click

from grader.course import Course, ExerciseEntry
from grader.errors import UsageError
from grader.gradebook import Gradebook, Override


def apply(book: Gradebook, course: Course, *, student: str | None, exercise: ExerciseEntry | None,
          points: float | None, reason: str | None, author: str | None, listing: bool,
          undo: int | None) -> list[Override]:
    """Do what the arguments ask (set, undo or nothing for --list) and return what changed."""
    setting = [student, exercise, points, reason]
    if listing or undo is not None:
        if any(v is not None for v in setting) or (listing and undo is not None):
            raise UsageError("grade override: use one of STUDENT EXERCISE POINTS --reason TEXT, --list, "
                             "or --undo ID")
        return [book.undo_override(undo, author or _user())] if undo is not None else []
    if student is None or exercise is None or points is None:
        raise UsageError("grade override: give STUDENT EXERCISE POINTS --reason TEXT "
                         "(or --list, or --undo ID)")
    if not reason or not reason.strip():
        raise UsageError("--reason: say why (it is kept with the override and shown in the reports)")
    if points > exercise.points:
        raise UsageError(f"POINTS: {points:g} is more than {exercise.id}'s {exercise.points:g} points")
    known = book.students()
    if student not in known:
        close = difflib.get_close_matches(student, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        click.echo(f"grade: note: the gradebook has no graded file of {student!r}{hint}; "
                   "the override is recorded for that name", err=True)
    return [book.override(student, exercise.id, points, reason.strip(), author or _user())]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the number still says who
        import os

        return f"uid {os.getuid()}"
