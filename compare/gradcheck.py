"""Finite-difference check of the NumPy backprop on a seeded sample of coordinates.

The course's two-sided difference, (J(θ + ε) − J(θ − ε)) / 2ε, against the
analytic gradient, scored with its relative difference
||g − g̃|| / (||g|| + ||g̃||) per parameter tensor. A coordinate whose ±ε
nudge switches any ReLU on or off is skipped: the cost has a kink there and
the two-sided difference measures neither side's slope.

Perturbing W_l[i, j] moves only row i of Z_l, by ε·A_{l-1}[j, :], so each
evaluation re-runs the network (numpy_impl.network.propagate) from layer l on, not from the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.params import ForwardPass, Params
from numpy_impl.network import backward, cost, forward, propagate


@dataclass(frozen=True)
class GradCheck:
    """One tensor's sample: the relative difference over its checked coordinates."""

    name: str  # dW1, db1, ...
    shape: tuple[int, ...]
    checked: int
    skipped: int  # on a ReLU kink
    difference: float  # ||g - g~|| / (||g|| + ||g~||) over the checked coordinates
    max_abs: float  # largest |g - g~| of a single coordinate
    tolerance: float
    passed: bool  # difference <= tolerance, or every |g - g~| within the finite difference's own rounding noise
    noise: float = 0.0  # that noise, ~16 eps |J| / epsilon: below it both g and g~ are indistinguishable from 0


def gradient_check(
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    rng: np.random.Generator,
    tolerance: float,
    per_tensor: int = 12,
    epsilon: float = 1e-7,
) -> tuple[GradCheck, ...]:
    """Check dW and db of every layer at `params` on X (n_x, m), Y (1, m), in float64."""
    params = params.astype(np.float64)
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    fp = forward(params, X)
    grads = backward(params, fp, Y)
    base = _patterns(fp.Z[:-1])
    # J(θ ± ε) each carry rounding of ~eps·|J|; divided by 2ε that is the floor under any g̃
    noise = 16 * np.finfo(np.float64).eps * max(abs(cost(fp.Z[-1], Y)), 1.0) / epsilon
    checks = []
    for index, grad in enumerate(grads.layers):
        for kind, analytic in (("W", grad.dW), ("b", grad.db)):
            picks = rng.choice(analytic.size, size=min(per_tensor, analytic.size), replace=False)
            exact, approx, skipped = [], [], 0
            for flat in picks:
                row, col = np.unravel_index(flat, analytic.shape)
                nudge = fp.A[index][col] if kind == "W" else 1.0  # how Z_l[row] moves per unit of the parameter
                plus = _cost_after(params, fp, Y, index, row, epsilon * nudge)
                minus = _cost_after(params, fp, Y, index, row, -epsilon * nudge)
                if plus[1] != base or minus[1] != base:
                    skipped += 1
                    continue
                exact.append(analytic[row, col])
                approx.append((plus[0] - minus[0]) / (2 * epsilon))
            checks.append(_score(f"d{kind}{index + 1}", analytic.shape, np.array(exact), np.array(approx), skipped,
                                 tolerance, noise))
    return tuple(checks)


def _cost_after(params: Params, fp: ForwardPass, Y: np.ndarray, index: int, row: int, delta) -> tuple[float, tuple]:
    """The cost and ReLU patterns when row `row` of Z_(index+1) moves by `delta` (scalar or (m,))."""
    Z = fp.Z[index].copy()  # (n_l, m)
    Z[row] += delta
    later, _ = propagate(Z, params.layers[index + 1:])  # the network from that layer on
    Zs = fp.Z[:index] + later
    return cost(Zs[-1], Y), _patterns(Zs[:-1])


def _patterns(hidden_Z) -> tuple[bytes, ...]:
    return tuple(np.packbits(Z > 0).tobytes() for Z in hidden_Z)


def _score(name, shape, exact, approx, skipped: int, tolerance: float, noise: float) -> GradCheck:
    if exact.size == 0:  # every sampled coordinate on a kink (a dead unit feeding zeros, say): nothing to judge
        return GradCheck(name, tuple(shape), 0, skipped, float("nan"), float("nan"), tolerance, True, noise)
    denominator = np.linalg.norm(exact) + np.linalg.norm(approx)
    difference = float(np.linalg.norm(exact - approx) / denominator) if denominator > 0 else 0.0
    max_abs = float(np.max(np.abs(exact - approx)))
    # a gradient that is 0 (a balanced batch at AL = 0.5, say) leaves the ratio comparing noise with noise
    passed = difference <= tolerance or max_abs <= noise
    return GradCheck(name, tuple(shape), int(exact.size), skipped, difference, max_abs, tolerance, passed, noise)
