"""catnet bench's commands table: each command as a whole process, beside the process that only imports what it needs.

A command's "floor" is `python -c "import ..."` of the libraries it cannot
do without; the goals are ratios to it (issue: every command as fast as its
imports). In each repetition the floor runs first and the command right
after it, both through catnet.bench.probe, which records the process's peak
memory (VmHWM) and CPU time as it ends; the parent times spawn to exit.
Ratios are medians of the per-repetition ratios, so a load spike that hits
one pair does not skew the others. Nothing here prints; `on_progress` hears
about each finished process.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catnet.bench.names import COMMAND_NAMES
from catnet.bench.processes import timed

CHILD_TIMEOUT_S = 900
TORCH_FLOOR = "import torch, captum.attr, matplotlib.pyplot"
PLOT_FLOOR = "import numpy, h5py, matplotlib.pyplot"
DATA_FLOOR = "import numpy, h5py"


@dataclass(frozen=True)
class Command:
    """One `catnet` command line as a user runs it with its defaults, and the floor it is held against."""

    name: str  # for --commands
    arguments: tuple[str, ...]  # after `catnet`; {model}, {out} and {logdir} are filled in per run
    floor: str  # Python code that imports what the command needs
    goal: float | None  # the wall-time ratio to the floor it should stay within
    memory_goal: float | None = None  # the same for peak memory

    def line(self, model: str, out: str, logdir: str) -> tuple[str, ...]:
        return tuple(part.format(model=model, out=out, logdir=logdir) for part in self.arguments)


COMMANDS = (
    Command("train-numpy", ("train", "--impl", "numpy", "--quiet"), DATA_FLOOR, goal=2.0),
    Command("train-torch", ("train", "--impl", "torch", "--device", "cpu", "--quiet"),
            "import numpy, h5py, torch", goal=None),
    Command("unroll", ("unroll", "--out", "{out}", "--logdir", "{logdir}"), PLOT_FLOOR, goal=2.0),
    Command("compare", ("compare",), TORCH_FLOOR, goal=1.5),
    Command("explain", ("explain", "--model", "{model}", "--out", "{out}"), TORCH_FLOOR, goal=1.5, memory_goal=1.5),
    Command("neurons", ("neurons", "--model", "{model}", "--out", "{out}", "--logdir", "{logdir}"), TORCH_FLOOR,
            goal=1.5, memory_goal=1.5),
    Command("report", ("report", "--model", "{model}", "--out", "{out}/report.html"), TORCH_FLOOR, goal=1.5),
)
COMMANDS_BY_NAME = {command.name: command for command in COMMANDS}
assert tuple(COMMANDS_BY_NAME) == COMMAND_NAMES, "catnet/bench/names.py lists the commands in this order"


@dataclass(frozen=True)
class ProcessRun:
    """One process: spawn to exit, its CPU time and its peak resident memory."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float | None


@dataclass(frozen=True)
class CommandResult:
    command: Command
    runs: tuple[ProcessRun, ...]
    floors: tuple[ProcessRun, ...]  # floors[i] ran right before runs[i]
    load_average: float | None  # 1-minute load average when the command's first run started

    def median(self, runs: tuple[ProcessRun, ...], field: str) -> float | None:
        values = [getattr(run, field) for run in runs if getattr(run, field) is not None]
        return statistics.median(values) if values else None

    def ratio(self, field: str) -> float | None:
        """Median over repetitions of command / floor."""
        pairs = [(getattr(run, field), getattr(floor, field)) for run, floor in zip(self.runs, self.floors)]
        ratios = [a / b for a, b in pairs if a is not None and b]
        return statistics.median(ratios) if ratios else None


def run_commands(names: tuple[str, ...], data_dir: Path, repeats: int, environment: dict[str, str], cwd: Path,
                 on_progress: Callable[[str], None] | None = None) -> list[CommandResult]:
    """Train the course's model once (untimed), then time each command and its floor, interleaved, `repeats` times."""
    progress = on_progress or (lambda message: None)
    environment = {**environment, "CATNET_DATA": str(data_dir), "MPLBACKEND": "Agg"}
    results = []
    with tempfile.TemporaryDirectory(prefix="catnet-bench-") as scratch:
        scratch = Path(scratch)
        model = scratch / "model.npz"
        _spawn((sys.executable, "-m", "catnet", "train", "--save", str(model), "--quiet"), environment, cwd, scratch)
        for name in names:
            command = COMMANDS_BY_NAME[name]
            load = _load_average()
            runs, floors = [], []
            for index in range(repeats):
                floors.append(_probe(("-c", command.floor), environment, cwd, scratch))
                out, logdir = scratch / "out", scratch / "runs"
                line = command.line(str(model), str(out), str(logdir))
                runs.append(_probe(("-m", "catnet", *line), environment, cwd, scratch))
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(logdir, ignore_errors=True)
                progress(f"{command.name}: run {index + 1}/{repeats}: "
                         f"{runs[-1].wall_seconds:.2f} s, floor {floors[-1].wall_seconds:.2f} s")
            results.append(CommandResult(command, tuple(runs), tuple(floors), load))
    return results


def _probe(target: tuple[str, ...], environment: dict[str, str], cwd: Path, scratch: Path) -> ProcessRun:
    report = scratch / "probe.json"
    report.unlink(missing_ok=True)
    wall = _spawn((sys.executable, "-m", "catnet.bench.probe", str(report), *target), environment, cwd, scratch)
    measured = json.loads(report.read_text())
    return ProcessRun(wall, measured["cpu_seconds"], measured["peak_rss_mb"])


def _spawn(command: tuple[str, ...], environment: dict[str, str], cwd: Path, scratch: Path) -> float:
    """Wall seconds from spawn to exit; what the command prints is thrown away, as a terminal nobody reads would."""
    return timed(command, environment, cwd, CHILD_TIMEOUT_S, keep_stdout=False)[0]


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def commands_document(results: list[CommandResult]) -> list[dict]:
    """One record per command for --json: medians, ratios, goals and every run."""
    rows = []
    for result in results:
        command = result.command
        ratio, memory_ratio = result.ratio("wall_seconds"), result.ratio("peak_rss_mb")
        rows.append({
            "command": "catnet " + " ".join(command.line(model="M.npz", out="OUT", logdir="LOGDIR")),
            "floor": f'python -c "{command.floor}"',
            "seconds": result.median(result.runs, "wall_seconds"),
            "floor_seconds": result.median(result.floors, "wall_seconds"),
            "ratio": ratio,
            "goal": command.goal,
            "met": None if command.goal is None or ratio is None else ratio <= command.goal,
            "cpu_seconds": result.median(result.runs, "cpu_seconds"),
            "floor_cpu_seconds": result.median(result.floors, "cpu_seconds"),
            "cpu_ratio": result.ratio("cpu_seconds"),
            "peak_rss_mb": result.median(result.runs, "peak_rss_mb"),
            "floor_peak_rss_mb": result.median(result.floors, "peak_rss_mb"),
            "memory_ratio": memory_ratio,
            "memory_goal": command.memory_goal,
            "memory_met": None if command.memory_goal is None or memory_ratio is None else memory_ratio <= command.memory_goal,
            "load_average": result.load_average,
            "runs": [vars(run) for run in result.runs],
            "floor_runs": [vars(run) for run in result.floors],
        })
    return rows
