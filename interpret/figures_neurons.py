"""Every figure of `catnet neurons`, by name: the name is the PNG's file name and TensorBoard tag."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from matplotlib.figure import Figure

from catcore.data import Dataset
from interpret.figures_units import (
    StripRow,
    embedding_scatter,
    image_strips,
    tile_grid,
)
from interpret.neurons import NeuronsAnalysis
from interpret.pictures import signed_to_grey

SHORT_LABEL = {0: "non", 1: "cat"}


def figure_names(analysis: NeuronsAnalysis) -> tuple[str, ...]:
    """The names neurons_figures yields, in order, without drawing anything."""
    return (("templates_raw", "templates_learned", "span_units")
            + tuple(f"top_layer{top.layer}_{top.split}" for top in analysis.tops)
            + tuple(f"maximize_layer{result.layer}" for result in analysis.maximizations)
            + (("hidden_map",) if analysis.hidden is not None else ()))


def neurons_figures(analysis: NeuronsAnalysis, dataset: Dataset) -> Iterator[tuple[str, Figure]]:
    """(name, figure) one at a time, so that each can be drawn and freed before the next is built."""
    states = _state_notes(analysis.states(1))
    yield "templates_raw", _templates(analysis.templates.raw, "First-layer templates: each row of W1 as an image", states)
    yield "templates_learned", _templates(analysis.templates.learned,
                                          "What training added to each template: W1 - W1_init", states)
    yield "span_units", _span(analysis, dataset)
    output_layer = len(analysis.maximizations)
    for top in analysis.tops:
        yield f"top_layer{top.layer}_{top.split}", _top(top, getattr(dataset, top.split), output_layer,
                                                        _state_notes(analysis.states(top.layer)))
    for result in analysis.maximizations:
        name = "the output 'cat' logit" if result.layer == output_layer else f"layer {result.layer}'s units"
        notes = _state_notes(analysis.states(result.layer))
        yield f"maximize_layer{result.layer}", tile_grid(
            signed_to_grey(result.images),
            [f"unit {u + 1}{notes[u]}\nz = {z:.1f}" for u, z in enumerate(result.z[-1])],
            f"Inputs with ||x|| <= {analysis.maximize.radius:.1f} that maximise {name}\n"
            f"({analysis.maximize.steps} ascent steps, smoothness {analysis.maximize.smoothness:g}; grey = 0"
            + ("; dead / always on: over the training images" if any(notes) else "") + ")",
        )
    if analysis.hidden is not None:
        yield "hidden_map", embedding_scatter(
            analysis.hidden_points, analysis.hidden_share, analysis.hidden.label, analysis.hidden.split,
            analysis.hidden.prediction, f"Layer {analysis.hidden.layer} (last hidden) activations of every image, "
            "on their top principal axes",
        )


def _state_notes(states: tuple[str | None, ...]) -> list[str]:
    """' (dead)', ' (always on)' or '' per unit."""
    return [f" ({state})" if state else "" for state in states]


def _templates(images: np.ndarray, title: str, notes: list[str]) -> Figure:
    return tile_grid(signed_to_grey(images), [f"unit {u + 1}{notes[u]}" for u in range(len(images))],
                     f"{title}\n(grey = 0, brighter = positive weight; each tile on its own scale"
                     + ("; dead: off for every training image" if any(notes) else "") + ")")


def _span(analysis: NeuronsAnalysis, dataset: Dataset) -> Figure:
    C, chosen = analysis.span.C, analysis.contributors
    images, labels = dataset.train.images, dataset.train.labels
    notes = _state_notes(analysis.states(1))
    rows = []
    for unit in range(C.shape[0]):
        picks = np.concatenate([chosen.highest[unit], chosen.lowest[unit]])
        rows.append(StripRow(f"unit {unit + 1}{notes[unit]}", images[picks],
                             [f"#{i} {SHORT_LABEL[int(labels[i])]} {C[unit, i]:+.1e}" for i in picks]))
    return image_strips(
        rows,
        f"W1 = W1_init + C X^T ({analysis.span.source} C, relative error {analysis.span.relative_error:.1e}): "
        "the training images with the largest and most negative coefficients",
        ("largest C: added to the template", "most negative C: subtracted"),
    )


def _top(top, split, output_layer: int, notes: list[str]) -> Figure:
    rows = []
    for unit in range(top.Z.shape[0]):
        picks = np.concatenate([top.top.highest[unit], top.top.lowest[unit]])
        rows.append(StripRow(f"unit {unit + 1}{notes[unit]}", split.images[picks],
                             [f"#{i} {SHORT_LABEL[int(split.labels[i])]} {top.Z[unit, i]:.2f}" for i in picks]))
    what = "the output 'cat' logit" if top.layer == output_layer else f"layer {top.layer}'s units"
    return image_strips(rows, f"The {top.split} images that drive {what} most and least (by pre-activation z)"
                        + ("; dead / always on: the ReLU is off / on for every training image" if any(notes) else ""),
                        ("highest z", "lowest z"))
