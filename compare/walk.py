"""Train two or three runs side by side, step by step, and record how far apart they drift.

Each run is a twin's `Training` (catcore.training's contract), stepped through
its `steps()` iterator; the runs are zipped, so they take turns and only one
step of each is ever held, however long the run (a primal W1 is 2 MB a step).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from catcore.config import TrainConfig
from catcore.data import Arrays
from catcore.params import Params
from catcore.training import StepState, Training, TrainResult
from compare.results import Agreement, Outcome, PairSummary, Trajectory
from compare.trajectory import (
    THRESHOLDS,
    Cadence,
    PairTrack,
    SpanFrame,
    relu_pattern,
    snapshot_keeper,
)

PRIMAL_STRIDE = 10


@dataclass(frozen=True)
class RunSpec:
    """One training run, ready to step: `predict` reads the trained model."""

    name: str
    training: Training  # a twin's Training, not yet stepped
    arrays: Arrays  # in the run's dtype
    predict: Callable[[TrainResult, np.ndarray], np.ndarray]  # (result, X (n_x, m)) -> P(cat) (m,)

    @property
    def form(self) -> str:
        return self.training.form

    @property
    def iterations(self) -> int:
        return self.training.config.iterations


@dataclass(frozen=True)
class Pair:
    other: int  # index into the runs
    reference: int
    tolerance: float | None  # normwise bound on every step's parameter difference; None: reported only
    accuracy_slack: int | None  # examples the final accuracies may differ by; None: reported only


@dataclass(frozen=True)
class Walked:
    trajectory: Trajectory
    checkpoints: dict[int, tuple[Params, ...]]  # step -> each run's parameters after it, the last step included


def numpy_run(name: str, initial: Params, arrays: Arrays, config: TrainConfig) -> RunSpec:
    from numpy_impl.network import predict_proba
    from numpy_impl.train import Training as NumpyTraining

    training = NumpyTraining(initial, arrays.X_train, arrays.Y_train, config)
    return RunSpec(name, training, arrays, lambda result, X: predict_proba(result.params, X).reshape(-1))


def torch_run(name: str, initial: Params, arrays: Arrays, config: TrainConfig, device) -> RunSpec:
    from torch_impl.model import predict_proba
    from torch_impl.train import Training as TorchTraining

    training = TorchTraining(initial, arrays.X_train, arrays.Y_train, config, device)
    return RunSpec(name, training, arrays, lambda result, X: predict_proba(training.model, X))


class Stepper:
    """A run's kept states, one per step, and the seconds spent producing them (its steps and its `keep`)."""

    def __init__(self, name: str, steps: Iterator[StepState], keep: Callable[[StepState], object]):
        self.name, self._steps, self._keep = name, steps, keep
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self):
        start = time.perf_counter()
        try:
            return self._keep(next(self._steps))
        finally:
            self.seconds += time.perf_counter() - start


def lockstep(*steppers: Stepper) -> Iterator[tuple]:
    """One item of each stepper per step, as zip gives them; runs of unequal length are an error naming the short ones."""
    ended = object()
    while True:
        items = [next(stepper, ended) for stepper in steppers]
        short = [stepper.name for stepper, item in zip(steppers, items) if item is ended]
        if len(short) == len(steppers):
            return
        if short:
            raise RuntimeError(f"runs of unequal length: {', '.join(short)} ended first")
        yield tuple(items)


