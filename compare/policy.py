"""The tolerance policy, as data: what each comparison must meet, per dtype and device, and why.

The figures quoted in the reasons were measured on the course's run (real
data, [12288, 20, 7, 5, 1], 2500 steps, span form) on this project's 2-core
x86 CPU with NumPy 2.4 (OpenBLAS) and torch 2.13 (MKL); the README's compare
section has the table. Small random networks (tests/test_compare_properties.py)
set the floors: results of cancelling sums, and error ratios of tensors too
small to average over many roundings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from compare.metrics import Tolerance

SHORT_STEPS = (1, 2, 10)  # "step-level": parameters after these many updates (and step 0's passes)
LONG_STEPS = (100,)  # and the end of the run: "trajectory-level"
GRADCHECK_EPSILON = 1e-5
FLOAT32_EPS = 2.0**-23  # 1.19e-7, the gap between 1 and the next float32


@dataclass(frozen=True)
class Policy:
    """Tolerances for one dtype on one device, with the reasons a reader can check against the measured figures."""

    dtype: str
    device: str  # "cpu" or "cuda"
    step: Tolerance  # forward and gradients at step 0, parameters after steps 1, 2, 10
    trajectory: Tolerance  # parameters after step 100 and at the end, and every step's normwise difference
    gradcheck: Tolerance  # finite differences against the NumPy backprop (always in float64)
    oracle: bool = False  # judge each run against a float64 run from the same inputs, not against each other
    balance: float | None = None  # with an oracle: the larger of the two runs' errors over the smaller, at most
    balance_floor: float = 0.0  # errors below this count as equal when taking that ratio
    balance_min_size: int = 0  # tensors with fewer elements have the ratio reported, not judged
    accuracy_slack: int = 0  # final predictions: examples by which the accuracies may differ (0: none may differ)
    judged: bool = True  # False for TF32: the figures are shown, parity is not claimed
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.dtype} on {self.device}" + ("" if self.judged else " with TF32 (fast mode)")


_GRADCHECK = Tolerance(
    1e-7,
    reason=f"the course calls a backprop right below 2e-7 at eps = 1e-7; at eps = {GRADCHECK_EPSILON:g} the "
    "finite difference's rounding noise is ~100x smaller: measured <= 1.7e-10 per tensor on the course's data",
)

FLOAT64_CPU = Policy(
    dtype="float64",
    device="cpu",
    step=Tolerance(
        1e-12, 1e-15,
        reason="one pass in float64 agrees to rounding: measured <= 3.6e-15 normwise per tensor at step 0 and "
        "<= 3.1e-16 after steps 1-10; 1e-15 absolute for sums that cancel (db of a balanced batch)",
    ),
    trajectory=Tolerance(
        1e-10, 1e-13,
        reason="rounding differences grow over 2500 steps but stay tiny: measured <= 8.1e-14 normwise on all "
        "parameters at every step, <= 3.0e-13 per tensor at the end, cost <= 5.5e-13 relative",
    ),
    gradcheck=_GRADCHECK,
    note="float64: the twins must agree to rounding, step by step and over the whole run, and make the same predictions",
)

FLOAT32_CPU = Policy(
    dtype="float32",
    device="cpu",
    step=Tolerance(
        1e-5, 1e-6,
        reason="each float32 twin against the float64 oracle: measured <= 4.9e-7 normwise per tensor over "
        "steps 0-10 (~4 float32 eps); 1e-6 absolute for sums that cancel (torch.testing's float32 atol is 1e-5)",
    ),
    trajectory=Tolerance(
        float("inf"),
        reason="float32 runs leave the float64 trajectory: both twins pass 1e-6 at step 66 and 1e-3 at step 120 on "
        "the course's run (the same step for both: a unit sits near its ReLU kink there); reported, not judged",
    ),
    gradcheck=_GRADCHECK,
    oracle=True,
    balance=3.0,
    balance_floor=4 * FLOAT32_EPS,
    balance_min_size=1000,
    accuracy_slack=1,
    note="float32: each twin is judged against a float64 run from the very same float32 inputs; on tensors of "
    "1000+ elements over steps 0-10 their errors must be within 3x of each other (measured <= 1.87x); "
    "final accuracies within one example of the float64 run's",
)


def policy_for(dtype: str, device: str, allow_tf32: bool = False) -> Policy:
    """The policy for a run. CUDA: the CPU rules, float64 ten times looser (reductions run in another order)."""
    base = FLOAT64_CPU if dtype == "float64" else FLOAT32_CPU
    if device != "cuda":
        return base
    looser = 10.0 if dtype == "float64" else 1.0
    note = "; not measured in this build's CI (no GPU)"
    policy = replace(
        base,
        device="cuda",
        step=replace(base.step, normwise=base.step.normwise * looser, reason=base.step.reason + note),
        trajectory=replace(base.trajectory, normwise=base.trajectory.normwise * looser, reason=base.trajectory.reason + note),
    )
    if dtype == "float32" and allow_tf32:
        policy = replace(policy, judged=False, note="TF32 matmuls keep a 10-bit mantissa: a fast mode, reported, not parity")
    return policy
