"""One training run from a TrainConfig, with either implementation; no printing, no files."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from catnet.config import TorchSettings, TrainConfig
from catnet.data import Dataset
from catnet.errors import CatnetError
from catnet.flatten import flatten_order
from numpy_impl.init import initialize
from numpy_impl.network import accuracy
from numpy_impl.params import Params
from numpy_impl.train import LogCallback, TrainResult


@dataclass(frozen=True)
class Arrays:
    """The data as the network reads it: X (n_x, m) scaled to [0, 1], Y (1, m)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


@dataclass(frozen=True)
class Run:
    impl: str
    config: TrainConfig
    initial: Params
    result: TrainResult
    train_accuracy: float
    test_accuracy: float
    train_seconds: float  # the training loop alone
    backend: dict = field(default_factory=dict)  # torch device / TF32 / determinism settings

    def settings(self) -> dict:
        """What ran, as plain values: the TrainConfig, the first-layer form chosen, the torch backend."""
        return {
            **asdict(self.config),
            "layers": list(self.config.layers),
            "first_layer": self.result.first_layer,
            **self.backend,
        }


def prepare_arrays(dataset: Dataset, config: TrainConfig) -> Arrays:
    """Flatten and scale both splits in the config's order and dtype; check the input size."""
    order = flatten_order(config.flatten, dataset.image_shape)
    n_x = int(np.prod(dataset.image_shape))
    if config.layers[0] != n_x:
        raise CatnetError(
            f"the first layer size is {config.layers[0]} but the images have {n_x} values "
            f"({'x'.join(map(str, dataset.image_shape))}); use --layers {n_x},{','.join(map(str, config.layers[1:]))}"
        )
    dtype = np.dtype(config.dtype)
    return Arrays(
        X_train=dataset.train.X(order, dtype),
        Y_train=dataset.train.Y(dtype),
        X_test=dataset.test.X(order, dtype),
        Y_test=dataset.test.Y(dtype),
    )


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
    experiment that starts from transformed parameters, as `catnet unroll` does.
    """
    if initial is None:
        initial = initialize(config.layers, config.init, config.seed, dtype=np.dtype(config.dtype))
    elif initial.layer_sizes != tuple(config.layers) or initial.dtype != np.dtype(config.dtype):
        raise ValueError(
            f"initial parameters are {initial.layer_sizes} {initial.dtype}, the config asks for "
            f"{tuple(config.layers)} {config.dtype}"
        )
    backend: dict = {}
    if impl == "numpy":
        from numpy_impl.train import train

        start = time.perf_counter()
        result = train(
            initial,
            arrays.X_train,
            arrays.Y_train,
            learning_rate=config.learning_rate,
            iterations=config.iterations,
            first_layer=config.first_layer,
            log_every=config.log_every,
            on_log=on_log,
        )
        seconds = time.perf_counter() - start
    elif impl == "torch":
        result, seconds, backend = _train_torch(config, arrays, initial, torch_settings or TorchSettings(), on_log)
    else:
        raise CatnetError(f"unknown impl {impl!r}; choose numpy or torch")
    return Run(
        impl=impl,
        config=config,
        initial=initial,
        result=result,
        train_accuracy=accuracy(result.params, arrays.X_train, arrays.Y_train),
        test_accuracy=accuracy(result.params, arrays.X_test, arrays.Y_test),
        train_seconds=seconds,
        backend=backend,
    )


def _train_torch(config, arrays, initial, settings, on_log):
    import torch

    from torch_impl.device import configure_backend, resolve_device
    from torch_impl.model import CatNet, torch_dtype
    from torch_impl.train import train

    device = resolve_device(settings.device)
    backend = configure_backend(device, settings.allow_tf32)
    dtype = torch_dtype(config.dtype)
    model = CatNet.from_params(initial, dtype=dtype, device=device)
    X = torch.from_numpy(np.ascontiguousarray(arrays.X_train.T)).to(device)  # (m, n_x)
    Y = torch.from_numpy(np.ascontiguousarray(arrays.Y_train.T)).to(device)  # (m, 1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = train(
        model,
        X,
        Y,
        learning_rate=config.learning_rate,
        iterations=config.iterations,
        first_layer=config.first_layer,
        log_every=config.log_every,
        on_log=on_log,
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
    return result, time.perf_counter() - start, backend
