"""Question 2: how can we see what the network learned is a cat? By what it compares each image with, and how.

The first layer only ever learned combinations of the training images
(W1 = W1_init + C X^T), so every prediction is an exact sum of one term per
training image (interpret/decompose.py): the images that push a test image
towards "cat" and towards "non-cat" can be named, and the terms add up to the
logit. The first-layer units are then what those combinations look like, and
how much each one moves the cat logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.data import Dataset
from catcore.flatten import FlattenOrder
from catcore.modelfile import ModelFile
from interpret.decompose import Decomposition, decompose
from interpret.pictures import (
    Picture,
    colour_scale,
    colourise,
    frame,
    grid,
    signed_to_grey,
    to_uint8,
    upscale,
)
from interpret.span import SpanFit, span_fit
from interpret.templates import initial_parameters
from interpret.units import unit_states
from numpy_impl.network import sigmoid

CAT, NON_CAT = (0.10, 0.60, 0.15), (0.80, 0.15, 0.15)  # frame colours: green for a cat, red for a non-cat


@dataclass(frozen=True)
class Evidence:
    """What the model computes from: its data in its pixel order, its starting W1 and its span coefficients."""

    model: ModelFile
    order: FlattenOrder
    X_train: np.ndarray  # (n_x, m) in [0, 1], the model's order
    X_test: np.ndarray  # (n_x, k)
    W1_init: np.ndarray  # (n_1, n_x)
    span: SpanFit  # C (n_1, m) and how exactly it rebuilds W1
    decomposition: Decomposition  # of every test image


def gather(model: ModelFile, dataset: Dataset, order: FlattenOrder) -> Evidence:
    """Redraw W1_init, take the stored C (least squares without one), and decompose every test image's logit."""
    X_train, X_test = dataset.train.X(order), dataset.test.X(order)  # (n_x, m), (n_x, k)
    params = model.params.astype(np.float64)
    W1_init = initial_parameters(model).layers[0].W.astype(np.float64)
    fit = span_fit(X_train, params.layers[0].W, W1_init, model.span_coefficients)
    return Evidence(model, order, X_train, X_test, W1_init, fit, decompose(params, W1_init, fit.C, X_train, X_test))


@dataclass(frozen=True)
class Vote:
    """One test image's logit as the sum of its terms, and the training images with the largest ones."""

    index: int  # in the test set
    label: int
    probability: float  # P(cat)
    logit: float
    from_cats: float  # sum of the terms of the training cats
    from_non_cats: float  # sum of the terms of the training non-cats
    initial_projection: float
    biases: float
    residual: float
    gap: float  # |sum of every term - logit|
    towards_cat: tuple[tuple[int, float], ...]  # (training index, term), largest first
    towards_non_cat: tuple[tuple[int, float], ...]  # most negative first
    layer2_off: bool  # no path from the input reaches the logit: it is the biases alone
    picture: Picture  # the test image, then its strongest training images each way


def votes(evidence: Evidence, dataset: Dataset, picks: tuple[int, ...], top: int = 5) -> tuple[Vote, ...]:
    """The decomposition of test images `picks`, each with its `top` training images towards cat and non-cat."""
    d, train = evidence.decomposition, dataset.train
    probability = sigmoid(d.logit)
    result = []
    for index in picks:
        terms = d.image_terms[index]  # (m,)
        up = [int(j) for j in np.argsort(-terms, kind="stable")[:top] if terms[j] > 0]
        down = [int(j) for j in np.argsort(terms, kind="stable")[:top] if terms[j] < 0]
        tiles = [frame(dataset.test.images[index] / 255.0, (0, 0, 0), 1), None]
        tiles += [frame(train.images[j] / 255.0, CAT if train.labels[j] else NON_CAT) for j in up] + [None] * (top - len(up))
        tiles += [None] + [frame(train.images[j] / 255.0, CAT if train.labels[j] else NON_CAT) for j in down]
        label = int(dataset.test.labels[index])
        caption = (f"Test image {index} ({'cat' if label else 'non-cat'}, P(cat) = {probability[index]:.3f}): "
                   f"the {len(up)} training images that push its logit most towards cat, then the {len(down)} that push "
                   "it most towards non-cat (green frame: a training cat, red: a training non-cat)")
        result.append(Vote(
            index=int(index), label=label, probability=float(probability[index]), logit=float(d.logit[index]),
            from_cats=float(terms[train.labels == 1].sum()), from_non_cats=float(terms[train.labels == 0].sum()),
            initial_projection=float(d.initial_projection[index]), biases=float(d.biases[index]),
            residual=float(d.residual[index]), gap=float(d.gap[index]),
            towards_cat=tuple((j, float(terms[j])) for j in up), towards_non_cat=tuple((j, float(terms[j])) for j in down),
            layer2_off=not np.any(d.unit_terms[index]) and not np.any(terms),
            picture=Picture(to_uint8(upscale(grid(tiles, columns=len(tiles), gap=3), 2)), caption),
        ))
    return tuple(result)


