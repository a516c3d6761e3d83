"""Figures of attributions and of their quality checks; each function returns a matplotlib Figure.

Image panels use the colour conventions of Captum's `visualize_image_attr`
(channels summed; red-white-green for signed maps, blues for magnitudes; the
largest values holding 2% of the total |attribution| saturate), but are laid
out as one montage per figure: drawn panel by panel through Captum, the 50
test images with 8 methods took about 25 s of matplotlib axes, against about
2 s this way (interpret/montage.py draws them 1:1). Figures are built without pyplot, so nothing here touches global
plotting state; the caller renders and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from interpret.methods import METHODS
from interpret.montage import DPI, SCALE, Caption, Montage, enlarged, fit_lines, wrapped
from interpret.pictures import signed_colour_map
from interpret.quality import Curves, Randomisation

SATURATED_SHARE = 0.02  # the largest |values| holding this share of the total saturate the colour scale
SIGNED_COLOURS = signed_colour_map()  # -1 .. 1: red against cat, white 0, green for cat
MAGNITUDE_COLOURS = colormaps["Blues"]  # 0 .. 1
OVERLAY_ALPHA = 0.5
GAP = 4  # image pixels between panels
TITLE_ROOM = 14  # image pixels above a row of panels for its titles
OVERVIEW_ROW_GAP = 22  # image pixels above a row of the overview for two-line captions
BAR_HEIGHT = 5  # image pixels: a colour bar under each method's column
BAR_ROOM = BAR_HEIGHT + 18  # image pixels below the panels: the bar and its two-line label
HEADER_LINE_PX = 17  # screen pixels above the montage per line of its title
CAPTION_LINE_PX = 14  # the same per line of caption-sized text
LEGEND = "green: evidence for cat, red: against, blue: magnitude; the largest values saturate"
CAPTION_SIZE = 9  # points, at DPI: about 12 px tall, readable beside 128 px panels
TITLE_SIZE = 10
MISTAKE = "#d62728"


@dataclass(frozen=True)
class Verdict:
    """What the model said about one image, for titles."""

    name: str  # e.g. "test #3"
    label: int  # 1 = cat
    probability: float  # P(cat)
    silent_layer: int | None = None  # the first hidden layer with every unit off for this image: no gradient passes

    @property
    def predicted(self) -> int:
        return int(self.probability > 0.5)  # the course's predict(): cat when P(cat) > 0.5

    @property
    def correct(self) -> bool:
        return self.predicted == self.label

    def title(self) -> str:
        label = "cat" if self.label == 1 else "non-cat"
        return f"{self.name}: label {label}, P(cat) = {self.probability:.3f}, {'right' if self.correct else 'WRONG'}"


def saturation(attr: np.ndarray, signed: bool) -> float:
    """The |value| at which the colour scale saturates: the largest ones, holding SATURATED_SHARE of the total, clip.

    attr (..., H, W, C): one map, or a stack of them for one scale shared by all; channels are summed first.
    Zero for an all-zero map.
    """
    values = np.asarray(attr).sum(axis=-1)
    magnitudes = np.sort(np.abs(values).ravel())  # ascending
    total = magnitudes.sum()
    if total == 0:
        return 0.0
    # the smallest magnitude among those that make up the top SATURATED_SHARE of the total
    return float(magnitudes[np.searchsorted(np.cumsum(magnitudes), (1 - SATURATED_SHARE) * total)])


def scaled(attr: np.ndarray, signed: bool, cut: float | None = None) -> np.ndarray:
    """(H, W, C) map -> (H, W) in [-1, 1] (signed) or [0, 1] (magnitude), saturating at `cut` (default: the map's own)."""
    values = attr.sum(axis=-1)  # (H, W)
    if not signed:
        values = np.abs(values)
    cut = saturation(attr, signed) if cut is None else cut
    if cut == 0:
        return np.zeros_like(values)
    return np.clip(values / cut, -1.0, 1.0)


def heatmap(attr: np.ndarray, signed: bool, cut: float | None = None) -> np.ndarray:
    """(H, W, C) map -> (H, W, 3) RGB in [0, 1]."""
    values = scaled(attr, signed, cut)
    colours = SIGNED_COLOURS((values + 1) / 2) if signed else MAGNITUDE_COLOURS(values)
    return colours[..., :3]


def overlay(attr: np.ndarray, image: np.ndarray, signed: bool, cut: float | None = None) -> np.ndarray:
    """The heatmap blended over the greyscale image: (H, W, 3) RGB in [0, 1]."""
    return blend(heatmap(attr, signed, cut), image)


def blend(heat: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A heatmap (H, W, 3) over the greyscale of image (H, W, C): (H, W, 3) RGB in [0, 1]."""
    grey = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)  # (H, W, 3)
    return (1 - OVERLAY_ALPHA) * grey + OVERLAY_ALPHA * heat


def colour_bar(width: int, signed: bool) -> np.ndarray:
    """(BAR_HEIGHT, width, 3) RGB: the colour scale from -saturation (red) to +saturation (green), or 0 to saturation."""
    values = np.linspace(-1.0, 1.0, width) if signed else np.linspace(0.0, 1.0, width)
    colours = SIGNED_COLOURS((values + 1) / 2) if signed else MAGNITUDE_COLOURS(values)
    return np.repeat(colours[None, :, :3], BAR_HEIGHT, axis=0)


def scale_label(cut: float, signed: bool, unit: str) -> str:
    """What the ends of a colour bar stand for, e.g. '±0.031 logit' or '0 to 2.1 logit/value'."""
    if cut == 0:
        return "all 0"
    return f"±{cut:.2g} {unit}" if signed else f"0 to {cut:.2g} {unit}"


def shared_scales(maps: Mapping[str, np.ndarray]) -> dict[str, float]:
    """One saturation per method over all its images (maps: method -> (N, H, W, C)): every panel comparable."""
    return {method: saturation(stack, METHODS[method].signed) for method, stack in maps.items()}


def _montage(tiles: Sequence[Sequence[np.ndarray | None]], row_gap: int, bottom: int = 0, top: int = 0) -> np.ndarray:
    """Rows of (H, W, 3) tiles (None = blank) -> one white-separated RGB array; `top` white rows first, row_gap above
    every row, `bottom` white rows below the last."""
    height, width = next(t for row in tiles for t in row if t is not None).shape[:2]
    columns = max(len(row) for row in tiles)
    canvas = np.ones((top + len(tiles) * (height + row_gap) + bottom, columns * (width + GAP) - GAP, 3))
    first = top
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            if tile is not None:
                top, left = first + r * (height + row_gap) + row_gap, c * (width + GAP)
                canvas[top:top + height, left:left + width] = tile
    return canvas


def _frame(canvas: np.ndarray, top: int, left: int, height: int, width: int, colour, thickness: int = 2) -> None:
    """Paint a border on the panel's own edge pixels (in place)."""
    rgb = np.asarray(to_rgb(colour))
    canvas[top:top + thickness, left:left + width] = rgb
    canvas[top + height - thickness:top + height, left:left + width] = rgb
    canvas[top:top + height, left:left + thickness] = rgb
    canvas[top:top + height, left + width - thickness:left + width] = rgb


def zero_note(verdict: Verdict) -> str:
    """What to write on a map that is exactly zero everywhere."""
    if verdict.silent_layer is not None:
        return f"all 0: no unit of\nlayer {verdict.silent_layer} is on for\nthis image, so no\ngradient reaches\nthe pixels"
    return "all 0"


def image_figure(image: np.ndarray, maps: Mapping[str, np.ndarray], verdict: Verdict,
                 scales: Mapping[str, float] | None = None) -> Figure:
    """The original beside each method's heatmap (top row) and its overlay on the greyscale image (bottom row),
    each method's colour bar with its unit below.

    image (H, W, C) in [0, 1]; maps: method -> (H, W, C); scales: method -> saturation shared with other images
    (shared_scales), else each map saturates at its own.
    """
    cuts = {m: (scales[m] if scales is not None else saturation(a, METHODS[m].signed)) for m, a in maps.items()}
    grey = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)
    heats = [heatmap(attr, METHODS[m].signed, cuts[m] or None) for m, attr in maps.items()]
    top = [image] + heats
    bottom = [grey] + [blend(heat, image) for heat in heats]  # what overlay() gives, the heatmap made once
    top, bottom = list(enlarged(np.stack(top))), list(enlarged(np.stack(bottom)))  # small images shown larger
    H, W = top[0].shape[:2]
    # words that differ per image (the verdict, the colour scales, notes on empty maps) are drawn into the pixels
    # (interpret/montage.py's captions: 2 ms each as text artists, most of the drawing); the words every image
    # figure shares are text, drawn once and stamped
    width_px = (len(top) * (W + GAP) - GAP) * SCALE
    title = fit_lines(verdict.title(), TITLE_SIZE, width_px - 8)
    legend = wrapped(LEGEND, CAPTION_SIZE, width_px + 26)
    head = int(np.ceil((len(title) * HEADER_LINE_PX + 4) / SCALE))  # image rows above the column titles
    foot = int(np.ceil((len(legend) * CAPTION_LINE_PX + 4) / SCALE))  # under the colour bars' labels
    canvas = _montage([top, bottom], row_gap=TITLE_ROOM, bottom=BAR_ROOM + foot, top=head)
    bar_top = head + 2 * (H + TITLE_ROOM) + 3
    for column, method in enumerate(maps, start=1):
        left = column * (W + GAP)
        canvas[bar_top:bar_top + BAR_HEIGHT, left:left + W] = colour_bar(W, METHODS[method].signed)
    colour = "black" if verdict.correct else MISTAKE
    captions = [Caption(line, canvas.shape[1] / 2, 2 + index * HEADER_LINE_PX / SCALE, canvas.shape[1], colour,
                        TITLE_SIZE) for index, line in enumerate(title)]
    for column, (method, attr) in enumerate(maps.items(), start=1):
        centre = column * (W + GAP) + W / 2
        label = scale_label(cuts[method], METHODS[method].signed, METHODS[method].unit)
        for index, line in enumerate(fit_lines(label, CAPTION_SIZE, (W + GAP) * SCALE - 4)):
            captions.append(Caption(line, centre, bar_top + BAR_HEIGHT + 1 + index * CAPTION_LINE_PX / SCALE, W + GAP,
                                    size_pt=CAPTION_SIZE))
        if not np.any(attr):
            lines = zero_note(verdict).split("\n")
            first = head + TITLE_ROOM + H / 2 - len(lines) * CAPTION_LINE_PX / SCALE / 2
            captions += [Caption(line, centre, first + index * CAPTION_LINE_PX / SCALE, W + GAP, size_pt=CAPTION_SIZE - 1)
                         for index, line in enumerate(lines)]
    montage = Montage(canvas, header_px=0, left_px=26, captions=captions)
    for column, name in enumerate(["original"] + list(maps)):
        montage.text(column * (W + GAP) + W / 2, head + TITLE_ROOM - 2, name, shared=True, ha="center", va="bottom",
                     fontsize=CAPTION_SIZE)
    for row, name in enumerate(("heatmap", "overlay")):
        montage.text(-3, head + row * (H + TITLE_ROOM) + TITLE_ROOM + H / 2, name, shared=True, ha="right",
                     va="center", rotation=90, fontsize=CAPTION_SIZE)
    montage.text(canvas.shape[1] / 2 - 13 / SCALE, canvas.shape[0] - foot + 1, "\n".join(legend), shared=True,
                 ha="center", va="top", fontsize=CAPTION_SIZE, linespacing=1.2)
    return montage.figure


def overview_figure(images: np.ndarray, maps: np.ndarray, verdicts: Sequence[Verdict], method: str,
                    shared_scale: bool = False) -> Figure:
    """One method's overlays for every image, ten to a row, mistakes framed in red. images, maps (N, H, W, C).

    shared_scale: one colour scale for all images (shown on a colour bar); else each map saturates at its own.
    """
    signed = METHODS[method].signed
    cut = saturation(maps, signed) if shared_scale else None
    tiles = list(enlarged(np.stack([overlay(attr, image, signed, cut or None) for image, attr in zip(images, maps)])))
    columns = max(min(10, len(tiles)), 3)  # at least three wide, so that the title and the scale fit
    row_gap = OVERVIEW_ROW_GAP
    rows = [tiles[start:start + columns] for start in range(0, len(tiles), columns)]
    rows[0] = rows[0] + [None] * (columns - len(rows[0]))  # blank tiles make up the width
    canvas = _montage(rows, row_gap=row_gap, bottom=BAR_ROOM if shared_scale else 0)
    H, W = tiles[0].shape[:2]
    places = [(row * (H + row_gap) + row_gap, column * (W + GAP))
              for row, column in (divmod(position, columns) for position in range(len(verdicts)))]
    for (top, left), verdict in zip(places, verdicts):
        if not verdict.correct:
            _frame(canvas, top, left, H, W, MISTAKE)
    if shared_scale:
        bar_top = canvas.shape[0] - BAR_ROOM + 3
        canvas[bar_top:bar_top + BAR_HEIGHT, :W] = colour_bar(W, signed)
    scale = "one colour scale for all images" if shared_scale else "each image on its own colour scale"
    wrong = sum(not v.correct for v in verdicts)
    title = wrapped(f"{method}: {METHODS[method].summary}\n{wrong} of {len(verdicts)} predictions wrong (red); {scale}",
                    TITLE_SIZE, canvas.shape[1] * SCALE + 8)
    captions = []
    for (top, left), verdict in zip(places, verdicts):
        colour = "black" if verdict.correct else MISTAKE
        lines = (verdict.name, f"P(cat) {verdict.probability:.2f}" + ("" if verdict.correct else " WRONG"))
        for line, bottom in zip(lines, (top - 9, top - 2)):  # two lines over the tile, their bottoms at these rows
            captions.append(Caption(line, left + W / 2, bottom, W + GAP, colour, CAPTION_SIZE - 1, above=True))
    for (top, left), verdict, attr in zip(places, verdicts, maps):
        if not np.any(attr):
            words = ("all 0",) if verdict.silent_layer is None else ("all 0:", f"layer {verdict.silent_layer} off")
            first = top + H / 2 - len(words) * CAPTION_LINE_PX / SCALE / 2
            captions += [Caption(line, left + W / 2, first + index * CAPTION_LINE_PX / SCALE, W + GAP,
                                 size_pt=CAPTION_SIZE - 1) for index, line in enumerate(words)]
    if shared_scale:
        label = scale_label(cut, signed, METHODS[method].unit)
        for index, line in enumerate(fit_lines(label, CAPTION_SIZE, 2 * (W + GAP) * SCALE - 4)):
            captions.append(Caption(line, W + GAP, canvas.shape[0] - BAR_ROOM + 2 + index * CAPTION_LINE_PX / SCALE,
                                    2 * (W + GAP), size_pt=CAPTION_SIZE, align="left"))
    montage = Montage(canvas, header_px=HEADER_LINE_PX * len(title) + 10, captions=captions)
    montage.figure.suptitle("\n".join(title), fontsize=TITLE_SIZE, y=1 - 3 / montage.height, va="top",
                            linespacing=1.3)
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
