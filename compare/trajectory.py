"""Step-by-step differences between training runs: parameters, cost and ReLU on/off patterns.

Everything is measured in float64 on the exact values each run holds (a
float32 value is exactly representable in float64). The runs compared here
start from the same W1_init and data values, which makes the span form cheap
to compare: two span runs differ in W1 by dC @ X.T, and
||dC @ X.T||_F^2 = trace(dC G dC^T) with the Gram matrix G = X.T @ X, an
(n_1, m) x (m, m) product instead of materialising (n_1, n_x) matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from catcore.params import Layer, Params
from catcore.training import StepState
from numpy_impl.network import propagate
from numpy_impl.span import SpanBasis

THRESHOLDS = (1e-12, 1e-9, 1e-6, 1e-3)


@dataclass(frozen=True)
class Cadence:
    """The steps at which the first layer is compared: all of them, or every `stride`-th (and the first and last).

    Comparing a primal run's W1 or forming its Z1 = W1 @ X costs as much as a
    training step, so runs with a primal side are compared more sparsely.
    """

    stride: int
    last: int

    def __contains__(self, step: int) -> bool:
        return self.stride == 1 or step == 1 or step == self.last or step % self.stride == 0


@dataclass(frozen=True)
class Snapshot:
    """One run's state after a step, as float64 copies."""

    iteration: int  # the update just applied; the state is "after step iteration + 1"
    cost: float  # at this iteration, before its update
    C: np.ndarray | None  # (n_1, m) span coefficients: W1 = W1_init + C @ X.T; None for primal runs
    W1: np.ndarray | None  # (n_1, n_x) the current W1 where it was held or materialised
    b1: np.ndarray  # (n_1, 1)
    upper: tuple[Layer, ...]  # layers 2..L
    params: Params | None = None  # the full parameters in the run's own dtype, at checkpoints only


class SpanFrame:
    """The data and W1_init shared by the runs, in float64: numpy_impl.span's basis, and W1 for primal runs too."""

    def __init__(self, W1_init: np.ndarray, X: np.ndarray):
        self.basis = SpanBasis(W1_init.astype(np.float64), X.astype(np.float64))  # (n_1, n_x), (n_x, m)
        self._products: dict[int, tuple[Snapshot, np.ndarray]] = {}  # id -> (snapshot, its C @ G)

    def _CG(self, snap: Snapshot) -> np.ndarray:
        """C @ G of a span snapshot, made once: its Z1 and its ||W1||^2 both need it, at every step."""
        held = self._products.get(id(snap))
        if held is None or held[0] is not snap:
            if len(self._products) >= 8:  # a step's few snapshots; the ones of past steps are let go
                self._products.clear()
            held = self._products[id(snap)] = (snap, snap.C @ self.basis.gram)  # the snapshot is held, so its id stays its own
        return held[1]

    def materialise(self, C: np.ndarray) -> np.ndarray:
        return self.basis.W1(C)  # (n_1, n_x)

    def W1_sq(self, snap: Snapshot) -> float:
        """||W1||_F^2 without forming W1 when the run is in span form."""
        if snap.C is not None:
            return self.basis.W1_norm_sq(snap.C, self._CG(snap))
        return float(np.sum(snap.W1**2))

    def W1_diff_sq(self, a: Snapshot, b: Snapshot) -> float:
        """||W1_a - W1_b||_F^2; cheap when both are span runs."""
        if a.C is not None and b.C is not None:
            return self.basis.W1_distance_sq(a.C, b.C)
        return float(np.sum((self._W1(a) - self._W1(b)) ** 2))

    def Z1(self, snap: Snapshot) -> np.ndarray:
        """The first layer's pre-activation on the frame's data, (n_1, m)."""
        if snap.C is not None:
            return self.basis.Z1(snap.C, snap.b1, self._CG(snap))
        return snap.W1 @ self.basis.X + snap.b1

    def _W1(self, snap: Snapshot) -> np.ndarray:
        if snap.W1 is not None:
            return snap.W1
        return self.materialise(snap.C)


