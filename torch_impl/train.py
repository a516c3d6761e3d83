"""Full-batch training of CatNet with autograd and torch.optim.SGD, primal or span form.

The span form is numpy_impl.train's (read its docstring): W1 = W1_init + C @ X
(rows are examples here), and the first layer's pre-activation is
Z1 = Z1_init + G @ C.T + b1 with the Gram matrix G = X @ X.T (m, m).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from catnet.errors import TrainingDiverged
from numpy_impl.train import LogCallback, StepCallback, StepState, TrainResult, check_finite, resolve_first_layer, should_log
from torch_impl.model import CatNet


class SpanCoefficients(torch.autograd.Function):
    """Z1_init + G @ C.T, whose gradient for C is dZ1.T, not dZ1.T @ G.

    Plain autograd through C would give dC = dZ1.T @ G, a different
    (preconditioned) descent direction. Gradient descent on W1 moves it by
    dW1 = dZ1.T @ X, which in span coordinates is exactly dZ1.T, so that is
    the gradient handed to the optimiser: its SGD step on C is the primal
    SGD step on W1.
    """

    @staticmethod
    def forward(ctx, C, Z1_init, gram):  # C (n_1, m), Z1_init (m, n_1), gram (m, m)
        return Z1_init + gram @ C.T  # (m, n_1)

    @staticmethod
    def backward(ctx, grad_Z1):  # (m, n_1)
        return grad_Z1.T, None, None


def train(
    model: CatNet,
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    learning_rate: float,
    iterations: int,
    first_layer: str = "auto",
    log_every: int = 100,
    on_log: LogCallback | None = None,
    on_step: StepCallback | None = None,
) -> TrainResult:
    """Train `model` in place on X (m, n_x), Y (m, 1); returns numpy_impl's TrainResult.

    `on_step` receives a numpy_impl StepState after every update (host copies:
    meant for the parity harness, not for speed).
    """
    m, n_x = X.shape
    if n_x != model.layer_sizes[0]:
        raise ValueError(f"X has {n_x} features but the first layer expects {model.layer_sizes[0]} inputs")
    first, rest = model.linears[0], model.linears[1:]
    form = resolve_first_layer(first_layer, n_x, m, first.out_features, iterations)
    costs = torch.empty(iterations, dtype=torch.float64, device=X.device)

    if form == "span":
        with torch.no_grad():
            W1_init = first.weight.detach().clone()  # (n_1, n_x)
            gram = X @ X.T  # (m, m)
            Z1_init = X @ W1_init.T  # (m, n_1)
        C = torch.zeros(first.out_features, m, dtype=X.dtype, device=X.device, requires_grad=True)  # (n_1, m)
        trained = [C, first.bias] + [p for linear in rest for p in linear.parameters()]

        def logits() -> torch.Tensor:
            A = torch.relu(SpanCoefficients.apply(C, Z1_init, gram) + first.bias)  # (m, n_1)
            for linear in rest[:-1]:
                A = torch.relu(linear(A))
            return rest[-1](A) if len(rest) else A
    else:
        trained = list(model.parameters())
        logits = lambda: model(X)  # noqa: E731

    optimizer = torch.optim.SGD(trained, lr=learning_rate)
    for iteration in range(iterations):
        optimizer.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(logits(), Y)
        costs[iteration] = loss.detach()
        # reading the cost back is a host sync on CUDA: only when it is logged
        if should_log(iteration, iterations, log_every):
            _check_finite(costs, iteration)
            if on_log is not None:
                on_log(iteration, float(costs[iteration]))
        loss.backward()
        optimizer.step()
        if on_step is not None:
            C_now = C.detach().cpu().numpy() if form == "span" else None
            on_step(StepState(iteration, float(costs[iteration]), model.to_params(), C_now, form))

    span_coefficients = None
    if form == "span":
        with torch.no_grad():
            first.weight.copy_(W1_init + C @ X)  # (n_1, n_x)
        span_coefficients = C.detach().cpu().numpy().copy()
    params = model.to_params()
    check_finite(params, iterations - 1)
    return TrainResult(
        params=params,
        costs=costs.cpu().numpy(),
        span_coefficients=span_coefficients,
        first_layer=form,
    )


def _check_finite(costs: torch.Tensor, upto: int) -> None:
    seen = costs[: upto + 1]
    bad = (~torch.isfinite(seen)).nonzero()
    if len(bad):
        first_bad = int(bad[0])
        raise TrainingDiverged(first_bad, float(seen[first_bad]))


def predict_proba(model: CatNet, X: torch.Tensor) -> np.ndarray:
    """P(cat) per row of X (m, n_x), as a (m,) NumPy array."""
    with torch.no_grad():
        return torch.sigmoid(model(X)).reshape(-1).cpu().numpy()
