"""catnet neurons through the real command line: the real data end to end, and every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.modelfile import ModelFile, save_model
from catnet.runs import run_training
from numpy_impl.init import initialize
from tests.conftest import assert_clean_error, run_cli

PNG = b"\x89PNG\r\n\x1a\n"


def model_file(path, params, image_shape, C=None, flatten="course", init="dls"):
    return save_model(path, ModelFile(params=params, init=init, seed=1, flatten=flatten,
                                      image_shape=image_shape, span_coefficients=C))


@pytest.mark.realdata
def test_neurons_end_to_end_on_the_real_data(real_data, tmp_path):
    config = TrainConfig()
    run = run_training(config, prepare_arrays(load_dataset(real_data), config), impl="numpy")
    model = model_file(tmp_path / "model.npz", run.result.params, (64, 64, 3), run.result.span_coefficients)
    out, logdir = tmp_path / "out", tmp_path / "runs"

    proc = run_cli("neurons", "--model", model, "--data", real_data, "--k", "3", "--am-steps", "20", "--out", out,
                   "--logdir", logdir)

    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["span"]["source"] == "stored"
    assert summary["span"]["relative_error"] <= 1e-12
    assert summary["span"]["least_squares_relative_error"] <= 1e-10
    assert len(summary["span"]["units"]) == 20
    layers = {(top["layer"], top["split"]): top["units"] for top in summary["top_images"]}
    assert sorted(layers) == [(layer, split) for layer in (1, 2, 3, 4) for split in ("test", "train")]
    assert [len(units) for (_, split), units in sorted(layers.items()) if split == "train"] == [20, 7, 5, 1]
    cat_logit = layers[(4, "train")][0]
    z_highest = [image["z"] for image in cat_logit["highest"]]
    assert len(z_highest) == 3 and z_highest == sorted(z_highest, reverse=True)
    units = summary["activation_maximisation"]["units"]
    assert len(units) == 20 + 7 + 5 + 1
    assert all(u["norm"] <= summary["activation_maximisation"]["radius"] * (1 + 1e-12) for u in units)
    assert len(summary["figures"]) == 2 + 1 + 8 + 4 + 1
    for name in summary["figures"]:
        assert (out / name).read_bytes()[:8] == PNG, name
    (run_dir,) = logdir.glob("neurons-*")  # one run folder per invocation, as train, compare and unroll make
    assert list(run_dir.glob("events.out.tfevents.*"))
    (metadata,) = run_dir.glob("*/layer3_activations/metadata.tsv")
    assert len(metadata.read_text().splitlines()) == 1 + 209 + 50
    states = {entry["layer"]: entry for entry in summary["unit_states"]["layers"]}
    assert sorted(states) == [1, 2, 3]
    for layer, units in ((1, 20), (2, 7), (3, 5)):
        top = layers[(layer, "train")]
        dead = [u["unit"] for u in top if max(image["z"] for image in u["highest"]) <= 0]
        assert states[layer]["dead"] == dead  # a dead unit's highest z over the training images is not above 0
        assert set(states[layer]["dead"]).isdisjoint(states[layer]["always_on"])


def test_neurons_takes_its_model_as_model_like_every_command(tiny_data, tmp_path):
    proc = run_cli("neurons", tmp_path / "model.npz", "--data", tiny_data, "--out", tmp_path / "out")
    assert_clean_error(proc, "--model")


def test_neurons_refuses_a_missing_model(tiny_data, tmp_path):
    proc = run_cli("neurons", "--model", tmp_path / "nope.npz", "--data", tiny_data, "--out", tmp_path / "out",
                   "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "does not exist")
    assert not (tmp_path / "out").exists()


def test_neurons_refuses_a_corrupt_model(tiny_data, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    proc = run_cli("neurons", "--model", broken, "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "not a catnet model file")
    assert not (tmp_path / "out").exists()


def test_neurons_refuses_a_model_for_other_images(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((192, 3, 1)), (8, 8, 3))
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "the model reads 8x8x3 images (192 inputs) but the data", "holds 4x4x3 images")
    assert not (tmp_path / "out").exists()


def test_neurons_refuses_span_coefficients_from_another_training_set(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((48, 3, 1)), (4, 4, 3), C=np.zeros((3, 5)))
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "C1 are (3, 5) but 3 units and 12 training images need (3, 12)")


def test_neurons_refuses_more_top_images_than_a_split_holds(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((48, 3, 1)), (4, 4, 3))
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--k", "7", "--out", tmp_path / "out",
                   "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "--k 7 asks for more images than the smaller split holds (6)")


def test_neurons_refuses_an_output_folder_that_is_a_file(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((48, 3, 1)), (4, 4, 3))
    blocker = tmp_path / "out"
    blocker.write_text("keep me")
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--out", blocker, "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "cannot create output folder")
    assert blocker.read_text() == "keep me" and not (tmp_path / "runs").exists()


def test_neurons_refuses_an_unknown_flatten_order_in_the_model(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((48, 3, 1)), (4, 4, 3), flatten="spiral")
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "unknown flatten order 'spiral'")


def test_neurons_refuses_a_model_whose_initial_weights_cannot_be_redrawn(tiny_data, tmp_path):
    model = model_file(tmp_path / "m.npz", initialize((48, 3, 1)), (4, 4, 3), init="lecun")
    proc = run_cli("neurons", "--model", model, "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "init scheme 'lecun' is unknown")
    assert not (tmp_path / "out").exists()
