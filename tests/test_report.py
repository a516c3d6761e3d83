"""catnet report: the decomposition is exact, the words follow the numbers, and the page opens whole in a real browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.params import Layer, Params
from catnet.runs import run_training
from interpret.decompose import decompose
from numpy_impl.init import initialize
from numpy_impl.network import forward
from numpy_impl.span import least_squares_coefficients

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


@pytest.mark.realdata
def test_the_decomposition_sums_to_the_logit_on_the_real_model(real_data):
    config = TrainConfig()
    arrays = prepare_arrays(load_dataset(real_data), config)
    run = run_training(config, arrays)
    d = decompose(run.result.params, run.initial.layers[0].W, run.result.span_coefficients, arrays.X_train, arrays.X_test)
    np.testing.assert_allclose(d.logit, forward(run.result.params, arrays.X_test).Z[-1][0], rtol=0, atol=1e-12)
    scale = np.abs(d.image_terms).sum(axis=1) + np.abs(d.initial_projection) + np.abs(d.biases)  # what was added up
    assert np.all(d.gap <= 1e-12 * np.maximum(scale, 1.0)), d.gap.max()
    assert np.abs(d.residual).max() < 1e-9  # the stored C rebuilds W1
    assert d.image_terms.shape == (50, 209)


def test_the_decomposition_is_exact_for_any_network_and_any_C():
    """A random network whose W1 is *not* in the span of the images: the residual term carries the rest."""
    rng = np.random.default_rng(0)
    params = Params(tuple(Layer(W=rng.normal(size=(o, i)), b=rng.normal(size=(o, 1)))
                          for i, o in ((30, 6), (6, 4), (4, 1))))
    W1_init, X_train, X = rng.normal(size=(6, 30)), rng.random((30, 8)), rng.random((30, 5))
    C = least_squares_coefficients(X_train, params.layers[0].W, W1_init)
    d = decompose(params, W1_init, C, X_train, X)
    np.testing.assert_allclose(d.total, d.logit, rtol=0, atol=1e-12)
    assert np.abs(d.residual).max() > 1e-3  # 30 inputs, 8 images: W1 is far from their span

    # with no bias after the first layer, the logit is the first-layer units' shares alone
    unbiased = Params((params.layers[0],) + tuple(Layer(layer.W, np.zeros_like(layer.b)) for layer in params.layers[1:]))
    split = decompose(unbiased, W1_init, C, X_train, X)
    np.testing.assert_allclose(split.unit_terms.sum(axis=1), split.logit, rtol=0, atol=1e-12)


def test_units_that_are_off_contribute_nothing():
    """With every hidden unit off (a large negative bias), the logit is the output bias and every term is zero."""
    params = initialize((12, 3, 1), seed=1)
    params = Params((Layer(params.layers[0].W, np.full((3, 1), -1e3)), params.layers[1]))
    rng = np.random.default_rng(1)
    d = decompose(params, np.zeros((3, 12)), np.zeros((3, 4)), rng.random((12, 4)), rng.random((12, 2)))
    assert not d.image_terms.any() and not d.unit_terms.any()
    np.testing.assert_array_equal(d.biases, d.logit)


@pytest.mark.parametrize("args, fragment", [
    (("--out", "page.txt"), "--out expects a .html or .htm path"),
    (("--orders", " , "), "--orders needs at least one order"),
    (("--orders", "diagonal"), "unknown flatten order 'diagonal'"),
    (("--model", "missing.npz"), "does not exist"),
    (("--cnn",), "needs images of at least 16x16 pixels"),
])
def test_bad_flags_are_one_line_and_write_nothing(tiny_data, tmp_path, args, fragment):
    work = tmp_path / "work"
    work.mkdir()
    proc = run_cli("report", "--data", tiny_data, *args, cwd=work)
    assert_clean_error(proc, fragment)
    assert list(work.iterdir()) == []


def test_data_without_cats_or_without_non_cats_is_refused_before_any_training(tmp_path):
    from conftest import write_split

    rng = np.random.RandomState(0)
    data = tmp_path / "data"
    data.mkdir()
    write_split(data / "train_catvnoncat.h5", "train", rng.randint(0, 255, (12, 4, 4, 3)).astype(np.uint8), np.arange(12) % 2)
    write_split(data / "test_catvnoncat.h5", "test", rng.randint(0, 255, (6, 4, 4, 3)).astype(np.uint8), np.zeros(6, int))
    work = tmp_path / "work"
    work.mkdir()
    proc = run_cli("report", "--data", data, cwd=work)
    assert_clean_error(proc, "the test set holds only non-cats")
    assert list(work.iterdir()) == []


@pytest.mark.realdata
def test_the_page_opens_whole_in_a_real_browser(real_data, tmp_path):
    page = tmp_path / "report.html"
    proc = run_cli("report", "--data", real_data, "--out", page)
    assert proc.returncode == 0, proc.stderr
    for stage in ("question 1", "question 2", "parity"):  # each section reports as it finishes
        assert stage in proc.stdout
    text = page.read_text(encoding="utf-8")
    assert "How can a network find strokes and shapes" in text and "How can we see what it learned is a cat?" in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch: every image is inline
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)")
    seen = _open_in_chromium(page)
    assert seen["console_errors"] == [], seen["console_errors"]
    assert seen["images"] >= 20 and seen["broken_images"] == [], seen["broken_images"]
    assert seen["outside_requests"] == [], seen["outside_requests"]
    assert {"How can a network find strokes", "How can we see what it learned is a cat"} <= set(seen["questions"])


def _open_in_chromium(page: Path) -> dict:
    """Load the page headless; what its console said, which images failed to decode, what it asked the network for."""
    import json

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(page.as_uri())
        driver.execute_script("return document.readyState")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
        questions = driver.execute_script(
            "return Array.from(document.querySelectorAll('.question')).map(q => q.textContent)")
        console = [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
    finally:
        driver.quit()
    return {
        "console_errors": console,
        "images": len(images),
        "broken_images": [alt for complete, width, height, alt in images if not (complete and width > 0 and height > 0)],
        "outside_requests": [url for url in requests if not (url == page.as_uri() or url.startswith("data:"))],
        "questions": [next((q for q in ("How can a network find strokes", "How can we see what it learned is a cat")
                            if q in text), text) for text in questions],
    }


# ---------- the words follow the numbers ----------

def _experiment(largest: float, dtype: str = "float32"):
    from interpret.report.unrolling import OrderExperiment
    from interpret.unroll import Equivalence, Mismatch, OrderRun

    params = initialize((12, 3, 1), seed=1)
    runs = tuple(OrderRun(name, np.array([0.7, 0.5]), params, params, 1.0, accuracy)
                 for name, accuracy in (("course", 0.80), ("random-0", 0.78)))
    mismatches = tuple(Mismatch(a.order, b.order, a.test_accuracy if a is b else 0.4, 0.7, 0.5) for a in runs for b in runs)
    equivalence = Equivalence("random-0", (largest, 0.0), (0.0, 0.0), np.zeros(2), np.zeros(2), np.zeros((3, 12)),
                              np.arange(12))
    return OrderExperiment(TrainConfig(layers=(12, 3, 1), dtype=dtype), runs, mismatches, (equivalence,), 0.66,
                           1e-4 if dtype == "float32" else 1e-12)


def test_the_first_answer_claims_the_same_model_only_when_the_exact_check_holds():
    from catnet.report_words import answer_one

    exact, drifted = answer_one(_experiment(3e-6)), answer_one(_experiment(2e-2))
    assert "the very same model" in exact and "within 3e-06" in exact
    assert "the very same model" not in drifted and "2.0e-02" in drifted and "float32" in drifted
    assert "0.80 with pixels in the course order" in exact and "falls to 0.40" in exact


def test_the_maximisation_caption_follows_the_logits():
    from catnet.report_words import _maximised_words
    from interpret.report.attributions import Maximised

    picture = None
    assert "not a picture of a cat" in _maximised_words(Maximised(122.3, 12.0, 53.5, picture))
    weaker = _maximised_words(Maximised(-1.8, 6.8, 2.0, picture))
    assert "below the 6.8" in weaker and "high-contrast" not in weaker


@pytest.mark.parametrize("real, scrambled, says", [
    ((0.90, 0.88, 0.92), (0.70, 0.72, 0.68), "locality helps it here"),
    ((0.70, 0.72, 0.68), (0.90, 0.88, 0.92), "did better on the scrambled pixels"),
    ((0.76, 0.74, 0.78), (0.74, 0.76, 0.74), "locality shows little"),
])
def test_the_convolution_finding_follows_its_runs(real, scrambled, says):
    from catnet.report_words import convolution_section
    from interpret.report.convolution import ConvolutionExperiment, ConvolutionRun

    runs = tuple(ConvolutionRun(order, seed, 1.0, accuracy, 0.1)
                 for order, accuracies in (("course", real), ("random-0", scrambled))
                 for seed, accuracy in enumerate(accuracies))
    section = convolution_section(ConvolutionExperiment(runs, 10, "a small network", 209, 50))
    from catnet.page import Paragraph

    text = " ".join(part.text for part in section.parts if isinstance(part, Paragraph))
    assert says in text


def test_a_unit_active_on_all_but_one_image_does_not_read_100_percent():
    from catnet.report_words import _share

    assert [_share(f) for f in (0.0, 1 / 209, 0.5, 208 / 209, 1.0)] == ["0%", "1%", "50%", "99%", "100%"]
