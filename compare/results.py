"""What the harness hands back: typed results, no printing."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from catcore.config import TrainConfig
from compare.environment import Environment
from compare.gradcheck import GradCheck
from compare.metrics import Comparison
from compare.policy import Policy
from compare.trajectory import ReluDivergence


@dataclass(frozen=True)
class TensorRow:
    """One tensor of a section: the twins against each other, or (float32) each against the float64 oracle.

    `checks` holds one Comparison for float64 ("torch vs numpy"), three for
    float32 ("numpy vs float64", "torch vs float64", "torch vs numpy").
    """

    name: str  # Z1, dW2, W1, cost ...
    step: int | None  # after this many updates; None for step 0 sections
    labels: tuple[str, ...]
    checks: tuple[Comparison, ...]
    judged: tuple[bool, ...]  # which checks count towards the verdict
    balance: float | None  # float32: larger error vs the oracle over the smaller
    balance_limit: float | None
    passed: bool

    @property
    def worst(self) -> Comparison:
        """The judged comparison with the largest normwise error (the one to show first)."""
        judged = [c for c, j in zip(self.checks, self.judged) if j] or list(self.checks)
        return max(judged, key=lambda c: -1.0 if c.normwise is None else c.normwise)


@dataclass(frozen=True)
class Section:
    key: str  # forward, gradients, parameters
    title: str
    rows: tuple[TensorRow, ...]

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)


@dataclass(frozen=True)
class PairSummary:
    """One run against another over the whole trajectory."""

    other: str
    reference: str
    steps: int
    param_diff: np.ndarray  # (steps,) normwise after each step; NaN at steps not compared (see Trajectory.stride)
    cost_diff: np.ndarray  # (steps,) |Δcost| at each iteration
    max_param_diff: float
    max_param_step: int
    final_param_diff: float
    max_cost_rel: float
    first_past: tuple[tuple[float, int | None], ...]  # (threshold, first step over it)
    first_relu: ReluDivergence | None
    relu_units_final: int
    relu_units_max: int
    tolerance: float | None  # None: reported, not judged
    passed: bool

    @property
    def label(self) -> str:
        return f"{self.other} vs {self.reference}"


@dataclass(frozen=True)
class Outcome:
    """Where one run ended."""

    name: str
    first_layer: str
    final_cost: float
    train_correct: int
    train_total: int
    test_correct: int
    test_total: int
    seconds: float  # its training loop, turns of the other runs excluded
    costs: np.ndarray  # (steps,)


@dataclass(frozen=True)
class Agreement:
    """Final predictions of one run against another's, and whether the policy accepts the difference."""

    other: str
    reference: str
    train_disagree: int
    test_disagree: int
    train_gap: int  # correct answers, other minus reference
    test_gap: int
    slack: int | None  # None: reported, not judged
    passed: bool


@dataclass(frozen=True)
class Trajectory:
    key: str  # trajectory, span
    title: str
    pairs: tuple[PairSummary, ...]
    outcomes: tuple[Outcome, ...]
    agreements: tuple[Agreement, ...]
    first_layer: str
    stride: int = 1  # parameters and ReLU patterns compared every this many steps (costs at every step)
    balance_max: float | None = None  # float32: largest ratio of the two runs' errors vs the oracle over the run
    balance_step: int | None = None

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.pairs) and all(a.passed for a in self.agreements)


@dataclass(frozen=True)
class GradCheckSection:
    checks: tuple[GradCheck, ...]
    epsilon: float
    per_tensor: int
    seed: int

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class RunSettings:
    """What was compared: the configuration, the first-layer form it resolved to, the torch device."""

    config: TrainConfig
    first_layer_resolved: str  # "primal" or "span"
    device: str

    def plain(self) -> dict:
        """As plain values, the config's fields first (for --json)."""
        return {**asdict(self.config), "first_layer_resolved": self.first_layer_resolved, "device": self.device}


@dataclass(frozen=True)
class ParityReport:
    environment: Environment | None
    settings: RunSettings
    policy: Policy
    sections: tuple[Section, ...]  # forward, gradients, parameters
    trajectory: Trajectory
    gradcheck: GradCheckSection
    span: Trajectory | None  # --span-check: primal against span form
    seconds: float

    @property
    def passed(self) -> bool:
        parts = [s.passed for s in self.sections] + [self.trajectory.passed, self.gradcheck.passed]
        if self.span is not None:
            parts.append(self.span.passed)
        return all(parts)
