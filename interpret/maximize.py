"""Activation maximisation (Erhan et al. 2009): the input of bounded norm that drives a unit hardest.

For a unit with pre-activation z(x) (its ReLU input; for the output, the
"cat" logit) find x of norm at most `radius` maximising
    z(x) - smoothness * S(x),   S = sum of squared differences of neighbouring pixel values,
by projected gradient ascent from a seeded random start. A step that would
lower this objective is refused and the unit's step size halved, so the
objective never decreases from one recorded step to the next. Every unit of
a layer is optimised at once, as the rows of one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.config import MAX_AM_STEPS
from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder
from catcore.params import Params


@dataclass(frozen=True)
class MaximizeSettings:
    radius: float  # the bound on ||x||_2, in the network's input scale ([0, 1] pixels)
    steps: int = 200  # gradient-ascent steps
    smoothness: float = 0.01  # weight of S(x)
    seed: int = 0  # seeds the random start
    first_step: float = 0.05  # initial step length, as a fraction of radius

    def __post_init__(self) -> None:
        if not self.radius > 0:
            raise CatnetError(f"the norm bound must be positive, got {self.radius!r}")
        if not 0 < self.steps <= MAX_AM_STEPS:
            raise CatnetError(f"activation maximisation needs at least one step and at most {MAX_AM_STEPS:,}, got {self.steps!r}")
        if self.smoothness < 0:
            raise CatnetError(f"the smoothness weight cannot be negative, got {self.smoothness!r}")


@dataclass(frozen=True)
class Maximization:
    """One layer's units, each with the input that maximises it."""

    layer: int  # 1-based; the last layer is the output logit
    images: np.ndarray  # (n_units, H, W, C): the maximising inputs, in the network's input scale
    z: np.ndarray  # (steps + 1, n_units): the unit's pre-activation after each step (row 0: the start)
    objective: np.ndarray  # (steps + 1, n_units): z - smoothness * S, non-decreasing down each column
    norms: np.ndarray  # (n_units,) ||x||_2 of the result, at most radius


def roughness(images):
    """S: sum of squared differences between vertically and horizontally adjacent values; (n, H, W, C) -> (n,)."""
    vertical = images[:, 1:] - images[:, :-1]
    horizontal = images[:, :, 1:] - images[:, :, :-1]
    return (vertical**2).sum(dim=(1, 2, 3)) + (horizontal**2).sum(dim=(1, 2, 3))


def maximize_layer(params: Params, order: FlattenOrder, layer: int, settings: MaximizeSettings) -> Maximization:
    """Maximise every unit of `layer` (1-based) of the network `params` reading images in `order`."""
    import torch

    from torch_impl.model import CatNet

    if not 1 <= layer <= len(params.layers):
        raise CatnetError(f"layer must be between 1 and {len(params.layers)}, got {layer!r}")
    model = CatNet.from_params(params, dtype=torch.float64)
    perm = torch.from_numpy(order.perm)
    n_units = params.layer_sizes[layer]
    unit = torch.arange(n_units)


    def objective(x):  # x (n_units, H, W, C) -> z, objective, both (n_units,)
        rows = x.reshape(n_units, -1)
        Zs = model.forward_all(rows if order.is_identity else rows[:, perm]).Z  # rows in the network's order
        z = Zs[layer - 1][unit, unit]  # row j drives unit j
        return z, z - settings.smoothness * roughness(x)

    def evaluated(x):  # z, objective and the objective's gradient at x, all detached
        x = x.detach().requires_grad_(True)
        z, value = objective(x)
        (grad,) = torch.autograd.grad(value.sum(), x)  # rows are independent: row j's gradient is unit j's
        return z.detach(), value.detach(), grad

    generator = torch.Generator().manual_seed(settings.seed)
    x = torch.randn((n_units,) + order.image_shape, generator=generator, dtype=torch.float64)
    x = _project(x, 0.1 * settings.radius)  # a faint random start inside the ball
    step = torch.full((n_units,), settings.first_step * settings.radius, dtype=torch.float64)
    # the history is written into tensors made once: appended step by step, its small tensors interleaved with the
    # 2 MB temporaries of each step kept the heap from shrinking (about 360 MB more peak memory for the same numbers)
    zs = torch.empty((settings.steps + 1, n_units), dtype=torch.float64)
    values = torch.empty_like(zs)
    # each candidate is evaluated with its gradient: when it is accepted, that is the next step's gradient, so a
    # step costs one forward and backward pass instead of two forwards and a backward (the same numbers)
    z, value, grad = evaluated(x)
    zs[0], values[0] = z, value
    for index in range(1, settings.steps + 1):
        with torch.no_grad():
            direction = grad / grad.flatten(1).norm(dim=1).clamp_min(1e-300).view(-1, 1, 1, 1)
            candidate = _project(x + step.view(-1, 1, 1, 1) * direction, settings.radius)
        z_new, value_new, grad_new = evaluated(candidate)
        with torch.no_grad():
            accept = value_new > value  # a refused step keeps x and halves the step
            rows = accept.view(-1, 1, 1, 1)
            x = torch.where(rows, candidate, x)
            grad = torch.where(rows, grad_new, grad)
            z = torch.where(accept, z_new, z)
            value = torch.where(accept, value_new, value)
            step = torch.where(accept, (step * 1.5).clamp_max(settings.radius), step / 2)
        zs[index], values[index] = z, value
    return Maximization(
        layer=layer,
        images=x.numpy(),
        z=zs.numpy(),
        objective=values.numpy(),
        norms=x.flatten(1).norm(dim=1).numpy(),
    )


def maximize_all(params: Params, order: FlattenOrder, settings: MaximizeSettings) -> tuple[Maximization, ...]:
    """Every hidden layer and the output logit."""
    return tuple(maximize_layer(params, order, layer, settings) for layer in range(1, len(params.layers) + 1))


def _project(x, radius: float):
    """Onto the ball ||x||_2 <= radius, row by row; x (n, H, W, C)."""
    norms = x.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return x * (radius / norms.clamp_min(1e-300)).clamp_max(1.0)
