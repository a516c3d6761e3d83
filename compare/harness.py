"""catnet compare's computing: the NumPy reference against the torch twin, section by section.

1. forward pass at step 0, 2. gradients at step 0, 3. parameters after steps
1, 2, 10, 100 and the end, 4. the whole trajectory, 5. a finite-difference
check of the NumPy backprop; optionally 6. the span form against the primal
form. In float32 a third run joins: the NumPy reference in float64 from the
very same float32 inputs (initial parameters and data, which float64 holds
exactly), so what is measured is each twin's arithmetic error alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from catcore.config import TrainConfig
from catcore.data import Arrays
from catcore.params import Params
from compare.environment import Environment
from compare.gradcheck import gradient_check
from compare.metrics import compare_arrays
from compare.policy import (
    FLOAT64_CPU,
    GRADCHECK_EPSILON,
    LONG_STEPS,
    SHORT_STEPS,
    Policy,
)
from compare.results import (
    GradCheckSection,
    ParityReport,
    RunSettings,
    Section,
    TensorRow,
)
from compare.trajectory import SpanFrame
from compare.twins import Pass, numpy_pass, torch_pass
from compare.walk import Pair, numpy_run, torch_run, walk
from numpy_impl.init import initialize

NUMPY, TORCH, ORACLE = "numpy", "torch", "float64"


@dataclass(frozen=True)
class Options:
    span_check: bool = False  # also run the primal form against the span form (float64, NumPy)
    gradcheck_seed: int = 0
    gradcheck_per_tensor: int = 12


def run_parity(
    config: TrainConfig,
    arrays: Arrays,
    policy: Policy,
    device="cpu",
    environment: Environment | None = None,
    options: Options = Options(),
    on_step: Callable[[str, int], None] | None = None,
) -> ParityReport:
    """Every section of the harness for `config` on `arrays` (in config.dtype); the torch twin runs on `device`."""
    import torch

    from torch_impl.model import torch_dtype

    start = time.perf_counter()
    device = torch.device(device)
    dtype = np.dtype(config.dtype)
    initial = initialize(config.layers, config.init, config.seed, dtype=dtype)
    X, Y = arrays.X_train, arrays.Y_train
    frame = SpanFrame(initial.layers[0].W, X)
    wide = _Inputs(initial.astype(np.float64), arrays.astype(np.float64))

    numpy_0 = numpy_pass(initial, X, Y)
    torch_0 = torch_pass(initial, X, Y, torch_dtype(config.dtype), device)
    oracle_0 = numpy_pass(wide.params, wide.arrays.X_train, wide.arrays.Y_train) if policy.oracle else None
    judge = _Judge(policy)
    sections = [
        Section("forward", "Forward pass at step 0", judge.step_zero(numpy_0, torch_0, oracle_0, _forward_items)),
        Section("gradients", "Gradients at step 0 (NumPy backprop vs torch autograd)",
                judge.step_zero(numpy_0, torch_0, oracle_0, _gradient_items)),
    ]

    checkpoints = frozenset(s for s in SHORT_STEPS + LONG_STEPS if s < config.iterations)
    runs = [numpy_run(NUMPY, initial, arrays, config), torch_run(TORCH, initial, arrays, config, device)]
    form = runs[0].form  # both twins resolve config.first_layer the same way, once each
    if policy.oracle:
        runs.append(numpy_run(ORACLE, wide.params, wide.arrays, replace(config, dtype="float64", first_layer="auto")))
        slack = policy.accuracy_slack
        pairs = [Pair(0, 2, None, slack), Pair(1, 2, None, slack), Pair(1, 0, None, None)]
    else:
        pairs = [Pair(1, 0, policy.trajectory.normwise, policy.accuracy_slack)]
    walked = walk("trajectory", "The whole trajectory", runs, pairs, frame, checkpoints, on_step)
    trajectory = walked.trajectory
    if policy.oracle:
        trajectory = _with_balance(trajectory, policy.balance_floor)
    sections.append(Section("parameters", "Parameters after steps", judge.checkpoints(walked.checkpoints)))

    checks = gradient_check(wide.params, wide.arrays.X_train, wide.arrays.Y_train,
                            np.random.default_rng(options.gradcheck_seed), policy.gradcheck.normwise,
                            per_tensor=options.gradcheck_per_tensor, epsilon=GRADCHECK_EPSILON)
    gradcheck = GradCheckSection(checks, GRADCHECK_EPSILON, options.gradcheck_per_tensor, options.gradcheck_seed)

    span = None
    if options.span_check:
        span = _span_check(wide, config, on_step)
    return ParityReport(
        environment=environment,
        settings=RunSettings(config, form, str(device)),
        policy=policy,
        sections=tuple(sections),
        trajectory=trajectory,
        gradcheck=gradcheck,
        span=span,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class _Inputs:
    params: Params
    arrays: Arrays


def _span_check(wide: _Inputs, config: TrainConfig, on_step):
    """The reference's primal form against its span form, float64, same inputs: rounding level expected."""
    config64 = replace(config, dtype="float64")
    frame = SpanFrame(wide.params.layers[0].W, wide.arrays.X_train)
    runs = [numpy_run("primal", wide.params, wide.arrays, replace(config64, first_layer="primal")),
            numpy_run("span", wide.params, wide.arrays, replace(config64, first_layer="span"))]
    walked = walk("span", "Span form against primal form (NumPy, float64)", runs,
                  [Pair(1, 0, FLOAT64_CPU.trajectory.normwise, 0)], frame, frozenset(), on_step)
    return walked.trajectory


