"""The course's cat / non-cat HDF5 files: finding them, loading them, checking them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catcore.config import CLASS_NAMES, DATA_DIR, DATA_FILES, DATA_ENV_VAR, TrainConfig, data_dir
from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder, flatten_order

ENV_VAR = DATA_ENV_VAR
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
    """The data folder (data_dir) once it holds both files, else CatnetError saying where it looked."""
    directory, source = data_dir(explicit)
    missing = [name for name in FILES.values() if not _is_file(directory / name, source)]
    if not missing:
        return directory
    raise CatnetError(
        f"dataset not found: {', '.join(missing)} missing in {directory.resolve()} ({source}); "
        f"run 'catnet fetch-data --dest {directory}', or point --data or ${ENV_VAR} at the folder "
        f"that holds {FILES['train']} and {FILES['test']}"
    )


def load_split(path: str | os.PathLike, prefix: str) -> Split:
    """Read `{prefix}_set_x`, `{prefix}_set_y` and (optionally) `list_classes` from one file.

    The file is untrusted: every object is checked to be a plain dataset stored in this file, and its declared
    shape, type and size before any of its data is read.
    """
    import h5py  # only the commands that read data pay for it

    path = Path(path)
    if not _is_file(path, "given"):
        raise CatnetError(f"{path}: no such file")
    try:
        file_size = os.path.getsize(path)
        with h5py.File(path, "r") as f:
            missing = sorted({f"{prefix}_set_x", f"{prefix}_set_y"} - set(f.keys()))
            if missing:
                raise CatnetError(
                    f"{path}: dataset(s) {', '.join(missing)} missing (found: {', '.join(sorted(f.keys())) or 'nothing'})"
                )
            images = _dataset(f, f"{prefix}_set_x", path)
            labels = _dataset(f, f"{prefix}_set_y", path)
            _check_images(images.shape, images.dtype, path)
            _check_label_layout(labels.shape, labels.dtype, path)
            for dataset in (images, labels):
                _check_storage(dataset, file_size, path)
            if labels.size != images.shape[0]:
                raise CatnetError(f"{path}: {images.shape[0]} images but {labels.size} labels")
            images, labels = np.asarray(images[()]), np.asarray(labels[()])
            classes = CLASS_NAMES
            if "list_classes" in f:
                classes = _classes(_dataset(f, "list_classes", path), file_size, path)
    except CatnetError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:  # h5py's ways of saying "damaged"
        raise CatnetError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from None
    return Split(images=images, labels=_check_labels(labels, path), classes=classes)


MAX_IMAGE_BYTES = 2**30  # pixels of one file (the course's train file: 2.6 MB); more is not this data set
MAX_COMPRESSION = 1100  # deflate, the best of HDF5's usual filters, cannot shrink data more than ~1032x
MAX_CLASSES = 16


def _is_file(path: Path, source: str) -> bool:
    """Path.is_file, but a folder without search permission is a one-line error, not a traceback."""
    try:
        return path.is_file()
    except OSError as exc:
        raise CatnetError(f"cannot look into {path.parent} ({source}): {exc.strerror or exc}") from None


def _dataset(f, name: str, path: Path):
    """f[name], insisting on a dataset whose data lies in this file (no group, link elsewhere or outside storage)."""
    import h5py

    link = f.get(name, getlink=True)
    if link is None:
        raise CatnetError(f"{path}: dataset {name} missing (found: {', '.join(sorted(f.keys())) or 'nothing'})")
    if isinstance(link, h5py.ExternalLink):
        raise CatnetError(f"{path}: {name} is a link into another file ({link.filename}); catnet reads data from this file only")
    target = f.get(name)
    if target is None:
        raise CatnetError(f"{path}: {name} is a link to {link.path}, which does not exist")
    if not isinstance(target, h5py.Dataset):
        raise CatnetError(f"{path}: {name} is a group, not a dataset")
    if target.external or target.is_virtual:
        raise CatnetError(f"{path}: {name} keeps its data outside the file; catnet reads data from this file only")
    return target


def _check_storage(dataset, file_size: int, path: Path) -> None:
    """The declared size must fit the file: HDF5 would otherwise fill a huge declared shape with fill values."""
    size = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    if size > MAX_IMAGE_BYTES:
        raise CatnetError(f"{path}: {dataset.name.lstrip('/')} declares {size / 2**20:,.0f} MB; catnet reads at most "
                          f"{MAX_IMAGE_BYTES / 2**20:,.0f} MB (the course's files are under 3 MB)")
    filtered = dataset.id.get_create_plist().get_nfilters() > 0
    room = file_size * (MAX_COMPRESSION if filtered else 1)
    if size > room:
        raise CatnetError(f"{path}: {dataset.name.lstrip('/')} declares {size:,} bytes, more than a file of "
                          f"{file_size:,} bytes can hold (damaged?)")


def _classes(dataset, file_size: int, path: Path) -> tuple[str, ...]:
    if dataset.ndim > 2 or dataset.size > MAX_CLASSES or dataset.dtype.kind not in "SUO":
        raise CatnetError(f"{path}: list_classes must be a short list of names, got {dataset.dtype} {dataset.shape}")
    _check_storage(dataset, file_size, path)
    return tuple(c.decode(errors="replace") if isinstance(c, bytes) else str(c) for c in np.asarray(dataset[()]).ravel())


def _check_images(shape: tuple, dtype: np.dtype, path: Path) -> None:
    if len(shape) != 4 or shape[-1] != 3:
        raise CatnetError(f"{path}: images must be (m, height, width, 3) RGB, got shape {shape}")
    if dtype != np.uint8:
        raise CatnetError(f"{path}: images must be uint8 pixels 0..255, got dtype {dtype}")
    if shape[0] == 0 or 0 in shape:
        raise CatnetError(f"{path}: holds no images (shape {shape})")


def _check_label_layout(shape: tuple, dtype: np.dtype, path: Path) -> None:
    # copies in the wild store labels as (m,), (m, 1) or (1, m)
    if not (len(shape) == 1 or (len(shape) == 2 and 1 in shape)):
        raise CatnetError(f"{path}: labels must be shaped (m,) or (m, 1), got {shape}")
    if dtype.kind not in "biuf":
        raise CatnetError(f"{path}: labels must be numbers 0 and 1, got dtype {dtype}")


def _check_labels(labels: np.ndarray, path: Path) -> np.ndarray:
    labels = labels.reshape(-1)
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


def check_input_size(dataset: Dataset, config: TrainConfig) -> None:
    """CatnetError unless the config's first layer takes exactly one image's values."""
    n_x = int(np.prod(dataset.image_shape))
    if config.layers[0] != n_x:
        raise CatnetError(
            f"the first layer size is {config.layers[0]} but the images have {n_x} values "
            f"({'x'.join(map(str, dataset.image_shape))}); use --layers {n_x},{','.join(map(str, config.layers[1:]))}"
        )


def prepare_arrays(dataset: Dataset, config: TrainConfig) -> Arrays:
    """Flatten and scale both splits in the config's order and dtype; check the input size."""
    check_input_size(dataset, config)
    order = flatten_order(config.flatten, dataset.image_shape)
    dtype = np.dtype(config.dtype)
    return Arrays(
        X_train=dataset.train.X(order, dtype),
        Y_train=dataset.train.Y(dtype),
        X_test=dataset.test.X(order, dtype),
        Y_test=dataset.test.Y(dtype),
    )
