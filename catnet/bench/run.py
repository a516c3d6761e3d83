"""catnet bench's computing: every entry timed in processes of its own, side by side, and whole-process timings.

Each run of an entry is a fresh `catnet bench --child NAME` process (see
entries.py): its own clock around the training run, its own peak memory,
and its wall time from spawn to exit as a whole-process timing. The targets
are whole-process ratios: `catnet train --impl numpy` against the textbook
loop's process, `catnet train --impl torch --device cpu` against the plain
PyTorch float64 loop's process, each run as a subprocess here too.
Nothing here prints; `on_progress` hears about each finished run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import catnet
from catcore.errors import CatnetError
from catnet.bench.commands import CommandResult, commands_document, run_commands
from catnet.bench.entries import ENTRIES, Entry, Measurement
from catnet.bench.processes import timed
from catnet.cli import THREAD_VARIABLES

REPO_ROOT = Path(catnet.__file__).resolve().parents[1]  # the folder that holds the catnet package
CHILD_TIMEOUT_S = 3600

# (name, catnet train arguments, the entry whose process it is measured against)
PROCESSES = (
    ("catnet train --impl numpy", ("--impl", "numpy"), "textbook"),
    ("catnet train --impl torch --device cpu", ("--impl", "torch", "--device", "cpu"), "plain-torch-float64"),
)


@dataclass(frozen=True)
class BenchSettings:
    data_dir: Path
    entries: tuple[str, ...]  # names from entries.ENTRY_NAMES, in table order
    iterations: int = 2500
    repeats: int = 3  # runs of each fast entry and of each `catnet train` process
    slow_repeats: int = 1  # runs of each slow entry (seconds to minutes each)
    threads: int | None = None  # BLAS/OpenMP threads in every process; None: inherit the environment's
    commands: tuple[str, ...] = ()  # names from commands.COMMAND_NAMES for the commands table


@dataclass(frozen=True)
class EntryResult:
    entry: Entry
    runs: tuple[Measurement, ...]
    process_seconds: tuple[float, ...]  # each run's process, spawn to exit

    @property
    def median_seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def final_cost(self) -> float:
        return self.runs[-1].final_cost


@dataclass(frozen=True)
class ProcessTiming:
    name: str
    command: tuple[str, ...]
    baseline: str  # the entry whose process times it is compared with
    seconds: tuple[float, ...]


@dataclass
class BenchReport:
    settings: BenchSettings
    machine: dict
    entries: list[EntryResult] = field(default_factory=list)
    processes: list[ProcessTiming] = field(default_factory=list)
    commands: list[CommandResult] = field(default_factory=list)
    total_seconds: float = 0.0

    def entry(self, name: str) -> EntryResult | None:
        return next((result for result in self.entries if result.entry.name == name), None)


def run_bench(settings: BenchSettings, on_progress: Callable[[str], None] | None = None) -> BenchReport:
    """Run every selected entry `repeats` (or `slow_repeats`) times, then the `catnet train` processes."""
    progress = on_progress or (lambda message: None)
    start = time.perf_counter()
    report = BenchReport(settings=settings, machine=machine_description(settings))
    environment = child_environment(settings.threads)
    for entry in (entry for entry in ENTRIES if entry.name in settings.entries):
        count = settings.slow_repeats if entry.slow else settings.repeats
        runs, walls = [], []
        for index in range(count):
            measurement, wall = _run_child(entry.name, settings, environment)
            runs.append(measurement)
            walls.append(wall)
            progress(f"{entry.name}: run {index + 1}/{count}: {measurement.seconds:.3f} s training, {wall:.2f} s process")
        report.entries.append(EntryResult(entry, tuple(runs), tuple(walls)))
    for name, arguments, baseline in PROCESSES:
        if baseline not in settings.entries:
            continue
        command = (sys.executable, "-m", "catnet", "train", *arguments, "--quiet",
                   "--data", str(settings.data_dir), "--iterations", str(settings.iterations))
        seconds = []
        for index in range(settings.repeats):
            seconds.append(_timed(command, environment)[0])
            progress(f"{name}: run {index + 1}/{settings.repeats}: {seconds[-1]:.2f} s process")
        report.processes.append(ProcessTiming(name, command[1:], baseline, tuple(seconds)))
    if settings.commands:
        report.commands = run_commands(settings.commands, settings.data_dir, settings.repeats, environment, REPO_ROOT,
                                       progress)
    report.machine["load_average_after"] = _load_average()
    report.total_seconds = time.perf_counter() - start
    return report


def child_environment(threads: int | None) -> dict[str, str]:
    """The environment of every timed process: this one's, the thread counts pinned when asked, catnet importable."""
    environment = dict(os.environ)
    if threads is not None:
        environment.update({name: str(threads) for name in THREAD_VARIABLES})
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), environment.get("PYTHONPATH"))))
    return environment


