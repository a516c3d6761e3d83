"""The training contract both twins keep: what a run is given, what it hands back, how it is stepped.

Each twin (numpy_impl.train, torch_impl.train) has a `Training` with the same
constructor, (initial Params, X (n_x, m), Y (1, m), TrainConfig), that resolves
the first-layer form once and then either runs whole (`run`, with logged costs
reported through `on_log`) or is stepped (`steps`, one `StepState` per update,
for observers such as the parity harness, which zips two twins' steps).
Either way the result is a `TrainResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from catcore.errors import TrainingDiverged
from catcore.params import Params

FIRST_LAYER_FORMS = ("primal", "span")

# on_log(iteration, cost): called every log_every iterations and at the last
LogCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class StepState:
    """The state right after the update of `iteration`.

    The arrays may be live buffers of the run: copy what you keep. In span form
    `params.layers[0].W` still holds W1_init; the current W1 is
    W1_init + span_coefficients @ X.T.
    """

    iteration: int
    cost: float  # computed at this iteration, before its update
    params: Params
    span_coefficients: np.ndarray | None  # C (n_1, m); None where not tracked
    first_layer: str  # "primal" or "span"


@dataclass(frozen=True)
class TrainResult:
    params: Params  # after the last update
    costs: np.ndarray  # (iterations,) float64: cost at iteration i, before its update
    span_coefficients: np.ndarray | None  # C (n_1, m): W1 = W1_init + C @ X.T; None if not tracked
    first_layer: str  # "primal" or "span": the form that ran


class Training(Protocol):
    """One full-batch gradient-descent run of either twin, built from (initial, X, Y, config)."""

    form: str  # "primal" or "span", resolved once from config.first_layer

    def run(self, on_log: LogCallback | None = None) -> TrainResult:
        """Every iteration, as fast as the twin goes; on_log sees the logged costs."""

    def steps(self) -> Iterator[StepState]:
        """Every iteration, one StepState after each update; `result()` once exhausted."""

    def result(self) -> TrainResult:
        """The run's outcome after `steps` is exhausted."""


def resolve_first_layer(mode: str, n_x: int, m: int, n_1: int, iterations: int) -> str:
    """`auto` picks span when its one-off Gram matrix plus cheaper steps cost less."""
    if mode in FIRST_LAYER_FORMS:
        return mode
    if mode != "auto":
        raise ValueError(f"unknown first-layer mode {mode!r}; choose auto, primal or span")
    primal = iterations * 2 * n_1 * n_x * m  # W1 @ X and dZ1 @ X.T every step
    span = n_x * m * m + n_1 * n_x * m + iterations * n_1 * m * m  # Gram, W1_init @ X once, C @ G each step
    return "span" if span < primal else "primal"


def should_log(iteration: int, iterations: int, log_every: int) -> bool:
    return iteration % log_every == 0 or iteration == iterations - 1


def check_inputs(initial: Params, X: np.ndarray, Y: np.ndarray, dtype: str) -> None:
    """ValueError unless X (n_x, m) and Y (1, m) fit `initial` and the parameters are of the config's dtype."""
    if X.ndim != 2 or X.shape[0] != initial.layer_sizes[0]:
        raise ValueError(f"X is {X.shape} but the first layer expects ({initial.layer_sizes[0]}, m)")
    if Y.shape != (1, X.shape[1]):
        raise ValueError(f"Y is {Y.shape}, expected (1, {X.shape[1]})")
    if initial.dtype != np.dtype(dtype):
        raise ValueError(f"the initial parameters are {initial.dtype}, the config asks for {dtype}")


def check_finite(params: Params, iteration: int) -> None:
    """TrainingDiverged if any parameter is NaN or infinite after the update of `iteration`.

    A non-finite parameter shows in the next cost, but the last update has
    no next cost, and a -inf weight into a ReLU can hide in a dead unit.
    """
    for name, array in params.named_arrays().items():
        bad = array[~np.isfinite(array)]
        if bad.size:
            raise TrainingDiverged(iteration, float(bad[0]), parameter=name)


def check_outcome(first_cost: float, final_cost: float, last_iteration: int, dtype) -> None:
    """TrainingDiverged unless the cost after the last update is finite and not above the cost at iteration 0.

    Gradient descent with a small enough step lowers the cost at every step, so
    a run that ends above where it started has made its model worse than the
    random one it began from: its step was too large (0.77 -> 125 with lr 1000
    on the course's data), or its last update overflowed where no later cost
    could show it. The two costs are the same sum computed along different
    paths, so they may differ by rounding: a rise within sqrt(eps) of the
    first cost (1.5e-8 relative in float64, 3.5e-4 in float32) is not a rise.
    """
    tolerance = float(np.sqrt(np.finfo(np.dtype(dtype)).eps)) * abs(first_cost)
    if not np.isfinite(final_cost) or final_cost > first_cost + tolerance:
        raise TrainingDiverged(last_iteration, float(final_cost), first_cost=float(first_cost))


COST_BLOCK = 256  # logits rows a run holds between cost computations


def costed_in_blocks(step: Callable[[], np.ndarray], block_costs: Callable[[np.ndarray], np.ndarray],
                     logits: np.ndarray, iterations: int, log_every: int, on_log: LogCallback | None) -> np.ndarray:
    """Run `iterations` steps and return their costs (iterations,) float64, computed a block of rows at a time.

    step() updates once and returns the logits it saw before the update, (m,); they are held in `logits`
    (a (COST_BLOCK or fewer, m) buffer of the run's dtype) and costed by block_costs(rows (k, m)) -> (k,) at
    every logged iteration and whenever the buffer is full. A diverging run goes on to the block's end; its
    first non-finite cost is then a TrainingDiverged naming that iteration.
    """
    costs = np.empty(iterations, dtype=np.float64)
    first_pending = 0
    for iteration in range(iterations):
        logits[iteration - first_pending] = step()
        logged = should_log(iteration, iterations, log_every)
        if logged or iteration - first_pending + 1 == len(logits):
            block = block_costs(logits[: iteration - first_pending + 1])
            costs[first_pending : iteration + 1] = block
            first_non_finite(block, first_pending)
            first_pending = iteration + 1
        if logged and on_log is not None:
            on_log(iteration, float(costs[iteration]))
    return costs


def first_non_finite(costs: np.ndarray, first_iteration: int) -> None:
    """TrainingDiverged at the first NaN or infinite entry of costs, which start at `first_iteration`."""
    bad = np.flatnonzero(~np.isfinite(costs))
    if bad.size:
        raise TrainingDiverged(first_iteration + int(bad[0]), float(costs[bad[0]]))
