"""What each `catnet bench` entry runs, inside a process of its own.

An entry loads the real data, times one training run with the course's
settings (the run alone: initial parameters in, trained parameters and
costs out), evaluates both splits as the course does, and reports its
process's peak resident memory. One process per run keeps the memory
figures apart and makes the process's wall time a whole-process timing.

torch.optim's first optimizer imports torch._dynamo (about 1-2 s here);
torch entries pay that before the clock starts, since it is a one-off
start-up cost (it is in the whole-process timings, not in the loop's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from catnet.bench.probe import peak_rss_mb

if TYPE_CHECKING:  # this module is imported by `catnet bench --help`, which loads no NumPy
    from catcore.config import TrainConfig
    from catcore.data import Arrays

# run(arrays, config) -> (training seconds, final cost, (train accuracy, test accuracy), CUDA peak MB or None)
Runner = Callable[["Arrays", "TrainConfig"], tuple]


@dataclass(frozen=True)
class Measurement:
    """One run of one entry, as its process reports it."""

    seconds: float  # the training run alone
    final_cost: float  # the cost at the last iteration
    train_accuracy: float
    test_accuracy: float
    peak_rss_mb: float | None  # the process's peak resident set: interpreter, libraries, data and run
    cuda_peak_mb: float | None  # torch.cuda.max_memory_allocated during the run, CUDA entries only


def measure(name: str, arrays: Arrays, config: TrainConfig) -> Measurement:
    """Run entry `name` once on `arrays` with `config`'s settings."""
    seconds, final_cost, accuracies, cuda_peak = ENTRIES_BY_NAME[name].run(arrays, config)
    return Measurement(
        seconds=seconds,
        final_cost=final_cost,
        train_accuracy=accuracies[0],
        test_accuracy=accuracies[1],
        peak_rss_mb=peak_rss_mb(),
        cuda_peak_mb=cuda_peak,
    )


def _textbook(arrays: Arrays, config: TrainConfig):
    from catnet import textbook

    start = time.perf_counter()
    parameters, costs = textbook.L_layer_model(
        arrays.X_train, arrays.Y_train, list(config.layers), config.learning_rate, config.iterations
    )
    seconds = time.perf_counter() - start
    accuracies = tuple(
        float(textbook.predict(X, Y, parameters)[1]) for X, Y in ((arrays.X_train, arrays.Y_train), (arrays.X_test, arrays.Y_test))
    )
    return seconds, float(costs[-1]), accuracies, None


def _plain_torch(dtype_name: str):
    def run(arrays: Arrays, config: TrainConfig):
        import torch

        from catnet.bench import plain_torch
        from numpy_impl.init import initialize

        _warm_torch_optim()
        dtype = getattr(torch, dtype_name)
        model = plain_torch.sequential_from_params(initialize(config.layers, config.init, config.seed), dtype)
        X, Y, X_test, Y_test = (torch.from_numpy(a.T.copy()).to(dtype) for a in _splits(arrays))  # rows are examples
        start = time.perf_counter()
        costs = plain_torch.train(model, X, Y, config.learning_rate, config.iterations)
        seconds = time.perf_counter() - start
        accuracies = (plain_torch.accuracy(model, X, Y), plain_torch.accuracy(model, X_test, Y_test))
        return seconds, costs[-1], accuracies, None

    return run


def _catnet_numpy(form: str):
    def run(arrays: Arrays, config: TrainConfig):
        from numpy_impl.init import initialize
        from numpy_impl.network import accuracy
        from numpy_impl.train import train

        initial = initialize(config.layers, config.init, config.seed)
        start = time.perf_counter()
        result = train(initial, arrays.X_train, arrays.Y_train, replace(config, first_layer=form))
        seconds = time.perf_counter() - start
        accuracies = (accuracy(result.params, arrays.X_train, arrays.Y_train), accuracy(result.params, arrays.X_test, arrays.Y_test))
        return seconds, float(result.costs[-1]), accuracies, None

    return run


def _catnet_torch(device_name: str, form: str):
    def run(arrays: Arrays, config: TrainConfig):
        import torch

        from numpy_impl.init import initialize
        from numpy_impl.network import accuracy
        from torch_impl.device import configure_backend, resolve_device
        from torch_impl.train import train

        _warm_torch_optim()
        device = resolve_device(device_name)
        configure_backend(device)
        initial = initialize(config.layers, config.init, config.seed)
        cuda = device.type == "cuda"
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()  # the data's copy to the device counts, as the set-up of the NumPy entries does
        result = train(initial, arrays.X_train, arrays.Y_train, replace(config, first_layer=form), device)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        cuda_peak = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None
        accuracies = (accuracy(result.params, arrays.X_train, arrays.Y_train), accuracy(result.params, arrays.X_test, arrays.Y_test))
        return seconds, float(result.costs[-1]), accuracies, cuda_peak

    return run


@dataclass(frozen=True)
class Entry:
    name: str
    label: str  # for tables and the chart
    slow: bool  # trains the full n_x-wide first layer every step
    run: Runner
    cuda: bool = False


ENTRIES = (
    Entry("textbook", "textbook NumPy loop (the course's code)", slow=True, run=_textbook),
    Entry("plain-torch-float64", "plain PyTorch loop, float64", slow=True, run=_plain_torch("float64")),
    Entry("plain-torch-float32", "plain PyTorch loop, float32", slow=True, run=_plain_torch("float32")),
    Entry("numpy-primal", "catnet NumPy, primal", slow=True, run=_catnet_numpy("primal")),
    Entry("numpy-span", "catnet NumPy, span", slow=False, run=_catnet_numpy("span")),
    Entry("torch-cpu-primal", "catnet torch CPU, primal", slow=True, run=_catnet_torch("cpu", "primal")),
    Entry("torch-cpu-span", "catnet torch CPU, span", slow=False, run=_catnet_torch("cpu", "span")),
    Entry("torch-cuda", "catnet torch CUDA, span", slow=False, run=_catnet_torch("cuda", "auto"), cuda=True),
)
ENTRY_NAMES = tuple(entry.name for entry in ENTRIES)
ENTRIES_BY_NAME = {entry.name: entry for entry in ENTRIES}


def _splits(arrays: Arrays) -> tuple:
    return arrays.X_train, arrays.Y_train, arrays.X_test, arrays.Y_test


def _warm_torch_optim() -> None:
    """Pay torch.optim's one-off import of torch._dynamo before any clock starts."""
    import torch

    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
