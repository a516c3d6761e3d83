"""Montages shown pixel for pixel: an array of tiles as one figure image drawn 1:1, with text placed over it.

An axes image (imshow) or figimage resamples its array on every draw, even at
1:1, and an axes per tile costs a layout each: for the 53 figures of
`catnet explain` that was most of its drawing time. Here the pixels go to the
renderer as they are, and texts that are the same in every figure of a run are
drawn once and stamped. Captions by the hundred (one under each tile of a
strip) are drawn into the pixels with Pillow, in matplotlib's own DejaVu Sans:
as text artists they were 1.5 s of `catnet neurons` (about 1.4 ms each), this
way 0.1 ms each; one that would not fit its cell is an error, never clipped.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure
from matplotlib.image import FigureImage
from matplotlib.transforms import IdentityTransform

SCALE = 2  # screen pixels per image pixel
MIN_TILE = 64  # image pixels: smaller tiles are enlarged to this before laying out
DPI = 100  # montages are laid out in pixels at this resolution: render them at it


class _Pixels(FigureImage):
    """A figure image of uint8 pixels shown 1:1: handed to the renderer as they are, without resampling.

    figimage resamples even at 1:1 (about 0.2 s for a 600 x 1200 montage); the pixels it would produce are
    floor(255 * value), which is what this holds, so the figure draws byte for byte the same, ten times faster.
    """

    def __init__(self, figure: Figure, pixels: np.ndarray, left: int, bottom: int):  # pixels (h, w, 3) uint8
        super().__init__(figure, offsetx=left, offsety=bottom)
        self.set_array(pixels)
        self._rgba = np.empty(pixels.shape[:2] + (4,), dtype=np.uint8)  # bottom row first, as the renderer wants
        self._rgba[..., :3] = pixels[::-1]
        self._rgba[..., 3] = 255

    def make_image(self, renderer, magnification=1.0, unsampled=False):
        if renderer.dpi != self.get_figure(root=True).dpi or magnification != 1.0 or unsampled:
            return super().make_image(renderer, magnification, unsampled)
        return self._rgba, self.ox, self.oy, IdentityTransform()


class MontageFigure(Figure):
    """A montage shown pixel for pixel, with text; texts marked `shared` are drawn once per layout and stamped.

    The column titles and row labels of every image figure are the same words in the same places, over white:
    drawing them once and copying their pixels gives the very bytes drawing them again would (Agg rasterises a
    string independently of where it lands, and blends it onto the same white).
    """

    fixed_dpi = True  # laid out in pixels: drawn at its own dpi, whatever resolution a caller asks for
    _stamps: dict = {}  # layout key -> (RGBA layer, mask of the pixels the shared texts touched)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared_texts: list = []

    def draw(self, renderer):
        if not self.shared_texts or not hasattr(renderer, "buffer_rgba"):  # vector output (SVG, PDF): draw plainly
            return super().draw(renderer)
        key = (renderer.width, renderer.height, renderer.dpi,
               tuple((t.get_text(), t.get_position(), t.get_color(), t.get_fontsize(), t.get_rotation())
                     for t in self.shared_texts))
        if key not in self._stamps:
            from matplotlib.backends.backend_agg import RendererAgg

            blank = RendererAgg(renderer.width, renderer.height, renderer.dpi)
            self.patch.draw(blank)
            for text in self.shared_texts:
                text.draw(blank)
            layer = np.asarray(blank.buffer_rgba()).copy()
            if len(self._stamps) >= 4:  # the figures of one run share one or two layouts
                self._stamps.clear()
            self._stamps[key] = (layer, np.any(layer != np.asarray(self.patch.get_facecolor()) * 255, axis=-1))
        for text in self.shared_texts:
            text.set_visible(False)
        try:
            super().draw(renderer)
        finally:
            for text in self.shared_texts:
                text.set_visible(True)
        layer, mask = self._stamps[key]
        np.asarray(renderer.buffer_rgba())[mask] = layer[mask]


@dataclass(frozen=True)
class Caption:
    """A line of text drawn into a montage's pixels at (x, y), in montage coordinates; it must fit its cell, `width`
    montage pixels wide around x (or right or left of it, by `align`)."""

    text: str
    x: float
    y: float
    width: float
    colour: str = "black"
    size_pt: float = 8.0
    above: bool = False  # y is the caption's bottom edge instead of its top
    align: str = "middle"  # x is the caption's middle, or its "left" or "right" edge (its cell lies that way from x)


class CaptionOverflow(ValueError):
    """A caption wider than its cell, or outside the montage: drawing it would overlap or clip."""


@lru_cache(maxsize=8)
def _font(size_px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    return ImageFont.truetype(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans")), size_px)


def enlarged(tiles: np.ndarray, minimum: int = MIN_TILE) -> np.ndarray:
    """tiles (n, H, W, C) repeated pixel by pixel to at least `minimum` pixels a side: the layouts here are made for
    64-pixel images, and a smaller one's captions would not fit under it."""
    factor = int(np.ceil(minimum / min(tiles.shape[1:3])))
    return tiles if factor <= 1 else np.repeat(np.repeat(tiles, factor, axis=1), factor, axis=2)


