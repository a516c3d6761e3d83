"""Loading the course's HDF5 files, its known variants and bad copies; where the data is looked for; pixel orders."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import make_tiny_dataset, write_split

from catcore.data import (
    CLASS_NAMES,
    ENV_VAR,
    FILES,
    find_data_dir,
    load_dataset,
    load_split,
)
from catcore.errors import CatnetError
from catcore.flatten import flatten_order


def images(m=4, size=4, dtype=np.uint8):
    return np.random.RandomState(0).randint(0, 256, size=(m, size, size, 3)).astype(dtype)


def test_labels_shaped_m_and_m_by_1_load_the_same(tmp_path):
    labels = np.array([0, 1, 1, 0])
    flat = load_split(write_split(tmp_path / "a.h5", "train", images(), labels), "train")
    column = load_split(write_split(tmp_path / "b.h5", "train", images(), labels.reshape(-1, 1)), "train")
    np.testing.assert_array_equal(flat.labels, labels)
    np.testing.assert_array_equal(column.labels, labels)
    assert flat.labels.shape == column.labels.shape == (4,)
    assert flat.Y().shape == (1, 4)


def test_missing_list_classes_falls_back_to_the_course_names(tmp_path):
    split = load_split(write_split(tmp_path / "a.h5", "test", images(), np.array([0, 1, 0, 1]), classes=False), "test")
    assert split.classes == CLASS_NAMES == ("non-cat", "cat")


def test_list_classes_are_read_when_present(tmp_path):
    split = load_split(write_split(tmp_path / "a.h5", "test", images(), np.array([0, 1, 0, 1])), "test")
    assert split.classes == ("non-cat", "cat")


def test_truncated_file_is_a_clear_error(tmp_path):
    whole = write_split(tmp_path / "whole.h5", "train", images(m=20, size=16), np.arange(20) % 2)
    cut = tmp_path / "train_catvnoncat.h5"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CatnetError, match="not a readable HDF5 file"):
        load_split(cut, "train")


def test_missing_dataset_is_named(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", data=images())
    with pytest.raises(CatnetError, match="train_set_y missing"):
        load_split(path, "train")


def test_wrong_prefix_names_both_datasets(tmp_path):
    path = write_split(tmp_path / "a.h5", "test", images(), np.array([0, 1, 0, 1]))
    with pytest.raises(CatnetError, match="train_set_x, train_set_y missing"):
        load_split(path, "train")


@pytest.mark.parametrize("shape", [(4, 4, 4), (4, 4, 4, 4), (4, 4, 4, 1)])
def test_images_must_be_m_h_w_3(tmp_path, shape):
    path = write_split(tmp_path / "a.h5", "train", np.zeros(shape, dtype=np.uint8), np.array([0, 1, 0, 1]))
    with pytest.raises(CatnetError, match=r"\(m, height, width, 3\)"):
        load_split(path, "train")


def test_images_must_be_uint8(tmp_path):
    path = write_split(tmp_path / "a.h5", "train", images(dtype=np.float32), np.array([0, 1, 0, 1]))
    with pytest.raises(CatnetError, match="uint8.*float32"):
        load_split(path, "train")


def test_labels_other_than_0_and_1_are_rejected(tmp_path):
    path = write_split(tmp_path / "a.h5", "train", images(), np.array([0, 1, 2, 0]))
    with pytest.raises(CatnetError, match="0 \\(non-cat\\) or 1 \\(cat\\), found 2"):
        load_split(path, "train")


def test_image_and_label_counts_must_agree(tmp_path):
    path = write_split(tmp_path / "a.h5", "train", images(m=4), np.array([0, 1, 0]))
    with pytest.raises(CatnetError, match="4 images but 3 labels"):
        load_split(path, "train")


def test_file_is_closed_after_loading(tmp_path):
    path = write_split(tmp_path / "a.h5", "train", images(), np.array([0, 1, 0, 1]))
    load_split(path, "train")
    with h5py.File(path, "w") as f:  # HDF5 refuses to truncate a file that is still open
        f.create_dataset("x", data=[1])


def test_dataset_pairs_train_and_test(tiny_data):
    dataset = load_dataset(tiny_data)
    assert (len(dataset.train), len(dataset.test)) == (12, 6)
    assert dataset.image_shape == (4, 4, 3)


def test_data_flag_beats_the_environment_which_beats_datasets(tmp_path, monkeypatch):
    flag, env, default = (make_tiny_dataset(tmp_path / name) for name in ("flag", "env", "datasets"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(env))
    assert find_data_dir(flag) == flag
    assert find_data_dir(None) == env
    monkeypatch.delenv(ENV_VAR)
    assert find_data_dir(None).resolve() == default


def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(CatnetError) as info:
        find_data_dir(None)
    message = str(info.value)
    assert str(tmp_path / "datasets") in message
    assert "catnet fetch-data" in message and ENV_VAR in message and FILES["train"] in message


def test_one_missing_file_is_named(tiny_data):
    (tiny_data / FILES["test"]).unlink()
    with pytest.raises(CatnetError, match=f"{FILES['test']} missing in"):
        find_data_dir(tiny_data)


# --- pixel orders


@pytest.mark.parametrize("name", ["course", "planar", "random-7"])
def test_flatten_orders_round_trip(name):
    pictures = images(m=3, size=5)
    order = flatten_order(name, (5, 5, 3))
    columns = order.flatten(pictures)  # (75, 3)
    assert columns.shape == (75, 3)
    np.testing.assert_array_equal(order.unflatten(columns), pictures)
    np.testing.assert_array_equal(order.unflatten_vector(columns[:, 1]), pictures[1])


def test_course_order_is_the_course_reshape():
    pictures = images(m=3, size=5)
    np.testing.assert_array_equal(flatten_order("course", (5, 5, 3)).flatten(pictures), pictures.reshape(3, -1).T)


def test_planar_order_lists_all_red_values_first():
    pictures = images(m=2, size=5)
    columns = flatten_order("planar", (5, 5, 3)).flatten(pictures)
    np.testing.assert_array_equal(columns[:25], pictures[..., 0].reshape(2, -1).T)


def test_random_order_depends_only_on_its_seed():
    a, b, c = (flatten_order(name, (5, 5, 3)).perm for name in ("random-3", "random-3", "random-4"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", ["zigzag", "random-", "random-x"])
def test_unknown_order_is_rejected(name):
    with pytest.raises(CatnetError, match="unknown flatten order"):
        flatten_order(name)


def test_X_is_scaled_to_unit_interval(tiny_data):
    split = load_dataset(tiny_data).train
    X = split.X(flatten_order("course", (4, 4, 3)))
    np.testing.assert_array_equal(X, split.images.reshape(len(split), -1).T / 255.0)
