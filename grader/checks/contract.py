"""The contract every output is held to, and how a failure says what it is about.

Trusted side. ``obtain`` calls the student's function and checks its reply:
an exception becomes a classified ``Failure``; then type, structure, device,
dtype and shape (``contract_failure``), before any value is compared
(``value_failure``, against the float64 reference). Failures carry values and
names only (``where``: the output or an argument's gradient, and an index);
``feedback/`` words them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from grader.checks.compare import compare, tolerance
from grader.checks.target import Target, problem_size
from grader.exercise import Case
from grader.results import Failure, Kind
from grader.sandbox.messages import Reply, StudentError
from grader.sandbox.protocol import Foreign, Unreadable


def error_failure(error: StudentError | None, stage: str = "call") -> Failure:
    """An exception from student code, classified."""
    if error is None:
        return Failure(Kind.MALFORMED)
    detail = {"type": error.type, "message": error.message, "line": str(error.line or ""),
              "stage": stage}
    if error.type == "MissingFunction":
        return Failure(Kind.MISSING_FUNCTION, {"function": error.message})
    if error.not_implemented:
        return Failure(Kind.NOT_IMPLEMENTED, detail)
    if error.out_of_memory:
        return Failure(Kind.MEMORY_LIMIT, detail)
    return Failure(Kind.RAISED, detail)


def _unreadable(obtained: Unreadable, expected: torch.Tensor, place: dict[str, str]) -> Failure:
    """A tensor that came back without its values: why, in the terms the student wrote it in."""
    if obtained.info.get("unreadable") == "layout":  # x.to_sparse(), torch.nested
        return Failure(Kind.WRONG_LAYOUT, {**place, "layout": obtained.said("layout")})
    if obtained.info.get("unreadable") == "dtype":  # float8, quantized: a dtype no output of ours has
        return Failure(Kind.WRONG_DTYPE, {**place, "expected": str(expected.dtype),
                                          "obtained": obtained.said("dtype")})
    return Failure(Kind.WRONG_DEVICE, {**place, "expected": obtained.said("expected_device"),
                                       "obtained": obtained.said("device")})


def where(part: str = "output", argument: str = "", index: str = "") -> dict[str, str]:
    """What a failure is about, as data: the output or an argument's gradient, and an index path."""
    return {"part": part, "argument": argument, "index": index}


def _at(place: dict[str, str], i: int) -> dict[str, str]:
    return {**place, "index": f"{place['index']}[{i}]"}


def contract_failure(obtained: Any, expected: Any, place: dict[str, str] | None = None) -> Failure | None:
    """Type, structure, device, dtype and shape, before any value is compared."""
    place = place or where()
    if isinstance(expected, torch.Tensor):
        if isinstance(obtained, Foreign):
            kind = Kind.TENSOR_SUBCLASS if obtained.tensor_subclass else Kind.NOT_A_TENSOR
            return Failure(kind, {**place, "type": obtained.type_name})
        if isinstance(obtained, Unreadable):
            return _unreadable(obtained, expected, place)
        if not isinstance(obtained, torch.Tensor):
            return Failure(Kind.NOT_A_TENSOR, {**place, "type": type(obtained).__name__})
        if obtained.dtype != expected.dtype:
            return Failure(Kind.WRONG_DTYPE, {**place, "expected": str(expected.dtype),
                                              "obtained": str(obtained.dtype)})
        if obtained.shape != expected.shape:
            return Failure(Kind.WRONG_SHAPE, {**place, "expected": str(tuple(expected.shape)),
                                              "obtained": str(tuple(obtained.shape))})
        return None
    if isinstance(expected, tuple | list):
        if not isinstance(obtained, tuple | list) or len(obtained) != len(expected):
            got = ({"obtained_count": str(len(obtained))} if isinstance(obtained, tuple | list)
                   else {"obtained_type": _kind_of(obtained)})
            return Failure(Kind.WRONG_STRUCTURE, {**place, "expected_count": str(len(expected)), **got})
        for i, (o, e) in enumerate(zip(obtained, expected, strict=True)):
            if failure := contract_failure(o, e, _at(place, i)):
                return failure
    return None


def _kind_of(value: Any) -> str:
    return value.type_name if isinstance(value, Foreign) else type(value).__name__


def value_failure(obtained: Any, expected64: Any, size: int, scale: float,
                  place: dict[str, str] | None = None) -> Failure | None:
    """Compare every tensor of the output with the float64 reference."""
    place = place or where()
    if isinstance(expected64, torch.Tensor):
        tol = tolerance(obtained.dtype, size, scale)
        mismatch = compare(obtained, expected64, tol)
        if mismatch is None:
            return None
        kind = Kind.WRONG_VALUE if math.isfinite(mismatch.obtained) else Kind.NON_FINITE
        return Failure(kind, dict(place), mismatch=mismatch)
    if isinstance(expected64, tuple | list):
        for i, (o, e) in enumerate(zip(obtained, expected64, strict=True)):
            if failure := value_failure(o, e, size, scale, _at(place, i)):
                return failure
    return None



def judge(target: Target, case: Case) -> Failure | None:
    """The student's output on ``case`` against the float64 reference: contract, then values."""
    result, failure = obtain(target, case)
    if failure is not None:
        return failure
    expected = target.reference64(case)
    return value_failure(result, expected, problem_size(case), target.function.tolerance_scale)


def obtain(target: Target, case: Case, reply: Reply | None = None) -> tuple[Any, Failure | None]:
    """Call the student function; check the reply and its contract."""
    reply = reply or target.call(case)
    if not reply.ok:  # a forbidden built-in fails its own check only: the values are still judged
        return None, error_failure(reply.error, reply.stage)
    return reply.result, contract_failure(reply.result, target.reference(case))


