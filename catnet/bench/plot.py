"""The bench chart: training-run and whole-process seconds, as bars on a log scale."""

from __future__ import annotations


def bench_figure(document: dict):
    """A matplotlib Figure from a report_document; the caller saves it."""
    from matplotlib.figure import Figure

    entries = document["entries"]
    processes = _process_bars(document)
    figure = Figure(figsize=(11, 0.45 * max(len(entries), len(processes)) + 2.2), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(3, 2), sharex=True)  # one log scale for both
    _bars(left, [e["label"] for e in entries], [e["median_seconds"] for e in entries],
          [e["speedup_vs_textbook"] for e in entries], "training run, median seconds (log)")
    _bars(right, [p[0] for p in processes], [p[1] for p in processes], [p[2] for p in processes],
          "whole process, median seconds (log)")
    every = [e["median_seconds"] for e in entries] + [p[1] for p in processes]
    left.set_xlim(min(every) / 2, max(every) * 10)  # room for the labels
    settings, machine = document["settings"], document["machine"]
    figure.suptitle(
        f"catnet bench: {settings['iterations']} iterations, {machine['cpu_count']} CPUs ({machine['processor']}), "
        f"threads {machine['threads'].get('OMP_NUM_THREADS') or 'default'}; speed-ups beside the bars",
        fontsize=10,
    )
    return figure


def _process_bars(document: dict) -> list[tuple[str, float, float | None]]:
    """(label, seconds, speed-up) for each process timing, its baseline's process just above it."""
    entries = {entry["name"]: entry for entry in document["entries"]}
    bars = []
    for timing in document["processes"]:
        baseline = entries.get(timing["baseline"])
        if baseline is not None:
            bars.append((f"{baseline['name']} process", baseline["process_median_seconds"], None))
        bars.append((timing["name"], timing["median_seconds"], timing["speedup"]))
    return bars


def _bars(axes, labels, seconds, speedups, title) -> None:
    from matplotlib.ticker import NullFormatter

    positions = range(len(labels))
    axes.barh(positions, seconds, color="#4c72b0")
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_title(title, fontsize=9)
    for position, value, ratio in zip(positions, seconds, speedups):
        text = f"{value:.3g} s" + (f"  {ratio:.1f}x" if ratio is not None else "")
        axes.text(value, position, " " + text, va="center", fontsize=7)
