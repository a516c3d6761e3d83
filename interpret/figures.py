"""Figures of attributions and of their quality checks; each function returns a matplotlib Figure.

Image panels use the colour conventions of Captum's `visualize_image_attr`
(channels summed; red-white-green for signed maps, blues for magnitudes; the
largest values holding 2% of the total |attribution| saturate), but are laid
out as one montage per figure: drawn panel by panel through Captum, the 50
test images with 8 methods took about 25 s of matplotlib axes, against about
2 s this way. Figures are built without pyplot, so nothing here touches global
plotting state; the caller renders and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure

from interpret.methods import METHODS
from interpret.quality import Curves, Randomisation

SATURATED_SHARE = 0.02  # the largest |values| holding this share of the total saturate the colour scale
SIGNED_COLOURS = LinearSegmentedColormap.from_list("against-for", ["red", "white", "green"])  # -1 .. 1
MAGNITUDE_COLOURS = colormaps["Blues"]  # 0 .. 1
OVERLAY_ALPHA = 0.5
SCALE = 2  # screen pixels per image pixel
DPI = 100  # the montages are laid out in pixels at this resolution: render them at it
GAP = 4  # image pixels between panels
TITLE_ROOM = 14  # image pixels above a row of panels for its two-line titles
MISTAKE = "#d62728"


@dataclass(frozen=True)
class Verdict:
    """What the model said about one image, for titles."""

    name: str  # e.g. "test #3"
    label: int  # 1 = cat
    probability: float  # P(cat)

    @property
    def predicted(self) -> int:
        return int(self.probability > 0.5)  # the course's predict(): cat when P(cat) > 0.5

    @property
    def correct(self) -> bool:
        return self.predicted == self.label

    def title(self) -> str:
        label = "cat" if self.label == 1 else "non-cat"
        return f"{self.name}: label {label}, P(cat) = {self.probability:.3f}, {'right' if self.correct else 'WRONG'}"


def scaled(attr: np.ndarray, signed: bool) -> np.ndarray:
    """(H, W, C) map -> (H, W) in [-1, 1] (signed) or [0, 1] (magnitude), outliers saturated."""
    values = attr.sum(axis=-1)  # (H, W)
    if not signed:
        values = np.abs(values)
    magnitudes = np.sort(np.abs(values).ravel())  # ascending
    total = magnitudes.sum()
    if total == 0:
        return np.zeros_like(values)
    # the smallest magnitude among those that make up the top SATURATED_SHARE of the total
    cut = magnitudes[np.searchsorted(np.cumsum(magnitudes), (1 - SATURATED_SHARE) * total)]
    return np.clip(values / cut, -1.0, 1.0)


def heatmap(attr: np.ndarray, signed: bool) -> np.ndarray:
    """(H, W, C) map -> (H, W, 3) RGB in [0, 1]."""
    values = scaled(attr, signed)
    colours = SIGNED_COLOURS((values + 1) / 2) if signed else MAGNITUDE_COLOURS(values)
    return colours[..., :3]


def overlay(attr: np.ndarray, image: np.ndarray, signed: bool) -> np.ndarray:
    """The heatmap blended over the greyscale image: (H, W, 3) RGB in [0, 1]."""
    grey = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)  # (H, W, 3)
    return (1 - OVERLAY_ALPHA) * grey + OVERLAY_ALPHA * heatmap(attr, signed)


def _montage(tiles: Sequence[Sequence[np.ndarray | None]], row_gap: int) -> np.ndarray:
    """Rows of (H, W, 3) tiles (None = blank) -> one white-separated RGB array; row_gap above every row."""
    height, width = next(t for row in tiles for t in row if t is not None).shape[:2]
    columns = max(len(row) for row in tiles)
    canvas = np.ones((len(tiles) * (height + row_gap), columns * (width + GAP) - GAP, 3))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            if tile is not None:
                top, left = r * (height + row_gap) + row_gap, c * (width + GAP)
                canvas[top:top + height, left:left + width] = tile
    return canvas


class _Montage:
    """A figure that shows a montage pixel for pixel (SCALE screen pixels per image pixel), no resampling.

    Text is placed in montage coordinates (image pixels, y down from the montage's top).
    """

    def __init__(self, canvas: np.ndarray, header_px: int, left_px: int = 4):
        pixels = np.repeat(np.repeat(canvas, SCALE, axis=0), SCALE, axis=1)  # (h*SCALE, w*SCALE, 3)
        self.height, self.width = pixels.shape[0] + header_px + 4, pixels.shape[1] + left_px + 4
        self.rows, self.left = canvas.shape[0], left_px
        self.figure = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)
        # figimage puts the array on the canvas unscaled: far cheaper than an axes image
        self.figure.figimage(pixels, xo=left_px, yo=4)

    def text(self, x: float, y: float, words: str, **style) -> None:
        fx = (self.left + x * SCALE) / self.width
        fy = (4 + (self.rows - y) * SCALE) / self.height
        self.figure.text(fx, fy, words, **style)


def _frame(canvas: np.ndarray, top: int, left: int, height: int, width: int, colour, thickness: int = 2) -> None:
    """Paint a border on the panel's own edge pixels (in place)."""
    rgb = np.asarray(to_rgb(colour))
    canvas[top:top + thickness, left:left + width] = rgb
    canvas[top + height - thickness:top + height, left:left + width] = rgb
    canvas[top:top + height, left:left + thickness] = rgb
    canvas[top:top + height, left + width - thickness:left + width] = rgb


def image_figure(image: np.ndarray, maps: Mapping[str, np.ndarray], verdict: Verdict) -> Figure:
    """The original beside each method's heatmap (top row) and its overlay on the greyscale image (bottom row).

    image (H, W, C) in [0, 1]; maps: method -> (H, W, C).
    """
    grey = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)
    top = [image] + [heatmap(attr, METHODS[m].signed) for m, attr in maps.items()]
    bottom = [grey] + [overlay(attr, image, METHODS[m].signed) for m, attr in maps.items()]
    montage = _Montage(_montage([top, bottom], row_gap=TITLE_ROOM), header_px=30, left_px=22)
    H, W = image.shape[:2]
    for column, name in enumerate(["original"] + [m + ("" if np.any(a) else " (all 0)") for m, a in maps.items()]):
        montage.text(column * (W + GAP) + W / 2, TITLE_ROOM - 2, name, ha="center", va="bottom", fontsize=7)
    for row, name in enumerate(("heatmap", "overlay")):
        montage.text(-3, row * (H + TITLE_ROOM) + TITLE_ROOM + H / 2, name, ha="right", va="center", rotation=90, fontsize=7)
    montage.figure.suptitle(verdict.title() + "   (green = evidence for cat, red = against, blue = magnitude)",
                            fontsize=9, color="black" if verdict.correct else MISTAKE, y=0.99, va="top")
    return montage.figure


