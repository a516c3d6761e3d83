"""Hostile model files through `catnet predict` (and explain, neurons): one line, exit 2, nothing printed, nothing run."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from conftest import make_tiny_dataset
from hostile import (
    assert_refused,
    catnet,
    model_arrays,
    model_meta,
    npy_member,
    replace_member,
    untouched,
    write_npz,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A folder with a photo the tiny model reads (4x4 RGB after resizing) and tiny data."""
    folder = tmp_path_factory.mktemp("model-files")
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(folder / "photo.png")
    make_tiny_dataset(folder / "data")
    return folder


def predict(model, place):
    with untouched(place):
        outcome = catnet("predict", "--model", model, place / "photo.png")
    assert outcome.stdout == ""  # nothing classified with a model that is not one
    return outcome


def test_the_well_formed_file_is_read(place, tmp_path):
    outcome = catnet("predict", "--model", write_npz(tmp_path / "m.npz", model_meta(), model_arrays()), place / "photo.png")
    assert outcome.code == 0 and "P(cat)" in outcome.stdout, outcome.stderr


# --- not a model at all


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


NOT_ZIP = {
    "png": _png_bytes(),
    "text": b"W1 = [[0.1, 0.2]]\n",
    "empty": b"",
    "random": np.random.RandomState(0).bytes(4096),
    "zip-signature-only": b"PK\x03\x04" + b"\0" * 60,
    "pickle": pickle.dumps({"W1": [[1.0]]}),
}


