"""Causes that need no entry in a spec: what the student's wrong output is, next to the reference's.

Trusted side. When no known mistake reproduces a wrong value, the grader
still looks at how the output relates to the reference's on every failing
input, the way a TA would:

* ``precision``: float64 inputs, an error at float32's epsilon (a float32
  constant or intermediate: ``torch.tensor(d_k)``, ``.float()``);
* ``layout``: the reference's output with its axes permuted (a transpose);
* ``extra-axis`` / ``missing-axis``: the reference's values with an axis of size 1
  added (``unsqueeze``, ``keepdim=True``, a (1, L, L) mask) or dropped (a bare ``squeeze()``);
* ``scale``: the reference's output times one constant (named when it is a
  size of the input, or its square root, e.g. √d_k);
* ``sign``: the reference's output negated;
* ``as-if``: the reference's output with one input set to zero or to ones
  ("as if ``b_f`` were zero": a term left out);
* ``as-transposed``: the reference's output with one square weight transposed
  (``x @ W`` where the course applies ``x @ W.T``);
* ``lost-infinity``: right everywhere except where the reference is infinite,
  and finite there (log(p + eps), a clamp: -inf hidden);
* ``default-dtype``: on float64 inputs, an error from mixing float32 and float64
  (a tensor made without ``dtype=``: ``torch.zeros(n)``, ``torch.eye(n)``);
* ``unreached``: no gradient at all reaches an argument the reference's output
  depends on (the graph is cut: ``.detach()``, ``.item()``, ``load_state_dict``).
* ``random``: the same input with another seed for torch's generator gives
  another output (dropout left in: ``F.dropout`` drops values unless
  ``training=False``; ``torch.rand``);
* ``untransposed``: a matrix product refused its shapes, and one argument has
  the second operand's shape while its transpose would have fitted (``x @ W``
  where the course's weights act as ``x @ W.T``).

A pattern is reported only when it holds on every failing input, like a known
mistake (or, for ``lost-infinity``, holds on some and is consistent with the
rest). ``likely_cause`` tries them in order. Results are data (a key and
values); ``feedback/`` words them.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from grader.checks.contract import judge, obtain
from grader.checks.target import Target, tensor_names, upcast
from grader.errors import NotInBank
from grader.exercise import Case
from grader.results import Failure, Kind
from grader.sandbox.evaluate import tensors_in

Pattern = dict[str, str]
FLOAT32_EPS = float(torch.finfo(torch.float32).eps)

CONSISTENT: Pattern = {}
"""What a test returns for an input that cannot show its pattern but does not contradict it either
(``lost-infinity`` on an input with no infinity, where the output is off by a hair): another input
must show it."""

Path = tuple[int, ...]
"""Where in a tuple output the failing tensor is: () for a lone tensor, (1,) for ``output[1]``."""


def likely_cause(target: Target, cases: list[Case], failure: Failure, drawn: list[Case],
                 others: Sequence[Failure]) -> Pattern | None:
    """The first cause that fits the failure on ``cases`` (the input shown first), in this order.

    ``drawn``: inputs of varied sizes (``fixed_rank``); ``others``: how the fresh inputs among
    ``cases`` failed (``unreached``).
    """
    shown = cases[0]
    tries: tuple[Callable[[], Pattern | None], ...] = (
        lambda: random_output(target, failure, [*cases, *drawn]),
        lambda: find_pattern(target, cases, failure),
        lambda: default_dtype(failure, shown), lambda: untransposed(target, failure, shown),
        lambda: fixed_rank(target, cases, drawn, failure), lambda: unreached(failure, others))
    for attempt in tries:
        try:
            found = attempt()
        except NotInBank:  # a student release knows the reference's answers on its bank's inputs only
            continue
        if found:
            return found
    return None


def find_pattern(target: Target, cases: list[Case], failure: Failure) -> Pattern | None:
    """The one pattern that explains the student's output on every case, or None.

    A wrong shape can only be a layout (the reference's axes in another order: ``torch.stack``
    along the wrong dimension) or an axis of size 1 too many or too few; every other pattern
    compares values of the same shape.
    """
    shape_only = failure.kind is Kind.WRONG_SHAPE
    about_output = failure.detail.get("part", "output") == "output"
    if not about_output or (failure.kind is not Kind.WRONG_VALUE and not shape_only):
        return None
    path = _path(failure.detail.get("index", ""))
    pairs = []
    for case in cases:
        obtained, problem = obtain(target, case)
        if problem is not None and not (shape_only and problem.kind is Kind.WRONG_SHAPE):
            return None
        obtained, expected = part(obtained, path), part(target.reference64(case), path)
        tensors = isinstance(obtained, torch.Tensor) and isinstance(expected, torch.Tensor)
        if not tensors or not bool(obtained.isfinite().all()):
            return None  # inf or NaN: no factor, sign or layout relates it to the reference
        pairs.append((case, obtained.double(), expected, obtained.dtype, path))
    # One nonzero reference value, times some factor, is any wrong value: a factor needs two to be one.
    evidence = sum(int(torch.count_nonzero(want)) for _, _, want, _, _ in pairs)
    for name, test in TESTS:
        if (name in FACTORS and evidence < 2) or (shape_only and name not in RESHAPES):
            continue
        found = [test(target, *pair) for pair in pairs]
        evidence_of = [f for f in found if f is not None and f is not CONSISTENT]
        if any(f is None for f in found) or not evidence_of:
            continue
        agreed = _agree(evidence_of)
        if agreed is not None:
            return {"pattern": name, **agreed}
    return None


def _path(index: str) -> Path:
    """The failure's index ("[1]", "[0][2]") as a path into the output."""
    return tuple(int(i) for i in re.findall(r"\[(\d+)\]", index))


