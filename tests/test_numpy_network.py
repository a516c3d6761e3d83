"""The NumPy reference: initialisation, cost, gradients, training, and the course's published numbers."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import TrainingDiverged
from catcore.params import Layer, Params
from catnet.runs import run_training
from numpy_impl.init import initialize
from numpy_impl.network import backward, cost, forward, sigmoid
from numpy_impl.train import train

# --- initialisation


def test_dls_init_is_the_course_draw():
    params = initialize((6, 4, 3, 1), "dls", seed=1)
    rng = np.random.RandomState(1)  # the course: W1 first, then W2, ... from one stream
    for layer, (fan_in, fan_out) in zip(params.layers, ((6, 4), (4, 3), (3, 1))):
        np.testing.assert_array_equal(layer.W, rng.randn(fan_out, fan_in) / np.sqrt(fan_in))
        np.testing.assert_array_equal(layer.b, np.zeros((fan_out, 1)))


def test_small_init_is_the_two_layer_course_draw():
    params = initialize((6, 4, 1), "small", seed=1)
    rng = np.random.RandomState(1)
    np.testing.assert_array_equal(params.layers[0].W, rng.randn(4, 6) * 0.01)
    np.testing.assert_array_equal(params.layers[1].W, rng.randn(1, 4) * 0.01)


@pytest.mark.parametrize("scheme", ["dls", "small", "he", "xavier"])
def test_init_repeats_for_a_seed_and_changes_with_it(scheme):
    a, b, c = initialize((6, 4, 1), scheme, 3), initialize((6, 4, 1), scheme, 3), initialize((6, 4, 1), scheme, 4)
    for name, array in a.named_arrays().items():
        np.testing.assert_array_equal(array, b.named_arrays()[name])
    assert not np.array_equal(a.layers[0].W, c.layers[0].W)


def test_init_does_not_touch_the_global_random_state():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    initialize((6, 4, 1), "he", seed=9)
    assert np.random.rand() == expected


def test_float32_init_is_the_float64_draw_rounded():
    wide, narrow = initialize((6, 4, 1), "dls", 1), initialize((6, 4, 1), "dls", 1, dtype=np.float32)
    assert narrow.dtype == np.float32
    np.testing.assert_array_equal(narrow.layers[0].W, wide.layers[0].W.astype(np.float32))


# --- cost and gradients


def test_cost_of_saturated_logits_is_finite_and_right():
    ZL = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    # right and confident costs 0; wrong and confident costs |Z| = 1000 each: mean 500
    assert cost(ZL, Y) == 500.0
    assert cost(ZL[:, :2], Y[:, :2]) == 0.0


def test_sigmoid_saturates_without_warnings():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_cost_equals_the_course_formula_where_that_is_finite():
    rng = np.random.RandomState(0)
    ZL, Y = rng.randn(1, 7) * 3, (rng.rand(1, 7) > 0.5).astype(float)
    AL = 1 / (1 + np.exp(-ZL))
    course = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert cost(ZL, Y) == pytest.approx(course, rel=1e-14)


def gradient_check_case():
    """A small float64 net whose hidden pre-activations all stay well away from ReLU's kink at 0."""
    rng = np.random.RandomState(5)
    params = initialize((5, 4, 3, 1), "xavier", seed=2)
    params = Params(tuple(Layer(W=l.W, b=rng.randn(*l.b.shape) * 0.1) for l in params.layers))
    X, Y = rng.randn(5, 6), (rng.rand(1, 6) > 0.5).astype(float)
    return params, X, Y


def test_backward_matches_central_differences():
    params, X, Y = gradient_check_case()
    fp = forward(params, X)
    assert min(np.abs(Z).min() for Z in fp.Z[:-1]) > 1e-3  # a step of 1e-6 cannot cross a kink
    grads = backward(params, fp, Y)
    analytic, numeric = [], []
    eps = 1e-6
    for layer, grad in zip(params.layers, grads.layers):
        for array, d_array in ((layer.W, grad.dW), (layer.b, grad.db)):
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + eps
                plus = cost(forward(params, X).Z[-1], Y)
                array[index] = saved - eps
                minus = cost(forward(params, X).Z[-1], Y)
                array[index] = saved
                numeric.append((plus - minus) / (2 * eps))
                analytic.append(d_array[index])
    analytic, numeric = np.array(analytic), np.array(numeric)
    relative = np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert relative < 1e-7, relative


# --- training


