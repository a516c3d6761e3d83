"""The neurons experiment, computed: everything `catnet neurons` shows, for one model and one dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catcore.arrays import relative_difference
from catcore.data import Dataset
from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder, flatten_order
from catcore.modelfile import ModelFile
from interpret.maximize import Maximization, MaximizeSettings, maximize_layer
from interpret.span import LEAST_SQUARES, SpanFit, check_stored, span_fit
from interpret.templates import Templates, first_layer_templates, initial_parameters
from interpret.units import (
    ALWAYS_ON,
    DEAD,
    HiddenMap,
    TopK,
    hidden_map,
    preactivations,
    principal_components,
    top_k,
    unit_states,
)
from numpy_impl.init import SCHEMES
from numpy_impl.network import overflowing_column
from numpy_impl.span import least_squares_coefficients, reconstruction_error

SPLITS = ("train", "test")


@dataclass(frozen=True)
class LayerTop:
    """One layer's units ranked over one split's images by pre-activation Z."""

    layer: int  # 1-based; the last is the output logit
    split: str
    Z: np.ndarray  # (n_units, m)
    top: TopK


@dataclass(frozen=True)
class NeuronsAnalysis:
    order: FlattenOrder
    templates: Templates
    span: SpanFit
    least_squares: SpanFit  # the same fit by least squares: a cross-check when `span` is stored
    contributors: TopK  # per first-layer unit: training images with the largest / most negative C
    tops: tuple[LayerTop, ...]
    maximize: MaximizeSettings
    maximizations: tuple[Maximization, ...]
    hidden: HiddenMap | None  # None when the network has no hidden layer
    hidden_points: np.ndarray | None  # (N, 2): the hidden map on its top principal axes
    hidden_share: np.ndarray | None  # share of variance of those axes

    def states(self, layer: int) -> tuple[str | None, ...]:
        """Per unit of a hidden `layer` (1-based): dead / always on over the training images, or None (units.unit_states).
        The output layer has no ReLU: all None."""
        if layer == len(self.maximizations):
            return (None,) * self.tops[-1].Z.shape[0]
        (top,) = (t for t in self.tops if t.layer == layer and t.split == "train")
        return unit_states(top.Z)


def check_inputs(model: ModelFile, dataset: Dataset, k: int) -> FlattenOrder:
    """Everything that could make the analysis meaningless or fail, before any of it runs."""
    if tuple(model.image_shape) != tuple(dataset.image_shape):
        raise CatnetError(
            f"the model reads {_shape(model.image_shape)} images ({model.layer_sizes[0]} inputs) but the data in "
            f"{dataset.directory} holds {_shape(dataset.image_shape)} images"
        )
    order = flatten_order(model.flatten, model.image_shape)
    if model.init not in SCHEMES:
        raise CatnetError(f"the model's init scheme {model.init!r} is unknown, so W1_init cannot be redrawn; "
                          f"known: {', '.join(SCHEMES)}")
    check_stored(model.span_coefficients, model.layer_sizes[1], len(dataset.train))
    for split in (dataset.train, dataset.test):
        bad = overflowing_column(model.params, split.X(order, model.params.dtype))
        if bad is not None:
            raise CatnetError(f"the model's weights are so large that the network overflows on image {bad} of its "
                              "data; it is no trained catnet model")
    smallest = min(len(dataset.train), len(dataset.test))
    if k > smallest:
        raise CatnetError(f"--k {k} asks for more images than the smaller split holds ({smallest})")
    return order


def default_radius(dataset: Dataset, order: FlattenOrder) -> float:
    """The median norm of a training image: maximising inputs are as large as a typical real image."""
    return float(np.median(np.linalg.norm(dataset.train.X(order), axis=0)))


def analyse(model: ModelFile, dataset: Dataset, k: int, maximize: MaximizeSettings,
            on_section: Callable[[str, object], None] | None = None) -> NeuronsAnalysis:
    """Templates, span coefficients, top images, activation maximisation and the hidden map.

    on_section(name, result) hears about each part as it is done: ("span", (fit, least squares)), ("tops", tops),
    ("maximize", one layer's Maximization) per layer, ("hidden", hidden map or None).
    """
    said = on_section or (lambda name, result: None)
    order = check_inputs(model, dataset, k)
    params = model.params.astype(np.float64)
    W1, W1_init = params.layers[0].W, initial_parameters(model).layers[0].W.astype(np.float64)
    X = {name: getattr(dataset, name).X(order) for name in SPLITS}  # (n_x, m) in [0, 1]
    fit = span_fit(X["train"], W1, W1_init, model.span_coefficients)
    if fit.source == LEAST_SQUARES:
        least_squares = fit
    else:
        C = least_squares_coefficients(X["train"], W1, W1_init)
        least_squares = SpanFit(C, LEAST_SQUARES, reconstruction_error(C, X["train"], W1, W1_init))
    said("span", (fit, least_squares))
    tops = []
    for name in SPLITS:
        for layer, Z in enumerate(preactivations(params, X[name]), start=1):
            tops.append(LayerTop(layer=layer, split=name, Z=Z, top=top_k(Z, k)))
    said("tops", tuple(tops))
    maximizations = []
    for layer in range(1, len(params.layers) + 1):
        maximizations.append(maximize_layer(params, order, layer, maximize))
        said("maximize", maximizations[-1])
    hidden = hidden_map(
        params, {name: (X[name], getattr(dataset, name).images, getattr(dataset, name).labels) for name in SPLITS}
    )
    points, share = principal_components(hidden.features) if hidden is not None else (None, None)
    said("hidden", hidden)
    return NeuronsAnalysis(
        order=order,
        templates=first_layer_templates(W1, W1_init, order),
        span=fit,
        least_squares=least_squares,
        contributors=top_k(fit.C, min(k, fit.C.shape[1])),
        tops=tuple(tops),
        maximize=maximize,
        maximizations=tuple(maximizations),
        hidden=hidden,
        hidden_points=points,
        hidden_share=share,
    )


def sections(layers: int) -> int:
    """How many times `analyse` calls on_section for a network of `layers` layers: a progress bar's total."""
    return 3 + layers


def summary(analysis: NeuronsAnalysis, dataset: Dataset) -> dict:
    """The figures' numbers, as plain data for summary.json."""
    labels = {name: getattr(dataset, name).labels for name in SPLITS}
    C = analysis.span.C
    doc = {
        "span": {
            "source": analysis.span.source,
            "relative_error": analysis.span.relative_error,
            "least_squares_relative_error": analysis.least_squares.relative_error,
            "stored_vs_least_squares": relative_difference(analysis.least_squares.C, C),
            "units": [
                {
                    "unit": unit + 1,
                    "positive": [_image(i, labels["train"], coefficient=C[unit, i]) for i in analysis.contributors.highest[unit]],
                    "negative": [_image(i, labels["train"], coefficient=C[unit, i]) for i in analysis.contributors.lowest[unit]],
                }
                for unit in range(C.shape[0])
            ],
        },
        "templates": [
            {"unit": unit + 1, "norm": float(np.linalg.norm(raw)), "learned_norm": float(np.linalg.norm(learned))}
            for unit, (raw, learned) in enumerate(zip(analysis.templates.raw, analysis.templates.learned))
        ],
        "top_images": [
            {
                "layer": top.layer,
                "split": top.split,
                "units": [
                    {
                        "unit": unit + 1,
                        "highest": [_image(i, labels[top.split], z=top.Z[unit, i]) for i in top.top.highest[unit]],
                        "lowest": [_image(i, labels[top.split], z=top.Z[unit, i]) for i in top.top.lowest[unit]],
                    }
                    for unit in range(top.Z.shape[0])
                ],
            }
            for top in analysis.tops
        ],
        "unit_states": {
            "over": "the training images: dead = the ReLU is off (z <= 0) for every one, always on = on for every one",
            "layers": [{"layer": layer, "dead": _units(analysis.states(layer), DEAD),
                        "always_on": _units(analysis.states(layer), ALWAYS_ON)}
                       for layer in range(1, len(analysis.maximizations))],
        },
        "activation_maximisation": {
            "radius": analysis.maximize.radius,
            "steps": analysis.maximize.steps,
            "smoothness": analysis.maximize.smoothness,
            "seed": analysis.maximize.seed,
            "units": [
                {
                    "layer": result.layer,
                    "unit": unit + 1,
                    "z_start": result.z[0, unit],
                    "z_final": result.z[-1, unit],
                    "objective_final": result.objective[-1, unit],
                    "norm": result.norms[unit],
                }
                for result in analysis.maximizations
                for unit in range(result.z.shape[1])
            ],
        },
    }
    if analysis.hidden is not None:
        doc["hidden_map"] = {
            "layer": analysis.hidden.layer,
            "images": len(analysis.hidden.label),
            "principal_axes_variance_share": analysis.hidden_share,
        }
    return doc


def _units(states: tuple[str | None, ...], state: str) -> list[int]:
    """1-based numbers of the units in `state`."""
    return [unit + 1 for unit, value in enumerate(states) if value == state]


def _image(index, labels: np.ndarray, **value) -> dict:
    ((name, number),) = value.items()
    return {"image": int(index), "label": int(labels[index]), name: float(number)}


def _shape(shape) -> str:
    return "x".join(map(str, shape))
