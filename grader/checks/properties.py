"""The kinds of check, and the rule each applies to one input.

Trusted side. Each check is a small frozen dataclass with a ``strategy`` (the
inputs hypothesis draws) and a ``verify(target, case)`` that returns None or
a ``Failure``; ``engine.py`` runs hypothesis over them and shrinks, and
``catalog.py`` derives every exercise's checks from its spec. The student's
outputs arrive as plain tensors rebuilt from bytes (``contract.obtain``); the
reference runs here, in float64, on the same inputs (``target.Target``).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.contract import contract_failure, error_failure, judge, obtain, value_failure, where
from grader.checks.strategies import map_tensors
from grader.checks.target import Target, problem_size, tensor_names
from grader.exercise import Case, Property, Relation
from grader.feedback.messages import TITLES
from grader.results import Failure, Kind
from grader.sandbox.evaluate import tensors_in, vjp_objective


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

    def first_call(self) -> dict[str, Any] | None:
        """The flags of ``verify``'s first call, made on the case itself, so that it can be sent
        ahead (``Target.send_ahead``); None when that call is not known before ``verify`` runs."""
        return {}


@dataclass(frozen=True, slots=True)
class MatchesReference(Check):
    """Same structure, dtype, shape and values as the reference, within tolerance."""

    def verify(self, target: Target, case: Case) -> Failure | None:
        return judge(target, case)


@dataclass(frozen=True, slots=True)
class KeepsInputs(Check):
    """The inputs hold the same values (and were not written to) after the call."""

    def first_call(self) -> dict[str, Any] | None:
        return {"echo_inputs": True}

    def verify(self, target: Target, case: Case) -> Failure | None:
        reply = target.call(case, echo_inputs=True)
        if not reply.ok:  # the output's own contract is the values' check to judge, not this one's
            return error_failure(reply.error, reply.stage)
        args, kwargs = target.function.split(case)
        names = tensor_names(target.function, case)
        after = tensors_in(reply.inputs_after)
        for i, (name, before) in enumerate(zip(names, tensors_in((args, kwargs)), strict=False)):
            now = after[i] if i < len(after) else None
            same = (isinstance(now, torch.Tensor) and now.shape == before.shape
                    and now.dtype == before.dtype and torch.equal(now, before))
            if not same or i in reply.versions_changed:
                return Failure(Kind.MODIFIED_INPUT, {"argument": name})
        return None


@dataclass(frozen=True, slots=True)
class GradientsMatch(Check):
    """d(output · g)/d(input) for a fixed random g agrees with the reference's."""

    def first_call(self) -> dict[str, Any] | None:
        return None  # a copy of the case, made in ``verify``

    def verify(self, target: Target, case: Case) -> Failure | None:
        marked = _marked(case)
        cotangents, expected_grads = target.remembered("grad", case,
                                                       lambda _: _reference_gradients(target, marked))
        if expected_grads is None:
            return None
        reply = target.call(marked, cotangents=[c.float().double() for c in cotangents])
        _, failure = obtain(target, case, reply)
        if failure is not None:  # met with inputs that require grad: the snippet must show them so
            return dataclasses.replace(failure, detail={**failure.detail, "requires_grad": "1"})
        if reply.not_differentiable or reply.grads is None:
            return Failure(Kind.NOT_DIFFERENTIABLE, {"requires_grad": "1"})
        names = [n for n, t in zip(tensor_names(target.function, case), tensors_in(marked), strict=False)
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
    unreached = {"unreached": "1"} if not bool(got.any()) and bool(want.any()) else {}
    return {"argument": name, "grad_out": literal(upstream[0] if len(upstream) == 1 else tuple(upstream)),
            "got_grad": literal(got.to(dtype)), "want_grad": literal(want.to(dtype)), **unreached}


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

    def first_call(self) -> dict[str, Any] | None:
        return None  # two calls per input: sending the first ones ahead would change their order

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


