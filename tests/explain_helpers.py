"""Tiny hand-made networks for the attribution tests: image-shaped, any flatten order."""

from __future__ import annotations

import numpy as np
import torch

from catcore.flatten import flatten_order
from catcore.params import Layer, Params
from interpret.wrapper import ImageModel
from torch_impl.model import CatNet

SHAPE = (4, 4, 3)  # n_x = 48


def random_params(layer_sizes, seed: int = 0, bias: float = 0.1) -> Params:
    """Random weights (scaled by 1/sqrt(fan_in)) and small random biases, so ReLUs both fire and don't."""
    rng = np.random.default_rng(seed)
    return Params(tuple(
        Layer(W=rng.normal(size=(fan_out, fan_in)) / np.sqrt(fan_in), b=bias * rng.normal(size=(fan_out, 1)))
        for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:])
    ))


def tiny_model(hidden=(6, 4), order: str = "course", shape=SHAPE, seed: int = 0) -> tuple[ImageModel, Params]:
    """An ImageModel over `shape` images with the given hidden layers, and the Params it holds."""
    params = random_params((int(np.prod(shape)),) + tuple(hidden) + (1,), seed=seed)
    net = CatNet.from_params(params, dtype=torch.float64)
    return ImageModel(net, flatten_order(order, shape)).eval(), params


def random_images(count: int, shape=SHAPE, seed: int = 1) -> torch.Tensor:
    """(count, H, W, C) in [0, 1], float64."""
    return torch.from_numpy(np.random.default_rng(seed).random((count,) + tuple(shape)))