def tiny_arrays(tiny_data, **overrides):
    config = TrainConfig(**{"layers": (48, 5, 3, 1), "learning_rate": 0.05, "iterations": 30, **overrides})
    return config, prepare_arrays(load_dataset(tiny_data), config)


def test_span_and_primal_forms_agree(tiny_data):
    config, arrays = tiny_arrays(tiny_data)
    params = initialize(config.layers, config.init, config.seed)
    runs = [train(params, arrays.X_train, arrays.Y_train, replace(config, first_layer=form))
            for form in ("primal", "span")]
    assert [r.first_layer for r in runs] == ["primal", "span"]
    np.testing.assert_allclose(runs[1].costs, runs[0].costs, rtol=1e-13)
    for name, primal in runs[0].params.named_arrays().items():
        np.testing.assert_allclose(runs[1].params.named_arrays()[name], primal, rtol=0, atol=1e-13, err_msg=name)


def test_span_coefficients_rebuild_W1(tiny_data):
    config, arrays = tiny_arrays(tiny_data, first_layer="span")
    run = run_training(config, arrays)
    W1 = run.initial.layers[0].W + run.result.span_coefficients @ arrays.X_train.T  # (n_1, n_x)
    np.testing.assert_array_equal(W1, run.result.params.layers[0].W)


def test_training_leaves_the_initial_parameters_alone(tiny_data):
    config, arrays = tiny_arrays(tiny_data)
    params = initialize(config.layers, config.init, config.seed)
    before = params.copy()
    train(params, arrays.X_train, arrays.Y_train, replace(config, iterations=5))
    for name, array in before.named_arrays().items():
        np.testing.assert_array_equal(params.named_arrays()[name], array)


def test_float32_run_stays_float32_and_tracks_float64(tiny_data):
    runs = {dtype: run_training(*tiny_arrays(tiny_data, dtype=dtype)) for dtype in ("float32", "float64")}
    assert runs["float32"].result.params.dtype == np.float32
    np.testing.assert_allclose(runs["float32"].result.costs, runs["float64"].result.costs, rtol=1e-5)


def test_on_log_reports_every_nth_iteration_and_the_last(tiny_data):
    config, arrays = tiny_arrays(tiny_data, log_every=7)
    seen = []
    run = run_training(config, arrays, on_log=lambda i, c: seen.append((i, c)))
    assert [i for i, _ in seen] == [0, 7, 14, 21, 28, 29]
    assert all(c == run.result.costs[i] for i, c in seen)


# a deep ReLU net with a huge step: costs 0.62, 1e13, 1e43, 1e128, 1e301, then NaN at iteration 5
DIVERGING = dict(layers=(48, 20, 20, 20, 20, 1), init="he", learning_rate=1e4)


@pytest.mark.parametrize("form", ["primal", "span"])
def test_divergence_names_the_iteration(tiny_data, form):
    config, arrays = tiny_arrays(tiny_data, **DIVERGING, first_layer=form)
    with pytest.raises(TrainingDiverged, match="the cost became (nan|-?inf) at iteration 5") as info:
        run_training(config, arrays)
    assert info.value.iteration == 5


def test_nonfinite_parameters_after_the_last_update_are_caught(tiny_data):
    # five steps: the last update already turns W1 into NaN, but no cost is computed after it
    config, arrays = tiny_arrays(tiny_data, **DIVERGING, iterations=5)
    with pytest.raises(TrainingDiverged, match="W1 holds (nan|-?inf) after the update of iteration 4"):
        run_training(config, arrays)


# --- the course's published runs


@pytest.mark.realdata
def test_course_deep_model(real_data):
    config = TrainConfig()
    arrays = prepare_arrays(load_dataset(real_data), config)
    run = run_training(config, arrays)
    assert run.result.costs[0] == pytest.approx(0.7717493284237686, abs=1e-12)
    assert run.result.costs[2499] == pytest.approx(0.088439943441702, rel=1e-9)
    assert round(run.train_accuracy * 209) == 206
    assert round(run.test_accuracy * 50) == 40


@pytest.mark.realdata
def test_course_two_layer_model(real_data):
    config = TrainConfig(layers=(12288, 7, 1), init="small")
    run = run_training(config, prepare_arrays(load_dataset(real_data), config))
    assert run.result.costs[-1] == pytest.approx(0.04421498215868956, rel=1e-9)
    assert run.test_accuracy == 0.72
    assert math.isclose(run.train_accuracy, 1.0)
