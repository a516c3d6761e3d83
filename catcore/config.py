"""Defaults for every run, defined once; the CLI reads them from here."""

from __future__ import annotations

import math
from dataclasses import dataclass

from catcore.errors import CatnetError

COURSE_LAYERS = (12288, 20, 7, 5, 1)

INIT_SCHEMES = ("dls", "small", "he", "xavier")
DTYPES = ("float64", "float32")
FIRST_LAYER_MODES = ("auto", "primal", "span")
DEVICES = ("auto", "cpu", "cuda")
IMPLS = ("numpy", "torch")
FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max, without importing numpy here

# the two course files, by split; their layout is in catcore.data
DATA_FILES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}
CLASS_NAMES = ("non-cat", "cat")  # label 0, label 1

# pixel orders of the unrolled image (catcore.flatten builds them); kept here so the CLI names them without numpy
FLATTEN_COURSE = "course"  # x.reshape(m, -1).T: each pixel's R, G, B adjacent
FLATTEN_PLANAR = "planar"  # all red values, then all green, then all blue
FLATTEN_RANDOM_PREFIX = "random-"  # random-SEED: a fixed seeded permutation of every position
FLATTEN_HELP = f"{FLATTEN_COURSE}, {FLATTEN_PLANAR} or {FLATTEN_RANDOM_PREFIX}SEED"


def is_flatten_order(name: str) -> bool:
    suffix = name[len(FLATTEN_RANDOM_PREFIX):]
    return name in (FLATTEN_COURSE, FLATTEN_PLANAR) or (name.startswith(FLATTEN_RANDOM_PREFIX) and suffix.isdigit())


DATA_DIR = "datasets"  # where the data is looked for last, and where `catnet fetch-data` puts it
# the folder on a public mirror holding both course files (`catnet fetch-data --mirror` overrides it)
DATA_MIRROR = "https://github.com/ramakris/coursera-deeplearning/raw/master/neuralnetworks/week4/datasets/"
FETCH_TIMEOUT_SECONDS = 30.0  # a download gives up when the server is silent this long


@dataclass(frozen=True)
class TrainConfig:
    """One training run; the defaults are the course's Week 4 deep model."""

    layers: tuple[int, ...] = COURSE_LAYERS  # input size first, 1 output unit last
    init: str = "dls"  # initialisation scheme, see numpy_impl.init
    learning_rate: float = 0.0075  # full-batch gradient descent step
    iterations: int = 2500  # counted from 0, as the course prints them
    seed: int = 1  # seeds np.random.RandomState for the initial parameters
    dtype: str = "float64"  # float64 reproduces the course; float32 is faster
    flatten: str = "course"  # pixel order of the unrolled image, see catcore.flatten
    first_layer: str = "auto"  # primal W1 updates, span-of-the-data form, or auto
    log_every: int = 100  # report the cost every this many iterations (and the last)

    def __post_init__(self) -> None:
        if len(self.layers) < 2:
            raise CatnetError(f"layers needs an input and an output size, got {self.layers!r}")
        if any(int(n) <= 0 for n in self.layers):
            raise CatnetError(f"every layer size must be positive, got {self.layers!r}")
        if self.layers[-1] != 1:
            raise CatnetError(
                f"the last layer is the single sigmoid output and must have 1 unit, got {self.layers!r}"
            )
        if self.init not in INIT_SCHEMES:
            raise CatnetError(f"unknown init {self.init!r}; choose from {', '.join(INIT_SCHEMES)}")
        if not 0 < self.learning_rate < math.inf:
            raise CatnetError(f"the learning rate must be positive and finite, got {self.learning_rate!r}")
        if self.dtype == "float32" and self.learning_rate > FLOAT32_MAX:
            # torch's SGD cannot even hold it; NumPy would overflow to inf at the first step
            raise CatnetError(f"the learning rate {self.learning_rate!r} does not fit in float32 (max {FLOAT32_MAX:.4g})")
        if self.iterations <= 0:
            raise CatnetError(f"iterations must be positive, got {self.iterations!r}")
        if self.dtype not in DTYPES:
            raise CatnetError(f"unknown dtype {self.dtype!r}; choose from {', '.join(DTYPES)}")
        if not is_flatten_order(self.flatten):
            raise CatnetError(f"unknown flatten order {self.flatten!r}; choose {FLATTEN_HELP}")
        if self.first_layer not in FIRST_LAYER_MODES:
            raise CatnetError(
                f"unknown first-layer mode {self.first_layer!r}; choose from {', '.join(FIRST_LAYER_MODES)}"
            )
        if self.log_every <= 0:
            raise CatnetError(f"log_every must be positive, got {self.log_every!r}")


@dataclass(frozen=True)
class TorchSettings:
    """Where and how the torch twin runs."""

    device: str = "auto"  # auto picks CUDA when present
    allow_tf32: bool = False  # TF32 matmuls on Ampere+ GPUs: fast, but not parity
