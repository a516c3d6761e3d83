"""Activation maximisation climbs, stays in the norm ball, and finds the known optimum of a linear unit."""

from __future__ import annotations

import numpy as np
import pytest

from catcore.errors import CatnetError
from catcore.flatten import flatten_order
from interpret.maximize import MaximizeSettings, maximize_all, maximize_layer
from numpy_impl.init import initialize

SHAPE = (4, 4, 3)  # n_x = 48: the claims do not depend on the image size
PARAMS = initialize((48, 6, 4, 1), scheme="he", seed=1)  # output weights of both signs: its maximum is above 0


@pytest.fixture(autouse=True)
def single_thread():
    """As `catnet neurons` runs it: on a busy 2-core machine two torch threads made these tiny steps 30x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_regularised_objective_never_decreases_and_the_norm_bound_holds():
    settings = MaximizeSettings(radius=3.0, steps=60, smoothness=0.1, seed=1)
    for result in maximize_all(PARAMS, flatten_order("course", SHAPE), settings):
        steps = np.diff(result.objective, axis=0)  # (steps, n_units)
        assert steps.min() >= 0, f"layer {result.layer}: the objective fell by {-steps.min()}"
        assert np.all(result.objective[-1] > result.objective[0] + 0.1), result.layer
        assert result.norms.max() <= settings.radius * (1 + 1e-12)


def test_without_smoothness_the_activation_itself_never_decreases():
    settings = MaximizeSettings(radius=3.0, steps=60, smoothness=0.0, seed=1)
    for result in maximize_all(PARAMS, flatten_order("course", SHAPE), settings):
        assert np.diff(result.z, axis=0).min() >= 0, result.layer
        assert np.all(result.z[-1] > result.z[0]), result.layer


@pytest.mark.parametrize("order_name", ["course", "planar", "random-4"])
def test_a_first_layer_unit_is_maximised_by_its_own_weights_scaled_to_the_bound(order_name):
    """max of w.x + b over ||x|| <= r is at x = r w/||w||, whatever order the pixels are read in."""
    order = flatten_order(order_name, SHAPE)
    settings = MaximizeSettings(radius=2.0, steps=150, smoothness=0.0, seed=0)
    result = maximize_layer(PARAMS, order, 1, settings)
    W, b = PARAMS.layers[0].W, PARAMS.layers[0].b[:, 0]
    x = order.flatten(result.images)  # (n_x, n_1): each result as the network reads it
    cosine = np.sum(x.T * W, axis=1) / (np.linalg.norm(x, axis=0) * np.linalg.norm(W, axis=1))
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(result.z[-1], settings.radius * np.linalg.norm(W, axis=1) + b, rtol=1e-4)


def test_the_same_seed_gives_the_same_result():
    settings = MaximizeSettings(radius=3.0, steps=10, smoothness=0.1, seed=7)
    first, second = (maximize_layer(PARAMS, flatten_order("course", SHAPE), 2, settings) for _ in range(2))
    np.testing.assert_array_equal(first.images, second.images)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [({"radius": 0.0}, "norm bound must be positive"), ({"radius": 1.0, "steps": 0}, "at least one step"),
     ({"radius": 1.0, "smoothness": -1.0}, "cannot be negative")],
)
def test_settings_refuse_meaningless_values(kwargs, fragment):
    with pytest.raises(CatnetError, match=fragment):
        MaximizeSettings(**kwargs)
