"""catnet unroll: pixel order, mismatched orders, and the exact permutation equivalence."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset
from catcore.flatten import flatten_order
from interpret.unroll import (
    mismatch_table,
    permutation_equivalence,
    relative_permutation,
    rounding_tolerance,
    train_in_orders,
)
from tests.conftest import assert_clean_error, run_cli

TINY = TrainConfig(layers=(48, 6, 4, 1), learning_rate=0.05, iterations=300, log_every=300)


@pytest.mark.parametrize("first_layer", ["primal", "span"])
@pytest.mark.parametrize("order", ["planar", "random-3"])
def test_permuted_pixels_with_permuted_W1_follow_the_reference_trajectory(tiny_data, first_layer, order):
    dataset = load_dataset(tiny_data)
    config = replace(TINY, first_layer=first_layer)
    (reference,) = train_in_orders(dataset, config, ("course",))
    equivalence = permutation_equivalence(dataset, config, reference, order)
    assert equivalence.max_difference <= 1e-12, equivalence
    assert equivalence.cost_difference <= 1e-12, equivalence


def test_permuted_pixels_alone_take_another_path(tiny_data):
    """The control: without permuting W1 the same check fails, so the one above can."""
    dataset = load_dataset(tiny_data)
    reference, shuffled = train_in_orders(dataset, TINY, ("course", "random-3"))
    difference = np.linalg.norm(shuffled.params.layers[0].W - reference.params.layers[0].W)
    assert difference / np.linalg.norm(reference.params.layers[0].W) > 1e-2


def test_relative_permutation_takes_the_reference_columns_to_the_other_order(tiny_data):
    dataset = load_dataset(tiny_data)
    planar, shuffled = (flatten_order(name, dataset.image_shape) for name in ("planar", "random-5"))
    rel = relative_permutation(planar, shuffled)
    np.testing.assert_array_equal(dataset.train.X(planar)[rel], dataset.train.X(shuffled))


def test_mismatch_table_diagonal_is_each_runs_own_test_accuracy(tiny_data):
    dataset = load_dataset(tiny_data)
    runs = train_in_orders(dataset, TINY, ("course", "planar"))
    table = mismatch_table(dataset, runs, TINY.dtype)
    assert len(table) == 4
    for run in runs:
        (diagonal,) = [m for m in table if m.train_order == m.eval_order == run.order]
        assert diagonal.test_accuracy == run.test_accuracy


@pytest.mark.realdata
def test_unroll_end_to_end_on_the_real_data(real_data, tmp_path):
    out, logdir = tmp_path / "out", tmp_path / "runs"
    proc = run_cli("unroll", "--data", real_data, "--iterations", "300", "--orders", "planar,random-0",
                   "--out", out, "--logdir", logdir)
    assert proc.returncode == 0, proc.stderr
    assert "Why the order does not matter" in proc.stdout
    assert "the same trajectory, to rounding" in proc.stdout
    document = json.loads((out / "unroll.json").read_text())
    assert [r["order"] for r in document["runs"]] == ["course", "planar", "random-0"]
    assert len(document["mismatch"]) == 9
    assert document["equivalence"]["within_tolerance"] is True
    assert max(r["max_difference"] for r in document["equivalence"]["runs"]) <= rounding_tolerance("float64")
    assert (out / "costs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    [experiment] = logdir.glob("unroll-*")  # one fresh folder per invocation
    for name in ("course", "planar", "random-0", "summary"):
        assert list((experiment / name).glob("events.out.tfevents.*")), name


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("--orders", "planar,zigzag"), "unknown flatten order 'zigzag'"),
        (("--orders", "planar,course"), "each order may appear once"),
        (("--orders", ","), "--orders needs at least one order"),
    ],
)
def test_unroll_rejects_bad_orders(tiny_data, tmp_path, args, fragment):
    proc = run_cli("unroll", "--data", tiny_data, "--layers", "48,3,1", *args, "--out", tmp_path / "out",
                   "--logdir", tmp_path / "runs")
    assert_clean_error(proc, fragment)
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_unroll_rejects_a_first_layer_that_does_not_fit_the_images(tiny_data, tmp_path):
    proc = run_cli("unroll", "--data", tiny_data, "--out", tmp_path / "out", "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "the first layer size is 12288 but the images have 48 values")
    assert not (tmp_path / "out").exists()


def test_unroll_rejects_an_output_folder_that_is_a_file(tiny_data, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    proc = run_cli("unroll", "--data", tiny_data, "--layers", "48,3,1", "--out", blocker,
                   "--logdir", tmp_path / "runs")
    assert_clean_error(proc, "cannot create output folder")
    assert blocker.read_text() == "not a folder"
    assert not (tmp_path / "runs").exists()
