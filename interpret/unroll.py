"""Does the pixel order matter? Train in several flatten orders and compare.

A fully connected first layer computes Z1 = W1 @ X + b1, a sum over input
positions with one weight column per position. Permuting the pixels (rows
of X) and W1's columns the same way leaves every product, hence every Z,
gradient and update, unchanged; `permutation_equivalence` shows it on a
real training run, to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from catcore.arrays import relative_difference
from catcore.config import TrainConfig
from catcore.data import Dataset, prepare_arrays
from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder, flatten_order
from catcore.params import Layer, Params
from catcore.training import check_outcome
from numpy_impl.init import initialize
from numpy_impl.network import cost, evaluate, forward
from numpy_impl.train import train


@dataclass(frozen=True)
class OrderRun:
    """One training run on images flattened in `order`."""

    order: str
    costs: np.ndarray  # (iterations,)
    initial: Params  # what training started from
    params: Params
    train_accuracy: float
    test_accuracy: float

    @property
    def final_cost(self) -> float:
        return float(self.costs[-1])


@dataclass(frozen=True)
class Mismatch:
    """A model trained in one order, scored on test images flattened in another."""

    train_order: str
    eval_order: str
    test_accuracy: float
    test_cost: float
    predicted_cat_fraction: float  # share of test images called "cat"


@dataclass(frozen=True)
class Equivalence:
    """Permuted-pixel run with permuted initial W1, un-permuted, against the reference run."""

    order: str
    weight_differences: tuple[float, ...]  # per layer: ||W_l - W_l_ref||_F / ||W_l_ref||_F
    bias_differences: tuple[float, ...]  # per layer, the same for b_l
    cost_differences: np.ndarray  # (iterations,) |cost - cost_ref| at each iteration
    costs: np.ndarray  # (iterations,) the permuted run's own costs
    W1: np.ndarray  # (n_1, n_x) the permuted run's trained W1, in its own (permuted) column order
    relative_permutation: np.ndarray  # (n_x,) rel: W1 here is the reference's W1[:, rel] to rounding

    @property
    def cost_difference(self) -> float:
        return float(self.cost_differences.max())

    @property
    def max_difference(self) -> float:
        return max(self.weight_differences + self.bias_differences)

    def agreeing_iterations(self, threshold: float) -> int:
        """How many iterations, from the first, the two costs stay within `threshold`."""
        apart = np.flatnonzero(self.cost_differences > threshold)
        return int(apart[0]) if len(apart) else len(self.cost_differences)


def check_orders(reference: str, others: tuple[str, ...], image_shape) -> tuple[str, ...]:
    """Validate every order name up front; returns (reference, *others)."""
    names = (reference,) + tuple(others)
    if len(set(names)) != len(names):
        raise CatnetError(f"each order may appear once (the reference --flatten included), got {list(names)!r}")
    for name in names:
        flatten_order(name, image_shape)  # raises CatnetError for an unknown name
    return names


def train_in_orders(dataset: Dataset, config: TrainConfig, orders: tuple[str, ...]) -> tuple[OrderRun, ...]:
    """The same initial parameters and hyperparameters, trained once per flatten order (the NumPy reference)."""
    initial = initialize(config.layers, config.init, config.seed, dtype=np.dtype(config.dtype))
    runs = []
    for name in orders:
        arrays = prepare_arrays(dataset, replace(config, flatten=name))
        result = train(initial, arrays.X_train, arrays.Y_train, config)
        final_cost, train_accuracy = evaluate(result.params, arrays.X_train, arrays.Y_train)
        check_outcome(float(result.costs[0]), final_cost, config.iterations - 1, config.dtype)
        runs.append(OrderRun(name, result.costs, initial, result.params, train_accuracy,
                             evaluate(result.params, arrays.X_test, arrays.Y_test)[1]))
    return tuple(runs)



def mismatch_table(dataset: Dataset, runs: tuple[OrderRun, ...], dtype: str) -> tuple[Mismatch, ...]:
    """Every trained model scored on the test set flattened in every order (diagonal = consistent)."""
    Y = dataset.test.Y(np.dtype(dtype))  # (1, m)
    rows = []
    for run in runs:
        for eval_name in (r.order for r in runs):
            X = dataset.test.X(flatten_order(eval_name, dataset.image_shape), np.dtype(dtype))  # (n_x, m)
            fp = forward(run.params, X)
            predictions = fp.AL > 0.5  # (1, m)
            rows.append(
                Mismatch(
                    train_order=run.order,
                    eval_order=eval_name,
                    test_accuracy=float(np.mean(predictions == (Y > 0.5))),
                    test_cost=cost(fp.Z[-1], Y),
                    predicted_cat_fraction=float(np.mean(predictions)),
                )
            )
    return tuple(rows)


def majority_rate(labels: np.ndarray) -> float:
    """Accuracy of always answering the commoner class: the floor a collapsed model drifts to."""
    share = float(np.mean(labels))
    return max(share, 1.0 - share)


def relative_permutation(reference: FlattenOrder, other: FlattenOrder) -> np.ndarray:
    """`rel` with X_other = X_reference[rel]: where each position of `other` sits in `reference`."""
    # X_order = course[order.perm], so reference.perm[rel] = other.perm
    return np.argsort(reference.perm)[other.perm]


def permute_first_layer(params: Params, rel: np.ndarray) -> Params:
    """Initial parameters for pixels reordered by `rel`: W1's columns reordered the same way."""
    first = Layer(W=params.layers[0].W[:, rel], b=params.layers[0].b.copy())  # (n_1, n_x)
    return Params((first,) + params.copy().layers[1:])


def unpermute_columns(W: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Undo `W[:, rel]`: (n_1, n_x) back in the reference order."""
    back = np.empty_like(W)
    back[:, rel] = W
    return back


def permutation_equivalence(dataset: Dataset, config: TrainConfig, reference: OrderRun, order: str) -> Equivalence:
    """Train on `order` from the reference's W1 with permuted columns; compare with the reference run.

    `config` must be the reference run's configuration (its flatten is the reference order);
    the initial parameters are the reference run's own, W1's columns permuted.
    """
    ref_order = flatten_order(reference.order, dataset.image_shape)
    rel = relative_permutation(ref_order, flatten_order(order, dataset.image_shape))
    arrays = prepare_arrays(dataset, replace(config, flatten=order))
    result = train(permute_first_layer(reference.initial, rel), arrays.X_train, arrays.Y_train, config)
    trained = result.params.layers
    weights = (unpermute_columns(trained[0].W, rel),) + tuple(layer.W for layer in trained[1:])
    return Equivalence(
        order=order,
        weight_differences=tuple(
            relative_difference(W, ref.W) for W, ref in zip(weights, reference.params.layers)
        ),
        bias_differences=tuple(relative_difference(layer.b, ref.b) for layer, ref in zip(trained, reference.params.layers)),
        cost_differences=np.abs(result.costs - reference.costs),
        costs=result.costs,
        W1=trained[0].W,
        relative_permutation=rel,
    )


def rounding_tolerance(dtype: str) -> float:
    """What 'the same to rounding' means after a full run: 1e-12 in float64, 1e-4 in float32.

    In float32 a different summation order changes the last of ~7 digits, and
    thousands of full-batch steps can amplify that far past 1e-4: the check is
    made to pass in float64 and to say so honestly when it does not in float32.
    """
    return {"float64": 1e-12, "float32": 1e-4}[dtype]
