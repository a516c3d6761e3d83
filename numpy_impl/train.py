"""Full-batch gradient descent of the NumPy reference, with the first layer in primal or span form.

The span form is numpy_impl.span's (W1 = W1_init + C @ X.T); the step itself is
inplace.py's. `Training` keeps catcore.training's contract: `run` for the whole
run, `steps` to be stepped by an observer.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from catcore.config import TrainConfig
from catcore.params import Params
from catcore.training import (
    COST_BLOCK,
    LogCallback,
    StepState,
    TrainResult,
    check_finite,
    check_inputs,
    costed_in_blocks,
    first_non_finite,
    resolve_first_layer,
)
from numpy_impl.inplace import InPlaceDescent
from numpy_impl.network import batch_costs


class Training:
    """Train from `initial` (left untouched) on X (n_x, m), Y (1, m) with `config`'s learning rate and iterations.

    A non-finite cost raises TrainingDiverged naming the first iteration that
    had one; a non-finite parameter after the last update does too.
    """

    def __init__(self, initial: Params, X: np.ndarray, Y: np.ndarray, config: TrainConfig):
        check_inputs(initial, X, Y, config.dtype)
        n_x, m = X.shape
        self.config = config
        self.form = resolve_first_layer(config.first_layer, n_x, m, initial.layer_sizes[1], config.iterations)
        self.Y = Y.astype(initial.dtype, copy=False)
        self._descent = InPlaceDescent(initial, X.astype(initial.dtype, copy=False), self.Y, config.learning_rate,
                                       self.form)
        self._costs = np.empty(config.iterations, dtype=np.float64)

    # a run that overflows ends in TrainingDiverged; NumPy's warnings on the way would only add noise to it
    @np.errstate(over="ignore", invalid="ignore")
    def run(self, on_log: LogCallback | None = None) -> TrainResult:
        """Every iteration; the costs are computed from the saved logits a block at a time and at logged iterations."""
        iterations = self.config.iterations
        logits = np.empty((min(iterations, COST_BLOCK), self.Y.shape[1]), dtype=self.Y.dtype)  # ZL rows not yet costed
        self._costs = costed_in_blocks(lambda: self._descent.step()[0], lambda rows: batch_costs(rows, self.Y), logits,
                                       iterations, self.config.log_every, on_log)
        return self.result()

    def steps(self) -> Iterator[StepState]:
        """One StepState after each update, its cost computed at once; the arrays are the run's live buffers."""
        for iteration in range(self.config.iterations):
            with np.errstate(over="ignore", invalid="ignore"):
                cost = batch_costs(self._descent.step(), self.Y)  # (1,): ZL (1, m) costed at once
                params = self._descent.params()
            self._costs[iteration] = cost[0]
            first_non_finite(cost, iteration)
            yield StepState(iteration, float(cost[0]), params, self._descent.C, self.form)

    def result(self) -> TrainResult:
        params = self._descent.final_params()
        check_finite(params, self.config.iterations - 1)  # the last update has no cost after it to show a blow-up
        return TrainResult(params=params, costs=self._costs, span_coefficients=self._descent.C, first_layer=self.form)


def train(initial: Params, X: np.ndarray, Y: np.ndarray, config: TrainConfig,
          on_log: LogCallback | None = None) -> TrainResult:
    """The whole run: Training(initial, X, Y, config).run(on_log)."""
    return Training(initial, X, Y, config).run(on_log)
