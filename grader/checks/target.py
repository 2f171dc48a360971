"""What a check talks to: one function of an exercise behind a runner, and the reference beside it.

Trusted side. ``Target.call`` sends one input to the student's function (through a
``Runner``); ``Target.reference`` and ``reference64`` compute the reference's
outputs here, in the input's dtype and in float64, kept in a ``Memo`` across the
submissions of a class run (the same inputs give the same outputs).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.checks.strategies import map_tensors
from grader.exercise import Case, Exercise, Function
from grader.sandbox.evaluate import tensors_in
from grader.sandbox.messages import Call, Reply, WorkerGone
from grader.sandbox.runner import Runner


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


@dataclass(slots=True)
class KeptAnswers:
    """The student's answers kept while a failure is explained (``Target.answering_once``)."""

    keeping: int = 0
    """How many ``answering_once`` scopes are open (they nest)."""
    answers: dict[tuple[int, str], tuple[Case, Reply]] = field(default_factory=dict)
    """By (id of the case, flags); the case is kept so that its id is not reused meanwhile."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a check talks to: one function of one exercise, behind a runner."""

    exercise: Exercise
    function: Function
    runner: Runner
    memo: Memo | None = None
    """Reference outputs by input, kept across submissions in a class run (see ``Replays``)."""
    ahead: dict[tuple[int, str], tuple[Case, Reply | WorkerGone]] = field(default_factory=dict)
    """Answers to calls sent ahead (``send_ahead``), by (id of the case, flags), until asked for."""
    kept: KeptAnswers = field(default_factory=lambda: KeptAnswers())
    """Answers given while ``answering_once`` is in force."""

    def call(self, case: Case, **flags: Any) -> Reply:
        key = (id(case), repr(flags))
        given = self.ahead.pop(key, None) or self.kept.answers.get(key)  # sent ahead, or asked before
        if given is not None and given[0] is case:
            answer = given[1]
        else:
            answer = self.runner.call(self._call(case, flags))
        if isinstance(answer, WorkerGone):
            raise answer
        if self.kept.keeping:
            self.kept.answers[key] = (case, answer)
        return answer

    @contextlib.contextmanager
    def answering_once(self) -> Iterator[None]:
        """Within: the same input object asked about again gets the answer it got, without a call.

        Explaining a failure asks about inputs the check already asked about (the failing ones
        it found, then the same drawn inputs for the diagnosis and for the signature).
        """
        self.kept.keeping += 1
        try:
            yield
        finally:
            self.kept.keeping -= 1
            if not self.kept.keeping:
                self.kept.answers.clear()

    def send_ahead(self, cases: list[Case], flags: dict[str, Any]) -> None:
        """Call the student's function on ``cases`` now, in one pipelined exchange, for ``call`` to
        answer later: the same answers, in the same order, as calling them one by one. A process
        that stops on one leaves that call's ``WorkerGone`` for ``call`` to raise in its turn."""
        answers = self.runner.call_many([self._call(case, flags) for case in cases])
        for case, answer in zip(cases, answers, strict=False):
            self.ahead[id(case), repr(flags)] = (case, answer)

    def forget_ahead(self) -> None:
        """Drop answers sent ahead and never asked for (the check stopped before their turn)."""
        self.ahead.clear()

    def _call(self, case: Case, flags: dict[str, Any]) -> Call:
        args, kwargs = self.function.split(case)
        return Call(self.function.name, args, kwargs, forbidden=self.exercise.forbidden, **flags)

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



def upcast(case: Case) -> Case:
    """The same input with every float tensor in float64 (the reference's precision)."""
    wide: Case = map_tensors(copy.deepcopy(case), lambda t: t.double() if t.is_floating_point() else t)
    return wide


def problem_size(case: Case) -> int:
    sizes = [t.numel() for t in tensors_in(case)]
    return max(sizes, default=1)


def tensor_names(function: Function, case: Case) -> list[str]:
    """A name for every tensor of ``case``, in ``tensors_in``'s order, as Python reaches it."""
    return [name for p in function.parameters if p.name in case for name in _paths(case[p.name], p.name)]


def _paths(value: Any, path: str) -> list[str]:
    """``x``; ``weights[0]``; ``params['norm1.bias']``: each tensor inside ``value``, by how to reach it."""
    if isinstance(value, torch.Tensor):
        return [path]
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in _paths(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _paths(item, f"{path}[{key!r}]")]
    return []
