"""Which training images built each first-layer unit: W1 = W1_init + C @ X.T (numpy_impl.span).

Full-batch gradient descent moves W1 by dW1 = dZ1 @ X.T, a combination of
the training images, at every step; so the whole change W1 - W1_init is
C @ X.T with C (n_1, m) summing -learning_rate * dZ1 over the steps. Row j
of C says how much of each training image went into unit j's template.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.errors import CatnetError
from numpy_impl.span import least_squares_coefficients, reconstruction_error

STORED, LEAST_SQUARES = "stored", "least-squares"


@dataclass(frozen=True)
class SpanFit:
    """C and how well W1_init + C @ X.T reproduces W1."""

    C: np.ndarray  # (n_1, m)
    source: str  # STORED (accumulated during training) or LEAST_SQUARES (recovered afterwards)
    relative_error: float  # ||W1_init + C X^T - W1||_F / ||W1 - W1_init||_F


def check_stored(C: np.ndarray | None, n_1: int, m: int) -> None:
    """A model's stored C must have one row per unit and one column per training image."""
    if C is not None and C.shape != (n_1, m):
        raise CatnetError(
            f"the model's span coefficients C1 are {C.shape} but {n_1} units and {m} training images need "
            f"{(n_1, m)}: it was trained on another training set"
        )


def span_fit(X: np.ndarray, W1: np.ndarray, W1_init: np.ndarray, stored: np.ndarray | None) -> SpanFit:
    """The stored C when the model has one, else least squares; with its reconstruction error."""
    X, W1, W1_init = (np.asarray(a, dtype=np.float64) for a in (X, W1, W1_init))
    check_stored(stored, W1.shape[0], X.shape[1])
    if stored is not None:
        C, source = np.asarray(stored, dtype=np.float64), STORED
    else:
        C, source = least_squares_coefficients(X, W1, W1_init), LEAST_SQUARES
    return SpanFit(C=C, source=source, relative_error=reconstruction_error(C, X, W1, W1_init))
