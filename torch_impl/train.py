"""Full-batch training of CatNet with autograd and torch.optim's SGD update, primal or span form.

The span form is numpy_impl.train's (read its docstring): W1 = W1_init + C @ X
(rows are examples here). Its first layer's bias rides along as the weight of
a constant input 1 (b1 = b1_init + C @ 1), so with G = X @ X.T + 1 (m, m) the
first layer's pre-activation, laid out as in numpy (units x examples), is
Z1.T = Z1_init.T + C @ G, and SGD trains C with the rest of the network.

The span loop runs every layer in that (units x examples) layout: the same
products, but for a 209-example batch BLAS runs W @ A (7 x 20 x 209) about
twice as fast as A @ W.T, and at ~20 ops a step per-op cost is the budget.
On CUDA the step is captured once in a CUDA graph and replayed (cudagraph.py).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from catnet.errors import TrainingDiverged
from numpy_impl.train import LogCallback, StepCallback, StepState, TrainResult, check_finite, resolve_first_layer, should_log
from torch_impl.cudagraph import run_steps
from torch_impl.model import CatNet
from torch_impl.sgd import PlainSGD


class SpanCoefficients(torch.autograd.Function):
    """Z1_init.T + C @ G, whose gradient for C is dZ1.T, not dZ1.T @ G.

    Plain autograd through C would give dC = dZ1.T @ G, a different
    (preconditioned) descent direction. Gradient descent on [W1 | b1] moves it by
    dZ1.T @ [X | 1], which in span coordinates is exactly dZ1.T, so that is
    the gradient handed to the optimiser: its SGD step on C is the primal
    SGD step on W1 and b1.
    """

    @staticmethod
    def forward(ctx, C, Z1_init_T, gram):  # C (n_1, m), Z1_init_T (n_1, m), gram (m, m)
        return torch.addmm(Z1_init_T, C, gram)  # (n_1, m)

    @staticmethod
    def backward(ctx, grad_Z1_T):  # (n_1, m)
        return grad_Z1_T, None, None


class SpanForm:
    """The span-form network: trained tensors C and layers 2..L of `model`, units x examples."""

    def __init__(self, model: CatNet, X: torch.Tensor, Y: torch.Tensor):
        first = model.linears[0]
        with torch.no_grad():
            self.W1_init = first.weight.detach().clone()  # (n_1, n_x)
            self.b1_init = first.bias.detach().clone()  # (n_1,)
            self.gram = X @ X.T + 1  # (m, m): [X | 1] @ [X | 1].T
            self.Z1_init_T = torch.addmm(self.b1_init.unsqueeze(1), self.W1_init, X.T)  # (n_1, m)
        self.C = torch.zeros(first.out_features, X.shape[0], dtype=X.dtype, device=X.device, requires_grad=True)
        self.rest = [(linear.weight, linear.bias) for linear in model.linears[1:]]
        self.Y_T = Y.T  # (1, m)
        self.first, self.X = first, X

    def parameters(self) -> list[torch.Tensor]:
        return [self.C] + [p for W, b in self.rest for p in (W, b)]

    def loss(self) -> torch.Tensor:
        A = SpanCoefficients.apply(self.C, self.Z1_init_T, self.gram)  # (n_1, m)
        for W, b in self.rest:
            A = torch.addmm(b.unsqueeze(1), W, torch.relu(A))  # (n_l, m)
        return F.binary_cross_entropy_with_logits(A, self.Y_T)

    @torch.no_grad()
    def write_first_layer(self, materialise_W1: bool) -> None:
        """Put the current b1 (and W1, when asked) into the model's first Linear."""
        self.first.bias.copy_(self.b1_init + self.C.sum(dim=1))  # (n_1,)
        if materialise_W1:
            self.first.weight.copy_(torch.addmm(self.W1_init, self.C, self.X))  # (n_1, n_x)


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
    meant for the parity harness, not for speed). The costs stay on the
    device until a logged iteration reads them back.
    """
    m, n_x = X.shape
    if n_x != model.layer_sizes[0]:
        raise ValueError(f"X has {n_x} features but the first layer expects {model.layer_sizes[0]} inputs")
    form = resolve_first_layer(first_layer, n_x, m, model.linears[0].out_features, iterations)
    if form == "span":
        span = SpanForm(model, X, Y)
        trained, loss_fn = span.parameters(), span.loss
    else:
        trained, loss_fn = list(model.parameters()), lambda: F.binary_cross_entropy_with_logits(model(X), Y)
    optimizer = PlainSGD(trained, learning_rate)  # torch.optim.SGD's own update; see torch_impl/sgd.py

    def step() -> torch.Tensor:
        """One update; returns the cost before it, detached, still on the device."""
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss.detach()

    checked = 0  # costs[:checked] are known to be finite

    def after_step(iteration: int, costs: list[torch.Tensor]) -> None:
        nonlocal checked
        if should_log(iteration, iterations, log_every) or on_step is not None:
            _check_finite(costs, checked, iteration)  # reading back is a host sync on CUDA: only here
            checked = iteration + 1
        if on_log is not None and should_log(iteration, iterations, log_every):
            on_log(iteration, float(costs[iteration]))
        if on_step is not None:
            C_now = None
            if form == "span":
                span.write_first_layer(materialise_W1=False)  # W1 stays W1_init, as StepState says
                C_now = span.C.detach().cpu().numpy()
            on_step(StepState(iteration, float(costs[iteration]), model.to_params(), C_now, form))

    costs = run_steps(step, iterations, after_step, device=X.device, graphable=on_step is None)

    span_coefficients = None
    if form == "span":
        span.write_first_layer(materialise_W1=True)
        span_coefficients = span.C.detach().cpu().numpy().copy()
    params = model.to_params()
    check_finite(params, iterations - 1)  # the last update has no cost after it to show a blow-up
    return TrainResult(
        params=params,
        costs=torch.stack(costs).to(torch.float64).cpu().numpy(),
        span_coefficients=span_coefficients,
        first_layer=form,
    )


def _check_finite(costs: list[torch.Tensor], start: int, upto: int) -> None:
    """TrainingDiverged at the first non-finite cost in costs[start..upto]."""
    seen = torch.stack(costs[start : upto + 1])
    bad = (~torch.isfinite(seen)).nonzero()
    if len(bad):
        first_bad = int(bad[0])
        raise TrainingDiverged(start + first_bad, float(seen[first_bad]))


def predict_proba(model: CatNet, X: torch.Tensor) -> np.ndarray:
    """P(cat) per row of X (m, n_x), as a (m,) NumPy array."""
    with torch.no_grad():
        return torch.sigmoid(model(X)).reshape(-1).cpu().numpy()
