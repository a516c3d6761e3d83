"""A user's own photos as the network reads them: RGB, resized to the model's input, flattened.

Pillow decodes them, JPEG and PNG only (what the README promises). Like the course's "test with your own
image" cell the whole photo is resized to the model's H x W without cropping,
so a wide photo is squeezed. Every pixel format is brought to 8-bit RGB by
its meaning, not by clipping: 16-bit greyscale is scaled from 0..65535 (it
used to clip to pure white), and transparent pixels are shown on white, as a
browser shows them on a page.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np

from catcore.errors import CatnetError
from catcore.flatten import FlattenOrder

FORMATS = ("JPEG", "PNG")  # Pillow's JPEG opener also hands back the multi-picture JPEGs (MPO) phones write
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # PNG's 16-bit greyscale opens as one of these


def load_image(path: str | os.PathLike, image_shape: tuple[int, int, int]) -> np.ndarray:
    """The image at `path` as (H, W, 3) uint8 RGB of `image_shape`; CatnetError if it is not one."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    height, width, channels = image_shape
    if channels != 3:
        raise CatnetError(f"the model reads {channels}-channel images; only RGB (3) photos are supported")
    _check_is_a_file(path)
    try:
        with warnings.catch_warnings():
            # Pillow warns between 89 and 179 megapixels (a phone's 108 MP photo) and refuses beyond: read, quietly
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as image:
                image.load()  # decode now: a truncated file fails here, not later
                rgb = to_rgb(ImageOps.exif_transpose(image))  # phone photos store their rotation in EXIF
    except UnidentifiedImageError:
        raise CatnetError(f"{path}: not an image catnet reads (JPEG or PNG)") from None
    except Image.DecompressionBombError as exc:
        raise CatnetError(f"{path}: too large to read safely ({exc})") from None
    except Exception as exc:  # noqa: BLE001 -- Pillow's decoders say "damaged" as OSError, SyntaxError, ValueError, struct.error, ...
        raise CatnetError(f"{path}: cannot decode the image ({str(exc) or type(exc).__name__})") from None
    # Lanczos filters while it shrinks, so a large photo does not alias into noise at 64 x 64
    resized = rgb.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8)  # (H, W, 3)


def to_rgb(image):
    """A Pillow image of any mode as 8-bit RGB: 16-bit grey scaled down, transparency composited on white."""
    from PIL import Image

    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)  # (H, W), 0..65535
        grey = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)  # 65535 / 255 = 257
        return Image.fromarray(grey, mode="L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _check_is_a_file(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise CatnetError(f"{path}: no such image file") from None
    except OSError as exc:
        raise CatnetError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise CatnetError(f"{path}: a folder, not an image file")
    if not stat.S_ISREG(mode):
        raise CatnetError(f"{path}: not a regular file (a device, pipe or socket), not an image file")


def load_images(paths, order: FlattenOrder, dtype=np.float64) -> np.ndarray:
    """Every image, checked before any is returned: (n_x, m) in `order`, scaled to [0, 1] like the training data."""
    images = np.stack([load_image(path, order.image_shape) for path in paths])  # (m, H, W, 3)
    return order.flatten(images).astype(dtype) / 255.0  # (n_x, m)
