"""The course's network as a plain PyTorch user trains it: the bench's PyTorch baseline.

nn.Sequential of Linear/ReLU layers, BCEWithLogitsLoss, torch.optim.SGD,
rows as examples, the cost read with .item() where the course logs it
(every 100 iterations and the last). No span form, no layout tricks: the
yardstick the torch twin is measured against. It starts from the same
initial parameters as both twins.
"""

from __future__ import annotations

import torch
from torch import nn

from catcore.params import Params


def sequential_from_params(params: Params, dtype: torch.dtype, device: str | torch.device = "cpu") -> nn.Sequential:
    """Linear -> ReLU -> ... -> Linear holding exactly `params` (cast to `dtype`)."""
    modules: list[nn.Module] = []
    for index, layer in enumerate(params.layers):
        linear = nn.Linear(layer.W.shape[1], layer.W.shape[0], dtype=dtype, device=device)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W.copy()))  # (n_l, n_{l-1})
            linear.bias.copy_(torch.from_numpy(layer.b.reshape(-1).copy()))  # (n_l,)
        modules.append(linear)
        if index < len(params.layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def train(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor, learning_rate: float, iterations: int) -> list[float]:
    """Full-batch SGD on X (m, n_x), Y (m, 1); the costs at iterations 0, 100, ... and the last."""
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    costs = []
    for i in range(iterations):
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
        if i % 100 == 0 or i == iterations - 1:
            costs.append(loss.item())
    return costs


def accuracy(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Fraction of rows of X (m, n_x) whose 0.5-thresholded prediction matches Y (m, 1)."""
    with torch.no_grad():
        return float(((model(X) > 0) == (Y > 0.5)).double().mean())
