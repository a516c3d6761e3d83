"""Trained models as self-describing .npz files, readable by both implementations.

Arrays W1, b1, ... in the course's shapes, float64 or float32; `meta` is a
JSON string with the layer sizes, init scheme, seed, flattening order and
image shape. Optional `C1` holds the span coefficients (W1 = W1_init + C1 @ X.T).

A model file comes from anywhere, so it is read as untrusted input: the zip
archive is opened directly (np.load would hand over every member), only the
members catnet knows are read, each member's .npy header (dtype, shape) is
checked against what the metadata promises before a byte of its data is read,
and the sizes are capped. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from catcore.config import (
    DTYPES,
    FLATTEN_HELP,
    MAX_ITERATIONS,
    MAX_MODEL_BYTES,
    check_seed,
    is_flatten_order,
    parameter_bytes,
)
from catcore.errors import CatnetError
from catcore.outputs import atomic_path
from catcore.params import Layer, Params

FORMAT_VERSION = 1
MAX_META_BYTES = 1 << 20  # the metadata is a few hundred bytes of JSON
MAX_HEADER_BYTES = 10_000  # numpy's own default limit on an .npy header
# zipfile, zlib and the .npy header parser each have their own ways of saying "damaged"
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError,
           struct.error, OverflowError, SyntaxError, RecursionError)


@dataclass(frozen=True)
class ModelFile:
    params: Params
    init: str  # the scheme the training started from
    seed: int
    flatten: str  # flatten order name, see catcore.flatten
    image_shape: tuple[int, int, int]  # (H, W, C) of the images the model reads
    span_coefficients: np.ndarray | None = None  # C1 (n_1, m_train)
    extra: dict = field(default_factory=dict)  # impl, learning rate, iterations, accuracies (the two checked on reading)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return self.params.layer_sizes


def save_model(path: str | os.PathLike, model: ModelFile) -> Path:
    """Write `model` to `path` atomically; returns the path written."""
    path = Path(path)
    if path.suffix.lower() != ".npz":  # as catcore.outputs.check_output_file judges it
        raise CatnetError(f"model files end in .npz, got {str(path)!r}")
    meta = {
        "format": FORMAT_VERSION,
        "layer_sizes": list(model.layer_sizes),
        "init": model.init,
        "seed": int(model.seed),
        "flatten": model.flatten,
        "image_shape": list(model.image_shape),
        "dtype": str(model.params.dtype),
        "extra": model.extra,
    }
    arrays = dict(model.params.named_arrays())
    if model.span_coefficients is not None:
        arrays["C1"] = model.span_coefficients
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return path


@dataclass(frozen=True)
class _Meta:
    layer_sizes: tuple[int, ...]
    image_shape: tuple[int, int, int]
    init: str
    seed: int
    flatten: str
    dtype: np.dtype
    extra: dict


def load_model(path: str | os.PathLike, expect_layers: tuple[int, ...] | None = None) -> ModelFile:
    """Read and check a model file; `expect_layers` rejects another architecture."""
    path = Path(path)
    _check_is_a_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(path, archive, expect_layers)
    except CatnetError:
        raise
    except DAMAGED as exc:
        raise CatnetError(f"{path}: not a catnet model file (damaged, or not a .npz archive: {_describe(exc)})") from None
    except MemoryError:
        raise CatnetError(f"{path}: not enough memory to read this model") from None


def _read(path: Path, archive: zipfile.ZipFile, expect_layers) -> ModelFile:
    meta = _check_meta(path, _read_meta(path, archive))
    sizes = meta.layer_sizes
    if expect_layers is not None and tuple(expect_layers) != sizes:
        raise CatnetError(f"{path}: the model has layers {list(sizes)}, expected {list(expect_layers)}")
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = _read_array(path, archive, f"W{index}", meta.dtype, (fan_out, fan_in), sizes)
        b = _read_array(path, archive, f"b{index}", meta.dtype, (fan_out, 1), sizes)
        layers.append(Layer(W=W, b=b))
    C1 = None
    if "C1.npy" in archive.namelist():
        C1 = _read_array(path, archive, "C1", meta.dtype, (sizes[1], None), sizes)
    return ModelFile(params=Params(tuple(layers)), init=meta.init, seed=meta.seed, flatten=meta.flatten,
                     image_shape=meta.image_shape, span_coefficients=C1, extra=meta.extra)


def _check_is_a_file(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise CatnetError(f"model file {path} does not exist") from None
    except OSError as exc:
        raise CatnetError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise CatnetError(f"{path} is a folder, not a model file")
    if not stat.S_ISREG(mode):
        raise CatnetError(f"{path} is not a regular file (a device, pipe or socket), not a model file")
    if not os.access(path, os.R_OK):
        raise CatnetError(f"cannot read model file {path}: permission denied")


def _read_meta(path: Path, archive: zipfile.ZipFile) -> dict:
    if "meta.npy" not in archive.namelist():
        raise CatnetError(f"{path}: not a catnet model file (no 'meta' entry)")
    with archive.open("meta.npy") as stream:
        shape, declared = _read_header(path, stream, "meta")
        if declared.kind != "U" or shape != () or declared.itemsize > MAX_META_BYTES:
            raise CatnetError(f"{path}: its metadata is damaged (a {declared} array of shape {shape}, not one JSON string)")
        text = np.frombuffer(_read_exactly(path, stream, "meta", declared.itemsize), dtype=declared.dtype)[0]
    try:
        meta = json.loads(str(text))
    except (ValueError, RecursionError) as exc:
        raise CatnetError(f"{path}: its metadata is damaged (not JSON: {_describe(exc)})") from None
    if not isinstance(meta, dict):
        raise CatnetError(f"{path}: its metadata is damaged (a JSON {type(meta).__name__}, not an object)")
    return meta


def _check_meta(path: Path, meta: dict) -> _Meta:
    """Every field of the metadata, type and range, before any array is read."""

    def damaged(what: str) -> CatnetError:
        return CatnetError(f"{path}: its metadata is damaged ({what})")

    if "format" in meta and meta["format"] != FORMAT_VERSION:
        raise damaged(f"format {meta['format']!r}; this catnet reads format {FORMAT_VERSION}")
    missing = [key for key in ("layer_sizes", "image_shape", "init", "seed", "flatten") if key not in meta]
    if missing:
        raise damaged(f"no {', '.join(missing)}")
    sizes, image_shape = meta["layer_sizes"], meta["image_shape"]
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_positive_int(n) for n in sizes)):
        raise damaged(f"layer_sizes must list at least two positive whole numbers, got {_short(sizes)}")
    if sizes[-1] != 1:
        raise damaged(f"the output layer must have exactly 1 unit, the sigmoid P(cat); layer_sizes are {_short(sizes)}")
    if not (isinstance(image_shape, list) and len(image_shape) == 3 and all(_positive_int(n) for n in image_shape)):
        raise damaged(f"image_shape must be [height, width, channels] of positive whole numbers, got {_short(image_shape)}")
    if image_shape[2] != 3:
        raise damaged(f"image_shape {image_shape} is not RGB: catnet's images have 3 channels")
    if math.prod(image_shape) != sizes[0]:
        raise CatnetError(f"{path}: image shape {tuple(image_shape)} does not fit an input layer of {sizes[0]}")
    dtype = meta.get("dtype", "float64")
    if dtype not in DTYPES:
        raise damaged(f"dtype must be one of {', '.join(DTYPES)}, got {_short(dtype)}")
    dtype = np.dtype(dtype)
    size = parameter_bytes(tuple(sizes), dtype.itemsize)
    if size > MAX_MODEL_BYTES:
        raise damaged(f"layers {_short(sizes)} would hold {size / 2**30:,.1f} GiB of weights; "
                      f"catnet reads at most {MAX_MODEL_BYTES / 2**30:g} GiB")
    init = meta["init"]
    if not isinstance(init, str) or not 0 < len(init) <= 100:
        raise damaged(f"init must name a scheme, got {_short(init)}")
    try:
        seed = check_seed(meta["seed"], "its seed")
    except CatnetError as exc:
        raise damaged(str(exc)) from None
    if not is_flatten_order(meta["flatten"]):
        raise CatnetError(f"{path}: unknown flatten order {_short(meta['flatten'])} in its metadata; catnet knows {FLATTEN_HELP}")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise damaged(f"extra must be a JSON object, got {type(extra).__name__}")
    # what catnet itself reads back from extra (catnet report retrains with them): checked like the rest
    rate = extra.get("learning_rate")
    if rate is not None and not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate < math.inf):
        raise damaged(f"extra.learning_rate must be a positive finite number, got {_short(rate)}")
    iterations = extra.get("iterations")
    if iterations is not None and not (_positive_int(iterations) and iterations <= MAX_ITERATIONS):
        raise damaged(f"extra.iterations must be an integer from 1 to {MAX_ITERATIONS:,}, got {_short(iterations)}")
    return _Meta(tuple(sizes), tuple(image_shape), init, seed, meta["flatten"], dtype, extra)


def _read_array(path: Path, archive: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple, sizes) -> np.ndarray:
    """The member `name`.npy, of `dtype` and `shape` (None: any positive length there), checked before its data is read."""
    member = f"{name}.npy"
    if member not in archive.namelist():
        raise CatnetError(f"{path}: {name} missing for layers {list(sizes)}")
    with archive.open(member) as stream:
        declared, declared_dtype = _read_header(path, stream, name)
        if declared_dtype.kind != "f" or declared_dtype.itemsize != dtype.itemsize:
            raise CatnetError(f"{path}: {name} holds {declared_dtype} values; its metadata says {dtype} "
                              "(catnet reads float32 or float64 weights)")
        fits = len(declared) == len(shape) and all(want in (None, got) for got, want in zip(declared, shape))
        if not fits or any(n <= 0 for n in declared):
            expected = "(" + ", ".join("m" if n is None else str(n) for n in shape) + ")"
            raise CatnetError(f"{path}: {name} is {declared}; layers {list(sizes)} need {expected}")
        count = math.prod(declared)
        if count * dtype.itemsize > MAX_MODEL_BYTES:
            raise CatnetError(f"{path}: {name} {declared} would hold {count * dtype.itemsize / 2**30:,.1f} GiB; "
                              f"catnet reads at most {MAX_MODEL_BYTES / 2**30:g} GiB")
        data = _read_exactly(path, stream, name, count * dtype.itemsize)
        order = "F" if declared_dtype.fortran_order else "C"
    array = np.frombuffer(data, dtype=declared_dtype.dtype).reshape(declared, order=order)
    array = array.astype(dtype, order="C")  # native byte order, its own writable copy
    if not np.all(np.isfinite(array)):
        raise CatnetError(f"{path}: {name} holds NaN or infinite values")
    return array


@dataclass(frozen=True)
class _Declared:
    dtype: np.dtype
    fortran_order: bool

    @property
    def kind(self) -> str:
        return self.dtype.kind

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __str__(self) -> str:
        return str(self.dtype)


def _read_header(path: Path, stream, name: str) -> tuple[tuple[int, ...], _Declared]:
    """The (shape, dtype) an .npy member declares; nothing of its data is read."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream, max_header_size=MAX_HEADER_BYTES)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except CatnetError:
        raise
    except DAMAGED as exc:
        raise CatnetError(f"{path}: {name} is damaged or no array ({_describe(exc)})") from None
    if dtype.hasobject:
        raise CatnetError(f"{path}: {name} holds Python objects; catnet reads plain numbers only")
    return tuple(int(n) for n in shape), _Declared(dtype, bool(fortran_order))


def _read_exactly(path: Path, stream, name: str, size: int) -> bytes:
    """`size` bytes and then the end of the member (which makes zipfile check its CRC)."""
    data = stream.read(size)
    if len(data) != size:
        raise CatnetError(f"{path}: {name} is cut short ({len(data):,} of {size:,} bytes)")
    if stream.read(1):
        raise CatnetError(f"{path}: {name} holds more data than its header declares")
    return data


def _positive_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
