"""interpret.neurons on the tiny data: the least-squares path for a model saved without C."""

from __future__ import annotations

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.modelfile import ModelFile
from catnet.runs import run_training
from interpret.maximize import MaximizeSettings
from interpret.neurons import analyse, summary


@pytest.fixture
def single_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_a_model_without_C_gets_it_by_least_squares_and_every_unit_is_covered(tiny_data, single_thread):
    """As a torch primal run saves it: no C1 in the file."""
    dataset = load_dataset(tiny_data)
    config = TrainConfig(layers=(48, 4, 3, 1), learning_rate=0.05, iterations=200, flatten="planar")
    run = run_training(config, prepare_arrays(dataset, config), impl="numpy")
    model = ModelFile(params=run.result.params, init=config.init, seed=config.seed, flatten="planar",
                      image_shape=dataset.image_shape, span_coefficients=None)

    analysis = analyse(model, dataset, k=2, maximize=MaximizeSettings(radius=1.0, steps=5))

    assert analysis.span.source == "least-squares"
    assert analysis.span.relative_error <= 1e-10
    np.testing.assert_allclose(analysis.span.C, run.result.span_coefficients, rtol=0, atol=1e-8)
    # templates come back in image layout: unit 1's learned template, re-flattened, is row 1 of W1 - W1_init
    learned = analysis.order.flatten(analysis.templates.learned[:1])[:, 0]
    np.testing.assert_allclose(learned, run.result.params.layers[0].W[0] - run.initial.layers[0].W[0], atol=1e-15)
    doc = summary(analysis, dataset)
    assert [len(t["units"]) for t in doc["top_images"]] == [4, 3, 1, 4, 3, 1]
    assert doc["hidden_map"]["images"] == 12 + 6