def overview_figure(images: np.ndarray, maps: np.ndarray, verdicts: Sequence[Verdict], method: str) -> Figure:
    """One method's overlays for every image, ten to a row, mistakes framed in red. images, maps (N, H, W, C)."""
    signed = METHODS[method].signed
    tiles = [overlay(attr, image, signed) for image, attr in zip(images, maps)]
    columns = min(10, len(tiles))
    row_gap = TITLE_ROOM + 6
    canvas = _montage([tiles[start:start + columns] for start in range(0, len(tiles), columns)], row_gap=row_gap)
    H, W = images.shape[1:3]
    places = [(row * (H + row_gap) + row_gap, column * (W + GAP))
              for row, column in (divmod(position, columns) for position in range(len(verdicts)))]
    for (top, left), verdict in zip(places, verdicts):
        if not verdict.correct:
            _frame(canvas, top, left, H, W, MISTAKE)
    montage = _Montage(canvas, header_px=40)
    for (top, left), verdict in zip(places, verdicts):
        words = f"{verdict.name}\nP(cat) {verdict.probability:.2f}" + ("" if verdict.correct else " WRONG")
        montage.text(left + W / 2, top - 2, words, ha="center", va="bottom", fontsize=6.5,
                     color="black" if verdict.correct else MISTAKE, linespacing=1.0)
    wrong = sum(not v.correct for v in verdicts)
    montage.figure.suptitle(f"{method}: {METHODS[method].summary}\n{wrong} of {len(verdicts)} predictions wrong (red)",
                            fontsize=9, y=0.995, va="top")
    return montage.figure


def curves_figure(curves: Mapping[str, Curves], random: Curves) -> Figure:
    """Mean deletion and insertion curves per method against the random order, AUC in the legend."""
    figure = Figure(figsize=(11, 4.2), dpi=DPI)
    deletion_axis, insertion_axis = figure.subplots(1, 2)
    for axis, kind, better in ((deletion_axis, "deletion", "lower"), (insertion_axis, "insertion", "higher")):
        for method, curve in curves.items():
            values = getattr(curve, kind)
            auc = getattr(curve, f"{kind}_auc").mean()
            axis.plot(curve.fractions, values.mean(axis=0), label=f"{method} ({auc:.3f})")
        auc = getattr(random, f"{kind}_auc").mean()
        axis.plot(random.fractions, getattr(random, kind).mean(axis=0), "k--", label=f"random order ({auc:.3f})")
        axis.set_xlabel(f"share of pixels {'deleted (set black)' if kind == 'deletion' else 'inserted into a blurred copy'}")
        axis.set_ylabel("P(predicted class), mean over images")
        axis.set_title(f"{kind}: area under the curve, {better} is better", fontsize=10)
        axis.set_ylim(-0.02, 1.02)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def randomisation_figure(result: Randomisation) -> Figure:
    """Mean Spearman rho of |map| against the trained model's, as layers are randomised from the top."""
    figure = Figure(figsize=(8, 4.5), dpi=DPI)
    axis = figure.subplots()
    stages = ("trained",) + result.stages
    flagged = set(result.flagged)
    for method in result.spearman:
        values = np.r_[1.0, result.mean(method)]
        style = "-o" if method in flagged else "-"
        axis.plot(range(len(stages)), values, style, label=method + (" (FLAGGED)" if method in flagged else ""))
    axis.axhline(result.threshold, color="grey", linestyle=":", label=f"flag threshold {result.threshold}")
    axis.set_xticks(range(len(stages)), stages, rotation=20, fontsize=8)
    axis.set_ylabel("Spearman rank correlation with trained map")
    axis.set_ylim(-0.1, 1.05)
    axis.set_title("Model randomisation (Adebayo et al. 2018): layers randomised from the output down", fontsize=10)
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
