"""The optimised training loops follow the same trajectory as the readable maths, in every form and both twins."""

from __future__ import annotations

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.errors import TrainingDiverged
from catcore.params import Params
from catnet.cli import THREAD_VARIABLES, WAIT_POLICY, one_thread_by_default
from numpy_impl.init import initialize
from numpy_impl.network import backward, cost, forward
from numpy_impl.train import Training as NumpyTraining
from numpy_impl.train import train as numpy_train
from torch_impl.train import Training as TorchTraining
from torch_impl.train import train as torch_train

LAYERS = (48, 6, 4, 3, 1)
LR = 0.05
ITERATIONS = 60


def settings(initial: Params, iterations: int = ITERATIONS, first_layer: str = "auto", learning_rate: float = LR,
             log_every: int = 100) -> TrainConfig:
    """The TrainConfig both twins take: the run's hyperparameters, in the initial parameters' shapes and dtype."""
    return TrainConfig(layers=initial.layer_sizes, learning_rate=learning_rate, iterations=iterations,
                       first_layer=first_layer, log_every=log_every, dtype=str(initial.dtype))


def tiny_problem(m: int = 12, n_x: int = 48, seed: int = 0):
    """X (n_x, m) in [0, 1], Y (1, m) alternating labels, the 'cats' brighter."""
    rng = np.random.RandomState(seed)
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    X = rng.rand(n_x, m) * 0.6 + 0.4 * Y
    return X, Y


def reference_descent(params: Params, X, Y, learning_rate: float, iterations: int):
    """The course's loop written with network.forward/backward: the readable maths, allocating freely."""
    params = params.copy()
    costs = []
    for _ in range(iterations):
        fp = forward(params, X)
        costs.append(cost(fp.Z[-1], Y))
        grads = backward(params, fp, Y)
        for layer, grad in zip(params.layers, grads.layers):
            layer.W[...] -= learning_rate * grad.dW
            layer.b[...] -= learning_rate * grad.db
    return np.array(costs), params