def default_picks(evidence: Evidence, dataset: Dataset) -> tuple[int, ...]:
    """A few test images worth explaining: the surest right cat, a right cat near the boundary, the surest right
    non-cat, and the first mistake."""
    logit, labels = evidence.decomposition.logit, dataset.test.labels
    right = (logit > 0) == (labels == 1)
    picks = []
    cats = np.flatnonzero(right & (labels == 1))
    if cats.size:
        picks += [int(cats[np.argmax(logit[cats])]), int(cats[np.argmin(logit[cats])])]
    reached = np.any(evidence.decomposition.unit_terms, axis=1)  # some path from the input reaches the logit
    non_cats = np.flatnonzero(right & (labels == 0) & reached)
    if non_cats.size:  # the one the training images vote against most (not one whose votes merely cancel)
        picks.append(int(non_cats[np.argmin(evidence.decomposition.image_terms[non_cats].sum(axis=1))]))
    wrong = np.flatnonzero(~right)
    if wrong.size:
        picks.append(int(wrong[0]))
    return tuple(dict.fromkeys(picks))


@dataclass(frozen=True)
class MeanDifference:
    """The average training cat, the average non-cat, and their difference."""

    largest: float  # max |difference| over pixels and channels, in [0, 1] pixel units
    picture: Picture
    scale: np.ndarray  # the difference's colour scale, (h, w, 3) uint8


def mean_difference(dataset: Dataset) -> MeanDifference:
    images, labels = dataset.train.images / 255.0, dataset.train.labels  # (m, H, W, 3) in [0, 1]
    cat, non_cat = images[labels == 1].mean(axis=0), images[labels == 0].mean(axis=0)
    difference = (cat - non_cat).mean(axis=-1)  # (H, W): brighter in cats where positive
    limit = float(np.abs(difference).max())
    tiles = [cat, non_cat, colourise(difference, limit)]
    return MeanDifference(
        largest=limit,
        picture=Picture(to_uint8(upscale(grid(tiles, columns=3, gap=6), 3)),
                        "The average training cat, the average non-cat, and cat minus non-cat (channels averaged; "
                        f"green = brighter in cats, red = brighter in non-cats, up to {limit:.2f} of the pixel range)"),
        scale=to_uint8(colour_scale(limit)),
    )


@dataclass(frozen=True)
class Unit:
    number: int  # 1-based first-layer unit
    push: float  # mean of g_i z1_i over the test images: its average share of the cat logit
    push_cats: float  # the same over the test cats
    push_non_cats: float
    on_train: float  # share of training images on which it is active (z1 > 0)
    flag: str  # units.DEAD (never active on the training set), units.ALWAYS_ON, or ""


@dataclass(frozen=True)
class Units:
    """First-layer units ranked by their push on the cat logit, with what they are and what drives them."""

    units: tuple[Unit, ...]  # strongest push first
    pictures: tuple[Picture, ...]  # per unit, same order: W1 - W1_init as an image, then its top training images


def ranked_units(evidence: Evidence, dataset: Dataset, top: int = 5) -> Units:
    d, labels = evidence.decomposition, dataset.test.labels
    params = evidence.model.params.astype(np.float64)
    W1, b1 = params.layers[0].W, params.layers[0].b
    Z1 = W1 @ evidence.X_train + b1  # (n_1, m)
    on = (Z1 > 0).mean(axis=1)
    states = unit_states(Z1)
    push = d.unit_terms.mean(axis=0)  # (n_1,)
    order = np.argsort(-np.abs(push), kind="stable")
    units = tuple(
        Unit(int(i) + 1, float(push[i]), float(d.unit_terms[labels == 1, i].mean()),
             float(d.unit_terms[labels == 0, i].mean()), float(on[i]),
             states[i] or "")
        for i in order
    )
    learned = evidence.order.unflatten((W1 - evidence.W1_init).T)  # (n_1, H, W, 3)
    pictures = []
    for unit, i in zip(units, order):
        best = np.argsort(-Z1[i], kind="stable")[:top]
        tiles = [signed_to_grey(learned[[i]])[0], None]
        tiles += [frame(dataset.train.images[j] / 255.0, CAT if dataset.train.labels[j] else NON_CAT) for j in best]
        pictures.append(Picture(
            to_uint8(grid(tiles, columns=len(tiles), gap=2)),
            f"unit {unit.number}: what training added to its weights (W1 - W1_init, grey = 0), then the {top} training "
            "images that drive it hardest (highest z1; green frame: cat, red: non-cat)",
        ))
    return Units(units=units, pictures=tuple(pictures))
