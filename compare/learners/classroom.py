"""A whole class at once: files, folders and globs, each file in its own process, N at a time or on a Dask cluster.

Locally, a thread pool keeps `jobs` child processes going (the threads only
wait on them and judge what comes back). With a Dask scheduler, the child
runs on a worker (dask.distributed's Client.submit, the plan's inputs
scattered once) and only the blob of arrays comes back; the verdict is
still computed here. Either way each file's report arrives through
`on_report` as soon as it is ready.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from catcore.errors import CatnetError
from compare.learners.check import Session, check_path, job_for, report_for
from compare.learners.conventions import context_of
from compare.learners.runner import run_job, stop_all
from compare.learners.source import SUFFIXES, read_source
from compare.learners.verdict import LearnerReport

# the course's own modules, which sit beside learners' notebooks: not the learner's work, left out of folders
COURSE_FILES = ("testCases", "test_cases", "public_tests", "test_utils", "dnn_utils", "dnn_app_utils", "lr_utils")
SKIPPED_FOLDERS = {".ipynb_checkpoints", "__pycache__", "site-packages", "node_modules", ".git"}


@dataclass(frozen=True)
class Entry:
    path: Path
    named: bool  # the user named this file itself (it counts even when it has nothing to check)


@dataclass(frozen=True)
class Found:
    entries: tuple[Entry, ...]
    course_files: tuple[Path, ...]  # left out of folders and globs: the course's helpers and tests


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def find_files(arguments: list[str]) -> Found:
    """Every .py and .ipynb the arguments name: files as given, folders searched, globs expanded (recursive **)."""
    entries, course_files, seen = [], [], set()

    def add(path: Path, named: bool) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            entries.append(Entry(path, named))

    for argument in arguments:
        path = Path(argument)
        if path.is_file():
            if path.suffix not in SUFFIXES:
                raise CatnetError(f"--against expects .py or .ipynb files, folders or globs, got {argument!r}")
            add(path, True)
            continue
        if path.is_dir():
            candidates = sorted(_search(path))
        else:
            candidates = sorted(Path(p) for p in glob.glob(argument, recursive=True) if Path(p).is_file())
            if not candidates:
                raise CatnetError(f"--against: no such file or folder, and no file matches {argument!r}")
        for candidate in candidates:
            if candidate.suffix not in SUFFIXES:
                continue
            if candidate.stem.startswith(COURSE_FILES):
                course_files.append(candidate)
            else:
                add(candidate, False)
    if not entries:
        raise CatnetError("--against found no .py or .ipynb file to check"
                          + (f" (only the course's own files: {', '.join(p.name for p in course_files[:5])})"
                             if course_files else ""))
    # a course file that is also named (`--against week4 week4/dnn_app_utils_v3.py`) is checked, not left out
    left_out = {path.resolve(): path for path in course_files if path.resolve() not in seen}
    return Found(tuple(entries), tuple(left_out.values()))


def _search(folder: Path):
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS and not f.startswith(".")
                            and not (Path(root) / f / "pyvenv.cfg").exists())
        for name in files:
            if name.endswith(SUFFIXES):
                yield Path(root) / name


def counts(report: LearnerReport, entry: Entry) -> bool:
    """Whether a file's verdict decides the exit status: named files always, found ones when they have graded code."""
    return entry.named or bool(report.graded_in_source)


def check_all(entries: tuple[Entry, ...], session: Session, jobs: int,
              on_report: Callable[[Entry, LearnerReport], None]) -> dict[Path, LearnerReport]:
    """Each file checked on this machine, `jobs` at a time."""
    reports = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(check_path, entry.path, session): entry for entry in entries}
        for future in as_completed(futures):
            entry = futures[future]
            reports[entry.path] = future.result()
            on_report(entry, reports[entry.path])
    except BaseException:  # Ctrl-C, or catnet's own error: drop the queued files and end the running children
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    return reports


def check_all_on_cluster(entries: tuple[Entry, ...], session: Session, scheduler: str,
                         on_report: Callable[[Entry, LearnerReport], None]) -> dict[Path, LearnerReport]:
    """Each file's child run on the Dask cluster at `scheduler`; read and judged here."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise CatnetError(f"--scheduler needs dask.distributed ({exc}): pip install \"catnet[cluster]\"") from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CatnetError(f"--scheduler: cannot reach the Dask scheduler at {scheduler!r} ({exc})") from None
    reports, pending = {}, {}
    try:
        inputs = client.scatter(session.inputs, broadcast=True)
        for entry in entries:
            started = time.perf_counter()
            source = read_source(entry.path)
            if source.problem is not None:
                reports[entry.path] = report_for(source, None, None, session, time.perf_counter() - started)
                on_report(entry, reports[entry.path])
                continue
            future = client.submit(run_job, job_for(source, session), inputs, session.limits, pure=False)
            pending[future] = (entry, source, started)
        for future in dask_completed(list(pending), loop=client.loop):
            entry, source, started = pending[future]
            try:
                blob, problem = future.result(), None
            except Exception as exc:  # the worker died or lost the task: that file, not the class, fails
                blob, problem = None, f"could not be run on the cluster ({type(exc).__name__}: {exc})"
            try:
                reports[entry.path] = report_for(source, context_of(source), blob, session,
                                                 time.perf_counter() - started, problem)
            except Exception as exc:  # noqa: BLE001 -- catnet's own failure on one file is that file's verdict
                reports[entry.path] = report_for(source, None, None, session, time.perf_counter() - started,
                                                 f"could not be checked: catnet failed on it ({type(exc).__name__}: {exc})")
            on_report(entry, reports[entry.path])
    finally:
        client.close()
    return reports