def walk(key: str, title: str, runs: list[RunSpec], pairs: list[Pair], frame: SpanFrame,
         checkpoints: frozenset[int], on_step: Callable[[str, int], None] | None = None) -> Walked:
    """Run `runs` in lockstep; per step compare each pair's cost, parameters and ReLU patterns on the frame's data.

    With a primal run among them, parameters and patterns are compared every
    PRIMAL_STRIDE-th step (each comparison costs a training step); costs always at every step.
    """
    mixed = len({run.form for run in runs}) > 1  # a span run must then form its W1 to meet a primal one
    cadence = Cadence(1 if all(run.form == "span" for run in runs) else PRIMAL_STRIDE, runs[0].iterations)
    steppers = [
        Stepper(run.name, run.training.steps(), snapshot_keeper(run.arrays.X_train, checkpoints, cadence,
                                                                frame if mixed and run.form == "span" else None))
        for run in runs
    ]
    tracks = [PairTrack(runs[p.other].name, runs[p.reference].name) for p in pairs]
    kept: dict[int, tuple[Params, ...]] = {}
    for snaps in lockstep(*steppers):
        # a diverging run overflows here one step before its own loop sees the non-finite cost and stops
        step = snaps[0].iteration + 1
        dense = step in cadence
        with np.errstate(over="ignore", invalid="ignore"):
            patterns = [relu_pattern(frame, snap) for snap in snaps] if dense else None
            for track, pair in zip(tracks, pairs):
                seen = (patterns[pair.other], patterns[pair.reference]) if dense else None
                track.record(frame, snaps[pair.other], snaps[pair.reference], seen, dense)
        if snaps[0].params is not None:
            kept[step] = tuple(snap.params for snap in snaps)
        if on_step is not None:
            on_step(key, step)
    results = []
    for run, stepper in zip(runs, steppers):
        start = time.perf_counter()
        results.append(run.training.result())
        stepper.seconds += time.perf_counter() - start
    kept[len(tracks[0].param_diff)] = tuple(result.params for result in results)
    predictions = [_predictions(run, result) for run, result in zip(runs, results)]
    outcomes = [_outcome(run, result, seen, stepper.seconds)
                for run, result, seen, stepper in zip(runs, results, predictions, steppers)]
    trajectory = Trajectory(
        key=key,
        title=title,
        pairs=tuple(_summary(track, pair) for track, pair in zip(tracks, pairs)),
        outcomes=tuple(outcomes),
        agreements=tuple(_agreement(runs, predictions, outcomes, pair) for pair in pairs),
        first_layer="/".join(sorted({run.form for run in runs})),
        stride=cadence.stride,
    )
    return Walked(trajectory, kept)


def _summary(track: PairTrack, pair: Pair) -> PairSummary:
    param_diff = np.asarray(track.param_diff)
    cost_rel = np.asarray(track.cost_rel)
    worst = int(np.nanargmax(param_diff))  # NaN: steps off the cadence
    max_cost_rel = float(cost_rel.max())
    passed = pair.tolerance is None or (param_diff[worst] <= pair.tolerance and max_cost_rel <= pair.tolerance)
    return PairSummary(
        other=track.other,
        reference=track.reference,
        steps=len(param_diff),
        param_diff=param_diff,
        cost_diff=np.asarray(track.cost_diff),
        max_param_diff=float(param_diff[worst]),
        max_param_step=worst + 1,
        final_param_diff=float(param_diff[-1]),
        max_cost_rel=max_cost_rel,
        first_past=tuple((threshold, track.first_step_past(threshold)) for threshold in THRESHOLDS),
        first_relu=track.first_relu,
        relu_units_final=track.relu_units_last,
        relu_units_max=track.relu_units_max,
        tolerance=pair.tolerance,
        passed=bool(passed),
    )


def _predictions(run: RunSpec, result: TrainResult) -> tuple[np.ndarray, np.ndarray]:
    """0.5-thresholded predictions on the train and the test split."""
    return tuple(run.predict(result, X) > 0.5 for X in (run.arrays.X_train, run.arrays.X_test))


def _outcome(run: RunSpec, result: TrainResult, predictions, seconds: float) -> Outcome:
    train, test = predictions
    Y_train, Y_test = (run.arrays.Y_train.reshape(-1) > 0.5), (run.arrays.Y_test.reshape(-1) > 0.5)
    return Outcome(
        name=run.name,
        first_layer=result.first_layer,
        final_cost=float(result.costs[-1]),
        train_correct=int(np.sum(train == Y_train)),
        train_total=int(Y_train.size),
        test_correct=int(np.sum(test == Y_test)),
        test_total=int(Y_test.size),
        seconds=seconds,
        costs=np.asarray(result.costs, dtype=np.float64),
    )


def _agreement(runs, predictions, outcomes, pair: Pair) -> Agreement:
    (train_o, test_o), (train_r, test_r) = predictions[pair.other], predictions[pair.reference]
    other, reference = outcomes[pair.other], outcomes[pair.reference]
    train_gap = other.train_correct - reference.train_correct
    test_gap = other.test_correct - reference.test_correct
    train_disagree, test_disagree = int(np.sum(train_o != train_r)), int(np.sum(test_o != test_r))
    slack = pair.accuracy_slack
    if slack is None:
        passed = True
    elif slack == 0:
        passed = train_disagree == 0 and test_disagree == 0
    else:
        passed = abs(train_gap) <= slack and abs(test_gap) <= slack
    return Agreement(runs[pair.other].name, runs[pair.reference].name, train_disagree, test_disagree,
                     train_gap, test_gap, slack, bool(passed))
