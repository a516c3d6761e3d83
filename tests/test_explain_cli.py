"""catnet explain through the real command line: bad input, then the real data end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli
from PIL import Image

from catcore.data import load_dataset
from catcore.flatten import flatten_order
from catcore.modelfile import ModelFile, load_model, save_model
from numpy_impl.init import initialize
from numpy_impl.network import predict_proba


def _model_file(path, layers, image_shape):
    save_model(path, ModelFile(params=initialize(layers, seed=1), init="dls", seed=1, flatten="course",
                               image_shape=image_shape))
    return path


@pytest.fixture
def tiny_model_file(tmp_path):
    return _model_file(tmp_path / "tiny.npz", (48, 3, 1), (4, 4, 3))


def _nothing_written(folder) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("case, fragment", [
    ("missing", "does not exist"),
    ("corrupt", "not a catnet model file"),
    ("other-shape", "trained on (64, 64, 3) images, the data holds (4, 4, 3)"),
])
def test_a_bad_model_file_is_one_line_and_writes_nothing(tmp_path, tiny_data, case, fragment):
    path = tmp_path / "model.npz"
    if case == "corrupt":
        path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    elif case == "other-shape":
        _model_file(path, (12288, 2, 1), (64, 64, 3))
    out = tmp_path / "out"
    proc = run_cli("explain", "--model", path, "--data", tiny_data, "--out", out)
    assert_clean_error(proc, fragment)
    assert _nothing_written(out)


@pytest.mark.parametrize("flags, fragment", [
    (["--methods", "saliency,gradcam"], "unknown method(s) gradcam"),
    (["--images", "0,6"], "image index 6 is out of range: the test set has 6 images"),
    (["--images", "cats"], "--images takes test, train or comma-separated"),
    (["--methods", "occlusion"], "occlusion needs images of at least 8 px"),
])
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, tiny_data, tiny_model_file, flags, fragment):
    out = tmp_path / "out"
    proc = run_cli("explain", "--model", tiny_model_file, "--data", tiny_data, "--out", out, *flags)
    assert_clean_error(proc, fragment)
    assert _nothing_written(out)


def test_an_output_folder_that_cannot_be_made_is_refused_before_computing(tmp_path, tiny_data, tiny_model_file):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    flags = ("explain", "--model", tiny_model_file, "--data", tiny_data, "--methods", "saliency")
    assert_clean_error(run_cli(*flags, "--out", blocker / "out"), "cannot create output folder")
    assert_clean_error(run_cli(*flags, "--out", blocker), "is a file, not a folder")
    assert blocker.read_text() == "not a folder"


def test_tiny_data_runs_with_the_methods_that_fit_it(tmp_path, tiny_data, tiny_model_file):
    out = tmp_path / "out"
    proc = run_cli("explain", "--model", tiny_model_file, "--data", tiny_data, "--out", out,
                   "--methods", "saliency,deeplift", "--images", "1,2")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "overview-deeplift.png", "overview-saliency.png", "summary.json", "test-001.png", "test-002.png"]


@pytest.fixture(scope="module")
def course_model(tmp_path_factory, real_data):
    path = tmp_path_factory.mktemp("explain") / "course.npz"
    proc = run_cli("train", "--save", path, "--quiet", "--data", real_data)
    assert proc.returncode == 0, proc.stderr
    return path


def _open_png(path):
    with Image.open(path) as image:
        image.verify()  # a complete, uncorrupted PNG
    with Image.open(path) as image:
        return image.format, image.size


@pytest.mark.realdata
def test_explain_end_to_end_on_the_real_data(tmp_path, real_data, course_model):
    out, logdir = tmp_path / "out", tmp_path / "tb"
    proc = run_cli("explain", "--model", course_model, "--data", real_data, "--images", "0,5,7",
                   "--methods", "saliency,integrated-gradients,occlusion", "--out", out, "--logdir", logdir)
    assert proc.returncode == 0, proc.stderr
    assert "Explained 3 test images" in proc.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["overview-integrated-gradients.png", "overview-occlusion.png", "overview-saliency.png",
                     "summary.json", "test-000.png", "test-005.png", "test-007.png"]
    for name in (n for n in names if n.endswith(".png")):
        fmt, (width, height) = _open_png(out / name)
        assert fmt == "PNG" and width > 300 and height > 150

    summary = json.loads((out / "summary.json").read_text())
    model = load_model(course_model)
    test = load_dataset(real_data).test
    X = flatten_order(model.flatten).flatten(test.images[[0, 5, 7]]) / 255.0  # (12288, 3)
    expected = predict_proba(model.params, X)[0]  # the NumPy reference's P(cat)
    got = [entry["probability"] for entry in summary["per_image"]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    for entry in summary["per_image"]:
        assert entry["correct"] == (int(entry["probability"] > 0.5) == entry["label"] == test.labels[entry["index"]])
        ig = entry["methods"]["integrated-gradients"]
        assert abs(ig["delta"]) <= summary["settings"]["ig_tolerance"]
        assert set(entry["methods"]) == {"saliency", "integrated-gradients", "occlusion"}

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (run_dir,) = logdir.glob("explain-*")  # one run folder per invocation, as train, compare and unroll make
    events = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    events.Reload()
    images = {tag for tag in events.Tags()["tensors"]
              if events.SummaryMetadata(tag).plugin_data.plugin_name == "images"}  # what the Images dashboard shows
    assert {"images/test-000", "images/test-005", "images/test-007", "overview/occlusion"} <= images


@pytest.mark.realdata
def test_explain_evaluate_on_the_real_data(tmp_path, real_data, course_model):
    out = tmp_path / "out"
    proc = run_cli("explain", "--model", course_model, "--data", real_data, "--images", "1,5,13",
                   "--methods", "saliency,deeplift", "--evaluate", "--out", out)
    assert proc.returncode == 0, proc.stderr
    for name in ("deletion-insertion.png", "randomisation.png"):
        assert _open_png(out / name)[0] == "PNG"
    summary = json.loads((out / "summary.json").read_text())
    evaluation = summary["evaluation"]
    assert evaluation["randomisation"]["stages"] == ["layer 4 (output)", "layers 3-4", "layers 2-4", "layers 1-4"]
    assert evaluation["completeness"]["deeplift"]["max_abs_gap"] < 1e-10
    for method in ("saliency", "deeplift"):
        figures = summary["methods"][method]
        assert 0 <= figures["deletion_auc_mean"] <= 1 and 0 <= figures["insertion_auc_mean"] <= 1
        assert len(figures["spearman_mean_by_stage"]) == 4
    assert "random order" in proc.stdout and "Flagged by the randomisation check" in proc.stdout
    assert not list(out.glob("*.part"))


def test_cuda_without_a_gpu_is_refused_before_any_folder_is_made(tmp_path, tiny_data, tiny_model_file):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "out"
    proc = run_cli("explain", "--model", tiny_model_file, "--data", tiny_data, "--out", out,
                   "--methods", "saliency", "--device", "cuda")
    assert_clean_error(proc, "torch sees no CUDA GPU")
    assert not out.exists()
