"""What the hidden units respond to in the data: their top images and the last hidden layer's map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.params import Params
from numpy_impl.network import forward


@dataclass(frozen=True)
class TopK:
    """Per unit, the indices of the k largest and k smallest values."""

    highest: np.ndarray  # (n_units, k) largest first
    lowest: np.ndarray  # (n_units, k) smallest first


def top_k(values: np.ndarray, k: int) -> TopK:
    """values (n_units, m) -> TopK; ties go to the lower index, so the choice is reproducible."""
    values = np.asarray(values)
    if not 1 <= k <= values.shape[1]:
        raise ValueError(f"k must be between 1 and {values.shape[1]}, got {k!r}")
    descending = np.argsort(-values, axis=1, kind="stable")  # (n_units, m)
    ascending = np.argsort(values, axis=1, kind="stable")  # (n_units, m)
    return TopK(highest=descending[:, :k], lowest=ascending[:, :k])


DEAD, ALWAYS_ON = "dead", "always on"


def unit_states(Z: np.ndarray) -> tuple[str | None, ...]:
    """Per unit of Z (n_units, m) over a set of images: DEAD if its ReLU is off for every one (z <= 0), ALWAYS_ON if
    on for every one, else None. A dead unit passes nothing on; an always-on one is a plain linear unit there."""
    Z = np.asarray(Z)
    return tuple(DEAD if (row <= 0).all() else ALWAYS_ON if (row > 0).all() else None for row in Z)


def preactivations(params: Params, X: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each layer's Z (n_l, m) for X (n_x, m); the last is the "cat" logit.

    Units are ranked by Z, the input of their ReLU: it orders the images the
    ReLU maps to 0 too, so "least activating" means something.
    """
    return forward(params, X).Z


@dataclass(frozen=True)
class HiddenMap:
    """The last hidden layer's activations of every image, with what to label them by."""

    layer: int  # 1-based index of the last hidden layer
    features: np.ndarray  # (N, n_layer): activations A, one row per image (train, then test)
    images: np.ndarray  # (N, H, W, C) uint8
    split: tuple[str, ...]  # "train" or "test", per row
    index: np.ndarray  # (N,) index within its split
    label: np.ndarray  # (N,) 0 or 1
    probability: np.ndarray  # (N,) predicted P(cat)

    @property
    def prediction(self) -> np.ndarray:
        return (self.probability > 0.5).astype(np.int64)


def hidden_map(params: Params, splits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> HiddenMap | None:
    """splits: name -> (X (n_x, m), images (m, H, W, C), labels (m,)); None for a network with no hidden layer."""
    if len(params.layers) < 2:
        return None
    layer = len(params.layers) - 1
    features, images, names, index, labels, probability = [], [], [], [], [], []
    for name, (X, split_images, split_labels) in splits.items():
        fp = forward(params, X)
        features.append(fp.A[layer].T)  # (m, n_layer)
        probability.append(fp.AL[0])  # (m,)
        images.append(split_images)
        labels.append(split_labels)
        names += [name] * X.shape[1]
        index.append(np.arange(X.shape[1]))
    return HiddenMap(
        layer=layer,
        features=np.concatenate(features),
        images=np.concatenate(images),
        split=tuple(names),
        index=np.concatenate(index),
        label=np.concatenate(labels),
        probability=np.concatenate(probability),
    )


def principal_components(features: np.ndarray, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """features (N, n) -> (N, count) coordinates on the top principal axes, and each axis's share of variance."""
    centred = features - features.mean(axis=0)  # (N, n)
    U, S, _ = np.linalg.svd(centred, full_matrices=False)
    count = min(count, len(S))
    variance = S**2
    share = variance[:count] / variance.sum() if variance.sum() > 0 else np.zeros(count)
    return U[:, :count] * S[:count], share
