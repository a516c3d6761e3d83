"""One learner's file from path to report: read it, run it in a child process, judge what came back.

A `Session` holds what every file of a run shares (the plan and its inputs,
the judge, the limits), so a class of files builds them once.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from compare.learners import protocol as p
from compare.learners.conventions import Context, context_of
from compare.learners.judge import Judge, read_outcomes
from compare.learners.plan import Plan, References, build_plan
from compare.learners.runner import Job, Limits, run_job
from compare.learners.source import LearnerSource, read_source
from compare.learners.verdict import CRASHED, TIMED_OUT, LearnerReport
from compare.policy import Policy

DEFAULT_STEPS = 30  # a few dozen iterations: enough for a wrong update to show, quick on the course's data


@dataclass
class Session:
    """The run's plan, its inputs as the child reads them, the judge and the limits; close() removes the inputs."""

    plan: Plan
    tasks: dict  # task -> {"mode", "args" tree}: the job's half that is the same for every file
    inputs: bytes  # the arrays the trees name, one .npz blob
    judge: Judge
    policy: Policy
    limits: Limits

    def __post_init__(self):
        self._folder = tempfile.TemporaryDirectory(prefix="catnet-inputs-")
        self.inputs_path = Path(self._folder.name) / "inputs.npz"
        self.inputs_path.write_bytes(self.inputs)

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def open_session(config, X, Y, policy: Policy, limits: Limits, steps: int = DEFAULT_STEPS, device="cpu") -> Session:
    """Everything a run of files shares, for `config`'s network on X (n_x, m), Y (1, m)."""
    plan = build_plan(config, X, Y, steps, device)
    tasks, inputs = plan.inputs()
    judge = Judge(plan, References(plan, config, device), policy.step, policy.trajectory)
    return Session(plan, tasks, inputs, judge, policy, limits)


def job_for(source: LearnerSource, session: Session) -> Job:
    return Job(source.path, str(Path(source.path).parent), tuple(asdict(unit) for unit in source.units),
               source.neighbours, session.tasks, p.TASKS)


def check_path(path: str | Path, session: Session) -> LearnerReport:
    """Read, run and judge one file here (the child process runs on this machine).

    A failure of catnet's own on one file becomes that file's verdict, so it
    cannot sink the rest of a class; it says so, and the file counts as not agreeing.
    """
    started = time.perf_counter()
    source = read_source(path)
    if source.problem is not None:
        return report_for(source, None, None, session, time.perf_counter() - started)
    try:
        blob = run_job(job_for(source, session), session.inputs_path, session.limits)
        return report_for(source, context_of(source), blob, session, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 -- reported against the file, with what failed
        return report_for(source, None, None, session, time.perf_counter() - started,
                          f"could not be checked: catnet failed on it ({type(exc).__name__}: {exc})")


def report_for(source: LearnerSource, context: Context | None, blob: bytes | None, session: Session,
               seconds: float, problem: str | None = None) -> LearnerReport:
    """The report on `source` from the child's blob (None when the file could not be read, or `problem` says why)."""
    problem, checks, notes = source.problem or problem, [], []
    if problem is None:
        try:
            outcomes = read_outcomes(blob)
        except (ValueError, KeyError, OSError) as exc:  # OSError: np.load of a truncated blob
            outcomes, problem = {}, f"sent back results that could not be read ({type(exc).__name__})"
        load = outcomes.get(p.LOAD)
        if problem is None and (load is None or load.status in (TIMED_OUT, CRASHED)):
            problem = f"could not be loaded: {load.error[2] if load and load.error else 'no result came back'}"
        if problem is None:
            notes = list(load.notes)
            checks = session.judge.checks(source, context, outcomes)
    return LearnerReport(source.path, source.kind, problem, tuple(checks), context, source.skipped, source.broken,
                         tuple(notes), session.policy.step, session.policy.trajectory, session.plan.steps,
                         session.limits.timeout, seconds, source.defines)