@pytest.mark.parametrize("content", NOT_ZIP.values(), ids=NOT_ZIP.keys())
def test_a_file_that_is_no_archive(place, tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    line = assert_refused(predict(path, place), "not a catnet model file", code=2)
    assert "allow_pickle" not in line


# --- damaged archives


def _stored(tmp_path):
    return write_npz(tmp_path / "m.npz", model_meta(), model_arrays())


def _set_inside(path, member: str, offset: int, value: int | None = None):
    """Set (or flip) one byte of `member`'s stored bytes, counted from their start, leaving the zip structure intact."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    header = info.header_offset
    name_length = int.from_bytes(data[header + 26:header + 28], "little")
    extra_length = int.from_bytes(data[header + 28:header + 30], "little")
    at = header + 30 + name_length + extra_length + (offset % info.compress_size)
    data[at] = data[at] ^ 0xFF if value is None else value
    path.write_bytes(bytes(data))
    return path


def damaged_deflate(tmp_path):
    # deflate block type 3 does not exist: zlib.error, which np.load let through as a traceback
    path = write_npz(tmp_path / "m.npz", model_meta(), model_arrays(), compressed=True)
    return _set_inside(path, "W1.npy", 0, value=0b111)


def bad_crc(tmp_path):
    return _set_inside(_stored(tmp_path), "W1.npy", -20)


def truncated(tmp_path):
    path = _stored(tmp_path)
    path.write_bytes(path.read_bytes()[:700])
    return path


def unknown_compression(tmp_path):
    path = _stored(tmp_path)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local and central headers: method 99 (AES)
        at = data.find(signature)
        while at >= 0:
            data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def member_cut_short(tmp_path):
    W1 = model_arrays()["W1"]
    return replace_member(_stored(tmp_path), "W1.npy", npy_member(W1.shape, "<f8", W1.tobytes()[:100]))


def member_too_long(tmp_path):
    W1 = model_arrays()["W1"]
    return replace_member(_stored(tmp_path), "W1.npy", npy_member(W1.shape, "<f8", W1.tobytes() + b"\0" * 64))


def header_not_npy(tmp_path):
    return replace_member(_stored(tmp_path), "W1.npy", b"\x93NUMPY\x09\x00garbage")


def huge_declared_W1(tmp_path):
    # a header that promises (10^6, 10^6) float64: 8 TB; np.load raised MemoryError
    return replace_member(_stored(tmp_path), "W1.npy", npy_member((10**6, 10**6), "<f8", b"\0" * 64))


DAMAGED = [damaged_deflate, bad_crc, truncated, unknown_compression, member_cut_short, member_too_long,
           header_not_npy, huge_declared_W1]


@pytest.mark.parametrize("make", DAMAGED, ids=[f.__name__ for f in DAMAGED])
def test_a_damaged_archive(place, tmp_path, make):
    line = assert_refused(predict(make(tmp_path), place), code=2)
    assert "allow_pickle" not in line and str(tmp_path) in line


def test_keys_catnet_does_not_know_are_never_read(place, tmp_path):
    # a 400 MB zip bomb and a header declaring 8 TB, in keys catnet has no use for: the model loads as if they were not there
    path = _stored(tmp_path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.npy", "w", force_zip64=True) as member:
            member.write(npy_member((50_000_000,), "<f8"))
            zeros = bytes(2**20)
            for _ in range(400):
                member.write(zeros)
        archive.writestr("huge.npy", npy_member((10**6, 10**6), "<f8"))
    assert path.stat().st_size < 4 * 2**20
    outcome = catnet("predict", "--model", path, place / "photo.png")
    assert outcome.code == 0 and "P(cat)" in outcome.stdout, outcome.stderr


class Payload:
    """Unpickling this would leave a file: the proof that catnet never unpickled it."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_in_a_weight_is_never_run(place, tmp_path):
    Payload.marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    path = replace_member(_stored(tmp_path), "W1.npy", buffer.getvalue())
    assert_refused(predict(path, place), "W1", code=2)
    assert not Payload.marker.exists()


# --- the metadata


META = {
    "extra-a-list": {"extra": [1, 2]},
    "layers-empty": {"layer_sizes": []},
    "layers-one": {"layer_sizes": [12288]},
    "layers-1e400": "1e400",
    "layers-strings": {"layer_sizes": ["48", "3", "1"]},
    "layers-bool": {"layer_sizes": [48, True, 1]},
    "layers-negative": {"layer_sizes": [48, -3, 1]},
    "layers-float": {"layer_sizes": [48, 3.0, 1]},
    "five-outputs": {"layer_sizes": [48, 3, 5]},
    "layers-huge": {"layer_sizes": [48, 10**12, 1]},
    "layers-not-a-list": {"layer_sizes": "48,3,1"},
    "image-negative": {"image_shape": [-4, -4, 3]},
    "image-two-numbers": {"image_shape": [4, 12]},
    "image-four-channels": {"image_shape": [4, 3, 4]},
    "image-other-size": {"image_shape": [8, 8, 3]},
    "image-null": {"image_shape": None},
    "seed-negative": {"seed": -1},
    "seed-2**32": {"seed": 2**32},
    "seed-float": {"seed": 1.5},
    "seed-string": {"seed": "1"},
    "seed-bool": {"seed": True},
    "seed-null": {"seed": None},
    "flatten-unknown": {"flatten": "spiral"},
    "flatten-superscript": {"flatten": "random-²"},
    "flatten-number": {"flatten": 5},
    "init-number": {"init": 5},
    "init-empty": {"init": ""},
    "dtype-float16": {"dtype": "float16"},
    "dtype-list": {"dtype": ["float64"]},
    "format-2": {"format": 2},
    "no-layer-sizes": {"layer_sizes": ...},
    "no-seed": {"seed": ...},
}


@pytest.mark.parametrize("change", META.values(), ids=META.keys())
def test_metadata_of_the_wrong_type_or_range(place, tmp_path, change):
    if change == "1e400":  # JSON's own way to say a number beyond float64: json.loads reads it as inf
        meta = np.array(json.dumps(model_meta()).replace('"layer_sizes": [48, 3, 1]', '"layer_sizes": [48, 1e400, 1]'))
    else:
        meta = model_meta(**{k: v for k, v in change.items() if v is not ...})
        for key in (k for k, v in change.items() if v is ...):
            del meta[key]
    path = write_npz(tmp_path / "m.npz", meta, model_arrays())
    assert_refused(predict(path, place), str(path), code=2)


META_ARRAYS = {
    "missing": None,
    "not-json": np.array("{'layer_sizes': [48, 3, 1]"),
    "json-list": np.array("[48, 3, 1]"),
    "deeply-nested": np.array("[" * 100_000 + "]" * 100_000),
    "a-number": np.array(5),
    "two-strings": np.array(["{}", "{}"]),
    "bytes": np.array(b"{}"),
}


@pytest.mark.parametrize("meta", META_ARRAYS.values(), ids=META_ARRAYS.keys())
def test_metadata_that_is_not_one_json_object(place, tmp_path, meta):
    path = write_npz(tmp_path / "m.npz", meta, model_arrays())
    assert_refused(predict(path, place), code=2)


# --- the weights


def _with(name, array):
    arrays = model_arrays()
    if array is None:
        del arrays[name]
    else:
        arrays[name] = array
    return arrays


W1 = model_arrays()["W1"]
WEIGHTS = {
    "complex": _with("W1", W1.astype(np.complex128)),
    "int": _with("W1", (W1 * 100).astype(np.int64)),
    "bool": _with("W1", W1 > 0),
    "string": _with("W1", W1.astype(str)),
    "float16": _with("W1", W1.astype(np.float16)),
    "float32-in-a-float64-model": _with("W1", W1.astype(np.float32)),
    "structured": _with("W1", np.zeros(W1.shape, dtype=[("a", "<f8")])),
    "W1-transposed": _with("W1", W1.T.copy()),
    "b1-flat": _with("b1", np.zeros(3)),
    "W1-nan": _with("W1", np.where(np.arange(W1.size).reshape(W1.shape) == 7, np.nan, W1)),
    "b2-inf": _with("b2", np.array([[np.inf]])),
    "W2-missing": _with("W2", None),
    "five-output-units": {**_with("W2", np.zeros((5, 3))), "b2": np.zeros((5, 1))},
    "C1-nan": {**model_arrays(), "C1": np.full((3, 12), np.nan)},
    "C1-wrong-rows": {**model_arrays(), "C1": np.zeros((4, 12))},
    "C1-empty": {**model_arrays(), "C1": np.zeros((3, 0))},
    "C1-int": {**model_arrays(), "C1": np.zeros((3, 12), np.int32)},
}


@pytest.mark.parametrize("arrays", WEIGHTS.values(), ids=WEIGHTS.keys())
def test_weights_catnet_cannot_trust(place, tmp_path, arrays):
    path = write_npz(tmp_path / "m.npz", model_meta(), arrays)
    assert_refused(predict(path, place), str(path), code=2)


@pytest.mark.parametrize("layout", ["big-endian", "fortran-order", "compressed"])
def test_weights_in_another_byte_order_or_layout_are_read_as_the_same_numbers(place, tmp_path, layout):
    arrays = model_arrays()
    if layout == "big-endian":
        arrays = {name: array.astype(">f8") for name, array in arrays.items()}
    elif layout == "fortran-order":
        arrays = {name: np.asfortranarray(array) for name, array in arrays.items()}
    reference = catnet("predict", "--model", write_npz(tmp_path / "a.npz", model_meta(), model_arrays()), place / "photo.png")
    other = catnet("predict", "--model", write_npz(tmp_path / "b.npz", model_meta(), arrays, compressed=layout == "compressed"),
                   place / "photo.png")
    assert other.code == 0 and other.stdout == reference.stdout, other.stderr


# --- what is at the path


def test_paths_that_hold_no_model_file(place, tmp_path):
    os.mkfifo(tmp_path / "fifo.npz")
    (tmp_path / "folder.npz").mkdir()
    for path, fragment in ((tmp_path / "none.npz", "does not exist"), (tmp_path / "folder.npz", "is a folder"),
                           (tmp_path / "fifo.npz", "not a regular file"), ("/dev/null", "not a regular file"),
                           (tmp_path / "none" / "m.npz", "does not exist")):
        assert_refused(predict(path, place), fragment, code=2)


# --- the same loader under explain and neurons


@pytest.mark.parametrize("command", ["explain", "neurons"])
@pytest.mark.parametrize("make", [huge_declared_W1, damaged_deflate], ids=["huge-declared", "damaged-deflate"])
def test_explain_and_neurons_refuse_the_file_before_any_folder(place, tmp_path, command, make):
    path = make(tmp_path)
    with untouched(tmp_path):
        outcome = catnet(command, "--model", path, "--data", place / "data", "--out", tmp_path / "out", "--logdir", tmp_path / "tb")
    assert_refused(outcome, str(path), "W1", code=2)


# --- any bytes at all


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_model_file_is_one_line_or_a_prediction(place, tmp_path, data):
    """Flip, cut or overwrite bytes anywhere in a real model file: never a traceback, never a half answer."""
    original = bytearray(_stored(tmp_path).read_bytes())
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(damaged))
    outcome = catnet("predict", "--model", path, place / "photo.png")
    if outcome.code == 0:  # damage the checks cannot see (a weight changed to another finite number) still predicts
        assert outcome.stderr == "" and "P(cat)" in outcome.stdout
    else:
        assert_refused(outcome, code=2)
        assert outcome.stdout == ""



@pytest.mark.parametrize("command", ["predict", "explain", "neurons"])
def test_finite_weights_so_large_the_network_overflows(place, tmp_path, command):
    # every weight finite, yet W @ x leaves float64's range: a "probability" of 0, 1 or nan would be no answer
    arrays = {name: np.full_like(array, 1e300) for name, array in model_arrays().items()}
    path = write_npz(tmp_path / "m.npz", model_meta(), arrays)
    argv = {"predict": ("predict", "--model", path, place / "photo.png"),
            "explain": ("explain", "--model", path, "--data", place / "data", "--out", tmp_path / "out"),
            "neurons": ("neurons", "--model", path, "--data", place / "data", "--out", tmp_path / "out", "--logdir", tmp_path / "tb")}
    with untouched(tmp_path):
        outcome = catnet(*argv[command])
    assert_refused(outcome, "overflows", code=2)
