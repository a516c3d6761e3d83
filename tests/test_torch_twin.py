"""The torch twin computes what the NumPy reference computes, step for step, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catcore.config import TorchSettings, TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import CatnetError, TrainingDiverged
from catcore.params import Layer, Params
from catnet.runs import run_training
from numpy_impl.init import initialize
from numpy_impl.network import forward, predict_proba
from numpy_impl.train import train as numpy_train
from torch_impl.device import resolve_device
from torch_impl.model import CatNet
from torch_impl.model import predict_proba as torch_predict_proba
from torch_impl.train import train as torch_train

CPU = TorchSettings(device="cpu")


def tiny_config(**overrides) -> TrainConfig:
    return TrainConfig(**{"layers": (48, 5, 3, 1), "learning_rate": 0.05, "iterations": 20, **overrides})


def assert_params_close(mine: Params, theirs: Params, atol: float) -> None:
    for name, array in mine.named_arrays().items():
        other = theirs.named_arrays()[name]
        assert array.shape == other.shape and array.dtype == other.dtype, name
        np.testing.assert_allclose(array, other, rtol=0, atol=atol, err_msg=f"{name}: numpy vs torch")


def test_twin_forward_equals_numpy_forward():
    params = initialize((6, 4, 3, 1), "he", seed=4)
    X = np.random.RandomState(0).rand(6, 5)  # (n_x, m)
    twin = CatNet.from_params(params).forward_all(torch.from_numpy(X.T.copy()))
    fp = forward(params, X)
    for mine, theirs in zip(twin.Z, fp.Z):
        np.testing.assert_allclose(mine.detach().numpy().T, theirs, rtol=0, atol=1e-15)
    np.testing.assert_allclose(twin.A[-1].detach().numpy().T, fp.AL, rtol=0, atol=1e-15)


@pytest.mark.parametrize("form", ["primal", "span"])
def test_numpy_and_torch_training_agree(tiny_data, form):
    config = tiny_config(first_layer=form)
    arrays = prepare_arrays(load_dataset(tiny_data), config)
    runs = {impl: run_training(config, arrays, impl=impl, torch_settings=CPU) for impl in ("numpy", "torch")}
    assert runs["numpy"].result.first_layer == runs["torch"].result.first_layer == form
    np.testing.assert_allclose(runs["torch"].result.costs, runs["numpy"].result.costs, rtol=0, atol=1e-13)
    assert_params_close(runs["torch"].result.params, runs["numpy"].result.params, atol=1e-12)
    if form == "span":
        np.testing.assert_allclose(
            runs["torch"].result.span_coefficients, runs["numpy"].result.span_coefficients, rtol=0, atol=1e-12
        )


def test_torch_span_and_primal_agree(tiny_data):
    arrays = prepare_arrays(load_dataset(tiny_data), tiny_config())
    params = initialize((48, 5, 3, 1), "dls", seed=1)
    results = [torch_train(params, arrays.X_train, arrays.Y_train, tiny_config(first_layer=form))
               for form in ("primal", "span")]
    np.testing.assert_allclose(results[1].costs, results[0].costs, rtol=0, atol=1e-14)
    assert_params_close(results[1].params, results[0].params, atol=1e-13)


def test_twin_starts_from_the_numpy_parameters(tiny_data):
    config = tiny_config(iterations=1)
    run = run_training(config, prepare_arrays(load_dataset(tiny_data), config), impl="torch", torch_settings=CPU)
    assert_params_close(CatNet.from_params(run.initial).to_params(), initialize(config.layers, "dls", 1), atol=0)


def test_float32_twins_agree_to_float32_rounding(tiny_data):
    config = tiny_config(dtype="float32")
    arrays = prepare_arrays(load_dataset(tiny_data), config)
    runs = {impl: run_training(config, arrays, impl=impl, torch_settings=CPU) for impl in ("numpy", "torch")}
    assert runs["torch"].result.params.dtype == np.float32
    np.testing.assert_allclose(runs["torch"].result.costs, runs["numpy"].result.costs, rtol=1e-5)
    assert_params_close(runs["torch"].result.params, runs["numpy"].result.params, atol=1e-5)


def test_predictions_agree(tiny_data):
    params = initialize((48, 5, 3, 1), "he", seed=2)
    X = prepare_arrays(load_dataset(tiny_data), tiny_config()).X_test  # (n_x, m)
    np.testing.assert_allclose(
        torch_predict_proba(CatNet.from_params(params), X),
        predict_proba(params, X)[0], rtol=0, atol=1e-15,
    )


def test_loading_parameters_of_another_shape_fails():
    with pytest.raises(ValueError, match=r"parameters are for layers \(6, 4, 1\)"):
        CatNet((6, 3, 1)).load_params(initialize((6, 4, 1)))


def test_both_twins_stop_at_the_same_diverging_iteration(tiny_data):
    config = tiny_config(layers=(48, 20, 20, 20, 20, 1), init="he", learning_rate=1e4, iterations=30, log_every=10)
    arrays = prepare_arrays(load_dataset(tiny_data), config)
    for impl in ("numpy", "torch"):
        with pytest.raises(TrainingDiverged, match="the cost became (nan|-?inf) at iteration 5") as info:
            run_training(config, arrays, impl=impl, torch_settings=CPU)
        assert info.value.iteration == 5, impl


def test_both_twins_catch_an_overflowing_last_update():
    # inputs of 1e300 give a finite cost but a gradient that a step of 1e10 pushes past float64's range;
    # whether a weight lands on +inf, -inf or (inf - inf) nan is the BLAS kernel's rounding (SkylakeX kernels
    # give inf, OpenBLAS's generic SSE kernel nan), so any of them is the right answer
    params = Params((Layer(W=np.array([[1e-3, -1e-3]]), b=np.zeros((1, 1))),))
    X, Y = np.full((2, 3), 1e300), np.array([[1.0, 0.0, 1.0]])  # (n_x, m), (1, m)
    config = TrainConfig(layers=(2, 1), learning_rate=1e10, iterations=1)
    for train in (numpy_train, torch_train):
        with pytest.raises(TrainingDiverged, match=r"W1 holds (-?inf|nan) after the update of iteration 0") as caught:
            train(params, X, Y, config)
        assert not np.isfinite(caught.value.cost) and caught.value.iteration == 0, train


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_is_an_error():
    with pytest.raises(CatnetError, match="no CUDA GPU"):
        resolve_device("cuda")


@pytest.mark.cuda
def test_cuda_float64_twin_agrees_with_numpy(tiny_data):
    config = tiny_config()
    arrays = prepare_arrays(load_dataset(tiny_data), config)
    numpy_run = run_training(config, arrays)
    cuda_run = run_training(config, arrays, impl="torch", torch_settings=TorchSettings(device="cuda"))
    assert cuda_run.backend.device.startswith("cuda") and cuda_run.backend.allow_tf32 is False
    assert_params_close(cuda_run.result.params, numpy_run.result.params, atol=1e-12)
