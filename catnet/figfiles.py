"""Figures to pixels and PNG files: each figure is drawn once, then saved and logged from the same pixels."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from catcore.outputs import atomic_path

DPI = 110  # for figures laid out in inches; montages laid out in pixels pass their own


def render(figure, dpi: int = DPI) -> np.ndarray:
    """A matplotlib Figure drawn to (H, W, 3) uint8 pixels at `dpi`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()  # (H, W, 3)


def save_png(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write (H, W, 3) uint8 pixels to `path` atomically; returns the path."""
    from PIL import Image

    path = Path(path)
    with atomic_path(path) as tmp:
        # photos barely compress: level 1 writes files ~2% larger in well under half the time
        Image.fromarray(pixels).save(tmp, format="PNG", compress_level=1)
    return path
