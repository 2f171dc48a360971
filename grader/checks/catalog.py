"""The standard checks of an exercise, derived from its spec (or, in a student release, its bank).

Trusted side. Per function: its values per float dtype and per named edge
case, inputs left unchanged, gradients, the ``ValueError`` cases, the spec's
rules, and no forbidden built-in where the exercise forbids some. Adding an
exercise never changes this list: the spec fills it in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.properties import (
    Check,
    GradientsMatch,
    Holds,
    KeepsInputs,
    MatchesReference,
    NoForbiddenCalls,
    RaisesValueError,
    Relates,
)
from grader.checks.strategies import with_layouts
from grader.exercise import Case, Exercise


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