def _with_balance(trajectory, floor: float):
    """The step-by-step ratio of the two float32 runs' parameter errors against the oracle, at its largest."""
    numpy_error, torch_error = (np.maximum(pair.param_diff, floor) for pair in trajectory.pairs[:2])
    ratio = np.maximum(numpy_error, torch_error) / np.minimum(numpy_error, torch_error)
    worst = int(np.nanargmax(ratio))  # NaN: steps a primal run was not compared
    return replace(trajectory, balance_max=float(ratio[worst]), balance_step=worst + 1)


def _forward_items(p: Pass) -> dict[str, np.ndarray]:
    # both twins compute the cost in the run's dtype and hand it back as a Python float, which holds it exactly
    return {**p.forward.named_arrays(), "cost": np.asarray(p.cost, dtype=p.forward.AL.dtype)}


def _gradient_items(p: Pass) -> dict[str, np.ndarray]:
    """In backprop order, output layer first: the first gradient that differs is where a bug starts."""
    return p.grads.backprop_order()


class _Judge:
    """Builds TensorRows under the policy: twin against twin (float64), or each against the oracle (float32)."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def step_zero(self, numpy_: Pass, torch_: Pass, oracle: Pass | None, items) -> tuple[TensorRow, ...]:
        mine, theirs = items(torch_), items(numpy_)
        wide = items(oracle) if oracle is not None else None
        return tuple(self.row(name, None, mine[name], theirs[name], wide[name] if wide else None, short=True)
                     for name in theirs)

    def checkpoints(self, snapshots: dict) -> tuple[TensorRow, ...]:
        rows = []
        for step in sorted(snapshots):
            numpy_params, torch_params, *oracle = snapshots[step]
            short = step <= max(SHORT_STEPS)
            wide = oracle[0].named_arrays() if oracle else None
            theirs, mine = numpy_params.named_arrays(), torch_params.named_arrays()
            for name in theirs:
                rows.append(self.row(name, step, mine[name], theirs[name], wide[name] if wide else None, short))
        return tuple(rows)

    def row(self, name, step, torch_value, numpy_value, oracle_value, short: bool) -> TensorRow:
        """Short horizon (step 0 to 10): step tolerance, and in float32 the error balance is judged on tensors
        of balance_min_size elements or more; longer: trajectory tolerance, balance reported (float32 runs
        leave the float64 path by step ~100)."""
        tolerance = self.policy.step if short else self.policy.trajectory
        if oracle_value is None:
            check = compare_arrays(name, torch_value, numpy_value, tolerance)
            return TensorRow(name, step, (f"{TORCH} vs {NUMPY}",), (check,), (True,), None, None, check.passed)
        dtype = np.asarray(numpy_value).dtype
        checks = (
            compare_arrays(name, numpy_value, oracle_value, tolerance, expect_dtype=dtype),
            compare_arrays(name, torch_value, oracle_value, tolerance, expect_dtype=dtype),
            compare_arrays(name, torch_value, numpy_value, tolerance),
        )
        balance = _balance(checks[0].normwise, checks[1].normwise, self.policy.balance_floor)
        # a ratio of two errors is a statistic: over a handful of elements it compares single roundings
        sized = np.size(oracle_value) >= self.policy.balance_min_size
        limit = self.policy.balance if short and sized else None
        passed = checks[0].passed and checks[1].passed and (limit is None or balance <= limit)
        labels = (f"{NUMPY} vs {ORACLE}", f"{TORCH} vs {ORACLE}", f"{TORCH} vs {NUMPY}")
        return TensorRow(name, step, labels, checks, (True, True, False), balance, limit, passed)


def _balance(a: float | None, b: float | None, floor: float) -> float:
    """max/min of two errors, each raised to `floor` first, so two roundings of almost nothing count as equal."""
    if a is None or b is None:
        return float("inf")
    a, b = max(a, floor), max(b, floor)
    if not (np.isfinite(a) and np.isfinite(b)):
        return float("inf")
    return max(a, b) / min(a, b) if min(a, b) > 0 else (1.0 if a == b else float("inf"))
