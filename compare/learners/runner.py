"""Running a learner's file in a child process, with a wall-clock limit per function and a memory limit.

`run_job` starts `python -m compare.learners.child` in a fresh session and
watches the lines it writes on a pipe ("start TASK", "done TASK"). A task
that runs past the time limit has its process group killed and is reported
"timed out after N s"; a process that ends in the middle of a task (os._exit,
a crash, the memory limit) has that task reported with how it ended. Either
way the child is started again for the tasks after it, so one bad function
does not hide the others. What the child wrote is packed into one .npz blob
(codec.to_npz_bytes): the same bytes whether this ran here or on a Dask worker.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from compare.learners.codec import read_npz, to_npz_bytes
from compare.learners.protocol import LOAD

TIMED_OUT, CRASHED = "timed out", "crashed"
MAX_RESULT_JSON = 32 << 20
_RUNNING: set[subprocess.Popen] = set()  # every child alive now, so an interrupted class run can end them all
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """What the learner's code may take: wall-clock seconds per function (and for loading the file), memory."""

    timeout: float = 60.0
    memory_mib: int = 3072


@dataclass(frozen=True)
class Job:
    """One file, as plain data: the statements to run, the modules beside it, the tasks and their arguments."""

    name: str  # the file as the user named it
    folder: str  # where it was (only for messages: the child never reads it)
    units: tuple[dict, ...]  # {"code", "keep", "filename", "label"} per source.Unit
    neighbours: tuple[tuple[str, str], ...]
    tasks: dict  # task -> {"mode": ..., "args": codec tree}
    order: tuple[str, ...]  # the tasks to run, in order


def run_job(job: Job, inputs: bytes | str | os.PathLike, limits: Limits) -> bytes:
    """Every task of `job` run in child processes; their outcomes as one blob for `judge`."""
    with tempfile.TemporaryDirectory(prefix="catnet-learner-") as tmp:
        workdir = Path(tmp)
        (workdir / "cwd").mkdir()
        (workdir / "job.json").write_text(json.dumps({**asdict(job), "memory_mib": limits.memory_mib}))
        if isinstance(inputs, bytes):
            (workdir / "inputs.npz").write_bytes(inputs)
        else:
            os.symlink(Path(inputs).resolve(), workdir / "inputs.npz")
        abnormal: dict[str, dict] = {}
        todo = list(job.order)
        while True:
            ended = _run_child(workdir, todo, limits)
            if ended is None:
                break
            task, document = ended
            abnormal[task] = document
            if task == LOAD or task not in todo:
                break
            todo = todo[todo.index(task) + 1:]
            if not todo:
                break
        return _pack(workdir / "results", [LOAD, *job.order], abnormal)


def _run_child(workdir: Path, tasks: list[str], limits: Limits) -> tuple[str, dict] | None:
    """One child for `tasks`: None when it finished them all, else (the task it was in, how it ended)."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "compare.learners.child", str(workdir), str(write_end), *tasks],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,),
            cwd=workdir / "cwd", env=child_environment(), start_new_session=True,
        )
    finally:
        os.close(write_end)
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    phases = [LOAD, *tasks]
    current, deadline, finished, pending = LOAD, time.monotonic() + limits.timeout, False, b""
    try:
        while not finished:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return current, _ended(TIMED_OUT, f"timed out after {limits.timeout:g} s")
            readable, _, _ = select.select([read_end], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-4096:]  # a learner writing junk on our pipe cannot make this grow
            for line in lines:
                word, _, task = line.decode(errors="replace").strip().partition(" ")
                if word == "done" and task == current:
                    position = phases.index(current) + 1
                    finished = position == len(phases)
                    current = current if finished else phases[position]
                    deadline = time.monotonic() + limits.timeout
        if not finished:  # the channel closed: give the process a moment to end by itself, so its exit tells how
            try:
                process.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                return current, _ended(CRASHED, "the learner's code closed the channel its process reports on")
    finally:
        os.close(read_end)
        _stop(process)
    if finished:
        return None
    return current, _ended(CRASHED, describe_exit(process.returncode))


def _stop(process: subprocess.Popen) -> None:
    """End the child and anything it started in its session."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with _RUNNING_LOCK:
        _RUNNING.discard(process)


def stop_all() -> None:
    """End every child still running (an interrupted class run): their files get no verdict."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the process did not end"
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        why = {"SIGKILL": " (the memory limit, or killed from outside?)", "SIGSEGV": " (a crash in native code)",
               "SIGXFSZ": " (it wrote more than the file-size limit)"}.get(name, "")
        return f"the process was killed by {name}{why}"
    if returncode == 3:
        return "the learner's code closed the channel its process reports on (exit status 3)"
    if returncode == 4:
        return "catnet's side of the process failed (exit status 4)"
    return f"the process ended with exit status {returncode} in the middle of it (os._exit?)"


def _ended(status: str, text: str) -> dict:
    return {"status": status, "error": [status, text, text], "value": {"t": "none"}, "notes": []}


def _pack(results: Path, tasks: list[str], abnormal: dict[str, dict]) -> bytes:
    """Every task's outcome document and arrays in one blob; an unreadable result becomes a crash."""
    outcomes, arrays = {}, {}
    for task in tasks:
        if task in abnormal:
            outcomes[task] = abnormal[task]
            continue
        json_path, npz_path = results / f"{task}.json", results / f"{task}.npz"
        if not json_path.is_file():
            continue  # never reached: after a crash in loading, say
        try:
            if json_path.stat().st_size > MAX_RESULT_JSON:
                raise ValueError("too large")
            document = json.loads(json_path.read_text())
            arrays.update((f"{task}/{name}", array) for name, array in read_npz(npz_path).items())
            outcomes[task] = document
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            outcomes[task] = _ended(CRASHED, f"its result could not be read back ({type(exc).__name__})")
    return to_npz_bytes(arrays, {"outcomes": outcomes})


def child_environment() -> dict[str, str]:
    """The parent's environment, with catnet importable, no .pyc written beside the learner's helpers, no windows."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MPLBACKEND"] = "Agg"
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        env.setdefault(name, "1")  # one process per file already fills the cores
    return env

