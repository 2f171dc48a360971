"""A bank of inputs and the reference's outputs on them: grading without the reference.

Trusted side. For a student release the instructor records, per check, the
inputs a seeded search meets on the reference, and every reference output the
checks need on them (values, float64 values, gradients). The release grades
against that bank: the same checks, in the same order, on the same inputs,
with no reference code and no known mistakes anywhere in it. The bank is one
frame of the sandbox's wire format (a JSON header and raw tensor bytes):
data only, read without pickle.

The seed differs from the official grader's own inputs (derandomized, fresh
to anyone without the specs), so a table of the bank's answers earns nothing
in the official grade.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from grader.checks import properties
from grader.checks.catalog import standard_checks
from grader.checks.engine import Replays, record
from grader.checks.properties import Check, Holds
from grader.checks.relations import rebuild, recipe_data
from grader.checks.target import Memo, Target
from grader.errors import CourseConfigError, NotInBank
from grader.exercise import Exercise, Function, Hint
from grader.sandbox import protocol
from grader.sandbox.evaluate import tensors_in
from grader.sandbox.runner import LocalRunner

FORMAT = "seqgrade-bank/2"  # 2: float64 reference outputs under "out64"
CHECK_CLASSES = {cls.__name__: cls for cls in (
    properties.MatchesReference, properties.KeepsInputs, properties.GradientsMatch,
    properties.RaisesValueError, properties.NoForbiddenCalls, properties.Holds, properties.Relates)}
"""The checks a bank can carry: those that need the reference only through its outputs (and rules
built by the portable helpers of ``checks.relations``)."""


def build(exercise: Exercise, seed: int) -> bytes:
    """Record ``exercise``'s checks on its reference (inputs from ``seed``) as one frame."""
    memo = Memo()
    runner = LocalRunner(exercise.references())
    buffers: list[bytes] = []
    checks = []
    for check in standard_checks(exercise):
        rule = _rule(check)
        if rule is not None and rule.recipe is None:
            continue  # a rule written in the spec by hand stays with the official grader
        target = Target(exercise, exercise.function(check.function), runner, memo)
        examples = max(1, round(exercise.examples * check.effort))
        # Smallest first: without a shrinker, the first failing input is then as small as the bank has.
        cases = sorted(record(check, target, examples, seed), key=_size)
        checks.append({"class": type(check).__name__, "kind": check.kind, "function": check.function,
                       "variant": check.variant, "variant_ko": check.variant_ko, "weight": check.weight,
                       "effort": check.effort, "cases": [protocol.encode(c, buffers) for c in cases],
                       "rule": None if rule is None else recipe_data(rule)})
    header = {
        "format": FORMAT, "exercise": exercise.id, "forbidden": list(exercise.forbidden),
        "examples": exercise.examples, "checks": checks,
        "hints": [[h.en, h.ko] for h in exercise.hints],
        "functions": [{"name": f.name, "parameters": [[p.name, p.default is not inspect.Parameter.empty]
                                                      for p in f.parameters],
                       "tolerance_scale": f.tolerance_scale, "differentiable": f.differentiable}
                      for f in exercise.functions],
        "memo": {key: protocol.encode(value, buffers) for key, value in memo.values.items()},
    }
    return protocol.pack(header, buffers)


def _rule(check: Check) -> Any:
    """The rule a Holds or Relates check applies (None for the other checks)."""
    return getattr(check, "rule", None) or getattr(check, "relation", None)


def _size(case: Any) -> int:
    return sum(t.numel() for t in tensors_in(case))


@dataclass(frozen=True, slots=True)
class Bank:
    """A loaded bank: the checks to run, and the inputs and outputs they meet."""

    checks: tuple[Check, ...]
    replays: Replays


MAX_BANK_BYTES = 256 << 20


def load(path: Path, exercise_id: str) -> Exercise:
    """An ``Exercise`` whose references answer from the bank at ``path`` (and only from it)."""
    try:
        if path.stat().st_size > MAX_BANK_BYTES:
            raise ValueError(f"{path.stat().st_size} bytes, more than a bank holds ({MAX_BANK_BYTES})")
        header, buffers = protocol.unpack(path.read_bytes())
        if header.get("format") != FORMAT or header.get("exercise") != exercise_id:
            raise protocol.ProtocolError("not a bank for this exercise")
        memo = {str(k): protocol.decode(v, buffers, strict=False) for k, v in header["memo"].items()}
        functions = [_function(f) for f in header["functions"]]
        checks, cases = [], {}
        for item in header["checks"]:
            kind = CHECK_CLASSES[item["class"]]
            check = kind(item["kind"], item["function"], item["variant"], st.nothing(), weight=item["weight"],
                         effort=item["effort"], variant_ko=item["variant_ko"])
            if item.get("rule") is not None:
                rule = rebuild(item["rule"])
                field = "rule" if isinstance(check, Holds) else "relation"
                check = replace(check, **{field: rule})
            checks.append(check)
            cases[check.name] = [protocol.decode(c, buffers, strict=False) for c in item["cases"]]
    except (OSError, KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError,
            protocol.ProtocolError) as exc:
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise CourseConfigError(f"{exercise_id}: cannot read the bank ({reason})", where=str(path)) from None
    replays = Replays(only=True)
    replays.memo = Memo(memo)
    hints = [Hint(str(en), str(ko)) for en, ko in header.get("hints", [])]
    exercise = Exercise(id=exercise_id, functions=functions, forbidden=tuple(header["forbidden"]),
                        examples=int(header["examples"]), hints=hints, bank=Bank(tuple(checks), replays))
    for check in checks:
        replays.preload(exercise, check, cases[check.name])
    return exercise


def _function(data: dict[str, Any]) -> Function:
    return Function(name=data["name"], reference=_oracle(data["name"], data["parameters"]),
                    inputs=_no_inputs, tolerance_scale=float(data["tolerance_scale"]),
                    differentiable=bool(data["differentiable"]))


def _no_inputs(dtype: Any) -> st.SearchStrategy[Any]:
    return st.nothing()


def _oracle(name: str, parameters: list[list[Any]]) -> Callable[..., Any]:
    """A stand-in with the reference's signature; the bank answers for it, so it is never called."""

    def oracle(*args: Any, **kwargs: Any) -> Any:
        raise NotInBank(f"{name}: this input is not in the bank (a release grades the bank's inputs only)")

    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD
    oracle.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(p, kinds, default=None if has_default else inspect.Parameter.empty)
         for p, has_default in parameters])
    oracle.__name__ = name
    return oracle
