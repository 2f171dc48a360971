"""Which known mistake reproduces the student's output.

Trusted side. The mistakes are the course's own functions and run here; the
student's output is the one already received from the student's process.
"""

from __future__ import annotations

import copy
from typing import Any

from grader.checks.properties import Target, contract_failure, obtain, problem_size, upcast, value_failure
from grader.exercise import Case, Mistake
from grader.results import Failure, Kind

DIAGNOSED = {Kind.WRONG_VALUE, Kind.NON_FINITE, Kind.WRONG_SHAPE, Kind.WRONG_DTYPE,
             Kind.WRONG_STRUCTURE, Kind.OUT_OF_RANGE}


def reproduces(mistake: Mistake, target: Target, case: Case, obtained: Any) -> bool:
    """Whether ``mistake`` gives the student's output (contract and values) on ``case``."""
    args, kwargs = target.function.split(copy.deepcopy(case))
    try:
        native = mistake.impl(*args, **kwargs)
        args, kwargs = target.function.split(upcast(case))
        wide = mistake.impl(*args, **kwargs)
    except Exception:
        return False
    if contract_failure(obtained, native) is not None:
        return False
    dtype = next((v.dtype for v in _floats(case)), None)
    if dtype is None:
        return value_failure(obtained, native, (obtained_dtype(obtained), 1), 1.0) is None
    size = problem_size(case)
    return value_failure(obtained, wide, (dtype, size), target.function.tolerance_scale) is None


def _floats(case: Case) -> list[Any]:
    from grader.checks.properties import _tensors

    return [t for t in _tensors(case) if t.is_floating_point()]


def obtained_dtype(value: Any) -> Any:
    return getattr(value, "dtype", None)


def diagnose(target: Target, case: Case, failure: Failure) -> str | None:
    """The id of the one mistake that explains ``failure``, if exactly one does."""
    if failure.kind not in DIAGNOSED:
        return None
    mistakes = [m for m in target.exercise.mistakes if m.function == target.function.name]
    if not mistakes:
        return None
    obtained, problem = obtain(target, case)
    if obtained is None or (problem is not None and problem.kind not in DIAGNOSED):
        return None
    matches = [m.id for m in mistakes if reproduces(m, target, case, obtained)]
    return matches[0] if len(matches) == 1 else None
