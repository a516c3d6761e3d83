"""One forward and backward pass of each twin at the same parameters, in the course's orientation.

Both sides return arrays shaped as numpy_impl shapes them, (n_l, m): the
torch twin's rows-are-examples tensors are transposed back here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.params import ForwardPass, Grads, LayerGrad, Params
from numpy_impl.network import backward, cost, forward


@dataclass(frozen=True)
class Pass:
    """Every Z and A, the cost and the gradients of one implementation at fixed parameters."""

    forward: ForwardPass  # Z[l-1] is the course's Zl, A[l] its Al, both (n_l, m); A[0] is X
    cost: float
    grads: Grads  # dW (n_l, n_{l-1}), db (n_l, 1) per layer
    dA: tuple[np.ndarray, ...] | None = None  # dA[l] is dAl (n_l, m) for l = 0..L-1; torch only


def numpy_pass(params: Params, X: np.ndarray, Y: np.ndarray) -> Pass:
    """The reference: X (n_x, m), Y (1, m)."""
    fp = forward(params, X)
    grads = backward(params, fp, Y)
    return Pass(forward=fp, cost=cost(fp.Z[-1], Y), grads=grads)


def torch_pass(params: Params, X: np.ndarray, Y: np.ndarray, dtype, device, input_grads: bool = False) -> Pass:
    """The twin built from `params`, autograd for the gradients; X (n_x, m), Y (1, m) as numpy_impl takes them.

    With `input_grads`, also the gradient of the cost with respect to every
    layer's input activation, dA0 (the input itself) to dA(L-1), which the
    course's L_model_backward returns.
    """
    import torch.nn.functional as F

    from torch_impl.model import CatNet, as_rows

    model = CatNet.from_params(params, dtype=dtype, device=device)
    x, y = as_rows(X, dtype, device), as_rows(Y, dtype, device)  # (m, n_x), (m, 1)
    x.requires_grad_(input_grads)
    tp = model.forward_all(x)  # each (m, n_l)
    if input_grads:
        for A in tp.A[:-1]:
            A.retain_grad()
    loss = F.binary_cross_entropy_with_logits(tp.Z[-1], y)
    loss.backward()
    host = lambda t: t.detach().cpu().numpy()  # noqa: E731
    grads = Grads(tuple(
        LayerGrad(dW=host(linear.weight.grad), db=host(linear.bias.grad).reshape(-1, 1)) for linear in model.linears
    ))
    dA = tuple(host(a.grad).T for a in [x, *tp.A[:-1]]) if input_grads else None
    return Pass(
        forward=ForwardPass(Z=tuple(host(Z).T for Z in tp.Z), A=(X,) + tuple(host(A).T for A in tp.A)),
        cost=float(loss.detach()),
        grads=grads,
        dA=dA,
    )
