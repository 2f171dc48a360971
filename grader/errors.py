"""Errors the grader reports to a person as one line, with where, what and a fix.

Trusted side. The tree::

    GraderError                 exit 2 unless a subclass says otherwise
    ├── CourseConfigError       course.yaml is missing or malformed
    ├── UnknownExerciseError    an exercise id that the course does not define
    └── UsageError              command-line arguments that do not fit together

Student code that misbehaves is never one of these: it becomes a failed check
(see ``results.Failure``), so a class run never stops for one submission.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``grade`` returns to the shell."""

    PASSED = 0  # every check passed
    CHECKS_FAILED = 1  # a check failed, or the submission could not be run
    USAGE_ERROR = 2  # bad arguments or a bad course.yaml
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as a shell reports it); a class run resumes where it stopped


class GraderError(Exception):
    """A problem for the person running the grader, shown as one line.

    Raised with a ``message`` (the course author's and instructor's errors), or with a ``key`` of
    the ``ERRORS`` catalog and its values (what a student meets), so that ``said`` words it in
    the student's language.
    """

    exit_code: ExitCode = ExitCode.USAGE_ERROR

    def __init__(self, message: str = "", *, where: str | None = None, key: str = "",
                 **values: object) -> None:
        self.key = key
        self.values = {name: str(value) for name, value in values.items()}
        self.message = message or _worded(key, "en", self.values)
        self.where = where
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.said("en")

    def said(self, lang: str) -> str:
        """The one line, in ``lang`` where the catalog has it."""
        message = _worded(self.key, lang, self.values) if self.key else self.message
        return f"{self.where}: {message}" if self.where else message


def _worded(key: str, lang: str, values: dict[str, str]) -> str:
    from grader.feedback.messages import ERRORS, text

    return text(ERRORS, key, lang, **values)


class CourseConfigError(GraderError):
    """course.yaml cannot be found, parsed or validated."""


class NotInBank(CourseConfigError):
    """A student release was asked for the reference's answer on an input its bank does not hold."""


class UnknownExerciseError(GraderError):
    """The exercise id names no exercise of this course."""


class UsageError(GraderError):
    """Arguments that do not fit together."""
