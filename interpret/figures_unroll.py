"""The unroll experiment's picture: cost curves of every pixel order in one plot."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from interpret.unroll import OrderRun


def cost_curves(runs: tuple[OrderRun, ...], title: str = "Training cost by pixel order") -> Figure:
    """One line per order: cost (log scale) against iteration."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for run in runs:
        ax.plot(np.arange(len(run.costs)), run.costs, label=f"{run.order} (final {run.final_cost:.4f})", linewidth=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (binary cross-entropy)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
