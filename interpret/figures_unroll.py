"""The unroll experiment's picture: cost curves of every pixel order in one plot, the exact check drawn over its reference."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from interpret.unroll import Equivalence, OrderRun


def cost_curves(runs: tuple[OrderRun, ...], equivalences: tuple[Equivalence, ...] = (),
                title: str = "Training cost by pixel order") -> Figure:
    """One line per order: cost (log scale) against iteration; each exact-check run (pixels and W1's columns
    shuffled alike) dashed over the reference run (runs[0]), where it lies."""
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    iterations = np.arange(len(runs[0].costs))
    for index, run in enumerate(runs):
        label = f"{run.order}" + (" (reference)" if index == 0 else ": pixels shuffled, same W1_init")
        ax.plot(iterations, run.costs, label=f"{label}, final {run.final_cost:.4f}", linewidth=2.6 if index == 0 else 1.3,
                zorder=2 if index == 0 else 1)
    every = max(1, len(iterations) // 20)
    for index, (equivalence, marker) in enumerate(zip(equivalences, "oxs^v+D")):
        # markers only, at every 20th of the run (offset per check): each one sits on the reference curve
        ax.plot(np.arange(len(equivalence.costs)), equivalence.costs, linestyle="none", marker=marker, markersize=6,
                markevery=(index * every // max(1, len(equivalences)), every), color="black",
                markerfacecolor="none", zorder=3, label=f"{equivalence.order}: pixels and W1's columns shuffled "
                f"alike (cost within {equivalence.cost_difference:.0e} of the reference)")
    ax.set_yscale("log")
    # plain numbers (0.6, not 6x10^-1) on the log axis: easier to read, and matplotlib's mathtext for each of them
    # was most of the 0.4 s this figure took to lay out and draw
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if _leading_digit(value) in (2, 3, 5) else ""))
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (binary cross-entropy)")
    ax.set_title(title + (": the exact check lies on the reference curve" if equivalences else ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7.5)
    return fig


def _leading_digit(value: float) -> int:
    """2 for 0.02, 0.2, 2, 20..."""
    return int(round(value / 10 ** np.floor(np.log10(value)))) if value > 0 else 0