def text_width(text: str, size_pt: float, dpi: int = DPI) -> float:
    """How many pixels `text` takes at `size_pt`, as burn_captions draws it."""
    return _font(round(size_pt * dpi / 72)).getlength(text)


def fit_lines(text: str, size_pt: float, width_px: float, dpi: int = DPI) -> list[str]:
    """`text` broken at spaces into lines no wider than `width_px` at `size_pt`, as Pillow measures them (a word
    longer than the width keeps its own line, and burn_captions refuses it)."""
    font = _font(round(size_pt * dpi / 72))
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and font.getlength(candidate) > width_px:
                lines.append(line)
                candidate = word
            line = candidate
        lines.append(line)
    return lines


def burn_captions(pixels: np.ndarray, captions, scale: int, dpi: int = DPI) -> list[tuple[int, int, int, int]]:
    """Draw each Caption into pixels (h, w, 3) uint8 (in place; caption coordinates times `scale`); their boxes.

    Raises CaptionOverflow for a caption that would leave its cell or the montage.
    """
    from PIL import Image, ImageDraw

    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    boxes = []
    for caption in captions:
        font = _font(round(caption.size_pt * dpi / 72))
        x, y = caption.x * scale, caption.y * scale
        # left, middle or right, and the descender or ascender line at y
        anchor = {"left": "l", "middle": "m", "right": "r"}[caption.align] + ("d" if caption.above else "t")
        box = draw.textbbox((x, y), caption.text, font=font, anchor=anchor)
        width = caption.width * scale
        cell = {"left": (x, x + width), "middle": (x - width / 2, x + width / 2), "right": (x - width, x)}[caption.align]
        if box[0] < max(0, cell[0]) - 0.5 or box[2] > min(pixels.shape[1], cell[1]) + 0.5 or box[1] < 0 \
                or box[3] > pixels.shape[0]:
            raise CaptionOverflow(f"caption {caption.text!r} spans {box}, more than its {caption.width * scale:g} px "
                                  f"cell at x={x:g} in a {pixels.shape[1]}x{pixels.shape[0]} montage")
        draw.text((x, y), caption.text, fill=caption.colour, font=font, anchor=anchor)
        boxes.append(box)
    pixels[...] = np.asarray(image)
    return boxes


class Montage:
    """A figure that shows a montage pixel for pixel (SCALE screen pixels per image pixel), no resampling.

    Text is placed in montage coordinates (image pixels, y down from the montage's top): as text artists with
    `text`, or drawn into the pixels as `captions` (see Caption).
    """

    def __init__(self, canvas: np.ndarray, header_px: int, left_px: int = 4, scale: int = SCALE, right_px: int = 4,
                 dpi: int = DPI, captions=()):
        """canvas (h, w, 3): floats in [0, 1] or uint8; header_px, left_px, right_px: screen pixels of margin."""
        # what figimage would draw, floor(255 * value) per channel, taken before scaling up: the same bytes, and the
        # large array is made once, in bytes (a float montage scaled up was tens of MB of temporaries)
        as_bytes = canvas if canvas.dtype == np.uint8 else (canvas * 255).astype(np.uint8)
        pixels = np.repeat(np.repeat(as_bytes, scale, axis=0), scale, axis=1)  # (h*scale, w*scale, 3)
        burn_captions(pixels, captions, scale, dpi)
        self.height, self.width = pixels.shape[0] + header_px + 4, pixels.shape[1] + left_px + right_px
        self.rows, self.left, self.scale = canvas.shape[0], left_px, scale
        self.figure = MontageFigure(figsize=(self.width / dpi, self.height / dpi), dpi=dpi)
        self.figure.images.append(_Pixels(self.figure, pixels, left_px, 4))

    def text(self, x: float, y: float, words: str, shared: bool = False, **style):
        """Text at montage coordinates; `shared`: the same in every figure of this layout (stamped, see MontageFigure)."""
        fx = (self.left + x * self.scale) / self.width
        fy = (4 + (self.rows - y) * self.scale) / self.height
        text = self.figure.text(fx, fy, words, **style)
        if shared:
            self.figure.shared_texts.append(text)
        return text


def wrapped(text: str, fontsize: float, width_px: float, dpi: int = DPI) -> list[str]:
    """`text` broken into lines that fit `width_px` at `fontsize` (DejaVu Sans averages under 0.6 em a character)."""
    characters = max(16, int(width_px / (0.6 * fontsize * dpi / 72)))
    return [line for paragraph in text.split("\n") for line in textwrap.wrap(paragraph, characters) or [""]]
