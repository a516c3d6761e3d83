"""Model files: a round trip keeps every array and field, either twin reads what the other wrote, bad files fail clearly."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from catcore.data import load_dataset
from catcore.errors import CatnetError
from catcore.flatten import flatten_order
from catcore.modelfile import ModelFile, load_model, save_model
from numpy_impl.init import initialize
from numpy_impl.network import accuracy, predict_proba


def model_file(dtype=np.float64, **overrides) -> ModelFile:
    fields = dict(
        params=initialize((48, 5, 1), "he", seed=3, dtype=dtype),
        init="he", seed=3, flatten="planar", image_shape=(4, 4, 3),
        span_coefficients=np.arange(5 * 12, dtype=dtype).reshape(5, 12),
        extra={"impl": "numpy", "test_accuracy": 0.5},
    )
    return ModelFile(**{**fields, **overrides})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_keeps_everything(tmp_path, dtype):
    original = model_file(dtype)
    loaded = load_model(save_model(tmp_path / "m.npz", original), expect_layers=(48, 5, 1))
    for name, array in original.params.named_arrays().items():
        np.testing.assert_array_equal(loaded.params.named_arrays()[name], array)
        assert loaded.params.named_arrays()[name].dtype == dtype
    np.testing.assert_array_equal(loaded.span_coefficients, original.span_coefficients)
    assert (loaded.init, loaded.seed, loaded.flatten, loaded.image_shape) == ("he", 3, "planar", (4, 4, 3))
    assert loaded.extra == original.extra and loaded.layer_sizes == (48, 5, 1)


def test_files_hold_no_pickles(tmp_path):
    path = save_model(tmp_path / "m.npz", model_file())
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"meta", "W1", "b1", "W2", "b2", "C1"}
        assert json.loads(str(npz["meta"]))["layer_sizes"] == [48, 5, 1]


def test_saving_is_atomic_and_checks_the_suffix(tmp_path):
    with pytest.raises(CatnetError, match="end in .npz"):
        save_model(tmp_path / "m.pkl", model_file())
    save_model(tmp_path / "m.npz", model_file())
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left beside it


def test_missing_file(tmp_path):
    with pytest.raises(CatnetError, match="does not exist"):
        load_model(tmp_path / "nope.npz")


def test_corrupt_file(tmp_path):
    path = save_model(tmp_path / "m.npz", model_file())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CatnetError, match="not a catnet model file"):
        load_model(path)


def test_npz_without_metadata(tmp_path):
    np.savez(tmp_path / "m.npz", W1=np.zeros((1, 48)))
    with pytest.raises(CatnetError, match="no 'meta' entry"):
        load_model(tmp_path / "m.npz")


def test_another_architecture_is_rejected(tmp_path):
    path = save_model(tmp_path / "m.npz", model_file())
    with pytest.raises(CatnetError, match=re.escape("the model has layers [48, 5, 1], expected [12288, 20, 7, 5, 1]")):
        load_model(path, expect_layers=(12288, 20, 7, 5, 1))


def test_arrays_that_contradict_the_metadata_are_rejected(tmp_path):
    save_model(tmp_path / "m.npz", model_file())
    with np.load(tmp_path / "m.npz") as npz:
        arrays = dict(npz)
    arrays["W2"] = np.zeros((1, 7))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CatnetError, match=r"W2 is \(1, 7\)"):
        load_model(tmp_path / "bad.npz")


def test_non_finite_weights_are_rejected(tmp_path):
    params = model_file().params
    params.layers[1].W[0, 0] = np.nan
    path = save_model(tmp_path / "m.npz", model_file(params=params))
    with pytest.raises(CatnetError, match="NaN or infinite"):
        load_model(path)


# --- across the twins: files written by the real CLI (the session's `twin_runs`)


def test_torch_trained_model_is_read_by_numpy(twin_runs):
    model = load_model(twin_runs["torch"] / "model.npz", expect_layers=(48, 6, 1))
    assert model.extra["impl"] == "torch"
    dataset = load_dataset(twin_runs["data"])
    order = flatten_order(model.flatten, model.image_shape)
    reported = json.loads((twin_runs["torch"] / "metrics.json").read_text())
    assert accuracy(model.params, dataset.test.X(order), dataset.test.Y()) == reported["test_accuracy"]
    assert accuracy(model.params, dataset.train.X(order), dataset.train.Y()) == reported["train_accuracy"] == 1.0


def test_numpy_trained_model_is_read_by_torch(twin_runs):
    import torch

    from torch_impl.model import CatNet
    from torch_impl.model import predict_proba as torch_predict_proba

    model = load_model(twin_runs["numpy"] / "model.npz")
    assert model.extra["impl"] == "numpy"
    X = load_dataset(twin_runs["data"]).test.X(flatten_order(model.flatten, model.image_shape))  # (n_x, m)
    twin = CatNet.from_params(model.params, dtype=torch.float64)
    np.testing.assert_allclose(
        torch_predict_proba(twin, X), predict_proba(model.params, X)[0], rtol=0, atol=1e-15
    )


def test_both_twins_saved_the_same_model(twin_runs):
    numpy_model, torch_model = (load_model(twin_runs[impl] / "model.npz") for impl in ("numpy", "torch"))
    for name, array in numpy_model.params.named_arrays().items():
        np.testing.assert_allclose(torch_model.params.named_arrays()[name], array, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("extra, fragment", [
    ({"learning_rate": "abc"}, "extra.learning_rate must be a positive finite number"),
    ({"learning_rate": -0.1}, "extra.learning_rate"),
    ({"iterations": 2.7}, "extra.iterations must be an integer"),
    ({"iterations": [1]}, "extra.iterations"),
])
def test_what_catnet_reads_back_from_extra_is_checked_like_the_rest(tmp_path, extra, fragment):
    save_model(tmp_path / "m.npz", model_file(extra=extra))
    with pytest.raises(CatnetError, match=re.escape(fragment)):
        load_model(tmp_path / "m.npz")
