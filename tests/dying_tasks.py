"""A student task whose grading process dies (what the grading process unpickles kills it)."""

from __future__ import annotations

import os
from typing import Any

from grader.classroom import StudentTask


class DyingTask(StudentTask):
    """Its grading process dies on receiving it, as a grading process killed for memory would."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return os._exit, (9,)
