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
    """A problem for the person running the grader, shown as one line."""

    exit_code: ExitCode = ExitCode.USAGE_ERROR

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CourseConfigError(GraderError):
    """course.yaml cannot be found, parsed or validated."""


class NotInBank(CourseConfigError):
    """A student release was asked for the reference's answer on an input its bank does not hold."""


class UnknownExerciseError(GraderError):
    """The exercise id names no exercise of this course."""


class UsageError(GraderError):
    """Arguments that do not fit together."""
