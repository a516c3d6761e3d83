"""Full-batch gradient descent, with the first layer in primal or span form.

Span form: every gradient-descent update of W1 is dW1 = dZ1 @ X.T, a
combination of the training images, so W1 = W1_init + C @ X.T at every step
with C (n_1, m) starting at zero and updated as C -= lr * dZ1. Then
Z1 = W1_init @ X + C @ (X.T @ X) + b1: with the Gram matrix X.T @ X (m, m)
computed once, a step costs n_1*m*m instead of 2*n_1*n_x*m multiply-adds.
It is the same trajectory in exact arithmetic; in floating point it agrees
to rounding level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catnet.errors import TrainingDiverged
from numpy_impl.inplace import InPlaceDescent
from numpy_impl.network import batch_costs
from numpy_impl.params import Params

# on_log(iteration, cost): called every log_every iterations and at the last
LogCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class StepState:
    """The state right after the update of `iteration`, for observers such as the parity harness.

    The arrays are live: copy what you keep. In span form `params.layers[0].W`
    still holds W1_init; the current W1 is W1_init + span_coefficients @ X.T.
    """

    iteration: int
    cost: float  # computed at this iteration, before its update
    params: Params
    span_coefficients: np.ndarray | None  # C (n_1, m); None where not tracked
    first_layer: str  # "primal" or "span"


StepCallback = Callable[[StepState], None]


@dataclass(frozen=True)
class TrainResult:
    params: Params  # after the last update
    costs: np.ndarray  # (iterations,) float64: cost at iteration i, before its update
    span_coefficients: np.ndarray | None  # C (n_1, m): W1 = W1_init + C @ X.T; None if not tracked
    first_layer: str  # "primal" or "span": the form that ran


def resolve_first_layer(mode: str, n_x: int, m: int, n_1: int, iterations: int) -> str:
    """`auto` picks span when its one-off Gram matrix plus cheaper steps cost less."""
    if mode in ("primal", "span"):
        return mode
    if mode != "auto":
        raise ValueError(f"unknown first-layer mode {mode!r}; choose auto, primal or span")
    primal = iterations * 2 * n_1 * n_x * m  # W1 @ X and dZ1 @ X.T every step
    span = n_x * m * m + n_1 * n_x * m + iterations * n_1 * m * m  # Gram, W1_init @ X once, C @ G each step
    return "span" if span < primal else "primal"


def should_log(iteration: int, iterations: int, log_every: int) -> bool:
    return iteration % log_every == 0 or iteration == iterations - 1


def check_finite(params: Params, iteration: int) -> None:
    """TrainingDiverged if any parameter is NaN or infinite after the update of `iteration`.

    A non-finite parameter shows in the next cost, but the last update has
    no next cost, and a -inf weight into a ReLU can hide in a dead unit.
    """
    for name, array in params.named_arrays().items():
        bad = array[~np.isfinite(array)]
        if bad.size:
            raise TrainingDiverged(iteration, float(bad[0]), parameter=name)


# a run that overflows ends in TrainingDiverged; NumPy's warnings on the way would only add noise to it
@np.errstate(over="ignore", invalid="ignore")
def train(
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    iterations: int,
    first_layer: str = "auto",
    log_every: int = 100,
    on_log: LogCallback | None = None,
    on_step: StepCallback | None = None,
) -> TrainResult:
    """Train from `params` (left untouched) on X (n_x, m), Y (1, m).

    `on_log` sees the logged costs; `on_step`, when given, every state after an update.
    The costs are computed from the saved logits a block at a time (every
    logged iteration, every step when `on_step` is given), and a non-finite
    cost raises TrainingDiverged naming the first iteration that had one.
    """
    if X.shape[0] != params.layer_sizes[0]:
        raise ValueError(f"X has {X.shape[0]} rows but the first layer expects {params.layer_sizes[0]} inputs")
    n_x, m = X.shape
    form = resolve_first_layer(first_layer, n_x, m, params.layer_sizes[1], iterations)
    X, Y = X.astype(params.dtype, copy=False), Y.astype(params.dtype, copy=False)
    descent = InPlaceDescent(params, X, Y, learning_rate, form)
    costs = np.empty(iterations, dtype=np.float64)
    logits = np.empty((min(iterations, _COST_BLOCK), m), dtype=params.dtype)  # ZL rows not yet costed
    first_pending = 0
    # a diverging run goes on until the next block is costed; its inf/nan are caught there (warnings off: see the decorator)
    for iteration in range(iterations):
        logits[iteration - first_pending] = descent.step()[0]
        logged = should_log(iteration, iterations, log_every)
        if logged or on_step is not None or iteration - first_pending + 1 == len(logits):
            _cost_block(costs, logits, Y, first_pending, iteration)
            first_pending = iteration + 1
        if logged and on_log is not None:
            on_log(iteration, float(costs[iteration]))
        if on_step is not None:
            on_step(StepState(iteration, float(costs[iteration]), descent.params(), descent.C, form))
    params = descent.final_params()
    check_finite(params, iterations - 1)  # the last update has no cost after it to show a blow-up
    return TrainResult(params=params, costs=costs, span_coefficients=descent.C, first_layer=form)


_COST_BLOCK = 256  # logits rows held between cost computations


def _cost_block(costs: np.ndarray, logits: np.ndarray, Y: np.ndarray, first: int, last: int) -> None:
    """costs[first..last] from the held logits; TrainingDiverged at the first non-finite one."""
    block = batch_costs(logits[: last - first + 1], Y)  # (last - first + 1,)
    costs[first : last + 1] = block
    bad = np.flatnonzero(~np.isfinite(block))
    if bad.size:
        raise TrainingDiverged(first + int(bad[0]), float(block[bad[0]]))
