"""Saving matplotlib figures as PNG files, whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from catnet.outputs import atomic_path


def save_png(path: str | os.PathLike, figure) -> Path:
    """Write `figure` (a matplotlib Figure) to `path` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return path