def part(value: Any, path: Path) -> Any:
    """The piece of a (nested) tuple output at ``path``; None where the output has no such piece."""
    for i in path:
        if not isinstance(value, tuple | list) or i >= len(value):
            return None
        value = value[i]
    return value


def _agree(found: list[Pattern]) -> Pattern | None:
    """What every case found alike; a scale factor by the one expression that fits every case."""
    if all("names" in f for f in found):
        common = set.intersection(*(set(f["names"].split("|")) - {""} for f in found))
        numbers = {f["factor"] for f in found}
        if common:
            return {"factor": sorted(common, key=len)[0]}
        return {"factor": numbers.pop()} if len(numbers) == 1 else None
    return found[0] if all(f == found[0] for f in found) else None


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=rtol * float(b.abs().max() or 1)))


def _precision(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
               dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    if dtype != torch.float64 or not want.numel():
        return None
    error = ((got - want).abs() / want.abs().clamp_min(1e-30)).max().item()
    return {} if 0 < error <= 64 * FLOAT32_EPS else None


def _layout(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
            dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    if want.dim() < 2 or want.numel() < 2:
        return None
    for order in itertools.permutations(range(want.dim())):
        if list(order) == list(range(want.dim())):
            continue
        moved = want.permute(order)
        if moved.shape == got.shape and not _close(want, got) and _close(got, moved):
            return {"order": str(list(order))}
    return None


def _axes_added(got: torch.Tensor, want: torch.Tensor) -> int:
    """How many more axes (of size 1) ``got`` has than ``want``, fewer if negative, where its values
    are the reference's; 0 when they are not (the same number of axes in another order is a layout)."""
    if got.numel() != want.numel() or [n for n in got.shape if n != 1] != [n for n in want.shape if n != 1]:
        return 0
    return got.dim() - want.dim() if _close(got.reshape(want.shape), want.double()) else 0


def _extra_axis(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
                dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    return {} if _axes_added(got, want) > 0 else None


def _missing_axis(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
                  dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    return {} if _axes_added(got, want) < 0 else None


def _factor(got: torch.Tensor, want: torch.Tensor) -> float | None:
    norm = float((want * want).sum())
    if norm == 0:
        return None
    factor = float((got * want).sum()) / norm
    return factor if math.isfinite(factor) and _close(got, factor * want) else None


def _sign(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
          dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    factor = _factor(got, want)
    return {} if factor is not None and abs(factor + 1) < 1e-3 else None


def _scale(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
           dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    factor = _factor(got, want)
    if factor is None or abs(factor - 1) < 1e-3 or abs(factor + 1) < 1e-3 or factor == 0:
        return None
    return {"factor": f"{factor:.4g}", "names": "|".join(_names(factor, case))}


def _names(factor: float, case: Case) -> Iterator[str]:
    """Expressions of the input sizes that equal ``factor`` here: ``sqrt(q.shape[-1])``, ``1/k.shape[-1]``."""
    for name, value in case.items():
        if not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        for axis in range(value.dim()):
            size = value.shape[axis]
            if size < 2:
                continue
            index = axis - value.dim()
            for expression, number in ((f"{name}.shape[{index}]", size), (f"sqrt({name}.shape[{index}])",
                                                                          math.sqrt(size))):
                for shown, x in ((expression, number), (f"1/{expression}", 1 / number)):
                    if abs(factor - x) < 1e-3 * max(1.0, abs(x)):
                        yield shown


def _as_if(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
           dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    return _reference_on(target, _filled_inputs(case), got, want, path)


def _as_transposed(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
                   dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    return _reference_on(target, _transposed_inputs(case), got, want, path)


def _reference_on(target: Target, variants: Iterator[tuple[str, Case, str]], got: torch.Tensor,
                  want: torch.Tensor, path: Path) -> Pattern | None:
    """The first changed input on which the reference gives the student's output (and not its own)."""
    for name, changed, value in variants:
        args, kwargs = target.function.split(upcast(changed))
        try:
            other = part(target.function.reference(*args, **kwargs), path)
        except Exception:  # the reference need not accept every changed input (a ValueError is fine)
            continue
        if isinstance(other, torch.Tensor) and not _close(want, other) and _close(got, other.double()):
            return {"argument": name, "value": value}
    return None


def _filled_inputs(case: Case) -> Iterator[tuple[str, Case, str]]:
    """The case with each float input, in turn, set to zeros and then to ones."""
    for name, tensor in case.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and tensor.numel():
            yield name, {**case, name: torch.zeros_like(tensor)}, "0"
            yield name, {**case, name: torch.ones_like(tensor)}, "1"


def _transposed_inputs(case: Case) -> Iterator[tuple[str, Case, str]]:
    """The case with each square float matrix, in turn, transposed (``x @ W`` for ``x @ W.T``)."""
    for name, tensor in case.items():
        if (isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and tensor.dim() == 2
                and tensor.shape[0] == tensor.shape[1] > 1 and not torch.equal(tensor, tensor.T)):
            yield name, {**case, name: tensor.T.contiguous()}, "T"


def fixed_rank(target: Target, failing: list[Case], drawn: list[Case], failure: Failure) -> Pattern | None:
    """Code written for one number of dimensions: every input of that rank works, every other fails.

    The rank is the first tensor input's; ``drawn`` are inputs of varied sizes, graded
    here for values (the failing ones have already failed). Said only when one rank works on
    every drawn input of that rank, and the failing inputs work too once given that rank
    (leading dimensions added or merged): code right only where two sizes happen to agree
    (``sqrt(q.shape[-2])`` for d_k, with Lq = d_k = 1) is not written for a rank.
    """
    if failure.kind not in (Kind.WRONG_VALUE, Kind.RAISED, Kind.WRONG_SHAPE, Kind.NON_FINITE) or not drawn:
        return None
    first = next((n for n, v in failing[0].items() if isinstance(v, torch.Tensor)), None) if failing else None
    if first is None:
        return None
    bad = {c[first].dim() for c in failing if isinstance(c.get(first), torch.Tensor)}
    works: dict[int, list[bool]] = {}
    for case in drawn:
        if isinstance(case.get(first), torch.Tensor):
            rank = case[first].dim()
            works.setdefault(rank, []).append(rank not in bad and judge(target, case) is None)
    good = {rank for rank, passed in works.items() if all(passed)}
    failed = bad | {rank for rank, passed in works.items() if not all(passed)}
    if len(good) != 1 or not failed - good:
        return None
    rank = good.pop()
    moved = [_with_rank(case, first, rank) for case in failing]
    if any(judge(target, case) is not None for case in moved):
        return None
    return {"pattern": "fixed-rank", "argument": first, "rank": str(rank)}


def _with_rank(case: Case, first: str, rank: int) -> Case:
    """``case`` with every tensor of the first one's rank given ``rank`` dimensions: leading
    dimensions of size 1 added, or the leading ones merged into one batch dimension."""
    had = case[first].dim()

    def moved(value: torch.Tensor) -> torch.Tensor:
        if rank >= had:
            return value.reshape((1,) * (rank - had) + tuple(value.shape))
        return value.reshape((-1, *value.shape[had - rank + 1:]))

    return {name: moved(v) if isinstance(v, torch.Tensor) and v.dim() == had else v
            for name, v in case.items()}


def _lost_infinity(target: Target, case: Case, got: torch.Tensor, want: torch.Tensor,
                   dtype: torch.dtype, path: Path = ()) -> Pattern | None:
    """Finite where the reference is infinite (``got`` is all finite here), right everywhere else."""
    infinite = torch.isinf(want)
    if got.shape != want.shape:
        return None
    if not infinite.any():  # log(p + eps) at p = 1 is eps: a hair off here, the infinity lost elsewhere
        return CONSISTENT if _close(got, want) else None
    finite = ~infinite
    if finite.any() and not _close(got[finite], want[finite]):
        return None
    signs = {"-inf" if v < 0 else "inf" for v in want[infinite].tolist()}
    return {"value": signs.pop()} if len(signs) == 1 else None


FACTORS = frozenset({"sign", "scale"})
"""The patterns that say "the reference times a number": they need two nonzero reference values."""
RESHAPES = frozenset({"layout", "extra-axis", "missing-axis"})
"""The patterns a wrong shape can have: the reference's values, arranged otherwise."""

Test = Callable[[Target, Case, torch.Tensor, torch.Tensor, torch.dtype, Path], Pattern | None]
TESTS: tuple[tuple[str, Test], ...] = (
    ("lost-infinity", _lost_infinity), ("precision", _precision), ("sign", _sign), ("scale", _scale),
    ("layout", _layout), ("extra-axis", _extra_axis), ("missing-axis", _missing_axis),
    ("as-if", _as_if), ("as-transposed", _as_transposed),
)
"""In the order they are tried: the first that holds on every failing input is the one reported."""



def unreached(failure: Failure, others: Sequence[Failure]) -> Pattern | None:
    """No gradient reaches an argument, on the shown input and on every fresh one that fails too.

    A shrunk input is mostly zeros, where a gradient can be zero by chance; fresh inputs are not.
    Which argument fails first may differ between inputs (a zero input zeroes some gradients):
    the one named is the shown input's.
    """
    if failure.kind is not Kind.WRONG_GRADIENT or not others:
        return None
    if all(f.kind is Kind.WRONG_GRADIENT and f.detail.get("unreached") for f in (failure, *others)):
        return {"pattern": "unreached", "argument": failure.detail.get("argument", "")}
    return None


_DTYPE_ERROR = re.compile(r"dtype|scalar type", re.IGNORECASE)
_FLOAT_NAMES = re.compile(r"\b(double|float)\b", re.IGNORECASE)


def default_dtype(failure: Failure, case: Case) -> Pattern | None:
    """torch refusing to mix float32 and float64, on an input with float64 tensors: a tensor the
    student made without ``dtype=`` is float32 (torch's default), and met the inputs' float64. Or no
    error, but a float32 output where float64 is due: the output was made that way and filled in."""
    if failure.kind is Kind.WRONG_DTYPE:  # no error: the float32 tensor is the output itself
        made = (failure.detail.get("expected"), failure.detail.get("obtained")) == ("torch.float64",
                                                                                   "torch.float32")
        return {"pattern": "default-dtype-output"} if made else None
    said = failure.detail.get("message", "")
    if failure.kind is not Kind.RAISED or not (_DTYPE_ERROR.search(said) and _FLOAT_NAMES.search(said)):
        return None
    return {"pattern": "default-dtype"} if any(t.dtype == torch.float64 for t in tensors_in(case)) else None


_MATMUL = re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)")  # torch: "mat1 and mat2 shapes cannot be multiplied"


def untransposed(target: Target, failure: Failure, case: Case) -> Pattern | None:
    """``x @ W`` with a weight of shape (out, in), which the course applies as ``x @ W.T``: the product
    of an (a×b) and a (c×d) matrix failed, some 2-D argument is (c, d), and (d, c) would have fitted."""
    found = _MATMUL.search(failure.detail.get("message", "")) if failure.kind is Kind.RAISED else None
    if found is None:
        return None
    _, inner, rows, cols = (int(n) for n in found.groups())
    if cols != inner:
        return None
    names = [name for name, t in zip(tensor_names(target.function, case), tensors_in(case), strict=False)
             if t.dim() == 2 and tuple(t.shape) == (rows, cols)]
    return {"pattern": "untransposed", "argument": names[0]} if len(names) == 1 else None


_RETURNED = frozenset({Kind.WRONG_VALUE, Kind.NON_FINITE, Kind.OUT_OF_RANGE, Kind.WRONG_GRADIENT,
                       Kind.INCONSISTENT})
"""Failures where the function returned something: asking again tells whether it is random."""


def random_output(target: Target, failure: Failure, cases: Sequence[Case]) -> Pattern | None:
    """The same input with another seed for torch's generator, another output: randomness (dropout
    left in), which no comparison with the reference can explain. Each call is seeded alike
    (``Call.seed``), so a random function gives the same wrong output on each replay. Asked on the
    largest of ``cases``, where dropout is all but sure to drop something else with another seed."""
    if failure.kind not in _RETURNED or not cases:
        return None
    largest = max(cases, key=lambda c: sum(t.numel() for t in tensors_in(c)))
    first, problem = obtain(target, largest)
    again, problem_again = obtain(target, largest, target.call(copy.deepcopy(largest), seed=1))
    if problem is not None or problem_again is not None:
        return None
    pairs = list(zip(tensors_in(first), tensors_in(again), strict=False))
    if not pairs or any(a.shape != b.shape for a, b in pairs):
        return None
    differs = any(not _close(a.double().nan_to_num(), b.double().nan_to_num(), rtol=1e-6) for a, b in pairs)
    return {"pattern": "random"} if differs else None
