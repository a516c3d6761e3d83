"""One comparison helper: shape, then dtype, then values, against an explicit tolerance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# the integer type that shares each float type's bits, for ULP distances
_INT_VIEW = {np.dtype(np.float64): (np.int64, np.uint64), np.dtype(np.float32): (np.int32, np.uint32)}


@dataclass(frozen=True)
class Tolerance:
    """How close is close enough, and why.

    A comparison passes when ||a - e|| <= normwise * ||e|| + absolute * sqrt(n)
    and no element is mismatched: an element mismatches when
    |a - e| > normwise * (|e| + max|e|) + absolute, so an entry near zero is
    judged on the tensor's scale rather than its own, and (with `absolute`) a
    tensor that is itself the result of cancellation, such as the db of a
    balanced batch, is judged on the scale of the values it was summed from.
    """

    normwise: float
    absolute: float = 0.0
    reason: str = ""

    def __str__(self) -> str:
        text = f"{self.normwise:.0e}" if math.isfinite(self.normwise) else "-"
        return text + (f" + {self.absolute:.0e} abs" if self.absolute else "")


@dataclass(frozen=True)
class Comparison:
    """`actual` against `expected`, tensor by tensor; error fields are None when the shapes differ."""

    name: str
    shape: tuple[int, ...]  # the actual array's shape
    dtype: str  # the actual array's dtype
    tolerance: Tolerance
    passed: bool
    problem: str | None = None  # "shape (20, 1), expected (1, 20)" and the like; None when shape and dtype fit
    max_abs: float | None = None
    max_rel: float | None = None  # over the elements whose expected value is non-zero
    normwise: float | None = None  # ||a - e||_F / ||e||_F
    max_ulp: int | None = None  # in the coarser dtype's units of last place
    mismatched: int | None = None
    total: int = 0


def compare_arrays(name: str, actual, expected, tolerance: Tolerance, expect_dtype=None) -> Comparison:
    """Compare `actual` with the reference `expected`: shape first, then dtype, then values.

    `expect_dtype` is the dtype `actual` must have (default: `expected`'s), so a
    float32 run can be held against a float64 oracle. A dtype mismatch fails
    the comparison but the values are still measured, so the report says how far off they are.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    shape = tuple(actual.shape)
    if actual.shape != expected.shape:
        return Comparison(name, shape, str(actual.dtype), tolerance, passed=False,
                          problem=f"shape {shape}, expected {tuple(expected.shape)}", total=expected.size)
    want = np.dtype(expect_dtype) if expect_dtype is not None else expected.dtype
    problem = None if actual.dtype == want else f"dtype {actual.dtype}, expected {want}"
    if not (np.issubdtype(actual.dtype, np.number) and np.issubdtype(expected.dtype, np.number)):
        return Comparison(name, shape, str(actual.dtype), tolerance, passed=False,
                          problem=problem or f"not numbers: dtype {actual.dtype}", total=expected.size)
    errors, within = _value_errors(actual, expected, tolerance)
    passed = problem is None and within and errors["mismatched"] == 0
    return Comparison(name, shape, str(actual.dtype), tolerance, passed=bool(passed), problem=problem,
                      total=int(expected.size), **errors)


def _value_errors(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> tuple[dict, bool]:
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(a - e)
        diff = np.where(np.isnan(diff) & ~(np.isnan(a) & np.isnan(e)), np.inf, diff)  # NaN where NaN is not expected
        diff = np.nan_to_num(diff, nan=0.0)
        scale = float(np.max(np.abs(e), initial=0.0))
        rel = np.where(e != 0, diff / np.abs(e), np.where(diff > 0, np.inf, 0.0))
        norm_e = float(np.linalg.norm(e))
        norm_d = float(np.linalg.norm(diff)) if np.all(np.isfinite(diff)) else np.inf
        normwise = norm_d / norm_e if norm_e > 0 else (0.0 if norm_d == 0 else np.inf)
        bound = np.where(np.abs(e) + scale > 0, tolerance.normwise * (np.abs(e) + scale), 0.0) + tolerance.absolute
        mismatched = int(np.count_nonzero(diff > bound))
        relative_part = tolerance.normwise * norm_e if norm_e > 0 else 0.0  # inf * 0 would be NaN
        within = math.isinf(tolerance.normwise) or bool(norm_d <= relative_part + tolerance.absolute * math.sqrt(e.size))
    errors = {
        "max_abs": float(np.max(diff, initial=0.0)),
        "max_rel": float(np.max(rel, initial=0.0)),
        "normwise": float(normwise),
        "max_ulp": ulp_distance(actual, expected),
        "mismatched": mismatched,
    }
    return errors, within


def ulp_distance(actual, expected) -> int | None:
    """Largest distance in units of last place, in the coarser of the two dtypes; None if either is not float32/64.

    Floats are sign-magnitude; mapping each to a signed integer that grows
    with the value (negatives mirrored) makes the ULP distance an integer
    difference, taken in unsigned arithmetic so it cannot overflow.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.dtype not in _INT_VIEW or expected.dtype not in _INT_VIEW or actual.size == 0:
        return None if actual.size else 0
    coarse = min(actual.dtype, expected.dtype, key=lambda d: d.itemsize)
    signed, unsigned = _INT_VIEW[coarse]
    a, e = (np.ascontiguousarray(x, dtype=coarse) for x in (actual, expected))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        return None
    ordered_a, ordered_e = _ordered(a.view(signed), signed), _ordered(e.view(signed), signed)
    forward = ordered_a.view(unsigned) - ordered_e.view(unsigned)  # wraps modulo 2**bits: exact
    backward = ordered_e.view(unsigned) - ordered_a.view(unsigned)
    return int(np.max(np.where(ordered_a >= ordered_e, forward, backward)))


def _ordered(bits: np.ndarray, signed) -> np.ndarray:
    """Monotone integer image of the floats' bit patterns: +0 and -0 both map to 0."""
    magnitude = bits & signed(np.iinfo(signed).max)
    return np.where(bits < 0, -magnitude, magnitude)
