"""The colour scale and the figures' promises (mistakes marked, every panel drawn)."""

from __future__ import annotations

import numpy as np

from catnet.figfiles import render
from interpret.figures import (
    DPI,
    GAP,
    SCALE,
    Verdict,
    image_figure,
    overview_figure,
    scaled,
)

MISTAKE_RGB = (214, 39, 40)  # figures.MISTAKE, #d62728


def _red_pixels(pixels: np.ndarray) -> int:
    return int(np.all(pixels[..., :3] == MISTAKE_RGB, axis=-1).sum())


def test_scale_saturates_the_largest_two_percent_and_keeps_signs():
    values = np.linspace(-1, 1, 200).reshape(10, 20, 1)  # (H, W, C=1)
    values[0, 0, 0] = -50.0  # one outlier holding more than 2% of the total
    signed = scaled(values, signed=True)
    assert signed.min() == -1.0 and signed.max() <= 1.0
    assert np.all(np.sign(signed) == np.sign(values[..., 0]))
    magnitude = scaled(values, signed=False)
    assert magnitude.min() >= 0.0 and magnitude.max() == 1.0
    np.testing.assert_array_equal(scaled(np.zeros((4, 4, 3)), signed=True), np.zeros((4, 4)))


def test_overview_frames_mistakes_in_red_and_nothing_else():
    rng = np.random.default_rng(0)
    images, maps = rng.random((3, 8, 8, 3)), rng.normal(size=(3, 8, 8, 3))
    right = [Verdict(f"test #{i}", 1, 0.9) for i in range(3)]
    one_wrong = right[:2] + [Verdict("test #2", 0, 0.9)]
    assert _red_pixels(render(overview_figure(images, maps, right, "saliency"), DPI)) == 0
    assert _red_pixels(render(overview_figure(images, maps, one_wrong, "saliency"), DPI)) > 8 * 8  # the frame, at least


def test_image_figure_has_a_heatmap_and_an_overlay_per_method():
    rng = np.random.default_rng(1)
    image = rng.random((8, 8, 3))
    few = render(image_figure(image, {"saliency": rng.normal(size=(8, 8, 3))}, Verdict("test #0", 1, 0.7)), DPI)
    more = render(image_figure(image, {m: rng.normal(size=(8, 8, 3)) for m in ("saliency", "deeplift", "occlusion")},
                               Verdict("test #0", 1, 0.7)), DPI)
    pitch = (64 + GAP) * SCALE  # an 8x8 image is shown as a 64-pixel tile, 4 pixels apart, at 2 screen pixels each
    assert more.shape[1] - few.shape[1] == 2 * pitch  # one column more per method (the titles may wrap differently)


def test_montages_draw_the_very_bytes_plain_matplotlib_draws():
    """1:1 pixels without resampling and stamped shared texts are a shortcut, not a different picture."""
    rng = np.random.default_rng(2)
    image, maps = rng.random((64, 64, 3)), {m: rng.normal(size=(64, 64, 3)) for m in ("saliency", "occlusion")}

    def figure():
        return image_figure(image, maps, Verdict("test #0", 1, 0.7))

    first, stamped = render(figure(), DPI), render(figure(), DPI)  # the second copies the shared texts' pixels
    plain = figure()
    (pixels,) = plain.images
    plain.images.clear()
    plain.figimage(pixels.get_array(), xo=pixels.ox, yo=pixels.oy)  # matplotlib's own, resampling at 1:1
    plain.shared_texts.clear()  # every text drawn as text
    expected = render(plain, DPI)
    assert np.array_equal(first, expected) and np.array_equal(stamped, expected)


def test_montage_figures_also_save_as_vector_graphics():
    """A notebook may ask matplotlib for SVG or PDF: the pixel-pasting fast path is then skipped, not fatal."""
    import io

    rng = np.random.default_rng(1)
    figure = image_figure(rng.random((8, 8, 3)), {"saliency": rng.normal(size=(8, 8, 3))}, Verdict("test #0", 1, 0.7))
    for fmt in ("svg", "pdf"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt)
        assert buffer.getvalue()[:5] in (b"<?xml", b"%PDF-"), fmt
