"""Typed containers for parameters, gradients and a forward pass, one entry per layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
        named = {}
        for index, layer in enumerate(self.layers, start=1):
            named[f"W{index}"] = layer.W
            named[f"b{index}"] = layer.b
        return named


@dataclass(frozen=True)
class LayerGrad:
    dW: np.ndarray  # (n_l, n_{l-1})
    db: np.ndarray  # (n_l, 1)


@dataclass(frozen=True)
class Grads:
    layers: tuple[LayerGrad, ...]

    def named_arrays(self) -> dict[str, np.ndarray]:
        named = {}
        for index, grad in enumerate(self.layers, start=1):
            named[f"dW{index}"] = grad.dW
            named[f"db{index}"] = grad.db
        return named


@dataclass(frozen=True)
class ForwardPass:
    """Every layer's pre-activation and activation; A[0] is the input X."""

    Z: tuple[np.ndarray, ...]  # Z[l-1] is the course's Zl, (n_l, m)
    A: tuple[np.ndarray, ...]  # A[l] is the course's Al, (n_l, m); A[-1] = AL, the sigmoid output

    @property
    def AL(self) -> np.ndarray:
        return self.A[-1]
