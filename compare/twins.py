"""One forward and backward pass of each twin at the same parameters, in the course's orientation.

Both sides return arrays shaped as numpy_impl shapes them, (n_l, m): the
torch twin's rows-are-examples tensors are transposed back here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numpy_impl.network import backward, cost, forward
from numpy_impl.params import Grads, LayerGrad, Params


@dataclass(frozen=True)
class Pass:
    """Every Z and A, the cost and the gradients of one implementation at fixed parameters."""

    Z: tuple[np.ndarray, ...]  # Z[l-1] is the course's Zl, (n_l, m)
    A: tuple[np.ndarray, ...]  # A[l-1] is the course's Al, (n_l, m); A[-1] = AL
    cost: float
    grads: Grads  # dW (n_l, n_{l-1}), db (n_l, 1) per layer
    dA: tuple[np.ndarray, ...] | None = None  # dA[l] is dAl (n_l, m) for l = 0..L-1; torch only

    def named_forward(self) -> dict[str, np.ndarray]:
        named = {}
        for index, (Z, A) in enumerate(zip(self.Z, self.A), start=1):
            named[f"Z{index}"] = Z
            named[f"A{index}"] = A
        return named


def numpy_pass(params: Params, X: np.ndarray, Y: np.ndarray) -> Pass:
    """The reference: X (n_x, m), Y (1, m)."""
    fp = forward(params, X)
    grads, _ = backward(params, fp, Y)
    return Pass(Z=fp.Z, A=fp.A[1:], cost=cost(fp.Z[-1], Y), grads=grads)


def torch_pass(params: Params, X: np.ndarray, Y: np.ndarray, dtype, device, input_grads: bool = False) -> Pass:
    """The twin built from `params`, autograd for the gradients; X (n_x, m), Y (1, m) as numpy_impl takes them.

    With `input_grads`, also the gradient of the cost with respect to every
    layer's input activation, dA0 (the input itself) to dA(L-1), which the
    course's L_model_backward returns.
    """
    import torch
    import torch.nn.functional as F

    from torch_impl.model import CatNet

    model = CatNet.from_params(params, dtype=dtype, device=device)
    x = torch.from_numpy(np.ascontiguousarray(X.T)).to(device=device, dtype=dtype)  # (m, n_x)
    y = torch.from_numpy(np.ascontiguousarray(Y.T)).to(device=device, dtype=dtype)  # (m, 1)
    x.requires_grad_(input_grads)
    Zs, As = model.forward_all(x)  # each (m, n_l)
    if input_grads:
        for A in As[:-1]:
            A.retain_grad()
    loss = F.binary_cross_entropy_with_logits(Zs[-1], y)
    loss.backward()
    host = lambda t: t.detach().cpu().numpy()  # noqa: E731
    grads = Grads(tuple(
        LayerGrad(dW=host(linear.weight.grad), db=host(linear.bias.grad).reshape(-1, 1)) for linear in model.linears
    ))
    dA = tuple(host(a.grad).T for a in [x, *As[:-1]]) if input_grads else None
    return Pass(
        Z=tuple(host(Z).T for Z in Zs),
        A=tuple(host(A).T for A in As),
        cost=float(loss.detach()),
        grads=grads,
        dA=dA,
    )
