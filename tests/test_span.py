"""W1 = W1_init + C X^T on the real data: the stored C and the least-squares C both rebuild W1."""

from __future__ import annotations

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import CatnetError
from catnet.runs import run_training
from interpret.span import (
    LEAST_SQUARES,
    STORED,
    check_stored,
    reconstruction_error,
    span_fit,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def course_run(real_data):
    """The course's run in NumPy (span form, 0.3 s): its W1, W1_init, C and training X."""
    config = TrainConfig()
    arrays = prepare_arrays(load_dataset(real_data), config)
    run = run_training(config, arrays, impl="numpy")
    return arrays.X_train, run.result.params.layers[0].W, run.initial.layers[0].W, run.result.span_coefficients


def test_stored_C_rebuilds_W1_to_rounding(course_run):
    X, W1, W1_init, C = course_run
    fit = span_fit(X, W1, W1_init, stored=C)
    assert fit.source == STORED
    assert fit.relative_error <= 1e-12


def test_least_squares_C_rebuilds_W1_and_matches_the_stored_C(course_run):
    X, W1, W1_init, C = course_run
    fit = span_fit(X, W1, W1_init, stored=None)
    assert fit.source == LEAST_SQUARES
    assert fit.relative_error <= 1e-10
    # 209 images of 12288 values are linearly independent, so C is unique
    assert np.linalg.norm(fit.C - C) / np.linalg.norm(C) <= 1e-8


def test_a_change_outside_the_span_of_the_images_is_not_rebuilt(course_run):
    """The control: a random change of W1 is almost all outside the 209-image span."""
    X, W1, W1_init, _ = course_run
    changed = W1_init + np.random.RandomState(0).randn(*W1.shape)
    fit = span_fit(X, changed, W1_init, stored=None)
    assert fit.relative_error > 0.9
    assert reconstruction_error(np.zeros_like(fit.C), X, changed, W1_init) == pytest.approx(1.0)


def test_a_stored_C_for_another_training_set_is_refused(course_run):
    X, W1, W1_init, C = course_run
    with pytest.raises(CatnetError, match=r"C1 are \(20, 100\) but 20 units and 209 training images"):
        check_stored(C[:, :100], 20, X.shape[1])
