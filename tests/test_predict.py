"""`catnet predict`: photos become the columns the model was trained on, and the CLI reports P(cat) per photo."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import CatnetError
from catcore.flatten import flatten_order
from catcore.modelfile import ModelFile, save_model
from catnet.images import load_image, load_images
from catnet.runs import run_training
from numpy_impl.init import initialize
from numpy_impl.network import predict_proba

LINE = re.compile(r"^(?P<path>\S+)\s+P\(cat\) = (?P<p>[0-9.]+)  (?P<label>cat|non-cat)$")


def save_png(path, pixels):
    Image.fromarray(pixels).save(path)
    return path


def test_an_image_of_the_models_size_is_read_pixel_for_pixel(tmp_path):
    pixels = np.random.RandomState(0).randint(0, 256, size=(4, 5, 3)).astype(np.uint8)
    np.testing.assert_array_equal(load_image(save_png(tmp_path / "a.png", pixels), (4, 5, 3)), pixels)


def test_a_larger_photo_is_resized_to_the_model_input(tmp_path):
    # a smooth left-to-right ramp stays a ramp when shrunk
    ramp = np.repeat(np.linspace(0, 255, 200).astype(np.uint8)[None, :, None], 3, axis=2).repeat(120, axis=0)
    Image.fromarray(ramp).save(tmp_path / "big.jpg", quality=95)
    small = load_image(tmp_path / "big.jpg", (6, 8, 3))
    assert small.shape == (6, 8, 3) and small.dtype == np.uint8
    assert np.all(np.diff(small[3, :, 0].astype(int)) > 0)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_grey_transparent_and_palette_images_become_rgb(tmp_path, mode):
    pixels = np.random.RandomState(2).randint(0, 256, size=(4, 4, 3)).astype(np.uint8)
    Image.fromarray(pixels).convert(mode).save(tmp_path / "x.png")
    with Image.open(tmp_path / "x.png") as image:
        assert image.mode == mode
        expected = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(load_image(tmp_path / "x.png", (4, 4, 3)), expected)


def test_images_are_flattened_in_the_models_order_and_scaled(tmp_path):
    pixels = np.random.RandomState(1).randint(0, 256, size=(2, 4, 4, 3)).astype(np.uint8)
    paths = [save_png(tmp_path / f"{i}.png", p) for i, p in enumerate(pixels)]
    order = flatten_order("planar", (4, 4, 3))
    np.testing.assert_array_equal(load_images(paths, order), order.flatten(pixels) / 255.0)


def test_a_text_file_is_not_an_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(CatnetError, match="notes.jpg: not an image"):
        load_image(tmp_path / "notes.jpg", (4, 4, 3))


def test_a_truncated_jpeg_is_an_error(tmp_path):
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(tmp_path / "whole.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:300])
    with pytest.raises(CatnetError, match="cut.jpg: cannot decode"):
        load_image(tmp_path / "cut.jpg", (4, 4, 3))


def test_cli_prints_probability_and_label_per_image(twin_runs, tmp_path):
    split = load_dataset(twin_runs["data"]).test
    paths = [save_png(tmp_path / f"test{i}.png", split.images[i]) for i in range(len(split))]
    from catcore.modelfile import load_model

    model = load_model(twin_runs["torch"] / "model.npz")  # trained by the torch twin, predicted by NumPy
    expected = predict_proba(model.params, split.X(flatten_order("course", (4, 4, 3))))[0]
    proc = run_cli("predict", "--model", twin_runs["torch"] / "model.npz", *paths)
    assert proc.returncode == 0, proc.stderr
    lines = [LINE.match(line) for line in proc.stdout.splitlines()]
    assert all(lines) and [m["path"] for m in lines] == [str(p) for p in paths]
    np.testing.assert_allclose([float(m["p"]) for m in lines], expected, atol=5e-5)
    assert [m["label"] for m in lines] == ["cat" if p > 0.5 else "non-cat" for p in expected]


def test_cli_predict_does_not_import_torch(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import REPO

    model = ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1, flatten="course", image_shape=(4, 4, 3))
    save_model(tmp_path / "m.npz", model)
    save_png(tmp_path / "a.png", np.zeros((9, 9, 3), np.uint8))
    script = (
        "import json, sys\nfrom catnet.cli import main\n"
        f"code = main(['predict', '--model', {str(tmp_path / 'm.npz')!r}, {str(tmp_path / 'a.png')!r}])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'captum', 'tensorboard'))]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == [0, []]


@pytest.mark.realdata
def test_course_model_on_test_photos_matches_its_test_predictions(real_data, tmp_path):
    config = TrainConfig()
    dataset = load_dataset(real_data)
    arrays = prepare_arrays(dataset, config)
    run = run_training(config, arrays)
    model = ModelFile(params=run.result.params, init="dls", seed=1, flatten="course", image_shape=(64, 64, 3))
    save_model(tmp_path / "course.npz", model)
    picks = [0, 5, 6, 13]  # cats and non-cats of the test set, saved as the PNGs a user would have
    paths = [save_png(tmp_path / f"test{i}.png", dataset.test.images[i]) for i in picks]
    np.testing.assert_array_equal(load_images(paths, flatten_order("course")), arrays.X_test[:, picks])

    proc = run_cli("predict", "--model", tmp_path / "course.npz", *paths)
    assert proc.returncode == 0, proc.stderr
    printed = [float(LINE.match(line)["p"]) for line in proc.stdout.splitlines()]
    np.testing.assert_allclose(printed, predict_proba(run.result.params, arrays.X_test)[0, picks], atol=5e-5)
