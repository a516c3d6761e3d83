"""Pictures of what the hidden units learned; each function takes arrays and returns a Figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

GAP = 4  # pixels between tiles


def signed_to_rgb(images: np.ndarray) -> np.ndarray:
    """Signed arrays (n, H, W, C) -> [0, 1], each tile on its own scale: 0 is mid-grey, the largest |value| black or white."""
    scale = np.abs(images).reshape(len(images), -1).max(axis=1).reshape(-1, 1, 1, 1)  # (n, 1, 1, 1)
    return 0.5 + 0.5 * images / np.where(scale > 0, scale, 1.0)


def tile_grid(images: np.ndarray, captions: Sequence[str], title: str, columns: int = 10) -> Figure:
    """images (n, H, W, 3) in [0, 1], one captioned tile each, `columns` per row."""
    n = len(images)
    columns = min(columns, n)
    rows = -(-n // columns)
    fig = Figure(figsize=(1.25 * columns, 1.45 * rows + 0.5), layout="constrained")
    fig.suptitle(title, fontsize=10)
    for index in range(rows * columns):
        ax = fig.add_subplot(rows, columns, index + 1)
        ax.axis("off")
        if index < n:
            ax.imshow(np.clip(images[index], 0, 1), interpolation="nearest")
            ax.set_title(captions[index], fontsize=7)
    return fig


@dataclass(frozen=True)
class StripRow:
    """One row of an image strip: a unit and its chosen images."""

    name: str  # shown at the left, e.g. "unit 3"
    images: np.ndarray  # (k, H, W, 3) uint8 or [0, 1] floats
    captions: Sequence[str]  # one per image


def image_strips(rows: Sequence[StripRow], title: str, groups: Sequence[str]) -> Figure:
    """Rows of tiles in one mosaic; `groups` names equal-width column groups (e.g. highest | lowest)."""
    k = len(rows[0].images)
    height, width = rows[0].images.shape[1:3]
    mosaic = np.ones((len(rows) * (height + GAP), k * (width + GAP) + GAP * 2 * (len(groups) - 1), 3))
    group_size = k // len(groups)
    for r, row in enumerate(rows):
        for c, image in enumerate(row.images):
            top, left = r * (height + GAP), c * (width + GAP) + (c // group_size) * 2 * GAP
            tile = image / 255.0 if image.dtype == np.uint8 else image
            mosaic[top : top + height, left : left + width] = tile
    fig = Figure(figsize=(0.95 * k + 1.2, 0.95 * len(rows) + 0.9), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_yticks([r * (height + GAP) + height / 2 for r in range(len(rows))], [row.name for row in rows], fontsize=8)
    ax.set_xticks(
        [(g + 0.5) * group_size * (width + GAP) + g * 2 * GAP for g in range(len(groups))], list(groups), fontsize=9
    )
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for r, row in enumerate(rows):
        for c, caption in enumerate(row.captions):
            x = c * (width + GAP) + (c // group_size) * 2 * GAP + width / 2
            y = r * (height + GAP) + height - 1
            ax.text(x, y, caption, fontsize=5.5, ha="center", va="bottom", color="white",
                    bbox={"facecolor": "black", "alpha": 0.55, "pad": 0.6, "linewidth": 0})
    ax.set_title(title, fontsize=10)
    return fig


def embedding_scatter(points: np.ndarray, share: np.ndarray, label: np.ndarray, split: Sequence[str],
                      prediction: np.ndarray, title: str) -> Figure:
    """points (N, 1 or 2) on the top principal axes; colour = label, marker = split, hollow = misclassified."""
    points = points if points.shape[1] == 2 else np.column_stack([points[:, 0], np.zeros(len(points))])
    split = np.asarray(split)
    fig = Figure(figsize=(6.5, 5), layout="constrained")
    ax = fig.add_subplot()
    for name, marker in (("train", "o"), ("test", "^")):
        for value, colour, text in ((1, "tab:orange", "cat"), (0, "tab:blue", "non-cat")):
            for right in (True, False):
                chosen = (split == name) & (label == value) & ((prediction == label) == right)
                if chosen.any():
                    ax.scatter(points[chosen, 0], points[chosen, 1], marker=marker, s=26, linewidths=1.1,
                               facecolors=colour if right else "none", edgecolors=colour,
                               label=f"{name} {text}" + ("" if right else " (misclassified)"))
    ax.set_xlabel(f"principal axis 1 ({100 * share[0]:.0f}% of variance)")
    if len(share) > 1:
        ax.set_ylabel(f"principal axis 2 ({100 * share[1]:.0f}% of variance)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    return fig