def _run_child(name: str, settings: BenchSettings, environment: dict[str, str]) -> tuple[Measurement, float]:
    command = (sys.executable, "-m", "catnet", "bench", "--child", name,
               "--data", str(settings.data_dir), "--iterations", str(settings.iterations))
    wall, stdout = _timed(command, environment)
    try:
        return Measurement(**json.loads(stdout.strip().splitlines()[-1])), wall
    except (ValueError, TypeError, IndexError):
        raise CatnetError(f"bench entry {name} printed no measurement (got {stdout[-200:]!r})") from None


def _timed(command: tuple[str, ...], environment: dict[str, str]) -> tuple[float, str]:
    """Wall seconds from spawn to exit, and stdout, run from the folder that holds catnet."""
    return timed(command, environment, REPO_ROOT, CHILD_TIMEOUT_S, hint="; try fewer --iterations")


def machine_description(settings: BenchSettings) -> dict:
    from importlib import metadata

    import numpy

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    environment = child_environment(settings.threads)
    return {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": version("torch"),
        "threads": {name: environment.get(name) for name in THREAD_VARIABLES},
        "load_average_before": _load_average(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def speedup(baseline: float | None, seconds: float) -> float | None:
    return baseline / seconds if baseline is not None and seconds > 0 else None


def report_document(report: BenchReport) -> dict:
    """The --json document: settings, machine, one record per entry and per process timing."""
    textbook = report.entry("textbook")
    reference_cost = textbook.final_cost if textbook else None
    entries = []
    for result in report.entries:
        difference = result.final_cost - reference_cost if reference_cost is not None else None
        entries.append({
            "name": result.entry.name,
            "label": result.entry.label,
            "median_seconds": result.median_seconds,
            "seconds": [run.seconds for run in result.runs],
            "speedup_vs_textbook": speedup(textbook.median_seconds if textbook else None, result.median_seconds),
            "final_cost": result.final_cost,
            "cost_difference_vs_textbook": difference,
            "relative_cost_difference": abs(difference) / abs(reference_cost) if difference is not None else None,
            "train_accuracy": result.runs[-1].train_accuracy,
            "test_accuracy": result.runs[-1].test_accuracy,
            "peak_rss_mb": max((run.peak_rss_mb for run in result.runs if run.peak_rss_mb is not None), default=None),
            "cuda_peak_mb": max((run.cuda_peak_mb for run in result.runs if run.cuda_peak_mb is not None), default=None),
            "process_median_seconds": statistics.median(result.process_seconds),
            "process_seconds": list(result.process_seconds),
        })
    processes = []
    for timing in report.processes:
        baseline = report.entry(timing.baseline)
        median = statistics.median(timing.seconds)
        baseline_median = statistics.median(baseline.process_seconds) if baseline else None
        processes.append({
            "name": timing.name,
            "command": list(timing.command),
            "median_seconds": median,
            "seconds": list(timing.seconds),
            "baseline": timing.baseline,
            "baseline_median_seconds": baseline_median,
            "speedup": speedup(baseline_median, median),
        })
    return {
        "settings": {**asdict(report.settings), "data_dir": str(report.settings.data_dir)},
        "machine": report.machine,
        "measures": {
            "median_seconds": "the training run alone (initial parameters in, trained parameters out), median over runs",
            "peak_rss_mb": "peak resident memory (VmHWM on Linux) of the entry's whole process (interpreter, libraries, data, run)",
            "cuda_peak_mb": "torch.cuda.max_memory_allocated during the training run",
            "process_seconds": "spawn to exit: imports, data load, the run, evaluation of both splits",
            "commands": "each command with its defaults, spawn to exit, beside its floor (a process that only imports "
                        "what the command needs), run right before it; ratio: median over repetitions of command / floor; "
                        "peak_rss_mb: VmHWM of the process; cpu_seconds: user + system time of the process",
        },
        "entries": entries,
        "processes": processes,
        "commands": commands_document(report.commands),
        "total_seconds": report.total_seconds,
    }
