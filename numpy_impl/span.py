"""The first layer in the span of the training images: W1 = W1_init + C @ X.T.

Under full-batch gradient descent every update of W1 is dW1 = dZ1 @ X.T, a
combination of the training images, so from W1_init on W1 = W1_init + C @ X.T
at every step, with C (n_1, m) starting at zero and updated as C -= lr * dZ1.
Then Z1 = W1_init @ X + C @ (X.T @ X) + b1: with the Gram matrix X.T @ X
(m, m) and W1_init @ X formed once, nothing (n_1, n_x)-sized is needed until
W1 itself is asked for. The training loop (inplace.py), the parity harness's
trajectory comparison and the neurons experiment all use this one class.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from catcore.arrays import relative_difference


class SpanBasis:
    """W1_init (n_1, n_x) and the training images X (n_x, m), with what the span formulas need."""

    def __init__(self, W1_init: np.ndarray, X: np.ndarray):
        self.W1_init, self.X = W1_init, X
        self.gram = X.T @ X  # (m, m)
        self.Z1_init = W1_init @ X  # (n_1, m), without the bias

    def W1(self, C: np.ndarray) -> np.ndarray:
        """The first layer's weights for coefficients C (n_1, m): (n_1, n_x)."""
        return self.W1_init + C @ self.X.T

    def Z1(self, C: np.ndarray, b1: np.ndarray, CG: np.ndarray | None = None) -> np.ndarray:
        """W1 @ X + b1 on the basis's own images without forming W1: (n_1, m). CG: C @ gram, when already made."""
        return self.Z1_init + (C @ self.gram if CG is None else CG) + b1

    @cached_property
    def W1_init_norm_sq(self) -> float:
        return float(np.sum(self.W1_init**2))

    def W1_norm_sq(self, C: np.ndarray, CG: np.ndarray | None = None) -> float:
        """||W1||_F^2 = ||W1_init||^2 + 2 <C, W1_init X> + <C, C G>, without forming W1. CG: C @ gram, when made."""
        CG = C @ self.gram if CG is None else CG
        return self.W1_init_norm_sq + 2 * float(np.sum(C * self.Z1_init)) + float(np.sum(C * CG))

    def W1_distance_sq(self, C_a: np.ndarray, C_b: np.ndarray) -> float:
        """||W1(C_a) - W1(C_b)||_F^2 = trace(dC G dC^T), an (n_1, m) x (m, m) product."""
        dC = C_a - C_b  # (n_1, m)
        return max(float(np.sum(dC * (dC @ self.gram))), 0.0)  # a PSD form: clip rounding below zero


def least_squares_coefficients(X: np.ndarray, W1: np.ndarray, W1_init: np.ndarray) -> np.ndarray:
    """C minimising ||C X^T - (W1 - W1_init)||_F, for a W1 trained without tracking C: X (n_x, m) -> C (n_1, m)."""
    solution, *_ = np.linalg.lstsq(X, (W1 - W1_init).T, rcond=None)  # (m, n_1)
    return solution.T


def reconstruction_error(C: np.ndarray, X: np.ndarray, W1: np.ndarray, W1_init: np.ndarray) -> float:
    """||W1_init + C X^T - W1||_F relative to the learned change ||W1 - W1_init||_F."""
    return relative_difference(C @ X.T, W1 - W1_init)  # (n_1, n_x) each
