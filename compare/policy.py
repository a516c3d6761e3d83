"""The tolerance policy, as data: what each comparison must meet, per dtype and device, and why.

The figures in the reasons were measured on the course's run (real data,
[12288, 20, 7, 5, 1], 2500 steps) on a 2-core x86 CPU with NumPy 2.4
(OpenBLAS) and torch 2.13 (MKL); the README's compare section has the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from compare.metrics import Tolerance

SHORT_STEPS = (1, 2, 10)  # "step-level": parameters after these many updates
LONG_STEPS = (100,)  # and the end of the run: "trajectory-level"
GRADCHECK_EPSILON = 1e-5


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
    accuracy_slack: int = 0  # final predictions: examples by which the accuracies may differ
    judged: bool = True  # False for TF32: the figures are shown, parity is not claimed
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.dtype} on {self.device}" + ("" if self.judged else " with TF32 (fast mode)")


_GRADCHECK = Tolerance(
    1e-7,
    f"the course calls a backprop right below 2e-7 with eps = 1e-7; at eps = {GRADCHECK_EPSILON:g} the rounding "
    "noise is ~100x smaller (measured <= 2e-10 on the course's data)",
)

FLOAT64_CPU = Policy(
    dtype="float64",
    device="cpu",
    step=Tolerance(1e-12, "one pass in float64 agrees to rounding: measured <= 1e-15 normwise per tensor"),
    trajectory=Tolerance(
        1e-10,
        "rounding differences grow over 2500 steps but stay tiny: measured max 8e-14 normwise on all parameters",
    ),
    gradcheck=_GRADCHECK,
    note="float64 on CPU: the twins must agree to rounding, step by step and over the whole run",
)

FLOAT32_CPU = Policy(
    dtype="float32",
    device="cpu",
    step=Tolerance(1e-5, "each float32 run against the float64 oracle: measured <= 1e-6 normwise per tensor"),
    trajectory=Tolerance(float("inf"), "float32 runs leave the float64 trajectory within ~100 steps: reported, not judged"),
    gradcheck=_GRADCHECK,
    oracle=True,
    balance=3.0,
    balance_floor=1e-7,
    accuracy_slack=1,
    note="float32: each twin is judged against a float64 run from the same float32 inputs; "
    "their errors must be of the same size (within 3x) and their final accuracies within one example",
)


def policy_for(dtype: str, device: str, allow_tf32: bool = False) -> Policy:
    """The policy for a run; CUDA uses the CPU rules a little looser (reductions run in another order)."""
    base = FLOAT64_CPU if dtype == "float64" else FLOAT32_CPU
    if device != "cuda":
        return base
    from dataclasses import replace

    looser = 10.0 if dtype == "float64" else 1.0
    policy = replace(
        base,
        device="cuda",
        step=Tolerance(base.step.normwise * looser, base.step.reason + "; x10 on CUDA (not measured in this build)"),
        trajectory=Tolerance(base.trajectory.normwise * looser, base.trajectory.reason + "; x10 on CUDA"),
    )
    if dtype == "float32" and allow_tf32:
        policy = replace(policy, judged=False, note="TF32 matmuls keep 10 bits of mantissa: a fast mode, not parity")
    return policy
