"""Defaults for every run, defined once; the CLI reads them from here."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

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

# Every seed in catnet (--seed, --gradcheck-seed, --am-seed, random-SEED, a model file's seed) feeds a NumPy or torch
# generator; np.random.RandomState, the one that draws the initial weights, takes 0 .. 2**32 - 1, so all are held to that.
SEED_LIMIT = 2**32
SEED_HELP = f"a whole number from 0 to {SEED_LIMIT - 1}"
FLATTEN_HELP = f"{FLATTEN_COURSE}, {FLATTEN_PLANAR} or {FLATTEN_RANDOM_PREFIX}SEED (SEED from 0 to {SEED_LIMIT - 1})"

# Bounds that turn an absurd request into a one-line refusal instead of a MemoryError minutes later.
MAX_ITERATIONS = 10**7  # the per-iteration cost history alone is 80 MB there; the course runs 2500
MAX_MODEL_BYTES = 2**30  # the weights of one model (the course's: 2 MB); model files are read up to this, too
MAX_IG_STEPS = 1600  # integrated gradients' Gauss-Legendre nodes solve an n x n eigenproblem: 1 s at 1600, 11 s at 3200
MAX_AM_STEPS = 100_000  # activation maximisation keeps every step's z; it settles within a few hundred


def is_seed(value) -> bool:
    """A seed every generator in catnet accepts: an integer (not a bool) in [0, 2**32)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and 0 <= value < SEED_LIMIT


def check_seed(value, what: str = "the seed") -> int:
    """`value` as an int if it is a seed, else CatnetError naming `what`."""
    if not is_seed(value):
        raise CatnetError(f"{what} must be {SEED_HELP}, got {value!r}")
    return int(value)


def flatten_seed(name: str) -> int | None:
    """The SEED of a `random-SEED` order name, or None when `name` is not of that form (or SEED is no seed)."""
    suffix = name[len(FLATTEN_RANDOM_PREFIX):] if name.startswith(FLATTEN_RANDOM_PREFIX) else ""
    # str.isdigit() also accepts digits such as '²' that int() refuses: only ASCII 0-9 name a seed
    # (and at most 10 significant ones: int() refuses thousands of digits, and no seed has more than 10)
    if not (suffix.isascii() and suffix.isdigit()) or len(suffix.lstrip("0")) > 10 or not is_seed(int(suffix)):
        return None
    return int(suffix)


def is_flatten_order(name) -> bool:
    return isinstance(name, str) and (name in (FLATTEN_COURSE, FLATTEN_PLANAR) or flatten_seed(name) is not None)


def parameter_bytes(layers: tuple[int, ...], itemsize: int) -> int:
    """Bytes of every W and b of a network with these layer sizes."""
    return itemsize * sum(fan_out * (fan_in + 1) for fan_in, fan_out in zip(layers[:-1], layers[1:]))


DATA_DIR = "datasets"  # where the data is looked for last, and where `catnet fetch-data` puts it
DATA_ENV_VAR = "CATNET_DATA"  # where the data is looked for when --data is not given


def data_dir(explicit=None) -> tuple[Path, str]:
    """(the data folder, where that came from): --data if given, else $CATNET_DATA if set, else ./datasets.
    Every command reads from it (catcore.data.find_data_dir), and `catnet fetch-data` writes there."""
    if explicit is not None:
        return Path(explicit), "from --data"
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]), f"from ${DATA_ENV_VAR}"
    return Path(DATA_DIR), f"the default; neither --data nor ${DATA_ENV_VAR} was given"

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
        if any(not _is_int(n) or n <= 0 for n in self.layers):
            raise CatnetError(f"every layer size must be a positive whole number, got {self.layers!r}")
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
        if not _is_int(self.iterations) or not 0 < self.iterations <= MAX_ITERATIONS:
            raise CatnetError(f"iterations must be from 1 to {MAX_ITERATIONS:,}, got {self.iterations!r}")
        check_seed(self.seed)
        if self.dtype not in DTYPES:
            raise CatnetError(f"unknown dtype {self.dtype!r}; choose from {', '.join(DTYPES)}")
        size = parameter_bytes(self.layers, 4 if self.dtype == "float32" else 8)
        if size > MAX_MODEL_BYTES:
            raise CatnetError(
                f"layers {list(self.layers)} hold {size / 2**30:,.1f} GiB of {self.dtype} weights; "
                f"catnet's model files hold at most {MAX_MODEL_BYTES / 2**30:g} GiB"
            )
        if not is_flatten_order(self.flatten):
            raise CatnetError(f"unknown flatten order {self.flatten!r}; choose {FLATTEN_HELP}")
        if self.first_layer not in FIRST_LAYER_MODES:
            raise CatnetError(
                f"unknown first-layer mode {self.first_layer!r}; choose from {', '.join(FIRST_LAYER_MODES)}"
            )
        if not _is_int(self.log_every) or self.log_every <= 0:
            raise CatnetError(f"log_every must be positive, got {self.log_every!r}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class TorchSettings:
    """Where and how the torch twin runs."""

    device: str = "auto"  # auto picks CUDA when present
    allow_tf32: bool = False  # TF32 matmuls on Ampere+ GPUs: fast, but not parity
