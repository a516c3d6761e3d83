"""Hostile HDF5 files and data folders through `catnet train`: one line, exit 2, no training, no output file."""

from __future__ import annotations

import os
import shutil

import h5py
import numpy as np
import pytest
from conftest import make_tiny_dataset, run_cli
from hostile import assert_refused, catnet, untouched

TRAIN = "train_catvnoncat.h5"


def train(data, out):
    return catnet("train", "--data", data, "--layers", "48,3,1", "--iterations", "2", "--save", out / "m.npz",
                  "--metrics-json", out / "m.json", "--logdir", out / "tb")


def rewrite(path, *, x=None, y=None, classes=None, keep_classes=True):
    """Rebuild the train file with `x`, `y`, `classes` replaced by callables f(file) that create them."""
    with h5py.File(path, "r") as f:
        images, labels = f["train_set_x"][()], f["train_set_y"][()]
    path.unlink()
    with h5py.File(path, "w") as f:
        (x or (lambda f: f.create_dataset("train_set_x", data=images)))(f)
        (y or (lambda f: f.create_dataset("train_set_y", data=labels)))(f)
        if classes is not None:
            classes(f)
        elif keep_classes:
            f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))


def images_of(f):
    return np.random.RandomState(0).randint(0, 255, (12, 4, 4, 3)).astype(np.uint8)


def external_raw(tmp_path):
    raw = tmp_path / "secret.bin"
    raw.write_bytes(os.urandom(12 * 48))  # any readable file would do: its bytes would become pixels
    return lambda f: f.create_dataset("train_set_x", shape=(12, 4, 4, 3), dtype="u1",
                                      external=[(str(raw), 0, h5py.h5f.UNLIMITED)])


def virtual(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g.create_dataset("x", data=images_of(None))

    def make(f):
        layout = h5py.VirtualLayout(shape=(12, 4, 4, 3), dtype="u1")
        layout[:] = h5py.VirtualSource(str(other), "x", shape=(12, 4, 4, 3))
        f.create_virtual_dataset("train_set_x", layout)
    return make


def external_link(tmp_path, exists: bool):
    other = tmp_path / "other.h5"
    if exists:
        with h5py.File(other, "w") as g:
            g.create_dataset("x", data=images_of(None))
    return lambda f: f.__setitem__("train_set_x", h5py.ExternalLink(str(other), "/x"))


CASES = {
    "images-a-group": (dict(x=lambda f: f.create_group("train_set_x")), "is a group, not a dataset"),
    "labels-a-group": (dict(y=lambda f: f.create_group("train_set_y").create_dataset("y", data=[0, 1])), "is a group"),
    "dangling-soft-link": (dict(x=lambda f: f.__setitem__("train_set_x", h5py.SoftLink("/nowhere"))), "does not exist"),
    "huge-declared-chunked": (dict(x=lambda f: f.create_dataset("train_set_x", shape=(10**6, 64, 64, 3), dtype="u1",
                                                                 chunks=(1, 64, 64, 3))), "declares"),
    "declared-beyond-the-file": (dict(x=lambda f: f.create_dataset("train_set_x", shape=(100_000, 4, 4, 3), dtype="u1")),
                                 "more than a file of"),
    "images-float": (dict(x=lambda f: f.create_dataset("train_set_x", data=images_of(f).astype(float))), "uint8"),
    "images-no-channels": (dict(x=lambda f: f.create_dataset("train_set_x", data=images_of(f)[..., 0])), "(m, height, width, 3)"),
    "images-four-channels": (dict(x=lambda f: f.create_dataset("train_set_x", data=np.zeros((12, 4, 4, 4), "u1"))), "RGB"),
    "images-none": (dict(x=lambda f: f.create_dataset("train_set_x", shape=(0, 4, 4, 3), dtype="u1")), "holds no images"),
    "images-zero-wide": (dict(x=lambda f: f.create_dataset("train_set_x", shape=(12, 4, 0, 3), dtype="u1")), "holds no images"),
    "images-compound": (dict(x=lambda f: f.create_dataset("train_set_x", shape=(12, 4, 4, 3), dtype=[("r", "u1")])), "uint8"),
    "labels-strings": (dict(y=lambda f: f.create_dataset("train_set_y", data=np.array([b"cat"] * 12))), "numbers 0 and 1"),
    "labels-2d": (dict(y=lambda f: f.create_dataset("train_set_y", data=np.zeros((2, 6)))), "shaped (m,)"),
    "labels-three": (dict(y=lambda f: f.create_dataset("train_set_y", data=np.full(12, 3))), "found 3"),
    "labels-nan": (dict(y=lambda f: f.create_dataset("train_set_y", data=np.full(12, np.nan))), "found nan"),
    "labels-too-few": (dict(y=lambda f: f.create_dataset("train_set_y", data=np.zeros(5))), "12 images but 5 labels"),
    "labels-huge": (dict(y=lambda f: f.create_dataset("train_set_y", shape=(10**9,), dtype="f8", chunks=(1000,))), "declares"),
    "classes-a-group": (dict(classes=lambda f: f.create_group("list_classes")), "is a group"),
    "classes-numbers": (dict(classes=lambda f: f.create_dataset("list_classes", data=np.arange(2))), "list of names"),
    "classes-a-million": (dict(classes=lambda f: f.create_dataset("list_classes", shape=(10**6,), dtype="S7")), "list of names"),
}


@pytest.mark.parametrize("change, fragment", CASES.values(), ids=CASES.keys())
def test_a_train_file_catnet_cannot_trust(tmp_path, change, fragment):
    data = make_tiny_dataset(tmp_path / "data")
    rewrite(data / TRAIN, **change)
    with untouched(tmp_path):
        outcome = train(data, tmp_path / "out")
    assert_refused(outcome, TRAIN, fragment, code=2)
    assert outcome.stdout == ""


@pytest.mark.parametrize("kind", ["external-raw-file", "virtual-dataset", "external-link", "dangling-external-link"])
def test_data_that_lives_outside_the_file(tmp_path, kind):
    data = make_tiny_dataset(tmp_path / "data")
    make = {"external-raw-file": external_raw, "virtual-dataset": virtual,
            "external-link": lambda p: external_link(p, True), "dangling-external-link": lambda p: external_link(p, False)}
    rewrite(data / TRAIN, x=make[kind](tmp_path))
    with untouched(tmp_path):
        outcome = train(data, tmp_path / "out")
    assert_refused(outcome, TRAIN, "file", code=2)


FILES = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:1000]),
    "empty": lambda path: path.write_bytes(b""),
    "text": lambda path: path.write_text("train_set_x = [[0, 1]]"),
    "hdf5-signature-only": lambda path: path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 200),
}


