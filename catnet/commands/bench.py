"""catnet bench: the textbook loop, plain PyTorch and catnet's loops, timed side by side on the real data."""

from __future__ import annotations

import argparse
import sys

from catcore.config import TrainConfig
from catnet.bench.entries import ENTRY_NAMES
from catnet.bench.names import COMMAND_NAMES
from catnet.cli import add_command, cpu_threads, iteration_count, positive_int

DEFAULTS = TrainConfig()


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "bench", "time the textbook loop, plain PyTorch and catnet side by side",
        "Times, in one run and on the real data with the course's settings, the course's own NumPy loop, a plain "
        "PyTorch loop (float64 and float32), catnet NumPy and torch (primal and span form) and torch on CUDA when "
        "there is a GPU; then `catnet train` as a whole process against the baselines' processes; then the commands "
        "table: each catnet command with its defaults as a whole process, beside a process that only imports what it "
        "needs (its floor), with wall time, CPU time and peak memory. Every run is a process of its own. With the "
        "defaults it takes a few minutes, almost all of it in the slow entries (textbook, plain PyTorch, primal "
        "forms); --iterations shortens every training run. --only alone runs only those entries, --commands alone "
        "only those commands.",
    )
    parser.add_argument("--only", metavar="NAMES", type=_name_list(ENTRY_NAMES, "bench entry"),
                        help=f"comma-separated entries to run (default: all; torch-cuda only with a GPU), none or all: {', '.join(ENTRY_NAMES)}")
    parser.add_argument("--commands", metavar="NAMES", type=_name_list(COMMAND_NAMES, "command"),
                        help=f"comma-separated commands for the commands table, none or all (default: all that exist): {', '.join(COMMAND_NAMES)}")
    parser.add_argument("--iterations", type=iteration_count, default=DEFAULTS.iterations, help="training iterations per run")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="runs of each fast entry, of each `catnet train` process and of each command with its floor "
                        "(the median is reported)")
    parser.add_argument("--slow-repeats", type=positive_int, default=1,
                        help="runs of each slow entry (textbook, plain PyTorch, primal forms)")
    parser.add_argument("--threads", type=cpu_threads,
                        help="BLAS/OpenMP threads in every timed process (default: the environment's, which catnet sets to 1 "
                        "unless OMP_NUM_THREADS etc. are set)")
    parser.add_argument("--data", metavar="DIR", help="folder with the two .h5 files (else $CATNET_DATA, else ./datasets)")
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    parser.add_argument("--plot", metavar="PATH", help="write a bar chart (.png) here")
    parser.add_argument("--child", choices=ENTRY_NAMES, help=argparse.SUPPRESS)  # one timed run, by the bench itself
    parser.set_defaults(run=run)


def _name_list(known: tuple[str, ...], what: str):
    """An argparse type: comma-separated names from `known`, none (an empty tuple) or all (every one)."""

    def convert(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        if names == ("none",):
            return ()
        if names == ("all",):
            return known
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or text!r}; choose from {', '.join(known)}, none or all"
            )
        return names

    return convert


def run(args) -> int:
    if args.child:
        return _run_child(args)
    from catcore.data import find_data_dir
    from catcore.errors import CatnetError
    from catcore.outputs import check_output_file
    from catnet.bench.run import BenchSettings, report_document, run_bench

    check_output_file("--json", args.json, ".json")
    check_output_file("--plot", args.plot, ".png")
    # --only alone: only those entries; --commands alone: only those commands; neither: everything
    entries = _selected(args.only if args.only is not None else (None if args.commands is None else ()))
    commands = _commands(args.commands if args.commands is not None else (None if args.only is None else ()))
    if args.plot and not entries:
        raise CatnetError("--plot draws the training entries, and none are to run")
    data_dir = find_data_dir(args.data).resolve()
    settings = BenchSettings(data_dir=data_dir, entries=entries, iterations=args.iterations, repeats=args.repeats,
                             slow_repeats=args.slow_repeats, threads=args.threads, commands=commands)
    report = run_bench(settings, on_progress=lambda message: print(message, file=sys.stderr, flush=True))
    document = report_document(report)
    print(format_table(document))
    from catcore.outputs import commit
    from catnet.reports import write_json

    if args.json:
        write_json(args.json, document)
    if args.plot:
        _write_plot(args.plot, document)
    commit()  # both in place, together, before the lines that say so
    for path in (args.json, args.plot):
        if path:
            print(f"Wrote {path}")
    return 0


def _commands(asked: tuple[str, ...] | None) -> tuple[str, ...]:
    """The commands to time: those asked for, or all of them."""
    return COMMAND_NAMES if asked is None else asked


