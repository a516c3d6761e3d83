"""Trained models as self-describing .npz files, readable by both implementations.

Arrays W1, b1, ... in the course's shapes, float64 or float32; `meta` is a
JSON string with the layer sizes, init scheme, seed, flattening order and
image shape. Optional `C1` holds the span coefficients (W1 = W1_init + C1 @ X.T).
No pickles: files load with allow_pickle=False.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from catcore.errors import CatnetError
from catcore.outputs import atomic_path
from catcore.params import Layer, Params

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelFile:
    params: Params
    init: str  # the scheme the training started from
    seed: int
    flatten: str  # flatten order name, see catcore.flatten
    image_shape: tuple[int, int, int]  # (H, W, C) of the images the model reads
    span_coefficients: np.ndarray | None = None  # C1 (n_1, m_train)
    extra: dict = field(default_factory=dict)  # impl, learning rate, iterations, accuracies: for people

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


def load_model(path: str | os.PathLike, expect_layers: tuple[int, ...] | None = None) -> ModelFile:
    """Read and check a model file; `expect_layers` rejects another architecture."""
    path = Path(path)
    if not path.is_file():
        raise CatnetError(f"model file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CatnetError(f"{path}: not a catnet model file (corrupt or not .npz): {exc}") from None
    if "meta" not in arrays:
        raise CatnetError(f"{path}: not a catnet model file (no 'meta' entry)")
    try:
        meta = json.loads(str(arrays["meta"]))
        sizes = tuple(int(n) for n in meta["layer_sizes"])
        image_shape = tuple(int(n) for n in meta["image_shape"])
        init, seed, flatten = str(meta["init"]), int(meta["seed"]), str(meta["flatten"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CatnetError(f"{path}: its metadata is damaged ({exc!r})") from None
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W, b = arrays.get(f"W{index}"), arrays.get(f"b{index}")
        if W is None or b is None:
            raise CatnetError(f"{path}: W{index} or b{index} missing for layers {list(sizes)}")
        if W.shape != (fan_out, fan_in) or b.shape != (fan_out, 1):
            raise CatnetError(
                f"{path}: W{index} is {W.shape} and b{index} {b.shape}; layers {list(sizes)} need "
                f"{(fan_out, fan_in)} and {(fan_out, 1)}"
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise CatnetError(f"{path}: W{index} or b{index} holds NaN or infinite values")
        layers.append(Layer(W=W, b=b))
    if expect_layers is not None and tuple(expect_layers) != sizes:
        raise CatnetError(f"{path}: the model has layers {list(sizes)}, expected {list(expect_layers)}")
    if int(np.prod(image_shape)) != sizes[0]:
        raise CatnetError(f"{path}: image shape {image_shape} does not fit an input layer of {sizes[0]}")
    return ModelFile(
        params=Params(tuple(layers)),
        init=init,
        seed=seed,
        flatten=flatten,
        image_shape=image_shape,
        span_coefficients=arrays.get("C1"),
        extra=dict(meta.get("extra", {})),
    )
