"""Writing results as JSON or Markdown, whole or not at all."""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np

from catcore.outputs import atomic_path


def _plain(value):
    """JSON-safe: NumPy scalars and arrays to Python, NaN/inf to strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def write_json(path: str | os.PathLike, document) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(document), indent=2) + "\n", encoding="utf-8")


def write_text(path: str | os.PathLike, text: str) -> None:
    """UTF-8 whatever the locale: the reports hold Δ, — and the like."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(path: str | os.PathLike, columns, rows) -> None:
    """One header line of `columns`, then one line per dict in `rows`."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
