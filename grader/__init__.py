"""seqgrade: an autograder for a sequence-models course.

The flow, one module each: course config (``course``) -> submission
(``submission``) -> sandbox (``sandbox/``) -> checks (``checks/``) ->
results (``results``) -> feedback (``feedback/``) -> CLI (``cli``);
``grading`` wires them together.
"""

from grader.course import Course, ExerciseEntry, load_course
from grader.errors import CourseConfigError, ExitCode, GraderError, UnknownExerciseError, UsageError
from grader.grading import grade_file, grade_reference
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Mismatch, Status


def check(exercise: str, **options: object) -> None:
    """In a Jupyter or Colab cell: grade ``exercise`` as this notebook defines it (``notebook_check``)."""
    from grader.notebook_check import check as check_in_notebook

    check_in_notebook(exercise, **options)  # type: ignore[arg-type]

__all__ = [
    "CheckResult",
    "Course",
    "CourseConfigError",
    "ExerciseEntry",
    "ExerciseResult",
    "ExitCode",
    "Failure",
    "GraderError",
    "Kind",
    "Mismatch",
    "Status",
    "UnknownExerciseError",
    "UsageError",
    "check",
    "grade_file",
    "grade_reference",
    "load_course",
]
