"""How an image (H, W, C) is unrolled into a column: a named, swappable choice.

Every order is a permutation of the course's order, so one index array per
order serves both NumPy (images -> columns) and torch (the attribution
wrapper) and each can be undone exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from catcore.config import FLATTEN_COURSE as COURSE
from catcore.config import FLATTEN_HELP as ORDER_HELP
from catcore.config import FLATTEN_PLANAR as PLANAR
from catcore.config import flatten_seed
from catcore.errors import CatnetError


@dataclass(frozen=True)
class FlattenOrder:
    """A pixel order: `perm` indexes the course-order vector."""

    name: str
    image_shape: tuple[int, int, int]  # (H, W, C)
    perm: np.ndarray  # (H*W*C,) int64; flat = course_flat[..., perm]

    @cached_property
    def is_identity(self) -> bool:
        """The course's own order: flattening needs no gather (gathering copies every value for nothing)."""
        return bool(np.array_equal(self.perm, np.arange(self.perm.size)))

    def flatten(self, images: np.ndarray) -> np.ndarray:
        """(m, H, W, C) images -> (H*W*C, m) columns in this order, unscaled."""
        if images.shape[1:] != self.image_shape:
            raise CatnetError(
                f"images of shape {images.shape[1:]} do not fit a flatten order made for {self.image_shape}"
            )
        rows = images.reshape(images.shape[0], -1)  # (m, n_x) in the course's order
        return (rows if self.is_identity else rows[:, self.perm]).T

    def unflatten(self, columns: np.ndarray) -> np.ndarray:
        """(H*W*C, m) columns in this order -> (m, H, W, C); exact inverse of flatten."""
        course = np.empty_like(columns.T)
        course[:, self.perm] = columns.T
        return course.reshape((columns.shape[1],) + self.image_shape)

    def unflatten_vector(self, vector: np.ndarray) -> np.ndarray:
        """One (H*W*C,) vector in this order (a row of W1, say) -> (H, W, C)."""
        return self.unflatten(np.asarray(vector).reshape(-1, 1))[0]


def flatten_order(name: str, image_shape: tuple[int, int, int] = (64, 64, 3)) -> FlattenOrder:
    """Build the order called `name` for images of `image_shape` (H, W, C)."""
    height, width, channels = image_shape
    size = height * width * channels
    if name == COURSE:
        perm = np.arange(size)
    elif name == PLANAR:
        # course index of (h, w, c) is (h*W + w)*C + c; planar lists c slowest
        perm = np.arange(size).reshape(height, width, channels).transpose(2, 0, 1).ravel()
    elif isinstance(name, str) and flatten_seed(name) is not None:
        perm = np.random.RandomState(flatten_seed(name)).permutation(size)
    else:
        raise CatnetError(f"unknown flatten order {name!r}; choose {ORDER_HELP}")
    return FlattenOrder(name=name, image_shape=tuple(image_shape), perm=perm.astype(np.int64))
