"""Holding what a learner's function returned against what it should return, tensor by tensor.

A function's return value is a tree (a tuple (Z, cache), a dict of
gradients); `Leaf`s name the tensors in it by their path, in the order a
bug would show first. Whatever sits at a path is type-checked before it is
compared: a missing key, a tuple too short, None, a ragged list, an object
that is not numbers each fail that tensor with words that say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from compare.learners.codec import Opaque, Problem
from compare.metrics import Comparison, Tolerance, compare_arrays

ULP_MEANINGFUL_BELOW = 1e-6  # normwise: past this the values are not the same number, rounded differently


@dataclass(frozen=True)
class Leaf:
    name: str  # how the report calls the tensor: "dW3", "cache Z"
    path: tuple  # keys and indices into the returned value


class Absent:
    """What sits at a path that the value does not have, and why."""

    def __init__(self, why: str):
        self.why = why


def describe(value) -> str:
    """'None', 'a dict', 'a tuple of 2', 'an array of shape (7, 1)' ..."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, Problem):
        return value.text
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def at(value, path: tuple):
    """The part of `value` at `path`, or an `Absent` saying where the path breaks."""
    for step in path:
        if isinstance(step, str):
            if not isinstance(value, dict):
                return Absent(f"returned {describe(value)}, expected a dict")
            if step not in value:
                return Absent(f"no {step!r} in the returned dict")
            value = value[step]
        else:
            if not isinstance(value, (tuple, list)):
                return Absent(f"{describe(value)} where a tuple was expected")
            if step >= len(value):
                return Absent(f"{describe(value)} where at least {step + 1} items were expected")
            value = value[step]
    return value


def as_array(value) -> np.ndarray | str:
    """An array, or the reason the value is not one."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Absent):
        return value.why
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, np.ndarray) for v in value):
        try:
            array = np.asarray(value)
        except ValueError:
            return f"a ragged {type(value).__name__} of arrays"
        if array.dtype.kind in "biuf":
            return array
    return f"{describe(value)} where an array was expected"


def compare_leaves(got, expected, leaves: list[Leaf], tolerance: Tolerance, scalar: bool = False) -> list[Comparison]:
    """One Comparison per leaf; `scalar` accepts any one-element array for a single number (the cost)."""
    comparisons = []
    for leaf in leaves:
        want = np.asarray(at(expected, leaf.path))
        have = as_array(at(got, leaf.path))
        if isinstance(have, str):
            comparisons.append(Comparison(leaf.name, (), "-", tolerance, passed=False, problem=have, total=want.size))
            continue
        if scalar and have.size == 1:
            have, want = have.reshape(()), want.reshape(())
        comparisons.append(compare(leaf.name, have, want, tolerance))
    return comparisons


def compare(name: str, actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Comparison:
    """compare_arrays, with the ULP distance kept only where it means something."""
    comparison = compare_arrays(name, actual, expected, tolerance)
    if comparison.max_ulp is not None and not ulp_meaningful(comparison, actual, expected):
        comparison = replace(comparison, max_ulp=None)
    return comparison


def ulp_meaningful(comparison: Comparison, actual: np.ndarray, expected: np.ndarray) -> bool:
    """ULPs count rounding steps: only between numbers of the same sign that agree to well past their scale."""
    if comparison.normwise is None or comparison.normwise > ULP_MEANINGFUL_BELOW:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.sign(actual) == np.sign(expected)))


def same_values(first, second) -> bool:
    """Whether two returned trees hold bit-for-bit the same arrays (an initialiser called twice)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(same_values(first[k], second[k]) for k in first)
    if isinstance(first, (tuple, list)) and isinstance(second, (tuple, list)):
        return len(first) == len(second) and all(same_values(a, b) for a, b in zip(first, second))
    if isinstance(first, np.ndarray) and isinstance(second, np.ndarray):
        return first.shape == second.shape and bool(np.array_equal(first, second, equal_nan=True))
    return type(first) is type(second) and not isinstance(first, np.ndarray) and first == second


def parameter_leaves(count: int) -> list[Leaf]:
    return [Leaf(f"{kind}{l}", (f"{kind}{l}",)) for l in range(1, count + 1) for kind in ("W", "b")]


def agreement(comparisons: list[Comparison]) -> str:
    worst = max((c.normwise or 0.0) for c in comparisons) if comparisons else 0.0
    return f"every tensor agrees (largest normwise error {worst:.1e})"


def difference(comparisons: list[Comparison]) -> str:
    failing = [c for c in comparisons if not c.passed]
    first, passing = failing[0], [c for c in comparisons if c.passed]
    text = f"{first.name} differs: {how_far(first)}"
    if len(failing) > 1:
        names = ", ".join(c.name for c in failing[1:4]) + (", ..." if len(failing) > 4 else "")
        text += f"; {len(failing) - 1} more differ ({names})"
    if passing:
        text += f"; the rest agree to {max((c.normwise or 0.0) for c in passing):.0e}"
    return text


def how_far(comparison: Comparison) -> str:
    if comparison.problem and comparison.normwise is None:
        return comparison.problem
    if comparison.max_rel is not None and np.isfinite(comparison.max_rel):
        text = f"max rel {comparison.max_rel:.4g} (normwise {comparison.normwise:.3g})"
    else:
        text = f"max abs {comparison.max_abs:.4g}"
    return f"{comparison.problem}; {text}" if comparison.problem else text


def hint(detail: str, error: tuple[str, str, str] | None, source) -> str:
    """What an error suggests: a template line left at None, a name only skipped top-level code would have made."""
    # 'NoneType' object has no attribute ..., unsupported operand ... 'NoneType', cannot unpack non-iterable NoneType
    if error and ("'NoneType'" in error[1] or "NoneType object" in error[1]):
        return f"{detail} (a template line '... = None' not filled in?)"
    if error and error[0] == "NameError":
        match = re.search(r"name '(\w+)' is not defined", error[1])
        skipped = source.made_by_skipped_code(match.group(1)) if match else None
        if skipped:
            return f"{detail} ({match.group(1)} is made by top-level code catnet skips: {skipped.origin}, " \
                   f"which {skipped.category})"
    return detail
