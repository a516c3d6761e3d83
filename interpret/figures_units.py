"""Pictures of what the hidden units learned; each function takes arrays and returns a Figure (montages drawn 1:1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from interpret.montage import SCALE, Caption, Montage, enlarged, text_width, wrapped

GAP = 4  # image pixels between tiles
CAPTION_ROOM = 12  # image pixels under each tile of a strip for its caption
GRID_CAPTION_ROOM = 16  # image pixels over each tile of a grid for a two-line caption
GROUP_ROOM = 12  # image pixels over a strip's first row for the group names
HEADER_LINE_PX = 17  # screen pixels per title line
CAPTION_LINE_PX = 14  # screen pixels per caption line
CAPTION_SIZE = 9  # points: about 12 px at DPI
STRIP_CAPTION_SIZE = 8  # under 128 px tiles: '#123 non -12.34' fits
TITLE_SIZE = 10


def tile_grid(images: np.ndarray, captions: Sequence[str], title: str, columns: int = 10) -> Figure:
    """images (n, H, W, 3) in [0, 1], one captioned tile each, `columns` per row, shown 1:1 (interpret/montage.py).

    A grid of one or a few tiles is shown larger, so that the picture and its title stay readable.
    """
    images = enlarged(np.asarray(images))  # small images shown larger
    n = len(images)
    columns = min(columns, n)
    rows = -(-n // columns)
    height, width = images.shape[1:3]
    scale = SCALE if columns > 2 else 2 * SCALE  # the cat logit's single input: 256 px, not 128
    pitch_x, pitch_y = width + GAP, height + GRID_CAPTION_ROOM * SCALE // scale
    canvas = np.ones((rows * pitch_y, columns * pitch_x - GAP, 3))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top = row * pitch_y + pitch_y - height
        canvas[top:top + height, column * pitch_x:column * pitch_x + width] = np.clip(image, 0, 1)
    lines = wrapped(title, TITLE_SIZE, canvas.shape[1] * scale + 8)
    burned = []  # each caption's lines drawn into the pixels over its tile, the last just above it
    for index, caption in enumerate(captions):
        row, column = divmod(index, columns)
        parts = caption.split("\n")
        for line_index, line in enumerate(parts):
            bottom = row * pitch_y + pitch_y - height - 1 - (len(parts) - 1 - line_index) * CAPTION_LINE_PX / scale
            burned.append(Caption(line, column * pitch_x + width / 2, bottom, pitch_x, size_pt=CAPTION_SIZE, above=True))
    montage = Montage(canvas, header_px=HEADER_LINE_PX * len(lines) + 10, scale=scale, captions=burned)
    montage.figure.suptitle("\n".join(lines), fontsize=TITLE_SIZE, y=1 - 4 / montage.height, va="top")
    return montage.figure


@dataclass(frozen=True)
class StripRow:
    """One row of an image strip: a unit and its chosen images."""

    name: str  # shown at the left, e.g. "unit 3"
    images: np.ndarray  # (k, H, W, 3) uint8 or [0, 1] floats
    captions: Sequence[str]  # one per image


def image_strips(rows: Sequence[StripRow], title: str, groups: Sequence[str]) -> Figure:
    """Rows of captioned tiles in one mosaic, shown 1:1; `groups` names equal-width column groups (e.g. highest | lowest)."""
    rows = [StripRow(row.name, enlarged(np.asarray(row.images)), row.captions) for row in rows]  # small images larger
    k = len(rows[0].images)
    height, width = rows[0].images.shape[1:3]
    group_size = k // len(groups)
    pitch_y = height + CAPTION_ROOM
    lefts = [c * (width + GAP) + (c // group_size) * 2 * GAP for c in range(k)]
    mosaic = np.full((len(rows) * pitch_y + GROUP_ROOM, lefts[-1] + width, 3), 255, dtype=np.uint8)
    for r, row in enumerate(rows):
        top = GROUP_ROOM + r * pitch_y
        for left, image in zip(lefts, row.images):
            tile = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
            mosaic[top:top + height, left:left + width] = tile
    # the unit names go in a white band left of the tiles, as wide as the longest needs
    label = int(np.ceil((text_width(max((row.name for row in rows), key=len), CAPTION_SIZE) + 16) / SCALE))
    mosaic = np.concatenate([np.full((mosaic.shape[0], label, 3), 255, dtype=np.uint8), mosaic], axis=1)
    lefts = [label + left for left in lefts]
    lines = wrapped(title, TITLE_SIZE, mosaic.shape[1] * SCALE)
    captions = [Caption(caption, left + width / 2, GROUP_ROOM + r * pitch_y + height + 1, width + GAP,
                        size_pt=STRIP_CAPTION_SIZE)
                for r, row in enumerate(rows) for left, caption in zip(lefts, row.captions)]
    captions += [Caption(row.name, label - 3, GROUP_ROOM + r * pitch_y + height / 2 - CAPTION_LINE_PX / SCALE / 2,
                         label - 2, size_pt=CAPTION_SIZE, align="right") for r, row in enumerate(rows)]
    montage = Montage(mosaic, header_px=HEADER_LINE_PX * len(lines) + 8, captions=captions)
    for g, name in enumerate(groups):
        first, last = lefts[g * group_size], lefts[(g + 1) * group_size - 1] + width
        montage.text((first + last) / 2, GROUP_ROOM - 2, name, ha="center", va="bottom", fontsize=TITLE_SIZE - 1)
    montage.figure.suptitle("\n".join(lines), fontsize=TITLE_SIZE, y=1 - 4 / montage.height, va="top")
    return montage.figure


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
