"""Attribution maps through Captum (the methods are interpret.methods' registry), image-shaped in and out.

Every map has the image's shape (N, H, W, C) and is in units of the cat logit
(or its gradient): positive = evidence for "cat", negative = evidence for
"non-cat". Stochastic methods are seeded per image from (seed, dataset index),
so an image's map does not depend on which other images were asked for.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from catcore.errors import CatnetError
from interpret.methods import (
    BASELINES,
    METHODS,
    Attribution,
    Settings,
    chunks,
    image_seed,
)
from interpret.wrapper import ImageModel

BLUR_SIGMA = 5.0  # pixels: enough to wipe out fur and whiskers at 64x64, keeps the colour layout


def explain(model: ImageModel, images: torch.Tensor, ids: Sequence[int], methods: Sequence[str],
            settings: Settings = Settings(), chunk: int = 10,
            on_progress: Callable[[str, int], None] | None = None) -> dict[str, Attribution]:
    """Every method's maps for images (N, H, W, C), `chunk` images at a time; on_progress(method, images done)."""
    results = {}
    for method in methods:
        parts = []
        for part in chunks(len(ids), chunk):
            parts.append(attribute(model, images[part], ids[part], method, settings))
            if on_progress is not None:
                on_progress(method, part.stop - part.start)
        results[method] = Attribution(
            method=method,
            maps=np.concatenate([p.maps for p in parts]),
            delta=None if parts[0].delta is None else np.concatenate([p.delta for p in parts]),
            steps=None if parts[0].steps is None else np.concatenate([p.steps for p in parts]),
        )
    return results


def gaussian_blur(images: torch.Tensor, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """(N, H, W, C) -> (N, H, W, C), each channel blurred by a separable Gaussian, edges reflected."""
    N, H, W, C = images.shape
    radius = min(int(3 * sigma), H - 1, W - 1)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()  # (K,)
    planes = images.permute(0, 3, 1, 2).reshape(N * C, 1, H, W)  # (N*C, 1, H, W)
    planes = F.pad(planes, (radius, radius, radius, radius), mode="reflect")
    planes = F.conv2d(planes, kernel.view(1, 1, 1, -1))  # rows
    planes = F.conv2d(planes, kernel.view(1, 1, -1, 1))  # columns
    return planes.reshape(N, C, H, W).permute(0, 2, 3, 1).contiguous()  # (N, H, W, C)


def make_baselines(images: torch.Tensor, kind: str, ids: Sequence[int], seed: int) -> torch.Tensor:
    """The reference image for each input: (N, H, W, C) like `images`."""
    if kind == "black":
        return torch.zeros_like(images)
    if kind == "blurred":
        return gaussian_blur(images)
    if kind == "uniform-noise":
        noise = [np.random.default_rng(image_seed(seed, index)).random(images.shape[1:]) for index in ids]
        return torch.as_tensor(np.stack(noise), dtype=images.dtype, device=images.device)
    raise CatnetError(f"unknown baseline {kind!r}; choose from {', '.join(BASELINES)}")


def attribute(model: ImageModel, images: torch.Tensor, ids: Sequence[int], method: str,
              settings: Settings = Settings()) -> Attribution:
    """Maps of `method` for images (N, H, W, C) in [0, 1]; `ids` (N,) are their dataset indices."""
    if method not in METHODS:
        raise CatnetError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if len(ids) != images.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {len(ids)} ids")
    baselines = make_baselines(images, settings.baseline, ids, settings.seed)  # (N, H, W, C)
    # a leaf that wants gradients: Captum would otherwise switch it on itself and warn each time
    inputs = images.detach().requires_grad_(True)
    with warnings.catch_warnings():
        # DeepLift announces the hooks it puts on nn.ReLU on every call; that is how it is meant to work
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
        return METHODS[method].attribute(model, inputs, baselines, list(ids), settings)
