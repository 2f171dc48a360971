"""Exercise, Function, Mistake: what an exercise spec fills in.

Trusted side. A spec file (``solutions/exNN_<slug>_spec.py``) builds one
``Exercise`` named ``EXERCISE`` next to its reference: the inputs as
hypothesis strategies, the reference, the properties and the known mistakes.
The framework derives the standard checks from it (see ``checks/catalog.py``),
so adding an exercise needs no change to ``grader/``.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from hypothesis import strategies as st

from grader.errors import CourseConfigError

Case = dict[str, Any]
"""One input: argument name -> value, in the function's parameter order."""

Cases = Callable[[torch.dtype | None], st.SearchStrategy[Case]]
"""Inputs for one float dtype (None for a function with no float inputs)."""


@dataclass(frozen=True, slots=True)
class Property:
    """A rule the output must obey beyond agreeing with the reference.

    ``holds(case, output)`` returns None when the rule holds, else a short
    English description of what broke (rendered as data, in both languages,
    by the catalog through ``key``).
    """

    key: str
    en: str
    ko: str
    holds: Callable[[Case, Any], dict[str, str] | None]
    key_ko: str = ""
    """The rule's short name in Korean, shown in check titles."""
    recipe: Any = None
    """How to build the rule again (``relations.portable``): lets it travel to a student release."""


@dataclass(frozen=True, slots=True)
class Relation:
    """A rule that links the outputs on two related inputs (a metamorphic property).

    ``transform(case)`` gives the related input (None when the rule says nothing
    about this case); ``holds(case, output, other_case, other_output)`` returns
    None when the rule holds, else values for the message (``found``).
    """

    key: str
    en: str
    ko: str
    transform: Callable[[Case], Case | None]
    holds: Callable[[Case, Any, Case, Any], dict[str, str] | None]
    key_ko: str = ""
    """The rule's short name in Korean, shown in check titles."""
    recipe: Any = None
    """How to build the rule again (``relations.portable``): lets it travel to a student release."""


@dataclass(frozen=True, slots=True)
class Hint:
    """One step of an exercise's graded hints: each says more than the one before."""

    en: str
    ko: str


@dataclass(frozen=True, slots=True)
class Switched:
    """A wrong implementation made by turning switches of one builder, e.g. ``_cell(inverted=True)``.

    Real code often holds two slips at once. Two mistakes built by the same
    builder from different switches combine (``Exercise.pairs``), so the
    diagnosis can name both without a hand-written entry for every pair.
    """

    build: Callable[..., Callable[..., Any]]
    switches: tuple[tuple[str, Any], ...]
    impl: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.impl(*args, **kwargs)

    def combine(self, other: Switched) -> Switched | None:
        """Both slips at once, or None when they come from different builders or turn the same switch."""
        mine, theirs = dict(self.switches), dict(other.switches)
        if self.build is not other.build or mine.keys() & theirs.keys():
            return None
        return switched(self.build, **mine, **theirs)


def switched(build: Callable[..., Callable[..., Any]], **switches: Any) -> Switched:
    """``build(**switches)``, remembered as a builder and its switches so that it can combine."""
    return Switched(build, tuple(switches.items()), build(**switches))


@dataclass(frozen=True, slots=True)
class Mistake:
    """A classic wrong implementation, with a stable id and its explanation."""

    id: str
    function: str
    impl: Callable[..., Any]
    en: str
    ko: str
    parts: tuple[str, ...] = ()
    """For two slips found together (``Exercise.pairs``): the ids of the two mistakes."""
    also: tuple[Callable[..., Any], ...] = ()
    """The same slip as written another way, where the ways differ on some inputs (-1e9 where ``impl``
    has -inf): the student is told this mistake when ``impl`` or any of these reproduces them."""

    def ways(self) -> tuple[Callable[..., Any], ...]:
        return (self.impl, *self.also)


@functools.cache
def _parameters(function: Callable[..., Any]) -> tuple[inspect.Parameter, ...]:
    return tuple(inspect.signature(function).parameters.values())