def snapshot_keeper(X_run: np.ndarray, checkpoints: frozenset[int], cadence: Cadence,
                    materialise: SpanFrame | None = None):
    """A `keep(state)` for a run's steps: float64 copies, full Params at the checkpoint steps.

    `X_run` is the run's own (n_x, m) data, for materialising a span run's W1
    in its own dtype at checkpoints; with `materialise`, a span run's W1 is
    also formed in float64 at the cadence's steps (for comparing with a primal
    run). A primal run's W1 is kept at the cadence's steps only.
    """

    def keep(state: StepState) -> Snapshot:
        first, upper = state.params.layers[0], state.params.layers[1:]
        span = state.span_coefficients is not None and state.first_layer == "span"
        dense = state.iteration + 1 in cadence
        C = state.span_coefficients.astype(np.float64) if span else None  # astype copies
        if span:
            W1 = materialise.materialise(C) if materialise is not None and dense else None
        else:
            W1 = first.W.astype(np.float64) if dense else None
        params = None
        if state.iteration + 1 in checkpoints:
            W1_run = first.W + state.span_coefficients @ X_run.T if span else first.W  # (n_1, n_x) in the run's dtype
            params = Params((Layer(W1_run.copy(), first.b.copy()),) + tuple(Layer(l.W.copy(), l.b.copy()) for l in upper))
        return Snapshot(
            iteration=state.iteration,
            cost=float(state.cost),
            C=C,
            W1=W1,
            b1=first.b.astype(np.float64),
            upper=tuple(Layer(l.W.astype(np.float64), l.b.astype(np.float64)) for l in upper),
            params=params,
        )

    return keep


def relu_pattern(frame: SpanFrame, snap: Snapshot) -> tuple[np.ndarray, ...]:
    """Which hidden units are on for which training example: one (n_l, m) bool array per hidden layer."""
    Zs, _ = propagate(frame.Z1(snap), snap.upper)
    return tuple(Z > 0 for Z in Zs[:-1])


def params_sq(frame: SpanFrame, snap: Snapshot) -> float:
    upper = sum(float(np.sum(l.W**2) + np.sum(l.b**2)) for l in snap.upper)
    return frame.W1_sq(snap) + float(np.sum(snap.b1**2)) + upper


def params_diff_sq(frame: SpanFrame, a: Snapshot, b: Snapshot) -> float:
    upper = sum(float(np.sum((x.W - y.W) ** 2) + np.sum((x.b - y.b) ** 2)) for x, y in zip(a.upper, b.upper))
    return frame.W1_diff_sq(a, b) + float(np.sum((a.b1 - b.b1) ** 2)) + upper


@dataclass(frozen=True)
class ReluDivergence:
    step: int  # after this many updates the patterns first differ
    units: int  # hidden units whose on/off pattern differs on at least one example
    entries: int  # (unit, example) pairs that differ
    per_layer: tuple[int, ...]  # differing units per hidden layer


@dataclass
class PairTrack:
    """The running record of `other` against `reference`, one entry per step."""

    other: str
    reference: str
    cost_diff: list[float] = field(default_factory=list)  # |cost_o - cost_r| at each iteration
    cost_rel: list[float] = field(default_factory=list)
    param_diff: list[float] = field(default_factory=list)  # normwise ||θ_o - θ_r|| / ||θ_r|| after each step; NaN off cadence
    first_relu: ReluDivergence | None = None
    relu_units_last: int = 0  # units differing after the last step
    relu_units_max: int = 0

    def record(self, frame: SpanFrame, other: Snapshot, reference: Snapshot, patterns=None, dense: bool = True) -> None:
        """Costs at every step; parameters and (given `patterns`) ReLU patterns only at `dense` steps."""
        diff = abs(other.cost - reference.cost)
        self.cost_diff.append(diff)
        self.cost_rel.append(diff / abs(reference.cost) if reference.cost else diff)
        if not dense:
            self.param_diff.append(float("nan"))
            return
        ref_sq = params_sq(frame, reference)
        self.param_diff.append(float(np.sqrt(params_diff_sq(frame, other, reference) / ref_sq)) if ref_sq > 0 else 0.0)
        if patterns is not None:
            self._record_relu(other.iteration + 1, *patterns)

    def _record_relu(self, step: int, other: tuple[np.ndarray, ...], reference: tuple[np.ndarray, ...]) -> None:
        per_layer = tuple(int(np.count_nonzero(np.any(o != r, axis=1))) for o, r in zip(other, reference))
        units = sum(per_layer)
        self.relu_units_last = units
        self.relu_units_max = max(self.relu_units_max, units)
        if units and self.first_relu is None:
            entries = sum(int(np.count_nonzero(o != r)) for o, r in zip(other, reference))
            self.first_relu = ReluDivergence(step, units, entries, per_layer)

    def first_step_past(self, threshold: float) -> int | None:
        """The first step (1-based count of updates) whose normwise parameter difference exceeds `threshold`."""
        over = np.flatnonzero(np.asarray(self.param_diff) > threshold)
        return int(over[0]) + 1 if over.size else None
