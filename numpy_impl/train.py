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

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catnet.errors import TrainingDiverged
from numpy_impl.network import backward, cost, forward
from numpy_impl.params import Layer, Params

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
    """
    if X.shape[0] != params.layer_sizes[0]:
        raise ValueError(f"X has {X.shape[0]} rows but the first layer expects {params.layer_sizes[0]} inputs")
    n_x, m = X.shape
    n_1 = params.layer_sizes[1]
    form = resolve_first_layer(first_layer, n_x, m, n_1, iterations)
    params = params.copy()
    W1_init = params.layers[0].W.copy()  # (n_1, n_x)
    C = np.zeros((n_1, m), dtype=params.dtype)  # (n_1, m)
    costs = np.empty(iterations, dtype=np.float64)
    if form == "span":
        gram = X.T @ X  # (m, m)
        Z1_init = W1_init @ X  # (n_1, m)
    b1 = params.layers[0].b
    for iteration in range(iterations):
        Z1 = Z1_init + C @ gram + b1 if form == "span" else None  # (n_1, m)
        fp = forward(params, X, Z1=Z1)
        c = cost(fp.Z[-1], Y)
        costs[iteration] = c
        if not math.isfinite(c):
            raise TrainingDiverged(iteration, c)
        if on_log is not None and should_log(iteration, iterations, log_every):
            on_log(iteration, c)
        grads, dZ1 = backward(params, fp, Y, first_layer_dW=(form == "primal"))
        for index, (layer, grad) in enumerate(zip(params.layers, grads.layers)):
            if index > 0 or form == "primal":
                layer.W[...] -= learning_rate * grad.dW  # in place: the containers are frozen, the arrays are not
            layer.b[...] -= learning_rate * grad.db
        C -= learning_rate * dZ1  # the C-coordinates of W1's update: dW1 = dZ1 @ X.T
        if on_step is not None:
            on_step(StepState(iteration, c, params, C, form))
    if form == "span":
        first = Layer(W=W1_init + C @ X.T, b=params.layers[0].b)
        params = Params((first,) + params.layers[1:])
    check_finite(params, iterations - 1)
    return TrainResult(params=params, costs=costs, span_coefficients=C, first_layer=form)