def _selected(only: tuple[str, ...] | None) -> tuple[str, ...]:
    """The entries to run; CUDA's only where torch sees a GPU (an error if asked for without one)."""
    from catcore.errors import CatnetError

    every = only is None or only == ENTRY_NAMES  # not given, or all: CUDA's only where there is a GPU
    names = ENTRY_NAMES if only is None else only
    if "torch-cuda" in names:
        import torch

        if not torch.cuda.is_available():
            if not every:
                raise CatnetError("bench entry torch-cuda was asked for, but torch sees no CUDA GPU")
            names = tuple(name for name in names if name != "torch-cuda")
    return names


def _run_child(args) -> int:
    import json
    from dataclasses import asdict, replace

    from catcore.data import load_dataset, prepare_arrays
    from catnet.bench.entries import measure

    config = replace(DEFAULTS, iterations=args.iterations)
    arrays = prepare_arrays(load_dataset(args.data), config)
    print(json.dumps(asdict(measure(args.child, arrays, config))))
    return 0


def _write_plot(path: str, document: dict) -> None:
    from catcore.outputs import atomic_path
    from catnet.bench.plot import bench_figure

    figure = bench_figure(document)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)


def format_table(document: dict) -> str:
    """The entries and the process timings as two plain-text tables, then the machine and the bench's own time."""
    rows = [("entry", "train s", "vs textbook", "final cost", "diff vs textbook", "peak RSS MB", "process s")]
    lines = []
    for e in document["entries"]:
        rows.append((
            e["name"], f"{e['median_seconds']:.3f}", _ratio(e["speedup_vs_textbook"]), repr(e["final_cost"]),
            "" if e["cost_difference_vs_textbook"] is None else f"{e['cost_difference_vs_textbook']:+.1e}",
            _number(e["peak_rss_mb"], "{:.0f}") + ("" if e["cuda_peak_mb"] is None else f" (CUDA {e['cuda_peak_mb']:.0f})"),
            f"{e['process_median_seconds']:.2f}",
        ))
    if document["entries"]:
        lines += _columns(rows) + [""]
    if document["processes"]:
        process_rows = [("whole process", "median s", "baseline process", "baseline s", "speed-up")]
        for p in document["processes"]:
            process_rows.append((p["name"], f"{p['median_seconds']:.2f}", p["baseline"],
                                 _number(p["baseline_median_seconds"], "{:.2f}"), _ratio(p["speedup"])))
        lines += _columns(process_rows) + [""]
    if document["commands"]:
        lines += _columns(command_rows(document["commands"])) + [""]
    machine, settings = document["machine"], document["settings"]
    lines.append(
        f"{settings['iterations']} iterations; {machine['cpu_count']} CPUs ({machine['processor']}); threads "
        f"{', '.join(f'{k}={v}' for k, v in machine['threads'].items())}; load average before "
        f"{machine['load_average_before']}, after {machine['load_average_after']}; bench took {document['total_seconds']:.0f} s"
    )
    return "\n".join(lines)


def command_rows(commands: list[dict]) -> list[tuple[str, ...]]:
    """The commands table: each command beside its floor, medians, ratios against their goals, and the load."""
    rows = [("command", "floor", "s", "floor s", "ratio", "goal", "CPU s", "floor CPU s", "CPU ratio",
             "peak MB", "floor MB", "memory ratio", "load")]
    for c in commands:
        rows.append((
            c["command"], c["floor"].removeprefix('python -c "').removesuffix('"'),
            f"{c['seconds']:.2f}", f"{c['floor_seconds']:.2f}", _goal(c["ratio"], c["goal"]),
            "" if c["goal"] is None else f"<= {c['goal']:g}x",
            f"{c['cpu_seconds']:.2f}", f"{c['floor_cpu_seconds']:.2f}", _ratio(c["cpu_ratio"], "{:.2f}x"),
            _number(c["peak_rss_mb"], "{:.0f}"), _number(c["floor_peak_rss_mb"], "{:.0f}"),
            _goal(c["memory_ratio"], c["memory_goal"]), _number(c["load_average"], "{:.1f}"),
        ))
    return rows


def _goal(ratio, goal) -> str:
    """A ratio, marked when it misses its goal."""
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" + (" (over goal)" if goal is not None and ratio > goal else "")


def _columns(rows) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _ratio(value, fmt: str = "{:.1f}x") -> str:
    return "" if value is None else fmt.format(value)


def _number(value, fmt: str) -> str:
    return "" if value is None else fmt.format(value)
