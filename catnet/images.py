"""A user's own photos as the network reads them: RGB, resized to the model's input, flattened.

Pillow decodes them (JPEG, PNG and whatever else it reads). Like the
course's "test with your own image" cell the whole photo is resized to the
model's H x W without cropping, so a wide photo is squeezed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder


def load_image(path: str | os.PathLike, image_shape: tuple[int, int, int]) -> np.ndarray:
    """The image at `path` as (H, W, 3) uint8 RGB of `image_shape`; CatnetError if it is not one."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    height, width, channels = image_shape
    if channels != 3:
        raise CatnetError(f"the model reads {channels}-channel images; only RGB (3) photos are supported")
    if not path.is_file():
        raise CatnetError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image.load()  # decode now: a truncated file fails here, not later
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
            rgb = image.convert("RGB")
    except UnidentifiedImageError:
        raise CatnetError(f"{path}: not an image Pillow can read (expected JPEG or PNG)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CatnetError(f"{path}: cannot decode the image ({exc})") from None
    # Lanczos filters while it shrinks, so a large photo does not alias into noise at 64 x 64
    resized = rgb.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8)  # (H, W, 3)


def load_images(paths, order: FlattenOrder, dtype=np.float64) -> np.ndarray:
    """Every image, checked before any is returned: (n_x, m) in `order`, scaled to [0, 1] like the training data."""
    images = np.stack([load_image(path, order.image_shape) for path in paths])  # (m, H, W, 3)
    return order.flatten(images).astype(dtype) / 255.0  # (n_x, m)
