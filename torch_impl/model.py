"""CatNet: [LINEAR -> RELU] x (L-1) -> LINEAR, returning the logit of "cat"."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from numpy_impl.params import Layer, Params

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def torch_dtype(name: str) -> torch.dtype:
    if name not in TORCH_DTYPES:
        raise ValueError(f"unknown dtype {name!r}; choose from {', '.join(TORCH_DTYPES)}")
    return TORCH_DTYPES[name]


class CatNet(nn.Module):
    """forward(x (m, n_x)) -> logits (m, 1); sigmoid(logit) = P(cat)."""

    def __init__(self, layer_sizes, dtype: torch.dtype = torch.float64, device=None):
        super().__init__()
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.linears = nn.ModuleList(
            nn.Linear(fan_in, fan_out, dtype=dtype, device=device)
            for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear in self.linears[:-1]:
            x = torch.relu(linear(x))  # (m, n_l)
        return self.linears[-1](x)  # (m, 1)

    def forward_all(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Every layer's Z and A, as (m, n_l); the last A is the sigmoid output."""
        Zs, As = [], []
        last = len(self.linears) - 1
        for index, linear in enumerate(self.linears):
            Z = linear(x)  # (m, n_l)
            x = torch.sigmoid(Z) if index == last else torch.relu(Z)
            Zs.append(Z)
            As.append(x)
        return Zs, As

    @classmethod
    def from_params(cls, params: Params, dtype: torch.dtype = torch.float64, device=None) -> "CatNet":
        """A twin holding exactly `params` (cast to `dtype`)."""
        model = cls(params.layer_sizes, dtype=dtype, device=device)
        model.load_params(params)
        return model

    @torch.no_grad()
    def load_params(self, params: Params) -> None:
        """Copy W1, b1, ... in, checking every shape against this architecture."""
        if params.layer_sizes != self.layer_sizes:
            raise ValueError(f"parameters are for layers {params.layer_sizes}, this network has {self.layer_sizes}")
        for index, (linear, layer) in enumerate(zip(self.linears, params.layers), start=1):
            if layer.W.shape != tuple(linear.weight.shape) or layer.b.shape != (linear.bias.shape[0], 1):
                raise ValueError(
                    f"W{index} {layer.W.shape} / b{index} {layer.b.shape} do not fit "
                    f"{tuple(linear.weight.shape)} / {(linear.bias.shape[0], 1)}"
                )
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W)))
            linear.bias.copy_(torch.from_numpy(np.ascontiguousarray(layer.b)).reshape(-1))

    @torch.no_grad()
    def to_params(self) -> Params:
        """The current weights as numpy_impl Params, in the model's dtype, on the host."""
        return Params(
            tuple(
                Layer(W=linear.weight.detach().cpu().numpy().copy(), b=linear.bias.detach().cpu().numpy().reshape(-1, 1).copy())
                for linear in self.linears
            )
        )
