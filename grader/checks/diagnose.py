"""Which known mistake reproduces the student's output (or error).

Trusted side. The mistakes are the course's own functions and run here; the
student's outputs are the ones received from the student's process.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from grader.checks.contract import contract_failure, obtain, value_failure
from grader.checks.target import Target, fingerprint, problem_size, upcast
from grader.exercise import Case, Mistake
from grader.results import Failure, Kind

DIAGNOSED = {Kind.WRONG_VALUE, Kind.NON_FINITE, Kind.WRONG_SHAPE, Kind.WRONG_DTYPE,
             Kind.WRONG_STRUCTURE, Kind.OUT_OF_RANGE, Kind.RAISED, Kind.NO_VALUE_ERROR}
VALUE_KINDS = DIAGNOSED - {Kind.RAISED, Kind.NO_VALUE_ERROR}

Behaviour = tuple[str, Any]
"""What the student's function did on one input: ("value", output), ("raised", type name),
("no-value-error", None) or ("other", None) when nothing can be compared."""


def behaviour(target: Target, case: Case, kind: Kind) -> Behaviour:
    if kind is Kind.NO_VALUE_ERROR:
        reply = target.call(case)
        raised = not reply.ok and reply.error is not None and reply.error.is_value_error
        return ("other", None) if raised else ("no-value-error", None)
    obtained, problem = obtain(target, case)
    if problem is not None and problem.kind is Kind.RAISED:
        return ("raised", (problem.detail.get("type"), _said(problem.detail.get("message", ""))))
    if obtained is None or (problem is not None and problem.kind not in VALUE_KINDS):
        return ("other", None)
    return ("value", obtained)


def reproduces(mistake: Mistake, target: Target, case: Case, seen: Behaviour) -> bool:
    """Whether ``mistake``, written any of its ways, does on ``case`` what the student's function did."""
    return any(_reproduces(f"mistake:{mistake.id}:{n}", way, target, case, seen)
               for n, way in enumerate(mistake.ways()))


def _reproduces(key: str, way: Callable[..., Any], target: Target, case: Case, seen: Behaviour) -> bool:
    what, obtained = seen
    native, wide = target.remembered(key, case, lambda c: mistake_outputs(way, target, c), by_value=False)
    if isinstance(native, Exception):
        if what == "no-value-error":
            return not isinstance(native, ValueError)
        # The same exception for the same reason: a RuntimeError of numpy() is not one of a matmul.
        return what == "raised" and (type(native).__name__, _said(str(native))) == obtained
    if what == "no-value-error":
        return True
    if what != "value" or contract_failure(obtained, native) is not None or isinstance(wide, Exception):
        return False
    return value_failure(obtained, wide, problem_size(case), target.function.tolerance_scale) is None


def _said(message: str) -> str:
    """An exception's message as compared: its first line, trimmed (as the student's arrives, cleaned)."""
    from grader.sandbox.messages import clean

    return clean(message.strip().splitlines()[0] if message.strip() else "", 200)


def mistake_outputs(way: Callable[..., Any], target: Target, case: Case) -> tuple[Any, Any]:
    """What a mistake (one ``way`` it is written) returns or raises on ``case`` and on its float64 copy."""
    args, kwargs = target.function.split(copy.deepcopy(case))
    try:
        native = way(*args, **kwargs)
    except Exception as exc:
        return exc.with_traceback(None), None
    try:
        args, kwargs = target.function.split(upcast(case))
        return native, way(*args, **kwargs)
    except Exception as exc:
        return native, exc.with_traceback(None)


def diagnose(target: Target, cases: list[Case], failure: Failure) -> str | None:
    """The id of the one known mistake that does what the student's function did on every case.

    ``cases`` are failing inputs: the shrunk one first, then the first few the
    search found and a few freshly generated. The shrunk input alone is often
    too small to tell mistakes apart (with d_k = 1, "no scaling" and "divided
    by d_k" agree), so every candidate must reproduce the student on all of them.
    When no single mistake does, two slips together may (``Exercise.pairs``).
    """
    if failure.kind not in DIAGNOSED:
        return None
    function = target.function.name
    seen: list[Behaviour] = []  # the student's behaviour on cases[n], asked once for both families
    for family in (target.exercise.mistakes, target.exercise.pairs()):
        candidates = [m for m in family if m.function == function]
        for n, case in enumerate(cases):
            if not candidates:
                break
            if n == len(seen):
                seen.append(behaviour(target, case, failure.kind))
            if seen[n][0] == "other":
                return None
            candidates = [m for m in candidates if reproduces(m, target, case, seen[n])]
        if len(candidates) == 1:
            return candidates[0].id
    return None


SIGNED = frozenset({Kind.WRONG_VALUE, Kind.NON_FINITE, Kind.OUT_OF_RANGE})
"""Failures whose wrong values are worth comparing across students (``signature``)."""


def signature(target: Target, drawn: list[Case], failure: Failure) -> str:
    """A digest of what the student's function returns on ``drawn``, for a failure no known mistake explains.

    ``drawn`` are the inputs every submission of the exercise meets (derandomized),
    so two students whose unexplained wrong values are bit-identical get the same
    signature: rare by chance, a lead for a human (``similarity``). "" when there is
    nothing distinctive to compare: no value came back, or every value is a constant.
    """
    from grader.sandbox.evaluate import tensors_in

    if failure.kind not in SIGNED or failure.suspected_mistake is not None or not drawn:
        return ""
    seen = [behaviour(target, case, Kind.WRONG_VALUE) for case in drawn]
    values = [t for what, value in seen if what == "value" for t in tensors_in(value)]
    if all(t.numel() < 2 or bool((t == t.flatten()[0]).all()) for t in values):
        return ""
    shape = repr([(what, fingerprint(value)) for what, value in seen])
    return hashlib.sha256(shape.encode()).hexdigest()[:24]
