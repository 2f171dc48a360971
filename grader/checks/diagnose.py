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


def diagnose(target: Target, cases: list[Case], failure: Failure) -> str | None:
    """The id of the one known mistake that gives the student's outputs on every case.

    ``cases`` are failing inputs: the shrunk one first, then the first few the
    search found. The shrunk input alone is often too small to tell mistakes
    apart (with d_k = 1, "no scaling" and "divided by d_k" agree), so every
    candidate must also reproduce the student's output on the others.
    """
    if failure.kind not in DIAGNOSED:
        return None
    candidates = [m for m in target.exercise.mistakes if m.function == target.function.name]
    for case in cases:
        if not candidates:
            return None
        obtained, problem = obtain(target, case)
        if obtained is None or (problem is not None and problem.kind not in DIAGNOSED):
            return None
        candidates = [m for m in candidates if reproduces(m, target, case, obtained)]
    return candidates[0].id if len(candidates) == 1 else None
