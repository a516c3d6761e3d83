"""Initial parameters, drawn exactly as the course draws them.

Every scheme draws W layer by layer, W1 first, from one legacy
`np.random.RandomState(seed).randn` stream and leaves biases at zero, so
`dls` with seed 1 is the course's deep model and `small` its two-layer model.
"""

from __future__ import annotations

import numpy as np

from catcore.errors import CatnetError
from catcore.params import Layer, Params

# how each scheme scales a standard-normal draw Wn of shape (fan_out, fan_in)
SCHEMES = {
    "dls": lambda Wn, fan_in, fan_out: Wn / np.sqrt(fan_in),  # the course's deep model, written as it writes it
    "small": lambda Wn, fan_in, fan_out: Wn * 0.01,  # the course's two-layer model
    "he": lambda Wn, fan_in, fan_out: Wn * np.sqrt(2.0 / fan_in),  # He et al. 2015, for ReLU
    "xavier": lambda Wn, fan_in, fan_out: Wn * np.sqrt(2.0 / (fan_in + fan_out)),  # Glorot & Bengio 2010
}


def initialize(layer_sizes, scheme: str = "dls", seed: int = 1, dtype=np.float64) -> Params:
    """Parameters for `layer_sizes` (input first); W_l (n_l, n_{l-1}), b_l (n_l, 1) zeros."""
    if scheme not in SCHEMES:
        raise CatnetError(f"unknown init {scheme!r}; choose from {', '.join(SCHEMES)}")
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) <= 0:
        raise CatnetError(f"layer sizes must be at least two positive integers, got {list(layer_sizes)!r}")
    rng = np.random.RandomState(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = SCHEMES[scheme](rng.randn(fan_out, fan_in), fan_in, fan_out)  # (n_l, n_{l-1})
        layers.append(Layer(W=W.astype(dtype), b=np.zeros((fan_out, 1), dtype=dtype)))
    return Params(tuple(layers))