@dataclass(frozen=True, slots=True)
class Function:
    """One student function: its reference, inputs and rules."""

    name: str
    reference: Callable[..., Any]
    inputs: Cases
    """The widest valid inputs for one dtype (both dtypes are always checked)."""
    edge_cases: Mapping[str, Cases] = field(default_factory=dict)
    """Named inputs that expose classic numerical slips (huge values, -inf, empty rows)."""
    invalid: Mapping[str, st.SearchStrategy[Case]] = field(default_factory=dict)
    """Named inputs the spec says must raise ValueError."""
    properties: Sequence[Property] = ()
    relations: Sequence[Relation] = ()
    """Rules across two calls: shift invariance, batch rows independent, the past unaffected by the future."""
    differentiable: bool = True
    """Whether gradients through the float inputs must agree with the reference's."""
    float_dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64)
    tolerance_scale: float = 1.0
    names_ko: Mapping[str, str] = field(default_factory=dict)
    """Korean names of the edge cases and invalid cases, shown in check titles."""

    @property
    def parameters(self) -> list[inspect.Parameter]:
        return list(_parameters(self.reference))

    def split(self, case: Case) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional arguments for parameters without a default, keywords for the rest."""
        args, kwargs = [], {}
        for p in self.parameters:
            if p.name not in case:
                continue
            if p.default is inspect.Parameter.empty:
                args.append(case[p.name])
            else:
                kwargs[p.name] = case[p.name]
        return tuple(args), kwargs


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    functions: Sequence[Function]
    mistakes: Sequence[Mistake] = ()
    forbidden: tuple[str, ...] = ()
    """Substrings of built-in names the submission must not reach (e.g. ``softmax``)."""
    examples: int = 25
    """Hypothesis examples per check."""
    hints: Sequence[Hint] = ()
    """Graded hints for ``grade hint``: from a nudge to nearly the answer (never the code)."""
    bank: Any = None
    """In a student release: the recorded checks, inputs and outputs (``grader.bank.Bank``)."""
    combined: tuple[Mistake, ...] = field(default=(), init=False, repr=False, compare=False)
    """The pairs of ``mistakes`` (``pairs``), built once with the exercise: switches need not be hashable."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "combined", _pairs(self.mistakes))

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)

    def mistake(self, ident: str) -> Mistake:
        return next(m for m in (*self.mistakes, *self.pairs()) if m.id == ident)

    def pairs(self) -> tuple[Mistake, ...]:
        """Every two mistakes of one function that combine (see ``Switched``), as one mistake each."""
        return self.combined

    def references(self) -> dict[str, Callable[..., Any]]:
        return {f.name: f.reference for f in self.functions}


def _pairs(mistakes: Sequence[Mistake]) -> tuple[Mistake, ...]:
    found = []
    for n, first in enumerate(mistakes):
        for second in mistakes[n + 1:]:
            if first.function != second.function or not isinstance(first.impl, Switched) \
                    or not isinstance(second.impl, Switched):
                continue
            both = first.impl.combine(second.impl)
            if both is not None:
                found.append(Mistake(f"{first.id}+{second.id}", first.function, both,
                                     f"{first.en}\n{second.en}", f"{first.ko}\n{second.ko}",
                                     parts=(first.id, second.id)))
    return tuple(found)


def load_spec(path: Path, exercise_id: str) -> Exercise:
    """Import a spec file (trusted course code) and return its ``EXERCISE``."""
    if not path.is_file():
        raise CourseConfigError(f"{exercise_id}: spec file not found", where=str(path))
    package = _solutions_package(path.parent)
    name = f"{package.__name__}.{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise CourseConfigError(f"{exercise_id}: spec does not import: "
                                    f"{type(exc).__name__}: {exc}", where=str(path)) from None
    exercise = getattr(sys.modules[name], "EXERCISE", None)
    if not isinstance(exercise, Exercise) or exercise.id != exercise_id:
        raise CourseConfigError(f"must define EXERCISE = Exercise(id={exercise_id!r}, ...)",
                                where=str(path))
    return exercise


def _solutions_package(folder: Path) -> ModuleType:
    """The solutions folder as a package, so specs can import references relatively."""
    name = "course_solutions"
    module = sys.modules.get(name)
    if module is not None and list(getattr(module, "__path__", [])) == [str(folder)]:
        return module
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]
    module = ModuleType(name)
    module.__path__ = [str(folder)]
    sys.modules[name] = module
    return module
