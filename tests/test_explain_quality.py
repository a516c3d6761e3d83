"""Deletion / insertion, rank correlation and the model-randomisation check, on synthetic cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from explain_helpers import random_images, tiny_model

from interpret.attribution import attribute
from interpret.quality import (
    cascade,
    deletion_insertion,
    pixel_scores,
    random_curves,
    randomisation_check,
    rank_average,
    spearman,
)

SHAPE8 = (8, 8, 3)


def test_rank_average_shares_ranks_between_ties():
    np.testing.assert_array_equal(rank_average(np.array([10, 20, 20, 5])), [2, 3.5, 3.5, 1])


def test_spearman_matches_a_hand_computed_value_with_ties():
    # ranks (1..5) against (1, 2, 3.5, 5, 3.5): cov 8, variances 10 and 9.5
    assert spearman(np.array([1, 2, 3, 4, 5]), np.array([5, 6, 7, 8, 7])) == pytest.approx(8 / math.sqrt(95), abs=1e-15)


def test_spearman_sees_only_order():
    x = np.random.default_rng(0).normal(size=200)
    assert spearman(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert spearman(x, -x**3) == pytest.approx(-1.0)
    assert math.isnan(spearman(x, np.zeros_like(x)))


def test_pixel_scores_point_towards_the_explained_class():
    maps = np.random.default_rng(0).normal(size=(2,) + SHAPE8)
    signed = pixel_scores(maps, signed=True, explained_class=np.array([1, 0]))
    np.testing.assert_allclose(signed[0], maps[0].sum(-1))
    np.testing.assert_allclose(signed[1], -maps[1].sum(-1))  # evidence for non-cat is negative cat evidence
    magnitude = pixel_scores(maps, signed=False, explained_class=np.array([1, 0]))
    np.testing.assert_allclose(magnitude, np.abs(maps.sum(-1)))


def test_deletion_with_a_perfect_attribution_beats_random_order():
    # for a logistic model w*x is each pixel's exact share of the logit: the best possible ranking
    model, _ = tiny_model(hidden=(), shape=SHAPE8, order="planar", seed=9)
    images = random_images(6, shape=SHAPE8, seed=4)
    ids = list(range(6))
    perfect = attribute(model, images, ids, "input-x-gradient").maps  # = w * x exactly
    explained = (model.probability(images) > 0.5).long().numpy()
    assert 0 < explained.sum() < 6  # both classes explained: the sign flip for non-cat is exercised
    best = deletion_insertion(model, images, pixel_scores(perfect, True, explained), explained)
    chance = random_curves(model, images, ids, explained, seed=0)
    assert best.deletion_auc.mean() < chance.deletion_auc.mean() - 0.1
    assert best.insertion_auc.mean() > chance.insertion_auc.mean() + 0.05
    assert best.deletion[:, 0] == pytest.approx(best.insertion[:, -1])  # both ends are the untouched image
    assert np.all(best.deletion[:, 0] >= 0.5)  # the explained class is the predicted one


def test_the_randomisation_check_flags_a_map_that_ignores_the_weights():
    model, _ = tiny_model(hidden=(16, 8), shape=SHAPE8, seed=5)
    images = random_images(8, shape=SHAPE8, seed=6)
    ids = list(range(8))

    def edge_detector(_model):
        # an image-only stand-in: horizontal plus vertical intensity differences, whatever the network
        grey = images.numpy().mean(axis=-1, keepdims=True)
        edges = np.abs(np.diff(grey, axis=1, append=grey[:, -1:])) + np.abs(np.diff(grey, axis=2, append=grey[:, :, -1:]))
        return np.repeat(edges, 3, axis=-1)

    def saliency(m):
        return attribute(m, images, ids, "saliency").maps

    explainers = {"edge-detector": edge_detector, "saliency": saliency}
    trained = {name: explain(model) for name, explain in explainers.items()}
    result = randomisation_check(model, trained, explainers, seed=0)
    assert result.flagged == ("edge-detector",)
    np.testing.assert_allclose(result.spearman["edge-detector"], 1.0)
    assert abs(result.mean("saliency")[-1]) < 0.3


def test_cascade_randomises_from_the_output_down_and_leaves_the_model_alone():
    model, _ = tiny_model(hidden=(6, 4))
    trained = [linear.weight.detach().clone() for linear in model.linears]
    for depth, (name, randomised) in enumerate(cascade(model, seed=1), start=1):
        changed = [not torch.equal(a.weight, b) for a, b in zip(randomised.linears, trained)]
        assert changed == [False] * (3 - depth) + [True] * depth, name
    assert name == "layers 1-3"
    assert all(torch.equal(a.weight, b) for a, b in zip(model.linears, trained))


def _curves_by_forward(model, images, scores, explained, steps):
    """The readable definition: build every altered image, push the stack through the whole network."""
    from interpret.attribution import gaussian_blur

    N, H, W, C = images.shape
    counts = np.round(np.linspace(0.0, 1.0, steps + 1) * H * W).astype(np.int64)
    blurred = gaussian_blur(images)
    curves = []
    for row in range(N):
        rank = np.empty(H * W, dtype=np.int64)
        rank[np.argsort(-scores[row].ravel(), kind="stable")] = np.arange(H * W)
        changed = torch.as_tensor(rank[None, :] < counts[:, None]).reshape(steps + 1, H, W, 1)
        deleted = torch.where(changed, torch.zeros_like(images[row]), images[row])
        inserted = torch.where(changed, images[row], blurred[row])
        p = model.probability(torch.cat([deleted, inserted])).numpy()
        curves.append(p if explained[row] == 1 else 1 - p)
    curves = np.array(curves)
    return curves[:, : steps + 1], curves[:, steps + 1:]


@pytest.mark.parametrize("hidden, order", [((6, 4), "random-3"), ((5,), "planar"), ((), "course")])
def test_deletion_and_insertion_by_running_sums_are_the_curves_of_the_altered_images(hidden, order):
    """Z1 as b1 plus running sums of per-pixel terms: the same probabilities as the altered images, to rounding."""
    model, _ = tiny_model(hidden=hidden, shape=SHAPE8, order=order, seed=5)
    images = random_images(7, shape=SHAPE8, seed=6)
    explained = (model.probability(images) > 0.5).long().numpy()
    scores = np.random.default_rng(7).normal(size=(7, 8, 8))
    scores[0] = 0.0  # ties: the stable order decides, in both
    curves = deletion_insertion(model, images, scores, explained, steps=16)
    deletion, insertion = _curves_by_forward(model, images, scores, explained, steps=16)
    np.testing.assert_allclose(curves.deletion, deletion, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curves.insertion, insertion, rtol=0, atol=1e-12)
