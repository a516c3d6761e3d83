"""One training run of either twin from a TrainConfig: initialise, train, evaluate; no printing, no files.

It sits in the application layer because it reaches both twins; each twin's
own `Training` (numpy_impl.train, torch_impl.train) keeps the shared contract
in catcore.training.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from catcore.config import TorchSettings, TrainConfig
from catcore.data import Arrays
from catcore.errors import CatnetError
from catcore.params import Params
from catcore.training import LogCallback, TrainResult, check_outcome
from numpy_impl.init import initialize
from numpy_impl.network import evaluate

if TYPE_CHECKING:  # the NumPy path imports no torch
    from torch_impl.device import Backend


@dataclass(frozen=True)
class Run:
    impl: str
    config: TrainConfig
    initial: Params
    result: TrainResult
    train_accuracy: float
    test_accuracy: float
    train_seconds: float  # the training loop alone
    backend: Backend | None = None  # device, TF32, determinism; None for NumPy
    final_cost: float | None = None  # on the training set after the last update (result.costs hold each one before)

    def settings(self) -> dict:
        """What ran, as plain values: the TrainConfig, the first-layer form chosen, the torch backend."""
        return {
            **asdict(self.config),
            "layers": list(self.config.layers),
            "first_layer": self.result.first_layer,
            **(asdict(self.backend) if self.backend is not None else {}),
        }


def run_training(
    config: TrainConfig,
    arrays: Arrays,
    impl: str = "numpy",
    torch_settings: TorchSettings | None = None,
    on_log: LogCallback | None = None,
    initial: Params | None = None,
) -> Run:
    """Initialise from the config's seed and scheme, train with `impl`, evaluate on both splits.

    `initial`, when given, replaces the config's draw (same layer sizes and dtype): an
    experiment that starts from transformed parameters.
    """
    if initial is None:
        initial = initialize(config.layers, config.init, config.seed, dtype=np.dtype(config.dtype))
    elif initial.layer_sizes != tuple(config.layers) or initial.dtype != np.dtype(config.dtype):
        raise ValueError(
            f"initial parameters are {initial.layer_sizes} {initial.dtype}, the config asks for "
            f"{tuple(config.layers)} {config.dtype}"
        )
    if impl == "numpy":
        from numpy_impl.train import Training

        start = time.perf_counter()  # the one-off set-up (the span form's Gram matrix) counts as training
        result, backend = Training(initial, arrays.X_train, arrays.Y_train, config).run(on_log), None
        seconds = time.perf_counter() - start
    elif impl == "torch":
        result, seconds, backend = _train_torch(config, arrays, initial, torch_settings or TorchSettings(), on_log)
    else:
        raise CatnetError(f"unknown impl {impl!r}; choose numpy or torch")
    final_cost, train_accuracy = evaluate(result.params, arrays.X_train, arrays.Y_train)
    check_outcome(float(result.costs[0]), final_cost, config.iterations - 1, config.dtype)  # a useless model is no result
    return Run(
        impl=impl,
        config=config,
        initial=initial,
        result=result,
        train_accuracy=train_accuracy,
        test_accuracy=evaluate(result.params, arrays.X_test, arrays.Y_test)[1],
        train_seconds=seconds,
        backend=backend,
        final_cost=final_cost,
    )


def _train_torch(config, arrays, initial, settings, on_log):
    """The torch twin's run on the configured device: (result, seconds, backend), the device synchronised around it."""
    import torch

    from torch_impl.device import configure_backend, resolve_device
    from torch_impl.train import Training

    device = resolve_device(settings.device)
    backend = configure_backend(device, settings.allow_tf32)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = Training(initial, arrays.X_train, arrays.Y_train, config, device).run(on_log)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return result, time.perf_counter() - start, backend
