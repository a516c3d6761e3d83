"""Each prediction split exactly into one term per training image, plus the random start and the biases.

Full-batch gradient descent keeps W1 = W1_init + C @ X.T (numpy_impl/span.py),
so the first layer sees a test image x only through W1_init @ x and its dot
products with the m training images, X.T @ x:

    z1 = W1_init @ x + C @ (X.T @ x) + b1                      (n_1,)

With x's own ReLU on/off pattern held fixed, every later layer is affine, so
the logit is affine in z1: logit = g . z1 + c, where g (n_1,) is the gradient
of the logit with respect to z1 at x (zero for the first-layer units that are
off) and c collects the later layers' biases. Putting the two together,

    logit = g . (W1_init @ x)                   the random start's projection
          + sum_j (g . C[:, j]) (X[:, j] . x)   one term per training image j
          + g . b1 + c                           the biases
          + g . (W1 - W1_init - C X^T) @ x       what C does not reproduce (0 to rounding for a stored C)

an identity, not an approximation: the terms add up to the logit to rounding.
It is local in one sense only: a different x switches other units on and gets
other weights g.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.params import Params
from numpy_impl.network import forward


@dataclass(frozen=True)
class Decomposition:
    """The logits of k images, each split into terms; every array has one entry (or row) per image."""

    logit: np.ndarray  # (k,) the network's own logits
    image_terms: np.ndarray  # (k, m) the share of each training image
    initial_projection: np.ndarray  # (k,) g . W1_init x
    biases: np.ndarray  # (k,) g . b1 + c
    residual: np.ndarray  # (k,) g . (W1 - W1_init - C X^T) x
    unit_terms: np.ndarray  # (k, n_1) g_i z1_i: the same logit split over the first-layer units instead

    @property
    def total(self) -> np.ndarray:
        """(k,) the sum of every term: equal to `logit` to rounding."""
        return self.image_terms.sum(axis=1) + self.initial_projection + self.biases + self.residual

    @property
    def gap(self) -> np.ndarray:
        """(k,) |total - logit|."""
        return np.abs(self.total - self.logit)


def logit_gradient(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For images X (n_x, k): (g, z1, logit) with g (n_1, k) = d logit / d z1 at each image's own ReLU pattern."""
    fp = forward(params, X)
    dZ = np.ones_like(fp.Z[-1])  # (1, k): d logit / d Z_L
    for index in range(len(params.layers) - 1, 0, -1):
        dA = params.layers[index].W.T @ dZ  # (n_{l-1}, k)
        dZ = dA * (fp.Z[index - 1] > 0)  # through the ReLU, pattern fixed
    return dZ, fp.Z[0], fp.Z[-1][0]


def decompose(params: Params, W1_init: np.ndarray, C: np.ndarray, X_train: np.ndarray, X: np.ndarray) -> Decomposition:
    """Split the logits of images X (n_x, k) over the training images X_train (n_x, m), with W1 = W1_init + C X_train^T."""
    params = params.astype(np.float64)
    W1, b1 = params.layers[0].W, params.layers[0].b  # (n_1, n_x), (n_1, 1)
    g, z1, logit = logit_gradient(params, X)  # (n_1, k), (n_1, k), (k,)
    c = logit - np.sum(g * z1, axis=0)  # (k,) what the later layers add
    dots = X_train.T @ X  # (m, k): each training image against each image
    image_terms = ((C.T @ g) * dots).T  # (k, m): (g . C[:, j]) (X[:, j] . x)
    residual_W = W1 - W1_init - C @ X_train.T  # (n_1, n_x)
    return Decomposition(
        logit=logit,
        image_terms=image_terms,
        initial_projection=np.sum(g * (W1_init @ X), axis=0),
        biases=(g * b1).sum(axis=0) + c,
        residual=np.sum(g * (residual_W @ X), axis=0),
        unit_terms=(g * z1).T,
    )
