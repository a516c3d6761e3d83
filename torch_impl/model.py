"""CatNet: [LINEAR -> RELU] x (L-1) -> LINEAR, returning the logit of "cat"; its one forward pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from catcore.params import Layer, Params

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def torch_dtype(name) -> torch.dtype:
    """'float64' / 'float32' (or the NumPy dtype) -> the torch dtype."""
    name = str(np.dtype(name)) if not isinstance(name, str) else name
    if name not in TORCH_DTYPES:
        raise ValueError(f"unknown dtype {name!r}; choose from {', '.join(TORCH_DTYPES)}")
    return TORCH_DTYPES[name]


def as_rows(array: np.ndarray, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """The course's (n, m) layout -> torch's rows-are-examples (m, n) tensor, copied onto `device`."""
    return torch.from_numpy(np.ascontiguousarray(array.T)).to(device=device, dtype=dtype)


@dataclass(frozen=True)
class TorchPass:
    """Every layer's Z and A, rows as examples: Z[l-1] (m, n_l); A[-1] is the sigmoid output."""

    Z: tuple[torch.Tensor, ...]
    A: tuple[torch.Tensor, ...]


class CatNet(nn.Module):
    """forward(x (m, n_x)) -> logits (m, 1); sigmoid(logit) = P(cat).

    The ReLUs are nn.ReLU modules, one per hidden layer, because Captum's
    DeepLift applies its rescale rule through hooks on them and would silently
    fall back to plain gradients on functional `torch.relu`.
    """

    def __init__(self, layer_sizes, dtype: torch.dtype = torch.float64, device=None):
        super().__init__()
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.linears = nn.ModuleList(
            nn.Linear(fan_in, fan_out, dtype=dtype, device=device)
            for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])
        )
        self.relus = nn.ModuleList(nn.ReLU() for _ in self.linears[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x, output_probability=False).Z[-1]  # (m, 1)

    def forward_all(self, x: torch.Tensor, output_probability: bool = True) -> TorchPass:
        """The forward pass: every layer's Z and A, as (m, n_l); the last A is sigmoid(Z_L) (Z_L itself without
        `output_probability`)."""
        Zs, As = [], []
        for index, linear in enumerate(self.linears):
            Z = linear(x)  # (m, n_l)
            if index < len(self.relus):
                x = self.relus[index](Z)
            else:
                x = torch.sigmoid(Z) if output_probability else Z
            Zs.append(Z)
            As.append(x)
        return TorchPass(Z=tuple(Zs), A=tuple(As))

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
        """The current weights as catcore Params, in the model's dtype, on the host."""
        return Params(
            tuple(
                Layer(W=linear.weight.detach().cpu().numpy().copy(), b=linear.bias.detach().cpu().numpy().reshape(-1, 1).copy())
                for linear in self.linears
            )
        )


def predict_proba(model: CatNet, X: np.ndarray) -> np.ndarray:
    """P(cat) for each column of X (n_x, m), in the model's dtype and device: (m,) NumPy."""
    first = model.linears[0].weight
    with torch.no_grad():
        return torch.sigmoid(model(as_rows(X, first.dtype, first.device))).reshape(-1).cpu().numpy()
