"""Pictures composed as arrays: tiles in a grid, signed values in colour, a colour scale, for a page or a notebook.

A montage of many small images is cheapest as one NumPy array (no axes, no
artists): the page that shows it (catnet report) or a notebook cell adds the
words around it. `Picture` carries the pixels and a caption; in Jupyter it
displays itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# evidence against cat, nothing, for cat: the one colour convention of every signed map catnet draws
# (explain's heatmaps and the report's pictures alike)
SIGNED_COLOURS = ("red", "white", "green")
MAGNITUDE_MAP = "Greys"


@dataclass(frozen=True)
class Picture:
    """(H, W, 3) uint8 pixels and one line saying what they show."""

    pixels: np.ndarray
    caption: str

    def png(self) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.pixels).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:  # Jupyter shows it
        return self.png()


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 (uint8 passes through)."""
    if rgb.dtype == np.uint8:
        return rgb
    return np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8)


def upscale(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel becomes a factor x factor block: small images stay sharp on a screen."""
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


def colourise(values: np.ndarray, limit: float | None = None, signed: bool = True) -> np.ndarray:
    """(..., ) values -> (..., 3) RGB in [0, 1]; signed on [-limit, limit] (red, white = 0, green), magnitudes on [0, limit].

    `limit` defaults to the largest |value|; pass one shared limit to put several maps on one scale.
    """
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    limit = float(np.max(np.abs(values), initial=0.0)) if limit is None else float(limit)
    scaled = values / limit if limit > 0 else np.zeros_like(values)
    if signed:
        return signed_colour_map()(np.clip((scaled + 1) / 2, 0, 1))[..., :3]
    return colormaps[MAGNITUDE_MAP](np.clip(np.abs(scaled), 0, 1))[..., :3]


def signed_colour_map():
    """matplotlib's colour map of SIGNED_COLOURS, -1 .. 1 mapped to 0 .. 1."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("against-for", list(SIGNED_COLOURS))


def colour_scale(limit: float, signed: bool = True, width: int = 256, height: int = 12) -> np.ndarray:
    """The colour scale of `colourise` as a (height, width, 3) strip, -limit (or 0) on the left, +limit on the right."""
    ramp = np.linspace(-limit if signed else 0.0, limit, width)
    return np.repeat(colourise(ramp, limit, signed)[None], height, axis=0)


def signed_to_grey(images: np.ndarray) -> np.ndarray:
    """Signed arrays (n, H, W, C) -> [0, 1], each on its own scale: 0 is mid-grey, the largest |value| black or white."""
    scale = np.abs(images).reshape(len(images), -1).max(axis=1).reshape((-1,) + (1,) * (images.ndim - 1))
    return 0.5 + 0.5 * images / np.where(scale > 0, scale, 1.0)


def grid(tiles: Sequence[np.ndarray | None], columns: int, gap: int = 2, background: float = 1.0) -> np.ndarray:
    """Equally sized (h, w, 3) tiles, row by row, `columns` to a row, `gap` pixels apart; None leaves a blank.

    Tiles may be uint8 or floats in [0, 1]; the result is floats in [0, 1], (rows*(h+gap)-gap, columns*(w+gap)-gap, 3).
    """
    shape = next(t.shape for t in tiles if t is not None)
    height, width = shape[:2]
    columns = max(1, min(columns, len(tiles)))
    rows = -(-len(tiles) // columns)
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), background)
    for position, tile in enumerate(tiles):
        if tile is None:
            continue
        row, column = divmod(position, columns)
        top, left = row * (height + gap), column * (width + gap)
        canvas[top:top + height, left:left + width] = tile / 255.0 if tile.dtype == np.uint8 else tile
    return canvas


def frame(tile: np.ndarray, colour: tuple[float, float, float], thickness: int = 2) -> np.ndarray:
    """A copy of the (h, w, 3) float tile with a border painted on its own edge pixels."""
    framed = np.array(tile, dtype=np.float64)
    rgb = np.asarray(colour, dtype=np.float64)
    framed[:thickness], framed[-thickness:] = rgb, rgb
    framed[:, :thickness], framed[:, -thickness:] = rgb, rgb
    return framed
