"""What the check of one learner's file found: a verdict per graded function, and one for the file."""

from __future__ import annotations

from dataclasses import dataclass

from compare.learners.conventions import Context
from compare.learners.keep import Skipped
from compare.learners.source import Broken
from compare.metrics import Comparison, Tolerance

AGREES = "agrees"
DIFFERS = "differs"
RAISED = "raised"
TIMED_OUT = "timed out"
CRASHED = "crashed"
BROKEN = "does not parse"
NOT_FOUND = "not found"
SKIPPED = "skipped"
FAILED = (DIFFERS, RAISED, TIMED_OUT, CRASHED, BROKEN)


@dataclass(frozen=True)
class FunctionCheck:
    function: str
    status: str  # one of the names above
    detail: str  # one line a learner can act on
    comparisons: tuple[Comparison, ...] = ()
    mistake: str | None = None  # the catalogued mistake's key (mistakes.py), or "unseeded"
    mistake_title: str | None = None
    found: str | None = None  # the course convention this function follows, in words

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def checked(self) -> bool:
        return self.status not in (NOT_FOUND, SKIPPED)


@dataclass(frozen=True)
class LearnerReport:
    path: str
    kind: str  # "python" or "notebook"
    problem: str | None  # why the file as a whole could not be checked, or None
    checks: tuple[FunctionCheck, ...]  # every graded function in the course's order, the training run after the steps
    context: Context | None
    skipped: tuple[Skipped, ...]
    broken: tuple[Broken, ...]
    notes: tuple[str, ...]
    step_tolerance: Tolerance
    training_tolerance: Tolerance
    training_steps: int
    timeout: float
    seconds: float
    graded_in_source: tuple[str, ...] = ()  # the graded functions the source defines, whether or not they ran

    @property
    def checked(self) -> tuple[FunctionCheck, ...]:
        return tuple(check for check in self.checks if check.checked)

    @property
    def passed(self) -> bool:
        return self.problem is None and bool(self.checked) and not any(check.failed for check in self.checks)

    @property
    def first_failed(self) -> FunctionCheck | None:
        return next((check for check in self.checks if check.failed), None)

    @property
    def first_failure(self) -> str | None:
        if self.problem is not None:
            return f"the file {self.problem}"
        failed = self.first_failed
        if failed is not None:
            return f"{failed.function}: {failed.detail}"
        return None if self.checked else "none of the course's graded functions is defined in the file"

    @property
    def verdict(self) -> str:
        return "AGREES" if self.passed else "DIFFERS"

    def found(self) -> dict[str, str]:
        """The conventions read off the file's functions: {"dA keys": ..., "initialisation": ..., "returns": ...}."""
        return {check.function: check.found for check in self.checks if check.found}
