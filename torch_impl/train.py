"""Full-batch training of CatNet with autograd and torch.optim's SGD update, primal or span form (span.py).

`Training` keeps catcore.training's contract, as numpy_impl.train does: it is
built from the same initial parameters and the same (n_x, m) arrays, and hands
back the same TrainResult. On CUDA, `run` captures the step once in a CUDA
graph and replays it (cudagraph.py); `steps` runs eagerly, since its observer
reads every state back.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from catcore.config import TrainConfig
from catcore.params import Layer, Params
from catcore.training import (
    COST_BLOCK,
    LogCallback,
    StepState,
    TrainResult,
    check_finite,
    check_inputs,
    costed_in_blocks,
    first_non_finite,
    resolve_first_layer,
    should_log,
)
from torch_impl.cudagraph import run_steps
from torch_impl.model import CatNet, as_rows, torch_dtype
from torch_impl.sgd import PlainSGD
from torch_impl.span import SpanForm, SpanStep


class Training:
    """Train a twin built from `initial` on X (n_x, m), Y (1, m) on `device`; `model` is the twin being trained."""

    def __init__(self, initial: Params, X: np.ndarray, Y: np.ndarray, config: TrainConfig, device="cpu"):
        check_inputs(initial, X, Y, config.dtype)
        n_x, m = X.shape
        self.config = config
        self.form = resolve_first_layer(config.first_layer, n_x, m, initial.layer_sizes[1], config.iterations)
        device, dtype = torch.device(device), torch_dtype(initial.dtype)
        self.model = CatNet.from_params(initial, dtype=dtype, device=device)
        X_rows, Y_rows = as_rows(X, dtype, device), as_rows(Y, dtype, device)  # (m, n_x), (m, 1)
        self.device = device
        if self.form == "span":
            self.span = SpanForm(self.model, X_rows, Y_rows)
            trained, self._loss = self.span.parameters(), self.span.loss
        else:
            self.span = None
            trained = list(self.model.parameters())
            self._loss = lambda: F.binary_cross_entropy_with_logits(self.model(X_rows), Y_rows)
        self._optimizer = PlainSGD(trained, config.learning_rate)  # torch.optim.SGD's own update; see sgd.py
        # on CPU the span form steps by hand with autograd's own ops (span.SpanStep: bit-identical, 2.4x faster);
        # on CUDA the autograd step is captured once as a graph, which already removes the per-op overhead
        self._by_hand = SpanStep(self.span, config.learning_rate) if self.span is not None and device.type == "cpu" else None
        self._costs: list[torch.Tensor] = []  # one 0-d device tensor per iteration, where the costs stay on the device
        self._cost_array: np.ndarray | None = None  # (iterations,) float64, where a run costed them on the host
        self._W1_host: np.ndarray | None = None  # span form: W1_init on the host, made once for steps()

    def _step(self) -> torch.Tensor:
        """One update; returns the cost before it, detached, still on the device."""
        if self._by_hand is not None:
            return self._by_hand()
        return self._autograd_step()

    def _autograd_step(self) -> torch.Tensor:
        """One update through autograd and torch.optim's SGD: the reference the hand-written step is held to."""
        self._optimizer.zero_grad()
        loss = self._loss()
        loss.backward()
        self._optimizer.step()
        return loss.detach()

    def run(self, on_log: LogCallback | None = None) -> TrainResult:
        """Every iteration; the costs stay on the device until a logged iteration reads them back."""
        if self._by_hand is not None:
            return self._run_by_hand(on_log)
        iterations, log_every = self.config.iterations, self.config.log_every
        checked = 0  # costs[:checked] are known to be finite

        def after_step(iteration: int, costs: list[torch.Tensor]) -> None:
            nonlocal checked
            if should_log(iteration, iterations, log_every):
                _check_costs(costs, checked, iteration)  # reading back is a host sync on CUDA: only here
                checked = iteration + 1
                if on_log is not None:
                    on_log(iteration, float(costs[iteration]))

        self._costs = run_steps(self._step, iterations, after_step, device=self.device, graphable=True)
        return self.result()

    def _run_by_hand(self, on_log: LogCallback | None) -> TrainResult:
        """run() on CPU in span form: each step's logits kept and costed a block at a time, as numpy_impl.train does
        (catcore.training.costed_in_blocks), with the kernels the per-step cost uses."""
        iterations = self.config.iterations
        buffer = torch.empty(min(iterations, COST_BLOCK), self.span.Y_T.shape[1], dtype=self.span.C.dtype)
        self._cost_array = costed_in_blocks(
            lambda: self._by_hand.step()[0].numpy(),  # (m,) on the host: this path is CPU only
            lambda rows: self._by_hand.costs(torch.from_numpy(rows)).numpy(),
            buffer.numpy(), iterations, self.config.log_every, on_log,
        )
        return self.result()

    def steps(self) -> Iterator[StepState]:
        """One StepState after each update, as host copies (b1 current; in span form W1 still W1_init, as StepState says)."""
        for iteration in range(self.config.iterations):
            self._costs.append(self._step())
            _check_costs(self._costs, iteration, iteration)
            C_now = None
            if self.span is not None:
                self.span.write_first_layer(materialise_W1=False)
                C_now = self.span.C.detach().cpu().numpy()
            yield StepState(iteration, float(self._costs[iteration]), self._step_params(), C_now, self.form)

    def _step_params(self) -> Params:
        """The model's parameters on the host; in span form W1 stays W1_init until the end, so its one copy is reused
        (copying 20 x 12288 values every step was a sixth of `catnet compare`'s torch loop)."""
        if self.span is None:
            return self.model.to_params()
        first, *upper = self.model.linears
        if self._W1_host is None:
            self._W1_host = first.weight.detach().cpu().numpy().copy()
            self._W1_host.flags.writeable = False  # shared by every StepState of the run

        def host(tensor: torch.Tensor) -> np.ndarray:
            return tensor.detach().cpu().numpy().copy()

        return Params((Layer(W=self._W1_host, b=host(first.bias).reshape(-1, 1)),)
                      + tuple(Layer(W=host(linear.weight), b=host(linear.bias).reshape(-1, 1)) for linear in upper))

    def result(self) -> TrainResult:
        span_coefficients = None
        if self.span is not None:
            self.span.write_first_layer(materialise_W1=True)
            span_coefficients = self.span.C.detach().cpu().numpy().copy()
        params = self.model.to_params()
        check_finite(params, self.config.iterations - 1)  # the last update has no cost after it to show a blow-up
        return TrainResult(
            params=params,
            costs=self._cost_array if self._cost_array is not None else torch.stack(self._costs).to(torch.float64).cpu().numpy(),
            span_coefficients=span_coefficients,
            first_layer=self.form,
        )


def train(initial: Params, X: np.ndarray, Y: np.ndarray, config: TrainConfig, device="cpu",
          on_log: LogCallback | None = None) -> TrainResult:
    """The whole run: Training(initial, X, Y, config, device).run(on_log)."""
    return Training(initial, X, Y, config, device).run(on_log)


def _check_costs(costs: list[torch.Tensor], start: int, upto: int) -> None:
    """TrainingDiverged at the first non-finite cost in costs[start..upto] (a host sync on CUDA)."""
    first_non_finite(torch.stack(costs[start : upto + 1]).to(torch.float64).cpu().numpy(), start)
