"""Every bad input of issue 2 through the real CLI: one line on stderr, non-zero exit, no traceback, no output file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import assert_clean_error, make_tiny_dataset, run_cli, write_split

from catcore.modelfile import ModelFile, save_model
from numpy_impl.init import initialize

TINY = ("--layers", "48,3,1", "--iterations", "3")


def train(data, *args):
    return run_cli("train", "--data", data, *TINY, *args)


def assert_no_files(folder):
    assert not folder.exists() or list(folder.iterdir()) == []


# --- the data


def test_missing_data_folder(tmp_path):
    assert_clean_error(train(tmp_path / "nowhere"), "dataset not found", str(tmp_path / "nowhere"), "catnet fetch-data")


def test_truncated_hdf5(tiny_data):
    path = tiny_data / "train_catvnoncat.h5"
    path.write_bytes(path.read_bytes()[:1000])
    assert_clean_error(train(tiny_data), "train_catvnoncat.h5", "truncated or corrupt")


def test_missing_dataset_inside_the_file(tiny_data):
    with h5py.File(tiny_data / "test_catvnoncat.h5", "a") as f:
        del f["test_set_y"]
    assert_clean_error(train(tiny_data), "test_set_y missing")


@pytest.mark.parametrize(
    "images, labels, fragment",
    [
        (np.zeros((4, 4, 4), np.uint8), np.array([0, 1, 0, 1]), "(m, height, width, 3)"),
        (np.zeros((4, 4, 4, 3), np.float64), np.array([0, 1, 0, 1]), "uint8"),
        (np.zeros((4, 4, 4, 3), np.uint8), np.array([0, 1, 3, 1]), "found 3"),
        (np.zeros((4, 4, 4, 3), np.uint8), np.array([0, 1, 0]), "4 images but 3 labels"),
    ],
    ids=["shape", "dtype", "labels", "counts"],
)
def test_bad_training_file(tiny_data, images, labels, fragment):
    write_split(tiny_data / "train_catvnoncat.h5", "train", images, labels)
    assert_clean_error(train(tiny_data), "train_catvnoncat.h5", fragment)


def test_first_layer_must_match_the_images(tiny_data):
    assert_clean_error(run_cli("train", "--data", tiny_data), "first layer size is 12288", "--layers 48,20,7,5,1")


# --- the flags


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (("--lr", "0"), "--lr: must be positive"),
        (("--lr", "-0.1"), "--lr: must be positive"),
        (("--lr", "inf"), "--lr: must be positive and finite"),
        (("--iterations", "0"), "--iterations: must be from 1 to"),
        (("--init", "zeros"), "--init: invalid choice"),
        (("--impl", "jax"), "--impl: invalid choice"),
        (("--device", "tpu"), "--device: invalid choice"),
        (("--layers", "48,x,1"), "expected comma-separated integers"),
        (("--layers", "48,3,2"), "must have 1 unit"),
        (("--flatten", "spiral"), "unknown flatten order 'spiral'"),
        (("--save", "model.pt"), "--save expects a .npz path"),
        (("--metrics-json", "m.txt"), "--metrics-json expects a .json path"),
    ],
)
def test_bad_flag(tiny_data, flags, fragment):
    assert_clean_error(run_cli("train", "--data", tiny_data, "--layers", "48,3,1", *flags), fragment)


def test_cuda_where_there_is_none(tiny_data):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert_clean_error(train(tiny_data, "--impl", "torch", "--device", "cuda"), "--device cuda", "no CUDA GPU")


# --- failing runs leave no output behind


def test_diverging_run_writes_nothing(tiny_data, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("train", "--data", tiny_data, "--layers", "48,20,20,20,20,1", "--init", "he", "--lr", "1e4",
                   "--iterations", "30", "--quiet", "--save", out / "m.npz", "--metrics-json", out / "m.json",
                   "--logdir", out / "runs")
    assert_clean_error(proc, "training diverged", "at iteration 5")
    assert proc.returncode == 1 and proc.stdout == ""
    assert not (out / "m.npz").exists() and not (out / "m.json").exists()
    assert_no_files(out / "runs")


def test_unwritable_output_folder_fails_before_training(tiny_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    proc = train(tiny_data, "--save", blocker / "m.npz")
    assert_clean_error(proc, "cannot create output folder")
    assert proc.stdout == ""  # it stopped before the first cost


# --- predict


@pytest.fixture
def model_path(tmp_path):
    model = ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1, flatten="course", image_shape=(4, 4, 3))
    return save_model(tmp_path / "model.npz", model)


@pytest.fixture
def photo(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(path)
    return path


def test_predict_corrupt_model(model_path, photo):
    model_path.write_bytes(b"PK\x03\x04 not really a zip")
    assert_clean_error(run_cli("predict", "--model", model_path, photo), "not a catnet model file")


def test_predict_missing_model(tmp_path, photo):
    assert_clean_error(run_cli("predict", "--model", tmp_path / "none.npz", photo), "does not exist")


def test_predict_model_of_another_architecture(model_path, photo):
    with np.load(model_path) as npz:
        arrays = dict(npz)
    arrays["W1"] = np.zeros((3, 12288))  # a course-sized W1 in a model that says it reads 48 inputs
    np.savez(model_path, **arrays)
    assert_clean_error(run_cli("predict", "--model", model_path, photo), "W1 is (3, 12288)")


@pytest.mark.parametrize("content", [b"", b"hello, I am text", b"\x89PNG\r\n\x1a\n\x00\x00"], ids=["empty", "text", "cut"])
def test_predict_not_an_image_prints_nothing(model_path, photo, tmp_path, content):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    proc = run_cli("predict", "--model", model_path, photo, bad)
    assert_clean_error(proc, str(bad))
    assert proc.stdout == ""  # the good photo before it is not reported either


def test_predict_missing_image(model_path, photo, tmp_path):
    proc = run_cli("predict", "--model", model_path, photo, tmp_path / "gone.jpg")
    assert_clean_error(proc, "gone.jpg", "no such image file")
    assert proc.stdout == ""


def test_predict_needs_a_model_and_an_image(model_path):
    assert_clean_error(run_cli("predict", "--model", model_path), "required: IMAGE")
    assert_clean_error(run_cli("predict", "x.png"), "required: --model")


def test_train_on_a_made_up_layout_is_still_one_line(tmp_path):
    data = make_tiny_dataset(tmp_path / "d")
    (data / "test_catvnoncat.h5").write_text("not hdf5 at all")
    assert_clean_error(train(data), "test_catvnoncat.h5", "not a readable HDF5 file")