@pytest.mark.parametrize("damage", FILES.values(), ids=FILES.keys())
def test_a_file_that_is_no_hdf5(tmp_path, damage):
    data = make_tiny_dataset(tmp_path / "data")
    damage(data / TRAIN)
    with untouched(tmp_path):
        assert_refused(train(data, tmp_path / "out"), TRAIN, code=2)


def test_a_folder_where_the_file_should_be(tmp_path):
    data = make_tiny_dataset(tmp_path / "data")
    (data / TRAIN).unlink()
    (data / TRAIN).mkdir()
    with untouched(tmp_path):
        assert_refused(train(data, tmp_path / "out"), "dataset not found", TRAIN, code=2)


def test_a_data_folder_that_cannot_be_searched(tmp_path, monkeypatch):
    # root may search any folder, so the refusal itself is made here; the next test asks the OS where it can
    from pathlib import Path

    data = make_tiny_dataset(tmp_path / "data")
    real_is_file = Path.is_file

    def denied(self):
        if self.parent == data:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", denied)
    with untouched(tmp_path):
        assert_refused(train(data, tmp_path / "out"), "cannot look into", "Permission denied", code=2)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may search any folder")
def test_a_data_folder_without_search_permission_as_the_os_says(tmp_path):
    data = make_tiny_dataset(tmp_path / "data")
    data.chmod(0o600)
    try:
        proc = run_cli("train", "--data", data, "--layers", "48,3,1", "--iterations", "2")
    finally:
        data.chmod(0o755)
    assert_refused(proc, "Permission denied", code=2)


# --- what is legitimate stays accepted


@pytest.mark.parametrize("layout", ["gzip-compressed", "soft-link-inside-the-file", "labels-as-a-row"])
def test_unusual_but_honest_files_still_train(tmp_path, layout):
    data = make_tiny_dataset(tmp_path / "data")
    with h5py.File(data / TRAIN, "r") as f:
        images, labels = f["train_set_x"][()], f["train_set_y"][()]
    if layout == "gzip-compressed":
        rewrite(data / TRAIN, x=lambda f: f.create_dataset("train_set_x", data=images, compression="gzip"))
    elif layout == "soft-link-inside-the-file":
        def linked(f):
            f.create_dataset("pixels", data=images)
            f["train_set_x"] = h5py.SoftLink("/pixels")
        rewrite(data / TRAIN, x=linked)
    else:
        rewrite(data / TRAIN, y=lambda f: f.create_dataset("train_set_y", data=labels.reshape(1, -1)))
    outcome = train(data, tmp_path / "out")
    assert outcome.code == 0 and (tmp_path / "out" / "m.npz").is_file(), outcome.stderr


def test_a_shared_read_only_copy_is_read(tmp_path):
    data = make_tiny_dataset(tmp_path / "data")
    shutil.copytree(data, tmp_path / "ro")
    for path in (tmp_path / "ro").iterdir():
        path.chmod(0o444)
    assert catnet("train", "--data", tmp_path / "ro", "--layers", "48,3,1", "--iterations", "2").code == 0
