"""No text is clipped: every text artist catnet draws lies inside its figure's canvas, in every kind of figure."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from matplotlib.text import Text

from catnet.figfiles import render
from interpret.figures import (
    Verdict,
    curves_figure,
    image_figure,
    overview_figure,
    randomisation_figure,
)
from interpret.methods import METHODS
from interpret.montage import MontageFigure
from interpret.quality import Curves, Randomisation

SLACK_PX = 0.5  # antialiasing reaches half a pixel past a glyph's box


def clipped_texts(figure, dpi: int = 110) -> list[str]:
    """The texts drawn on `figure` whose extent leaves the canvas (rendered as catnet renders it)."""
    drawn = []
    original = Text.draw

    def record(text, renderer):
        original(text, renderer)
        if text.get_visible() and text.get_text().strip():
            drawn.append((text, renderer))

    MontageFigure._stamps.clear()  # every text drawn as text, not copied from an earlier figure of the same layout
    with mock.patch.object(Text, "draw", record):
        pixels = render(figure, dpi)
    height, width = pixels.shape[:2]
    assert drawn, "no text was drawn at all"
    clipped = []
    for text, renderer in drawn:
        box = text.get_window_extent(renderer)
        if box.x0 < -SLACK_PX or box.y0 < -SLACK_PX or box.x1 > width + SLACK_PX or box.y1 > height + SLACK_PX:
            clipped.append(f"{text.get_text()!r} at {box.bounds} on a {width}x{height} canvas")
    return clipped


def _maps(rng, count, shape=(64, 64, 3)):
    return rng.normal(size=(count, *shape))


@pytest.mark.parametrize("methods", [("saliency",), ("saliency", "integrated-gradients", "occlusion"), tuple(METHODS)])
@pytest.mark.parametrize("shared", [False, True])
def test_image_figures_keep_every_text_inside(methods, shared):
    rng = np.random.default_rng(0)
    maps = {m: rng.normal(size=(64, 64, 3)) for m in methods}
    maps[methods[0]][:] = 0  # an all-zero panel carries a note
    verdict = Verdict("test #49", 0, 0.999, silent_layer=2)  # the longest title: non-cat, WRONG
    scales = {m: 0.5 for m in methods} if shared else None
    assert clipped_texts(image_figure(rng.random((64, 64, 3)), maps, verdict, scales), dpi=100) == []


@pytest.mark.parametrize("count", [1, 3, 50])
@pytest.mark.parametrize("shared", [False, True])
def test_overviews_keep_every_text_inside(count, shared):
    rng = np.random.default_rng(1)
    verdicts = [Verdict(f"test #{i}", i % 2, 0.97) for i in range(count)]
    maps = _maps(rng, count)
    maps[0] = 0
    for method in ("saliency-abs", "integrated-gradients"):
        figure = overview_figure(rng.random((count, 64, 64, 3)), maps, verdicts, method, shared_scale=shared)
        assert clipped_texts(figure, dpi=100) == []


def test_evaluation_figures_keep_every_text_inside():
    rng = np.random.default_rng(2)
    fractions = np.linspace(0, 1, 65)
    curves = {m: Curves(fractions, rng.random((5, 65)), rng.random((5, 65))) for m in METHODS}
    assert clipped_texts(curves_figure(curves, curves["saliency"])) == []
    stages = ("layer 4 (output)", "layers 3-4", "layers 2-4", "layers 1-4")
    randomisation = Randomisation(stages, {m: rng.random((4, 5)) for m in METHODS}, threshold=0.5)
    assert clipped_texts(randomisation_figure(randomisation)) == []


@pytest.mark.realdata
def test_every_neurons_figure_keeps_every_text_inside(real_data):
    from catcore.config import TrainConfig
    from catcore.data import load_dataset, prepare_arrays
    from catcore.modelfile import ModelFile
    from catnet.runs import run_training
    from interpret.figures_neurons import neurons_figures
    from interpret.maximize import MaximizeSettings
    from interpret.neurons import analyse

    dataset = load_dataset(real_data)
    config = TrainConfig(iterations=300)
    run = run_training(config, prepare_arrays(dataset, config), impl="numpy")
    model = ModelFile(params=run.result.params, init=config.init, seed=config.seed, flatten="course",
                      image_shape=dataset.image_shape, span_coefficients=run.result.span_coefficients)
    analysis = analyse(model, dataset, k=5, maximize=MaximizeSettings(radius=50.0, steps=3))
    for name, figure in neurons_figures(analysis, dataset):
        assert clipped_texts(figure) == [], name


def test_unroll_and_bench_figures_keep_every_text_inside():
    from catcore.params import Layer, Params
    from catnet.bench.plot import bench_figure
    from interpret.figures_unroll import cost_curves
    from interpret.unroll import OrderRun

    params = Params((Layer(W=np.zeros((1, 2)), b=np.zeros((1, 1))),))
    costs = np.geomspace(0.7, 0.05, 2500)
    runs = tuple(OrderRun(name, costs * (1 + 0.1 * i), params, params, 1.0, 0.8)
                 for i, name in enumerate(("course", "planar", "random-12345")))
    assert clipped_texts(cost_curves(runs)) == []
    def entry(name: str, label: str, seconds: float, speedup: float) -> dict:
        return {"name": name, "label": label, "median_seconds": seconds, "speedup_vs_textbook": speedup,
                "process_median_seconds": seconds + 0.3}

    document = {
        "entries": [entry("textbook", "textbook NumPy loop (the course's code)", 37.3, 1.0),
                    entry("plain-torch-float64", "plain PyTorch loop, float64", 33.7, 1.1),
                    entry("numpy-span", "catnet NumPy, span", 0.22, 169.6)],
        "processes": [{"name": "catnet train --impl numpy", "median_seconds": 0.55, "speedup": 68.5,
                       "baseline": "textbook", "baseline_median_seconds": 37.6}],
        "settings": {"iterations": 2500},
        "machine": {"processor": "AMD EPYC 7B13 64-Core Processor", "cpu_count": 2, "threads": {"OMP_NUM_THREADS": "1"}},
    }
    assert clipped_texts(bench_figure(document)) == []


def test_captions_drawn_into_the_pixels_stay_in_their_cells():
    """Strip and overview captions are drawn into the montage (montage.burn_captions), not as artists: one that would
    spill into its neighbour's cell is refused, so no figure can be built with a clipped or overlapping caption."""
    from interpret.montage import Caption, CaptionOverflow, burn_captions

    pixels = np.full((40, 300, 3), 255, dtype=np.uint8)
    boxes = burn_captions(pixels, [Caption("#123 non -12.34", 34, 2, 68), Caption("#7 cat 0.50", 102, 2, 68)], scale=2)
    assert boxes[0][0] >= 0 and boxes[0][2] <= 136 and 136 <= boxes[1][0] and boxes[1][2] <= 272
    assert (pixels < 255).any()  # something was drawn
    with pytest.raises(CaptionOverflow, match="more than its"):
        burn_captions(pixels, [Caption("a caption far too long for a 64-pixel tile", 34, 2, 68)], scale=2)
    with pytest.raises(CaptionOverflow):
        burn_captions(pixels, [Caption("#1", 34, 19, 68)], scale=2)  # below the montage's last row
