"""One progress bar for every command: tqdm on a terminal's stderr, nothing when stderr is not a terminal."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(total: int, description: str | None = None, unit: str = "it", enabled: bool = True):
    """Yield a tqdm bar (disabled off a terminal or when not `enabled`: its methods are then no-ops); closed on the way out."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr,
               disable=not (enabled and sys.stderr.isatty()))
    try:
        yield bar
    finally:
        bar.close()
