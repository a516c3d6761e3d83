"""The course's cat / non-cat HDF5 files: finding them, loading them, checking them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catcore.config import CLASS_NAMES, DATA_DIR, DATA_FILES, TrainConfig
from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder, flatten_order

ENV_VAR = "CATNET_DATA"
DEFAULT_DIR = Path(DATA_DIR)
FILES = DATA_FILES


@dataclass(frozen=True)
class Split:
    """One file's examples: images (m, H, W, 3) uint8 and labels (m,) in {0, 1}."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = CLASS_NAMES

    def __len__(self) -> int:
        return len(self.labels)

    def X(self, order: FlattenOrder, dtype=np.float64) -> np.ndarray:
        """Flattened and scaled to [0, 1]: (n_x, m), the course's layout."""
        X = order.flatten(self.images).astype(dtype, order="C")  # (n_x, m), a copy in C order (as BLAS saw it before)
        X /= 255.0  # in place: the same values as X / 255.0 without a second array
        return X

    def Y(self, dtype=np.float64) -> np.ndarray:
        """Labels as a row: (1, m)."""
        return self.labels.reshape(1, -1).astype(dtype)


@dataclass(frozen=True)
class Dataset:
    train: Split
    test: Split
    directory: Path

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder: --data if given, else $CATNET_DATA if set, else ./datasets."""
    if explicit is not None:
        source, directory = "from --data", Path(explicit)
    elif os.environ.get(ENV_VAR):
        source, directory = f"from ${ENV_VAR}", Path(os.environ[ENV_VAR])
    else:
        source, directory = f"the default; neither --data nor ${ENV_VAR} was given", DEFAULT_DIR
    missing = [name for name in FILES.values() if not (directory / name).is_file()]
    if not missing:
        return directory
    raise CatnetError(
        f"dataset not found: {', '.join(missing)} missing in {directory.resolve()} ({source}); "
        f"run 'catnet fetch-data --dest {directory}', or point --data or ${ENV_VAR} at the folder "
        f"that holds {FILES['train']} and {FILES['test']}"
    )


def load_split(path: str | os.PathLike, prefix: str) -> Split:
    """Read `{prefix}_set_x`, `{prefix}_set_y` and (optionally) `list_classes` from one file."""
    import h5py  # only the commands that read data pay for it

    path = Path(path)
    if not path.is_file():
        raise CatnetError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as f:
            names = {f"{prefix}_set_x", f"{prefix}_set_y"}
            missing = sorted(names - set(f.keys()))
            if missing:
                raise CatnetError(
                    f"{path}: dataset(s) {', '.join(missing)} missing (found: {', '.join(sorted(f.keys())) or 'nothing'})"
                )
            images = np.asarray(f[f"{prefix}_set_x"][()])
            labels = np.asarray(f[f"{prefix}_set_y"][()])
            classes = CLASS_NAMES
            if "list_classes" in f:
                classes = tuple(
                    c.decode() if isinstance(c, bytes) else str(c) for c in np.asarray(f["list_classes"][()]).ravel()
                )
    except OSError as exc:
        raise CatnetError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from None
    return Split(images=_check_images(images, path), labels=_check_labels(labels, len(images), path), classes=classes)


def _check_images(images: np.ndarray, path: Path) -> np.ndarray:
    if images.ndim != 4 or images.shape[-1] != 3:
        raise CatnetError(f"{path}: images must be (m, height, width, 3) RGB, got shape {images.shape}")
    if images.dtype != np.uint8:
        raise CatnetError(f"{path}: images must be uint8 pixels 0..255, got dtype {images.dtype}")
    if images.shape[0] == 0:
        raise CatnetError(f"{path}: holds no images")
    return images


def _check_labels(labels: np.ndarray, count: int, path: Path) -> np.ndarray:
    # copies in the wild store labels as (m,), (m, 1) or (1, m)
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.reshape(-1)
    if labels.ndim != 1:
        raise CatnetError(f"{path}: labels must be shaped (m,) or (m, 1), got {labels.shape}")
    if len(labels) != count:
        raise CatnetError(f"{path}: {count} images but {len(labels)} labels")
    bad = labels[(labels != 0) & (labels != 1)]
    if bad.size:
        raise CatnetError(f"{path}: labels must be 0 (non-cat) or 1 (cat), found {bad[0].item()!r}")
    return labels.astype(np.int64)


def load_dataset(directory: str | os.PathLike | None = None) -> Dataset:
    """Both splits, from the folder `find_data_dir` picks."""
    directory = find_data_dir(directory)
    train = load_split(directory / FILES["train"], "train")
    test = load_split(directory / FILES["test"], "test")
    if train.images.shape[1:] != test.images.shape[1:]:
        raise CatnetError(
            f"train images are {train.images.shape[1:]} but test images are {test.images.shape[1:]}"
        )
    return Dataset(train=train, test=test, directory=directory)


@dataclass(frozen=True)
class Arrays:
    """The data as the network reads it: X (n_x, m) scaled to [0, 1], Y (1, m)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    def astype(self, dtype) -> Arrays:
        return Arrays(*(np.asarray(a, dtype=dtype) for a in (self.X_train, self.Y_train, self.X_test, self.Y_test)))


def prepare_arrays(dataset: Dataset, config: TrainConfig) -> Arrays:
    """Flatten and scale both splits in the config's order and dtype; check the input size."""
    order = flatten_order(config.flatten, dataset.image_shape)
    n_x = int(np.prod(dataset.image_shape))
    if config.layers[0] != n_x:
        raise CatnetError(
            f"the first layer size is {config.layers[0]} but the images have {n_x} values "
            f"({'x'.join(map(str, dataset.image_shape))}); use --layers {n_x},{','.join(map(str, config.layers[1:]))}"
        )
    dtype = np.dtype(config.dtype)
    return Arrays(
        X_train=dataset.train.X(order, dtype),
        Y_train=dataset.train.Y(dtype),
        X_test=dataset.test.X(order, dtype),
        Y_test=dataset.test.Y(dtype),
    )