def assert_params_close(mine: Params, theirs: Params, rtol: float, atol: float = 1e-14) -> None:
    for (name, a), (_, b) in zip(mine.named_arrays().items(), theirs.named_arrays().items()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("form", ["primal", "span"])
def test_numpy_loop_follows_the_readable_maths(form):
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    ref_costs, ref_params = reference_descent(initial, X, Y, LR, ITERATIONS)
    result = numpy_train(initial, X, Y, settings(initial, first_layer=form))
    assert result.first_layer == form
    np.testing.assert_allclose(result.costs, ref_costs, rtol=1e-12)
    assert_params_close(result.params, ref_params, rtol=1e-10)


def test_numpy_loop_leaves_its_input_parameters_alone():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    before = initial.copy()
    numpy_train(initial, X, Y, settings(initial, 5, "span"))
    assert_params_close(initial, before, rtol=0, atol=0)


def test_span_coefficients_rebuild_W1_in_both_forms():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    for form in ("primal", "span"):
        result = numpy_train(initial, X, Y, settings(initial, first_layer=form))
        rebuilt = initial.layers[0].W + result.span_coefficients @ X.T  # (n_1, n_x)
        np.testing.assert_allclose(rebuilt, result.params.layers[0].W, rtol=1e-10, atol=1e-14)


def test_single_layer_network_trains_the_same_in_both_forms():
    X, Y = tiny_problem()
    initial = initialize((48, 1), "dls", seed=2)
    ref_costs, _ = reference_descent(initial, X, Y, LR, 30)
    for form in ("primal", "span"):
        result = numpy_train(initial, X, Y, settings(initial, 30, form))
        np.testing.assert_allclose(result.costs, ref_costs, rtol=1e-12)


def test_on_log_and_the_steps_see_the_costs_of_the_result():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    config = settings(initial, 25, "span", log_every=10)
    logged = []
    result = numpy_train(initial, X, Y, config, on_log=lambda i, c: logged.append((i, c)))
    stepped = NumpyTraining(initial, X, Y, config)
    steps = [(s.iteration, s.cost, s.params.layers[0].W.copy(), s.params.layers[0].b.copy()) for s in stepped.steps()]
    np.testing.assert_array_equal(stepped.result().costs, result.costs)
    assert [i for i, _ in logged] == [0, 10, 20, 24]
    assert [c for _, c in logged] == [result.costs[i] for i in (0, 10, 20, 24)]
    assert [i for i, *_ in steps] == list(range(25))
    assert [c for _, c, *_ in steps] == list(result.costs)
    np.testing.assert_array_equal(steps[-1][2], initial.layers[0].W)  # span form: W1 stays W1_init
    np.testing.assert_allclose(steps[-1][3], result.params.layers[0].b, rtol=1e-14)  # b1 is current


def test_the_steps_see_the_primal_b1_at_every_step_in_span_form():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    b1 = {}
    for form in ("primal", "span"):
        training = NumpyTraining(initial, X, Y, settings(initial, 12, form))
        b1[form] = np.stack([state.params.layers[0].b.copy() for state in training.steps()])
    np.testing.assert_allclose(b1["span"], b1["primal"], rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("train", [numpy_train, torch_train], ids=["numpy", "torch"])
def test_divergence_names_the_first_iteration_with_a_non_finite_cost(train):
    X, Y = tiny_problem()
    X = X * 1e10  # the first step moves W by ~1e9 * lr: past the float64 range
    initial = initialize((48, 1), "dls", seed=2)
    with pytest.raises(TrainingDiverged) as caught:
        train(initial, X, Y, settings(initial, 50, learning_rate=1e300, log_every=20))
    assert caught.value.iteration == 1  # iteration 0 is the finite starting cost
    assert not np.isfinite(caught.value.cost)


def test_float32_run_tracks_float64_closely():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    r64 = numpy_train(initial, X, Y, settings(initial, first_layer="span"))
    initial32 = initial.astype(np.float32)
    r32 = numpy_train(initial32, X.astype(np.float32), Y.astype(np.float32), settings(initial32, first_layer="span"))
    assert r32.params.dtype == np.float32
    np.testing.assert_allclose(r32.costs, r64.costs, rtol=1e-4)


@pytest.mark.parametrize("form", ["primal", "span"])
def test_torch_twin_follows_the_numpy_loop(form):
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    expected = numpy_train(initial, X, Y, settings(initial, first_layer=form))
    got = torch_train(initial, X, Y, settings(initial, first_layer=form))
    assert got.first_layer == form
    np.testing.assert_allclose(got.costs, expected.costs, rtol=1e-12)
    assert_params_close(got.params, expected.params, rtol=1e-10)
    if form == "span":
        np.testing.assert_allclose(got.span_coefficients, expected.span_coefficients, rtol=1e-10, atol=1e-15)


def test_torch_steps_report_current_b1_and_initial_W1_in_span_form():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    training = TorchTraining(initial, X, Y, settings(initial, 8, "span"))
    seen = [(s.cost, s.params.layers[0].W, s.params.layers[0].b, s.span_coefficients) for s in training.steps()]
    result = training.result()
    assert [c for c, *_ in seen] == list(result.costs)
    np.testing.assert_array_equal(seen[-1][1], initial.layers[0].W)
    np.testing.assert_allclose(seen[-1][2], result.params.layers[0].b, rtol=1e-14)
    np.testing.assert_allclose(seen[-1][3], result.span_coefficients, rtol=0)


def test_thread_variables_default_to_one_but_the_user_wins():
    environ = {"OMP_NUM_THREADS": "4", "OMP_WAIT_POLICY": "ACTIVE"}
    one_thread_by_default(environ)
    assert environ == {**{name: "1" for name in THREAD_VARIABLES}, "OMP_NUM_THREADS": "4", "OMP_WAIT_POLICY": "ACTIVE"}
    fresh = {}
    one_thread_by_default(fresh)
    assert fresh == {**{name: "1" for name in THREAD_VARIABLES}, WAIT_POLICY[0]: WAIT_POLICY[1]}




@pytest.mark.cuda
@pytest.mark.parametrize("form", ["primal", "span"])
def test_cuda_graph_replay_follows_the_cpu_trajectory(form):
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    results = {}
    for device in ("cpu", "cuda"):
        # ITERATIONS > warm-up + 1: the graph path
        results[device] = torch_train(initial, X, Y, settings(initial, first_layer=form), device)
    np.testing.assert_allclose(results["cuda"].costs, results["cpu"].costs, rtol=1e-10)
    assert_params_close(results["cuda"].params, results["cpu"].params, rtol=1e-8)


@pytest.mark.cuda
def test_cuda_eager_steps_match_the_graph_path():
    X, Y = tiny_problem()
    initial = initialize(LAYERS, "dls", seed=3)
    graphed = torch_train(initial, X, Y, settings(initial, 20), "cuda")
    stepped = TorchTraining(initial, X, Y, settings(initial, 20), "cuda")  # steps() runs eagerly
    for _ in stepped.steps():
        pass
    np.testing.assert_allclose(graphed.costs, stepped.result().costs, rtol=1e-12)


def _by_hand_and_by_autograd(initial, X, Y, config):
    """The same run twice: with the hand-written CPU step, and with the autograd step it must equal."""
    by_hand, autograd = TorchTraining(initial, X, Y, config), TorchTraining(initial, X, Y, config)
    assert by_hand._by_hand is not None
    autograd._by_hand = None  # the reference: autograd and torch.optim's SGD update
    return by_hand.run(), autograd.run()


def _assert_bit_identical(mine, theirs) -> None:
    assert np.array_equal(mine.costs, theirs.costs)
    assert np.array_equal(mine.span_coefficients, theirs.span_coefficients)
    for (name, a), (_, b) in zip(mine.params.named_arrays().items(), theirs.params.named_arrays().items()):
        assert np.array_equal(a, b), name


@pytest.mark.parametrize("layers", [(48, 6, 4, 3, 1), (48, 5, 1), (48, 1)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_hand_written_torch_span_step_is_autograd_bit_for_bit(layers, dtype):
    """The fast CPU step (torch_impl.span.SpanStep) against autograd and torch.optim's SGD: every cost and tensor equal."""
    X, Y = tiny_problem()
    initial = initialize(layers, "dls", 3, dtype=np.dtype(dtype))
    config = settings(initial, 80, "span", learning_rate=0.5)  # large enough that units die and ReLU kinks matter
    _assert_bit_identical(*_by_hand_and_by_autograd(initial, X.astype(dtype), Y.astype(dtype), config))


@pytest.mark.realdata
def test_the_course_run_in_torch_is_autograd_bit_for_bit(real_data):
    """The course's own run, 300 steps: the hand-written step and autograd end on the same bits."""
    from catcore.data import load_dataset, prepare_arrays

    config = TrainConfig(iterations=300, first_layer="span")
    arrays = prepare_arrays(load_dataset(real_data), config)
    initial = initialize(config.layers, config.init, config.seed)
    _assert_bit_identical(*_by_hand_and_by_autograd(initial, arrays.X_train, arrays.Y_train, config))
