"""The checks every exercise gets, and the rules they apply to one input.

Trusted side. Each check is a small frozen dataclass with a ``strategy`` (the
inputs hypothesis draws) and a ``verify(target, case)`` that returns None or
a ``Failure``; ``engine.py`` runs hypothesis over them and shrinks. The
student's outputs arrive as plain tensors rebuilt from bytes; the reference
runs here, in float64, on the same inputs.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.compare import compare, tolerance
from grader.checks.strategies import map_tensors, with_layouts
from grader.exercise import Case, Exercise, Function, Property, Relation
from grader.feedback.messages import TITLES
from grader.results import Failure, Kind
from grader.sandbox.evaluate import tensors_in, vjp_objective
from grader.sandbox.messages import Call, Reply, StudentError
from grader.sandbox.protocol import Foreign, Unreadable


class Memo:
    """Trusted values computed from inputs (reference outputs, gradients), kept by input.

    A class run meets the same recorded inputs for every student (``Replays``):
    an input met again as the same object is found by identity, at no cost;
    any other input by a digest of its values (which a release's bank stores).
    """

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.same: dict[tuple[str, int], tuple[Case, Any]] = {}
        """By (key, id(case)); the case is kept so that its id is not reused while it is here."""

    def get(self, key: str, case: Case, compute: Callable[[Case], Any], by_value: bool = True) -> Any:
        """``compute(case)``, computed once per input; ``by_value=False``: once per input object."""
        hit = self.same.get((key, id(case)))
        if hit is not None and hit[0] is case:
            return hit[1]
        if len(self.values) >= MEMO_SIZE or len(self.same) >= MEMO_SIZE:
            self.values.clear()
            self.same.clear()
        if by_value:
            named = f"{key}:{digest(case)}"
            if named not in self.values:
                self.values[named] = compute(case)
            value = self.values[named]
        else:
            value = compute(case)
        self.same[key, id(case)] = (case, value)
        return value


MEMO_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class Target:
    """What a check talks to: one function of one exercise, behind a runner."""

    exercise: Exercise
    function: Function
    runner: Any  # SandboxRunner | LocalRunner: .call(Call) -> Reply
    memo: Memo | None = None
    """Reference outputs by input, kept across submissions in a class run (see ``Replays``)."""

    def call(self, case: Case, **flags: Any) -> Reply:
        args, kwargs = self.function.split(case)
        reply: Reply = self.runner.call(Call(self.function.name, args, kwargs,
                                             forbidden=self.exercise.forbidden, **flags))
        return reply

    def reference(self, case: Case) -> Any:
        """The reference's output on ``case`` (never modified by its callers, so it can be shared)."""
        return self.remembered("out", case, self._reference)

    def reference64(self, case: Case) -> Any:
        """The reference's output on ``case`` with every float input in float64."""
        return self.remembered("out64", case, lambda c: self._call_reference(upcast(c)))

    def remembered(self, tag: str, case: Case, compute: Callable[[Case], Any], by_value: bool = True) -> Any:
        """``compute(case)``, kept in ``memo`` (when there is one; see ``Memo.get``)."""
        if self.memo is None:
            return compute(case)
        return self.memo.get(f"{tag}:{self.function.name}", case, compute, by_value)

    def _reference(self, case: Case) -> Any:
        return self._call_reference(copy.deepcopy(case))

    def _call_reference(self, private: Case) -> Any:
        args, kwargs = self.function.split(private)
        return self.function.reference(*args, **kwargs)


def digest(case: Case) -> str:
    """A short name for an input's values, dtypes and shapes (layout and autograd flags aside)."""
    return hashlib.sha256(repr(fingerprint(case)).encode()).hexdigest()[:32]


def fingerprint(value: Any) -> Any:
    """A hashable stand-in for an input: equal for inputs with equal values, dtypes and shapes."""
    if isinstance(value, torch.Tensor):
        data = value.detach().contiguous().view(-1).view(torch.uint8) if value.numel() else value
        return ("tensor", str(value.dtype), tuple(value.shape), bytes(data.numpy()) if value.numel() else b"")
    if isinstance(value, dict):
        return ("dict", tuple((k, fingerprint(v)) for k, v in sorted(value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(fingerprint(v) for v in value))
    return ("value", repr(value))


# --- the rules ------------------------------------------------------------------------


OUT_OF_MEMORY = ("can't allocate memory", "Cannot allocate memory", "out of memory")


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
    if error.type == "MemoryError" or any(s in error.message for s in OUT_OF_MEMORY):
        return Failure(Kind.MEMORY_LIMIT, detail)
    return Failure(Kind.RAISED, detail)


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
            return Failure(Kind.WRONG_DEVICE, {**place,
                                               "expected": str(obtained.info.get("expected_device")),
                                               "obtained": str(obtained.info.get("device"))})
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


def upcast(case: Case) -> Case:
    """The same input with every float tensor in float64 (the reference's precision)."""
    wide: Case = map_tensors(copy.deepcopy(case), lambda t: t.double() if t.is_floating_point() else t)
    return wide


def problem_size(case: Case) -> int:
    sizes = [t.numel() for t in tensors_in(case)]
    return max(sizes, default=1)


def obtain(target: Target, case: Case, reply: Reply | None = None) -> tuple[Any, Failure | None]:
    """Call the student function; check the reply and its contract."""
    reply = reply or target.call(case)
    if not reply.ok:  # a forbidden built-in fails its own check only: the values are still judged
        return None, error_failure(reply.error, reply.stage)
    return reply.result, contract_failure(reply.result, target.reference(case))


# --- the checks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """Base of every check: a name, a weight, a strategy and a rule."""

    kind: str
    function: str
    variant: str
    strategy: st.SearchStrategy[Case]
    weight: float = 1.0
    effort: float = 1.0
    """Share of the exercise's examples this check draws: a rule that any input
    shows (an in-place write, a missing grad) needs fewer than a value check."""
    variant_ko: str = ""
    """The variant's Korean name, when it has words (a dtype has none)."""

    @property
    def name(self) -> str:
        """The check's one name, the same in every view: its English title (``messages.TITLES``)."""
        suffix = f" ({self.variant})" if self.variant else ""
        return f"{self.function}: {TITLES[self.kind]['en']}{suffix}"

    def verify(self, target: Target, case: Case) -> Failure | None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class MatchesReference(Check):
    """Same structure, dtype, shape and values as the reference, within tolerance."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        result, failure = obtain(target, case)
        if failure is not None:
            return failure
        expected = target.reference64(case)
        return value_failure(result, expected, problem_size(case), target.function.tolerance_scale)


@dataclass(frozen=True, slots=True)
class KeepsInputs(Check):
    """The inputs hold the same values (and were not written to) after the call."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        reply = target.call(case, echo_inputs=True)
        _, failure = obtain(target, case, reply)
        if failure is not None:
            return failure
        args, kwargs = target.function.split(case)
        names = _tensor_names(target.function, case)
        after = tensors_in(reply.inputs_after)
        for i, (name, before) in enumerate(zip(names, tensors_in((args, kwargs)), strict=False)):
            now = after[i] if i < len(after) else None
            same = (isinstance(now, torch.Tensor) and now.shape == before.shape
                    and now.dtype == before.dtype and torch.equal(now, before))
            if not same or i in reply.versions_changed:
                return Failure(Kind.MODIFIED_INPUT, {"argument": name})
        return None


def _tensor_names(function: Function, case: Case) -> list[str]:
    names: list[str] = []
    for p in function.parameters:
        if p.name in case:
            count = len(tensors_in(case[p.name]))
            names += [p.name] if count == 1 else [f"{p.name}[{i}]" for i in range(count)]
    return names


@dataclass(frozen=True, slots=True)
class GradientsMatch(Check):
    """d(output · g)/d(input) for a fixed random g agrees with the reference's."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        marked = _marked(case)
        cotangents, expected_grads = target.remembered("grad", case,
                                                       lambda _: _reference_gradients(target, marked))
        if expected_grads is None:
            return None
        reply = target.call(marked, cotangents=[c.float().double() for c in cotangents])
        _, failure = obtain(target, case, reply)
        if failure is not None:
            return failure
        if reply.not_differentiable or reply.grads is None:
            return Failure(Kind.NOT_DIFFERENTIABLE)
        names = [n for n, t in zip(_tensor_names(target.function, case), tensors_in(marked), strict=False)
                 if t.requires_grad]
        size = problem_size(case)
        for name, got, want, leaf in zip(names, reply.grads, expected_grads, _leaves(marked), strict=False):
            place = where("gradient", name)
            if failure := contract_failure(got, leaf.detach(), place):
                return failure
            scale = 4 * target.function.tolerance_scale
            found = value_failure(got, want, size, scale, place)
            if found is not None:
                return Failure(Kind.WRONG_GRADIENT, _gradient_detail(name, cotangents, got, want, leaf),
                               mismatch=found.mismatch)
        return None


def _gradient_detail(name: str, cotangents: list[torch.Tensor], got: torch.Tensor, want: torch.Tensor,
                     leaf: torch.Tensor) -> dict[str, str]:
    """What reproduces a gradient failure: the upstream gradient the check used, and both gradients.

    With them, ``torch.autograd.backward(out, grad_out)`` on the shown input gives the student's
    gradient; ``.sum().backward()`` would not (the check weighs each output by ``grad_out``).
    """
    from grader.checks.snippets import literal

    dtype = leaf.dtype
    upstream = [c.to(dtype) for c in cotangents]
    return {"argument": name, "grad_out": literal(upstream[0] if len(upstream) == 1 else tuple(upstream)),
            "got_grad": literal(got.to(dtype)), "want_grad": literal(want.to(dtype))}


def _marked(case: Case) -> Case:
    """A copy of ``case`` whose float tensors require grad."""
    marked: Case = map_tensors(case, lambda t: t.detach().clone().requires_grad_(t.is_floating_point()))
    return marked


def _leaves(case: Case) -> list[torch.Tensor]:
    return [t for t in tensors_in(case) if t.requires_grad]


def _reference_gradients(target: Target, marked: Case) -> tuple[list[Any], list[torch.Tensor] | None]:
    """Cotangents exact in float32, and the reference's float64 gradients for them."""
    wide = map_tensors(marked, lambda t: t.detach().double().requires_grad_() if t.requires_grad else t)
    leaves = _leaves(wide)
    args, kwargs = target.function.split(wide)
    outputs = [o for o in tensors_in(target.function.reference(*args, **kwargs)) if o.requires_grad]
    if not outputs or not leaves:
        return [], None
    generator = torch.Generator().manual_seed(0)
    cotangents = [torch.randn(o.shape, generator=generator, dtype=torch.float32).double() for o in outputs]
    grads = torch.autograd.grad(vjp_objective(list(zip(outputs, cotangents, strict=True))), leaves,
                                allow_unused=True)
    filled = [torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads, strict=True)]
    return cotangents, [g.detach() for g in filled]


@dataclass(frozen=True, slots=True)
class RaisesValueError(Check):
    """Inputs the spec rules out raise ValueError."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        reply = target.call(case)
        if not reply.ok and reply.error is not None and reply.error.is_value_error:
            return None
        if not reply.ok and reply.error is not None and (
                reply.error.not_implemented or reply.error.type == "MissingFunction"):
            return error_failure(reply.error)
        raised = reply.error.type if reply.error else ""
        return Failure(Kind.NO_VALUE_ERROR, {"raised": raised, "case": self.variant})


def rule_broken(rule: Property | Relation, broken: dict[str, str] | None) -> Failure | None:
    """The failure for a broken rule, stated in both languages; None when it held."""
    if broken is None:
        return None
    return Failure(Kind.OUT_OF_RANGE, {"rule_en": rule.en, "rule_ko": rule.ko, **broken})


@dataclass(frozen=True, slots=True)
class Holds(Check):
    """A property of the output alone (values in (0, 1), rows sum to 1, ...)."""

    rule: Property | None = None

    def verify(self, target: Target, case: Case) -> Failure | None:
        result, failure = obtain(target, case)
        if failure is not None:
            return failure
        assert self.rule is not None
        return rule_broken(self.rule, self.rule.holds(case, result))


@dataclass(frozen=True, slots=True)
class Relates(Check):
    """A rule across two calls: the output on a related input relates to the first output."""

    relation: Relation | None = None

    def verify(self, target: Target, case: Case) -> Failure | None:
        assert self.relation is not None
        result, failure = obtain(target, case)
        if failure is not None:
            return failure
        relation = self.relation
        other = target.remembered(f"related:{relation.key}", case,
                                  lambda c: relation.transform(copy.deepcopy(c)), by_value=False)
        if other is None:
            return None
        other_result, failure = obtain(target, other)
        if failure is not None:
            return failure
        return rule_broken(self.relation, self.relation.holds(case, result, other, other_result))


@dataclass(frozen=True, slots=True)
class NoForbiddenCalls(Check):
    """No built-in the exercise asks the student to write themselves."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        reply = target.call(case)
        if reply.forbidden_calls:
            return Failure(Kind.FORBIDDEN_CALL, {"calls": ", ".join(reply.forbidden_calls)})
        if not reply.ok:
            return error_failure(reply.error, reply.stage)
        return None


# --- the standard set ----------------------------------------------------------------


def _dtype_label(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


DTYPE_LABELS = tuple(_dtype_label(d) for d in (torch.float16, torch.bfloat16, torch.float32, torch.float64))
"""The variants of a function's main value checks (one per float dtype it takes)."""


def _any_dtype(cases: Callable[[torch.dtype], st.SearchStrategy[Case]],
               dtypes: Any) -> st.SearchStrategy[Case]:
    # One strategy per dtype, built once: hypothesis validates a strategy the first time it is drawn.
    built = {dtype: cases(dtype) for dtype in dtypes}
    return st.sampled_from(list(dtypes)).flatmap(built.__getitem__)


def standard_checks(exercise: Exercise) -> list[Check]:
    """Every check an exercise gets, derived from its spec (or, in a student release, from its bank)."""
    if exercise.bank is not None:
        return list(exercise.bank.checks)
    checks: list[Check] = []
    for fn in exercise.functions:
        # A function with no float inputs (a mask builder) is checked once, with dtype None.
        name, dtypes = fn.name, tuple(fn.float_dtypes) or (None,)
        for dtype in dtypes:
            label = _dtype_label(dtype) if dtype is not None and len(dtypes) > 1 else ""
            checks.append(MatchesReference("matches-reference", name, label,
                                           with_layouts(fn.inputs(dtype)), weight=2.0))
        for label, cases in fn.edge_cases.items():
            checks.append(MatchesReference("matches-reference", name, label, _any_dtype(cases, dtypes),
                                           variant_ko=fn.names_ko.get(label, "")))
        every = _any_dtype(fn.inputs, dtypes)
        checks.append(KeepsInputs("keeps-inputs", name, "", with_layouts(every), effort=0.4))
        if fn.differentiable:
            checks.append(GradientsMatch("gradients-match", name, "", every, effort=0.6))
        for label, bad in fn.invalid.items():
            checks.append(RaisesValueError("raises-value-error", name, label, bad, effort=0.4,
                                           variant_ko=fn.names_ko.get(label, "")))
        for rule in fn.properties:
            checks.append(Holds("holds", name, rule.key, every, rule=rule, effort=0.6,
                                variant_ko=rule.key_ko))
        for relation in fn.relations:
            checks.append(Relates("holds", name, relation.key, every, relation=relation, effort=0.4,
                                  variant_ko=relation.key_ko))
        if exercise.forbidden:
            checks.append(NoForbiddenCalls("no-forbidden-calls", name, "", every, weight=2.0, effort=0.4))
    return checks
