"""Hostile flags, seeds and learning rates: refused in one line before any work, or a diverged run that saves nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_tiny_dataset
from hostile import assert_refused, catnet, untouched
from hypothesis import given, settings
from hypothesis import strategies as st

from catcore.config import SEED_LIMIT, TrainConfig, check_seed, is_seed
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import CatnetError
from catcore.modelfile import ModelFile, save_model
from catnet.runs import run_training
from numpy_impl.init import initialize


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """Tiny data and a tiny model, shared: every case here is refused before it could change them."""
    folder = tmp_path_factory.mktemp("flags")
    make_tiny_dataset(folder / "data")
    save_model(folder / "m.npz", ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1,
                                           flatten="course", image_shape=(4, 4, 3)))
    return folder


def command(name: str, place) -> tuple[str, ...]:
    """The cheapest whole invocation of each command, on the tiny data."""
    data = ("--data", place / "data")
    return {
        "train": ("train", *data, "--layers", "48,3,1", "--iterations", "2"),
        "compare": ("compare", *data, "--layers", "48,3,1", "--iterations", "2"),
        "unroll": ("unroll", *data, "--layers", "48,3,1", "--iterations", "2", "--out", place / "u", "--logdir", place / "t"),
        "explain": ("explain", "--model", place / "m.npz", *data, "--methods", "saliency", "--out", place / "e"),
        "neurons": ("neurons", "--model", place / "m.npz", *data, "--am-steps", "2", "--out", place / "n", "--logdir", place / "t"),
        "bench": ("bench", "--only", "numpy-span", "--iterations", "2"),
        "fetch-data": ("fetch-data", "--dest", place / "d", "--mirror", "http://127.0.0.1:9/"),
    }[name]


def refused(place, name, *flags, fragment=""):
    with untouched(place):
        outcome = catnet(*command(name, place), *flags)
    assert_refused(outcome, fragment, code=2)
    assert outcome.stdout == ""


# --- seeds: one validator for every flag, every pixel order and every model file


SEED_FLAGS = [("train", "--seed"), ("compare", "--seed"), ("unroll", "--seed"), ("compare", "--gradcheck-seed"),
              ("explain", "--seed"), ("neurons", "--am-seed")]
NOT_SEEDS = ["-1", "4294967296", "18446744073709551616", "1.5", "", "0x10", "1e3", "nan"]


@pytest.mark.parametrize("value", NOT_SEEDS)
@pytest.mark.parametrize("name, flag", SEED_FLAGS, ids=[f"{c}{f}" for c, f in SEED_FLAGS])
def test_a_seed_no_generator_takes(place, name, flag, value):
    refused(place, name, flag, value, fragment=flag)


ORDERS = ["random-²", "random-4294967296", "random--1", "random-1e3", "random-", "RANDOM-1", "random-" + "9" * 5000]


@pytest.mark.parametrize("order", ORDERS, ids=[o[:20] for o in ORDERS])
@pytest.mark.parametrize("name, flag", [("train", "--flatten"), ("compare", "--flatten"), ("unroll", "--flatten"),
                                        ("unroll", "--orders")])
def test_a_pixel_order_whose_seed_is_no_seed(place, name, flag, order):
    refused(place, name, flag, order, fragment="flatten order")


@given(st.integers(-(2**70), 2**70) | st.sampled_from([-1, 0, SEED_LIMIT - 1, SEED_LIMIT]))
def test_the_seed_validator_takes_exactly_what_numpys_generator_takes(value):
    try:
        np.random.RandomState(value)
        numpy_takes = True
    except ValueError:
        numpy_takes = False
    assert is_seed(value) == numpy_takes
    if numpy_takes:
        assert check_seed(value) == value
    else:
        with pytest.raises(CatnetError, match="whole number from 0 to 4294967295"):
            check_seed(value)


@pytest.mark.parametrize("value", [True, 1.0, "1", None, np.float64(1)])
def test_the_seed_validator_takes_integers_only(value):
    assert not is_seed(value)


# --- the flags of every command


FLAGS = [
    ("train", ("--iterations", "0"), "--iterations"),
    ("train", ("--iterations", "10000001"), "--iterations"),
    ("train", ("--iterations", "99999999999999999999"), "--iterations"),
    ("train", ("--lr", "nan"), "--lr"),
    ("train", ("--lr", "1e400"), "--lr"),
    ("train", ("--lr", "1e-400"), "--lr"),
    ("train", ("--layers", "48,0,1"), "positive"),
    ("train", ("--layers", "48,,1"), "--layers"),
    ("train", ("--layers", "48,1000000000,1"), "GiB"),
    ("train", ("--layers", "48,3,5"), "1 unit"),
    ("train", ("--dtype", "float32", "--lr", "1e39"), "float32"),
    ("train", ("--log-every", "0"), "--log-every"),
    ("train", ("--impl", "numpy", "--device", "cuda"), "--impl torch"),
    ("train", ("--impl", "numpy", "--allow-tf32"), "--impl torch"),
    ("train", ("--impl", "torch", "--device", "cpu", "--allow-tf32"), "CUDA"),
    ("compare", ("--device", "cpu", "--allow-tf32"), "CUDA"),
    ("compare", ("--training-steps", "0"), "--training-steps"),
    ("unroll", ("--orders", ""), "--orders"),
    ("unroll", ("--orders", "course"), "once"),
    ("unroll", ("--orders", "random-1,random-1"), "once"),
    ("explain", ("--threads", "100000"), "--threads"),
    ("explain", ("--threads", "0"), "--threads"),
    ("explain", ("--ig-steps", "100000000"), "--ig-steps"),
    ("explain", ("--ig-max-steps", "0"), "--ig-max-steps"),
    ("explain", ("--ig-tolerance", "nan"), "--ig-tolerance"),
    ("explain", ("--batch-size", "0"), "--batch-size"),
    ("explain", ("--images", ""), "--images"),
    ("explain", ("--images", "-1"), "out of range"),
    ("explain", ("--images", "99999999999999999999"), "out of range"),
    ("explain", ("--methods", "gradcam"), "gradcam"),
    ("explain", ("--methods", "occlusion"), "occlusion"),
    ("explain", ("--device", "tpu"), "--device"),
    ("neurons", ("--k", "0"), "--k"),
    ("neurons", ("--k", "7"), "--k 7"),
    ("neurons", ("--am-steps", "100000000000"), "--am-steps"),
    ("neurons", ("--am-radius", "inf"), "--am-radius"),
    ("neurons", ("--am-radius", "0"), "--am-radius"),
    ("neurons", ("--am-smoothness", "inf"), "--am-smoothness"),
    ("neurons", ("--am-smoothness", "-1"), "--am-smoothness"),
    ("bench", ("--threads", "100000"), "--threads"),
    ("bench", ("--repeats", "0"), "--repeats"),
    ("bench", ("--only", "gpu-magic"), "--only"),
    ("bench", ("--iterations", "0"), "--iterations"),
    ("fetch-data", ("--timeout", "1e300"), "--timeout"),
    ("fetch-data", ("--timeout", "inf"), "--timeout"),
    ("fetch-data", ("--timeout", "nan"), "--timeout"),
    ("fetch-data", ("--timeout", "0"), "--timeout"),
]


@pytest.mark.parametrize("name, flags, fragment", FLAGS, ids=[f"{n}{' '.join(f)}"[:60] for n, f, _ in FLAGS])
def test_a_flag_out_of_its_range_or_contradicting_another(place, name, flags, fragment):
    refused(place, name, *flags, fragment=fragment)


def test_explain_with_a_hundred_thousand_threads_never_reaches_torch(place, tmp_path):
    import sys

    loaded = "torch" in sys.modules
    outcome = catnet("explain", "--model", place / "m.npz", "--data", place / "data", "--threads", "100000",
                     "--out", tmp_path / "out")
    assert_refused(outcome, "--threads", code=2)
    assert not (tmp_path / "out").exists() and ("torch" in sys.modules) == loaded


# --- training that ends in a useless model


DIVERGING = {
    "overflow-on-the-last-step": ("--lr", "1e300", "--iterations", "1"),
    "overflow-on-the-last-step-torch": ("--lr", "1e300", "--iterations", "1", "--impl", "torch"),
    "cost-ends-above-its-start": ("--lr", "1000", "--iterations", "200"),
    "cost-ends-above-its-start-torch": ("--lr", "1000", "--iterations", "200", "--impl", "torch", "--device", "cpu"),
    "deep-relu-net-too-fast": ("--layers", "48,20,20,20,20,1", "--init", "he", "--lr", "30", "--iterations", "200"),
    "float32": ("--lr", "1000", "--iterations", "50", "--dtype", "float32"),
}


@pytest.mark.parametrize("flags", DIVERGING.values(), ids=DIVERGING.keys())
def test_a_run_that_ends_in_a_useless_model_saves_nothing(tmp_path, flags):
    data = make_tiny_dataset(tmp_path / "data")
    out = tmp_path / "out"
    layers = () if "--layers" in flags else ("--layers", "48,3,1")
    with untouched(tmp_path):
        outcome = catnet("train", "--data", data, *layers, *flags, "--quiet", "--save", out / "m.npz",
                         "--metrics-json", out / "m.json", "--logdir", out / "tb")
    line = assert_refused(outcome, "training diverged", "try a smaller --lr", code=1)
    assert ("rose from" in line and "after the last update" in line) or "is nan" in line or "became" in line


def test_a_diverging_unroll_is_refused_too(tmp_path):
    data = make_tiny_dataset(tmp_path / "data")
    with untouched(tmp_path):
        outcome = catnet("unroll", "--data", data, "--layers", "48,3,1", "--lr", "1000", "--iterations", "200",
                         "--out", tmp_path / "u", "--logdir", tmp_path / "t")
    assert_refused(outcome, "training diverged", code=1)


@pytest.fixture(scope="module")
def tiny_arrays(tmp_path_factory):
    dataset = load_dataset(make_tiny_dataset(tmp_path_factory.mktemp("legit")))
    return {dtype: prepare_arrays(dataset, TrainConfig(layers=(48, 4, 1), dtype=dtype)) for dtype in ("float64", "float32")}


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(1e-6, 0.05), iterations=st.integers(1, 60), seed=st.integers(0, SEED_LIMIT - 1),
       dtype=st.sampled_from(["float64", "float32"]), init=st.sampled_from(["dls", "small", "he", "xavier"]))
def test_a_step_small_enough_never_trips_the_divergence_rule(tiny_arrays, lr, iterations, seed, dtype, init):
    """Gradient descent with a small step never ends above its start beyond rounding: legitimate runs pass."""
    config = TrainConfig(layers=(48, 4, 1), init=init, learning_rate=lr, iterations=iterations, seed=seed, dtype=dtype)
    run = run_training(config, tiny_arrays[dtype])
    assert run.final_cost <= run.result.costs[0] * (1 + 1e-3)
