"""Question 1: how can a network find strokes and shapes in an image unrolled into one column? It does not need to.

A fully connected first layer gives every input position its own weight and
adds the products up: it has no notion of which positions are neighbours.
These sections show it with this model's numbers: the same cat as three
different columns, training on each order, and the exact check (train on
scrambled pixels from scrambled initial weights, unscramble: the same model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.config import TrainConfig
from catcore.data import Dataset
from catcore.flatten import flatten_order
from interpret.pictures import Picture, grid, signed_to_grey, to_uint8, upscale
from interpret.unroll import (
    Equivalence,
    Mismatch,
    OrderRun,
    majority_rate,
    mismatch_table,
    permutation_equivalence,
    rounding_tolerance,
    train_in_orders,
)


@dataclass(frozen=True)
class Columns:
    """One test image as the column the network reads, in each order."""

    index: int  # in the test set
    orders: tuple[str, ...]
    columns: tuple[np.ndarray, ...]  # (n_x,) each, values in [0, 1], in that order
    picture: Picture  # the image, then each column wrapped into rows of WRAP values


def image_as_columns(dataset: Dataset, index: int, orders: tuple[str, ...]) -> Columns:
    """Test image `index` flattened in each of `orders`; the picture shows every column wrapped, same numbers each time.

    Each column is wrapped into rows of W x C values (one image row in the course's order), one value a grey pixel.
    """
    image = dataset.test.images[index]  # (H, W, 3) uint8
    height, width, channels = image.shape
    columns = tuple(flatten_order(name, dataset.image_shape).flatten(image[None])[:, 0] / 255.0 for name in orders)
    rasters = [np.repeat(column.reshape(height, width * channels, 1), 3, axis=2) for column in columns]
    shown = np.ones((height, width * channels, 3))
    shown[:, :width] = image / 255.0
    picture = Picture(
        to_uint8(upscale(grid([shown, *rasters], columns=len(rasters) + 1, gap=8), 2)),
        f"Test image {index} and the same {columns[0].size} numbers unrolled in the {', '.join(orders)} orders, "
        f"each column wrapped into rows of {width * channels} values (dark = 0, white = 1)",
    )
    return Columns(index=index, orders=orders, columns=columns, picture=picture)


@dataclass(frozen=True)
class OrderExperiment:
    """The same network trained on each pixel order; every model scored in every order; the exact check."""

    config: TrainConfig
    runs: tuple[OrderRun, ...]  # runs[0] is the reference order
    mismatches: tuple[Mismatch, ...]
    equivalences: tuple[Equivalence, ...]  # one per other order
    majority: float  # accuracy of always answering the commoner test class
    tolerance: float  # what "the same to rounding" means in this dtype

    @property
    def largest_difference(self) -> float:
        return max(eq.max_difference for eq in self.equivalences)

    @property
    def exact(self) -> bool:
        return self.largest_difference <= self.tolerance

    def accuracy(self, trained: str, evaluated: str) -> float:
        return next(m.test_accuracy for m in self.mismatches if m.train_order == trained and m.eval_order == evaluated)

    @property
    def worst_mismatch(self) -> float:
        return min(m.test_accuracy for m in self.mismatches if m.train_order != m.eval_order)


def order_experiment(dataset: Dataset, config: TrainConfig, others: tuple[str, ...]) -> OrderExperiment:
    """Train in config.flatten and in each of `others` from the same start (NumPy reference), then the exact check."""
    runs = train_in_orders(dataset, config, (config.flatten,) + tuple(others))
    return OrderExperiment(
        config=config,
        runs=runs,
        mismatches=mismatch_table(dataset, runs, config.dtype),
        equivalences=tuple(permutation_equivalence(dataset, config, runs[0], name) for name in others),
        majority=majority_rate(dataset.test.labels),
        tolerance=rounding_tolerance(config.dtype),
    )


@dataclass(frozen=True)
class ScrambledTemplates:
    """First-layer templates of the reference model and of the exact-check model trained on scrambled pixels."""

    order: str
    units: tuple[int, ...]  # 0-based units shown
    max_difference: float  # largest |W1 unscrambled - W1 reference| relative to max |W1 reference|
    picture: Picture  # rows: reference; scrambled as stored; unscrambled


def scrambled_templates(dataset: Dataset, experiment: OrderExperiment, units: int = 6) -> ScrambledTemplates:
    """What training added to W1's rows (W1 - W1_init) of the reference model, and of the exact-check model on scrambled
    pixels as stored and unscrambled; the units whose rows changed most."""
    eq = experiment.equivalences[-1]  # the last other order: random-SEED by default, the most scrambled
    reference = experiment.runs[0]
    order = flatten_order(reference.order, dataset.image_shape)
    W1_init = reference.initial.layers[0].W  # (n_1, n_x) in the reference order
    W1_ref = reference.params.layers[0].W
    unscrambled = np.empty_like(eq.W1)
    unscrambled[:, eq.relative_permutation] = eq.W1  # back in the reference order
    learned = W1_ref - W1_init
    shown = tuple(int(u) for u in np.argsort(-np.linalg.norm(learned, axis=1))[:units])
    rows = [learned[list(shown)], (eq.W1 - W1_init[:, eq.relative_permutation])[list(shown)],
            (unscrambled - W1_init)[list(shown)]]  # each (k, n_x)
    tiles = [to_uint8(image) for row in rows for image in signed_to_grey(order.unflatten(row.T))]
    scale = float(np.abs(W1_ref).max())
    difference = float(np.abs(unscrambled - W1_ref).max() / scale) if scale > 0 else float(np.abs(unscrambled).max())
    picture = Picture(
        to_uint8(upscale(grid(tiles, columns=len(shown), gap=4), 2)),
        f"What training added to the first-layer weights (W1 - W1_init, one row per unit as an image, grey = 0, each on "
        f"its own scale) for units {', '.join(str(u + 1) for u in shown)}. Top: the {reference.order}-order model. "
        f"Middle: the model trained on {eq.order} pixels from W1_init scrambled alike, as stored. Bottom: the same rows "
        f"unscrambled; largest difference of the whole W1 from the top model's: {difference:.1e} of the largest weight.",
    )
    return ScrambledTemplates(order=eq.order, units=shown, max_difference=difference, picture=picture)
