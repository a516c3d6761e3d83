"""Attribution maps through Captum, one function per method, image-shaped in and out.

Every map has the image's shape (N, H, W, C) and is in units of the cat logit
(or its gradient): positive = evidence for "cat", negative = evidence for
"non-cat". Stochastic methods are seeded per image from (seed, dataset index),
so an image's map does not depend on which other images were asked for.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import (
    DeepLift,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)

from catnet.errors import CatnetError
from interpret.methods import BASELINES, METHODS, Settings
from interpret.wrapper import ImageModel

BLUR_SIGMA = 5.0  # pixels: enough to wipe out fur and whiskers at 64x64, keeps the colour layout


@dataclass(frozen=True)
class Attribution:
    method: str
    maps: np.ndarray  # (N, H, W, C), logit units
    delta: np.ndarray | None = None  # (N,) sum(map) - (F(x) - F(baseline)); IG and DeepLift
    steps: np.ndarray | None = None  # (N,) integrated-gradients steps each image needed


def explain(model: ImageModel, images: torch.Tensor, ids: Sequence[int], methods: Sequence[str],
            settings: Settings = Settings(), chunk: int = 10,
            on_progress: Callable[[str, int], None] | None = None) -> dict[str, Attribution]:
    """Every method's maps for images (N, H, W, C), `chunk` images at a time; on_progress(method, images done)."""
    results = {}
    for method in methods:
        parts = []
        for part in _chunks(len(ids), chunk):
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


def image_seed(seed: int, index: int) -> int:
    """One seed per (run seed, dataset index): independent streams for every image."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


@contextlib.contextmanager
def seeded_captum(seed: int):
    """Captum draws from the global NumPy and torch generators: seed them for one call, then put them back."""
    saved = np.random.get_state()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(saved)


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
        return _RUNNERS[method](model, inputs, baselines, list(ids), settings)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def _chunks(count: int, size: int):
    """Consecutive slices of at most `size` (at least 1) covering range(count)."""
    size = max(1, size)
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def _saliency(signed: bool) -> Callable:
    def run(model, images, baselines, ids, settings):
        saliency = Saliency(model)
        maps = [saliency.attribute(images[part], abs=not signed) for part in _chunks(len(ids), settings.batch_size)]
        return Attribution("saliency" if signed else "saliency-abs", _numpy(torch.cat(maps)))

    return run


def _input_x_gradient(model, images, baselines, ids, settings):
    method = InputXGradient(model)
    maps = [method.attribute(images[part]) for part in _chunks(len(ids), settings.batch_size)]
    return Attribution("input-x-gradient", _numpy(torch.cat(maps)))


def _deeplift(model, images, baselines, ids, settings):
    method = DeepLift(model)
    maps, deltas = [], []
    # DeepLift runs inputs and baselines through together: 2 rows per image
    for part in _chunks(len(ids), settings.batch_size // 2):
        attr, delta = method.attribute(images[part], baselines=baselines[part], return_convergence_delta=True)
        maps.append(attr)
        deltas.append(delta)
    return Attribution("deeplift", _numpy(torch.cat(maps)), delta=_numpy(torch.cat(deltas)))


def _integrated_gradients(model, images, baselines, ids, settings):
    """IG with Gauss-Legendre steps; images whose completeness gap exceeds the tolerance are redone with
    twice the steps until they meet it or reach ig_max_steps."""
    method = IntegratedGradients(model)
    N = images.shape[0]
    maps = torch.empty_like(images)  # (N, H, W, C)
    delta = torch.empty(N, dtype=images.dtype, device=images.device)
    steps = np.full(N, settings.ig_steps)
    todo = np.arange(N)
    n_steps = settings.ig_steps
    while True:
        # ~n_steps rows per image: chunk images so one call stays near batch_size rows
        for part in _chunks(len(todo), settings.batch_size // n_steps):
            rows = torch.as_tensor(todo[part], device=images.device)
            attr, gap = method.attribute(
                images[rows], baselines=baselines[rows], n_steps=n_steps,
                internal_batch_size=settings.batch_size, return_convergence_delta=True,
            )
            maps[rows], delta[rows] = attr, gap
        steps[todo] = n_steps
        todo = todo[np.abs(_numpy(delta[torch.as_tensor(todo, device=images.device)])) > settings.ig_tolerance]
        if len(todo) == 0 or n_steps >= settings.ig_max_steps:
            break
        n_steps = min(2 * n_steps, settings.ig_max_steps)
    return Attribution("integrated-gradients", _numpy(maps), delta=_numpy(delta), steps=steps)


def _gradient_shap(model, images, baselines, ids, settings):
    method = GradientShap(model)
    maps = []
    for row, index in enumerate(ids):
        # one image per call: its own baseline, its own seeded noise
        with seeded_captum(image_seed(settings.seed, index)):
            maps.append(method.attribute(
                images[row:row + 1], baselines=baselines[row:row + 1],
                n_samples=settings.shap_samples, stdevs=settings.shap_stdev,
            ))
    return Attribution("gradient-shap", _numpy(torch.cat(maps)))


def _smoothgrad(model, images, baselines, ids, settings):
    method = NoiseTunnel(Saliency(model))
    maps = []
    for row, index in enumerate(ids):
        with seeded_captum(image_seed(settings.seed, index)):
            maps.append(method.attribute(
                images[row:row + 1], nt_type="smoothgrad", nt_samples=settings.smoothgrad_samples,
                nt_samples_batch_size=settings.batch_size, stdevs=settings.smoothgrad_stdev, abs=False,
            ))
    return Attribution("smoothgrad", _numpy(torch.cat(maps)))


def _occlusion(model, images, baselines, ids, settings):
    H, W, C = images.shape[1:]
    window, stride = settings.occlusion_window, settings.occlusion_stride
    if window > min(H, W) or stride > window:
        raise CatnetError(
            f"occlusion window {window} with stride {stride} does not fit {H}x{W} images (need stride <= window <= {min(H, W)})"
        )
    method = Occlusion(model)
    maps = []
    # a few images per call, each with many window positions per forward pass: about batch_size rows a pass
    for part in _chunks(len(ids), settings.batch_size // 64):
        per_eval = max(1, settings.batch_size // (part.stop - part.start))
        maps.append(method.attribute(
            images[part], sliding_window_shapes=(window, window, C), strides=(stride, stride, C),
            baselines=baselines[part], perturbations_per_eval=per_eval,
        ))
    return Attribution("occlusion", _numpy(torch.cat(maps)))


_RUNNERS: dict[str, Callable] = {
    "saliency": _saliency(signed=True),
    "saliency-abs": _saliency(signed=False),
    "integrated-gradients": _integrated_gradients,
    "input-x-gradient": _input_x_gradient,
    "deeplift": _deeplift,
    "gradient-shap": _gradient_shap,
    "smoothgrad": _smoothgrad,
    "occlusion": _occlusion,
}
