"""Typed containers for parameters, gradients and a forward pass, one entry per layer.

Both twins hold their state in these (NumPy arrays, the course's shapes and
names); the course's string keys W1, b1, dW1, ... exist only for files and
reports, built here by `course_names`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np


def course_names(per_layer: Iterable, numbers: Iterable[int] | None = None) -> dict[str, np.ndarray]:
    """{'W1': ..., 'b1': ..., 'W2': ...}: each layer's dataclass fields, suffixed with the layer's number.

    `numbers` gives each entry's layer number (default 1, 2, ...), for listings in another order.
    """
    named = {}
    entries = list(per_layer)
    for number, entry in zip(numbers if numbers is not None else range(1, len(entries) + 1), entries):
        for field in fields(entry):
            named[f"{field.name}{number}"] = getattr(entry, field.name)
    return named


@dataclass(frozen=True)
class Layer:
    """One layer's parameters."""

    W: np.ndarray  # (n_l, n_{l-1})
    b: np.ndarray  # (n_l, 1)


@dataclass(frozen=True)
class Params:
    """All layers, input side first: layers[0] holds the course's W1, b1."""

    layers: tuple[Layer, ...]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.layers[0].W.shape[1],) + tuple(layer.W.shape[0] for layer in self.layers)

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].W.dtype

    def astype(self, dtype) -> Params:
        return Params(tuple(Layer(l.W.astype(dtype), l.b.astype(dtype)) for l in self.layers))

    def copy(self) -> Params:
        return self.astype(self.dtype)

    def named_arrays(self) -> dict[str, np.ndarray]:
        """The course's names, W1, b1, ... for files and reports (never for lookups in the maths)."""
        return course_names(self.layers)


@dataclass(frozen=True)
class LayerGrad:
    dW: np.ndarray  # (n_l, n_{l-1})
    db: np.ndarray  # (n_l, 1)


@dataclass(frozen=True)
class Grads:
    layers: tuple[LayerGrad, ...]

    def named_arrays(self) -> dict[str, np.ndarray]:
        """dW1, db1, ... for files and reports."""
        return course_names(self.layers)

    def backprop_order(self) -> dict[str, np.ndarray]:
        """The same, output layer first, as backprop computes them: the first that differs is where a bug starts."""
        count = len(self.layers)
        return course_names(reversed(self.layers), numbers=range(count, 0, -1))


@dataclass(frozen=True)
class ActivationPair:
    """One layer's pre-activation and activation, for reports."""

    Z: np.ndarray  # (n_l, m)
    A: np.ndarray  # (n_l, m)


@dataclass(frozen=True)
class ForwardPass:
    """Every layer's pre-activation and activation; A[0] is the input X."""

    Z: tuple[np.ndarray, ...]  # Z[l-1] is the course's Zl, (n_l, m)
    A: tuple[np.ndarray, ...]  # A[l] is the course's Al, (n_l, m); A[-1] = AL, the sigmoid output

    @property
    def AL(self) -> np.ndarray:
        return self.A[-1]

    def named_arrays(self) -> dict[str, np.ndarray]:
        """Z1, A1, Z2, A2, ... for reports (the input X, A0, is left out)."""
        return course_names(ActivationPair(Z, A) for Z, A in zip(self.Z, self.A[1:]))
