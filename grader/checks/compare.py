"""compare(obtained, expected, tolerance) -> Mismatch | None, and the tolerance rule.

Trusted side. ``obtained`` is always a plain tensor rebuilt from the student's
bytes; ``expected`` is the reference computed in float64 on the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from grader.results import Mismatch


@dataclass(frozen=True, slots=True)
class Tolerance:
    atol: float
    rtol: float


def tolerance(dtype: torch.dtype, size: int, scale: float = 1.0) -> Tolerance:
    """What a correct float answer may be off by: grows with eps and sqrt(problem size).

    A float32 answer is compared with the float64 reference, so its own rounding
    (about eps32 per operation, adding up like a random walk over ``size``
    terms) must fit; a float64 answer gets float64's eps.
    """
    if not dtype.is_floating_point:
        return Tolerance(0.0, 0.0)
    eps = torch.finfo(dtype).eps
    tol = 64 * eps * math.sqrt(max(size, 1)) * scale
    return Tolerance(atol=tol, rtol=tol)


def compare(obtained: torch.Tensor, expected: torch.Tensor, tol: Tolerance) -> Mismatch | None:
    """Where and by how much ``obtained`` misses ``expected`` (same shape), or None."""
    if not (obtained.is_floating_point() or expected.is_floating_point()):
        return _compare_exact(obtained, expected)
    got, want = obtained.double(), expected.double()
    if _all_close(got, want, tol):
        return None
    finite = torch.isfinite(want)
    same_special = (got == want) | (torch.isnan(got) & torch.isnan(want))
    # Non-finite expected values must be matched exactly; finite ones within tolerance.
    scale = want[finite].abs().max().item() if finite.any() else 1.0
    allowed = tol.atol * max(1.0, scale) + tol.rtol * want.abs()
    # A number where an infinity is expected is infinitely off (not 0 off: it is reported).
    diff = torch.where(finite, (got - want).abs(),
                       torch.where(same_special, torch.zeros_like(got), torch.full_like(got, math.inf)))
    bad = torch.where(finite, ~(diff <= allowed), ~same_special)
    if not bad.any():
        return None
    return _mismatch(got, want, diff, bad, tol)


def _all_close(got: torch.Tensor, want: torch.Tensor, tol: Tolerance) -> bool:
    """The common case, cheaply: every expected value finite and every obtained one close to it.

    False also when it cannot tell (a non-finite value anywhere): the full rule then decides.
    """
    if not want.numel():
        return True
    size = want.abs()
    scale = size.max().item()
    if not math.isfinite(scale):
        return False
    # A NaN or inf in ``got`` makes the difference NaN or inf: not <= any finite bound.
    return bool(((got - want).abs() <= tol.atol * max(1.0, scale) + tol.rtol * size).all())


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of element ``flat`` of a row-major tensor of ``shape``.

    Not ``torch.unravel_index``: its argument check imports sympy (about 0.3 s and 20 MB
    in every grading process, and in every ``grade`` of a wrong file).
    """
    index = []
    for size in reversed(shape):
        flat, at = divmod(flat, size)
        index.append(at)
    return tuple(reversed(index))


def _mismatch(got: torch.Tensor, want: torch.Tensor, diff: torch.Tensor, bad: torch.Tensor,
              tol: Tolerance) -> Mismatch:
    # Where to point: the first wrong non-finite value (where a NaN is born), else the largest difference.
    wrong_special = (bad & ~torch.isfinite(got)).reshape(-1)
    if wrong_special.any():
        flat = int(torch.nonzero(wrong_special)[0].item())
    else:
        flat = int(torch.argmax(torch.where(bad, diff, torch.full_like(diff, -1.0)).reshape(-1)).item())
    index = unravel(flat, tuple(got.shape))
    finite_bad = bad & torch.isfinite(diff) & torch.isfinite(got)
    abs_diff = diff[finite_bad].max().item() if finite_bad.any() else math.inf
    # Relative error only where the expected value is not 0 (else it means nothing).
    nonzero = finite_bad & (want != 0)
    rel_diff = (diff[nonzero] / want[nonzero].abs()).max().item() if nonzero.any() else math.inf
    return Mismatch(
        index=index, obtained=float(got.reshape(-1)[flat]), expected=float(want.reshape(-1)[flat]),
        max_abs_diff=abs_diff, max_rel_diff=rel_diff, mismatched=int(bad.sum().item()),
        total=got.numel(), atol=tol.atol, rtol=tol.rtol,
    )


def _compare_exact(obtained: torch.Tensor, expected: torch.Tensor) -> Mismatch | None:
    got, want = obtained.long(), expected.long()
    bad = got != want
    if not bad.any():
        return None
    flat = int(torch.nonzero(bad.reshape(-1))[0].item())
    index = unravel(flat, tuple(got.shape))
    diff = (got - want).abs().double()
    return Mismatch(
        index=index, obtained=float(got.reshape(-1)[flat]), expected=float(want.reshape(-1)[flat]),
        max_abs_diff=float(diff.max()), max_rel_diff=math.inf, mismatched=int(bad.sum()),
        total=got.numel(), atol=0.0, rtol=0.0,
    )
