"""Small array helpers shared across layers."""

from __future__ import annotations

import numpy as np


def relative_difference(value: np.ndarray, reference: np.ndarray) -> float:
    """||value - reference||_F / ||reference||_F; the plain ||value|| when the reference is all zero."""
    scale = np.linalg.norm(reference)
    return float(np.linalg.norm(value - reference) / scale) if scale > 0 else float(np.linalg.norm(value))
