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
    "grade_file",
    "grade_reference",
    "load_course",
]
