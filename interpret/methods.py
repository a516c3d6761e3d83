"""The attribution methods: one registry, each method a small class that carries its properties and how it runs.

Like Captum's own classes, each method has an `attribute`; it wraps the Captum
class of the same idea for image-shaped input (N, H, W, C). This module
imports neither torch nor Captum at load time (each `attribute` does, when
called), because the command line builds its --help from the registry.
interpret.attribution runs the methods over a set of images.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catcore.config import MAX_IG_STEPS
from catcore.errors import CatnetError

if TYPE_CHECKING:  # imported by `catnet explain --help`, which loads no NumPy
    import numpy as np

BASELINES = ("black", "blurred", "uniform-noise")


@dataclass(frozen=True)
class Settings:
    """How the methods run; the defaults are what `catnet explain` uses."""

    baseline: str = "black"  # reference image of IG, DeepLift, GradientShap and occlusion
    seed: int = 0  # stochastic methods and the noise baseline, mixed with each image's index
    ig_steps: int = 50  # Gauss-Legendre points of integrated gradients, raised per image when needed
    ig_tolerance: float = 0.01  # largest acceptable |completeness gap|, in logits
    ig_max_steps: int = 800  # stop doubling here; the gap is then reported as too large
    smoothgrad_samples: int = 25
    smoothgrad_stdev: float = 0.1  # on pixels scaled to [0, 1]: 10% of the range
    shap_samples: int = 25
    shap_stdev: float = 0.05
    occlusion_window: int = 8  # square window in pixels, all channels at once
    occlusion_stride: int = 4
    batch_size: int = 256  # rows through the network at a time: bounds memory; 256 x 12288 floats stay in cache better than 1024

    def __post_init__(self) -> None:
        if self.baseline not in BASELINES:
            raise CatnetError(f"unknown baseline {self.baseline!r}; choose from {', '.join(BASELINES)}")
        for name in ("ig_steps", "ig_max_steps", "smoothgrad_samples", "shap_samples", "occlusion_window",
                     "occlusion_stride", "batch_size"):
            if getattr(self, name) <= 0:
                raise CatnetError(f"{name} must be positive, got {getattr(self, name)!r}")
        if max(self.ig_steps, self.ig_max_steps) > MAX_IG_STEPS:
            raise CatnetError(f"integrated gradients takes at most {MAX_IG_STEPS} steps, got {max(self.ig_steps, self.ig_max_steps)}")
        if not self.ig_tolerance > 0:
            raise CatnetError(f"ig_tolerance must be positive, got {self.ig_tolerance!r}")


@dataclass(frozen=True)
class Attribution:
    method: str
    maps: np.ndarray  # (N, H, W, C), logit units
    delta: np.ndarray | None = None  # (N,) sum(map) - (F(x) - F(baseline)); IG and DeepLift
    steps: np.ndarray | None = None  # (N,) integrated-gradients steps each image needed


@dataclass(frozen=True)
class Method:
    """One attribution method: what its maps mean, and `attribute` to compute them."""

    name: str
    summary: str  # one line for --help and the README
    unit: str = "logit"  # what a map value measures: a share of the logit, or a gradient (logit per pixel value)
    signed: bool = True  # False: the map is a magnitude and says nothing about the direction
    stochastic: bool = False  # draws noise, seeded per image
    complete: bool = False  # promises sum(map) = F(x) - F(baseline)

    def attribute(self, model, images, baselines, ids: Sequence[int], settings: Settings) -> Attribution:
        """Maps for images (N, H, W, C) that require grad, against baselines (N, H, W, C); ids: dataset indices."""
        raise NotImplementedError


class Saliency(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import Saliency as CaptumSaliency

        method = CaptumSaliency(model)
        maps = [method.attribute(images[part], abs=not self.signed) for part in chunks(len(ids), settings.batch_size)]
        return Attribution(self.name, to_numpy(torch.cat(maps)))


class InputXGradient(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import InputXGradient as CaptumInputXGradient

        method = CaptumInputXGradient(model)
        maps = [method.attribute(images[part]) for part in chunks(len(ids), settings.batch_size)]
        return Attribution(self.name, to_numpy(torch.cat(maps)))


class DeepLift(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import DeepLift as CaptumDeepLift

        method = CaptumDeepLift(model)
        maps, deltas = [], []
        # DeepLift runs inputs and baselines through together: 2 rows per image
        for part in chunks(len(ids), settings.batch_size // 2):
            attr, delta = method.attribute(images[part], baselines=baselines[part], return_convergence_delta=True)
            maps.append(attr)
            deltas.append(delta)
        return Attribution(self.name, to_numpy(torch.cat(maps)), delta=to_numpy(torch.cat(deltas)))


class IntegratedGradients(Method):
    """Gauss-Legendre steps; images whose completeness gap exceeds the tolerance are redone with twice the steps
    until they meet it or reach ig_max_steps."""

    def attribute(self, model, images, baselines, ids, settings):
        import numpy as np
        import torch
        from captum.attr import IntegratedGradients as CaptumIntegratedGradients

        method = CaptumIntegratedGradients(model)
        N = images.shape[0]
        maps = torch.empty_like(images)  # (N, H, W, C)
        delta = torch.empty(N, dtype=images.dtype, device=images.device)
        steps = np.full(N, settings.ig_steps)
        todo = np.arange(N)
        n_steps = settings.ig_steps
        while True:
            # ~n_steps rows per image: chunk images so one call stays near batch_size rows
            for part in chunks(len(todo), settings.batch_size // n_steps):
                rows = torch.as_tensor(todo[part], device=images.device)
                attr, gap = method.attribute(
                    images[rows], baselines=baselines[rows], n_steps=n_steps,
                    internal_batch_size=settings.batch_size, return_convergence_delta=True,
                )
                maps[rows], delta[rows] = attr, gap
            steps[todo] = n_steps
            todo = todo[np.abs(to_numpy(delta[torch.as_tensor(todo, device=images.device)])) > settings.ig_tolerance]
            if len(todo) == 0 or n_steps >= settings.ig_max_steps:
                break
            n_steps = min(2 * n_steps, settings.ig_max_steps)
        return Attribution(self.name, to_numpy(maps), delta=to_numpy(delta), steps=steps)


class GradientShap(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import GradientShap as CaptumGradientShap

        method = CaptumGradientShap(model)
        maps = []
        for row, index in enumerate(ids):
            # one image per call: its own baseline, its own seeded noise
            with seeded_captum(image_seed(settings.seed, index)):
                maps.append(method.attribute(
                    images[row:row + 1], baselines=baselines[row:row + 1],
                    n_samples=settings.shap_samples, stdevs=settings.shap_stdev,
                ))
        return Attribution(self.name, to_numpy(torch.cat(maps)))


class SmoothGrad(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import NoiseTunnel
        from captum.attr import Saliency as CaptumSaliency

        method = NoiseTunnel(CaptumSaliency(model))
        maps = []
        for row, index in enumerate(ids):
            with seeded_captum(image_seed(settings.seed, index)):
                maps.append(method.attribute(
                    images[row:row + 1], nt_type="smoothgrad", nt_samples=settings.smoothgrad_samples,
                    nt_samples_batch_size=settings.batch_size, stdevs=settings.smoothgrad_stdev, abs=False,
                ))
        return Attribution(self.name, to_numpy(torch.cat(maps)))


class Occlusion(Method):
    def attribute(self, model, images, baselines, ids, settings):
        import torch
        from captum.attr import Occlusion as CaptumOcclusion

        H, W, C = images.shape[1:]
        window, stride = settings.occlusion_window, settings.occlusion_stride
        if window > min(H, W) or stride > window:
            raise CatnetError(f"occlusion window {window} with stride {stride} does not fit {H}x{W} images "
                              f"(need stride <= window <= {min(H, W)})")
        method = CaptumOcclusion(model)
        maps = []
        # a few images per call, many window positions per forward pass: half of batch_size rows a pass. Captum
        # keeps an expanded copy and an int64 mask per row, so a full batch_size a pass held 277 MB more on the 50
        # test images (on the trained and on randomised weights) against 165 MB this way, for the very same maps in
        # the same time. One image per call held less still, but was slower (Captum's work per pass: 2.0-3.6 s of
        # CPU against 1.5-1.7 s) and rounded some tied map values apart on randomised weights.
        for part in chunks(len(ids), settings.batch_size // 64):
            per_eval = max(1, settings.batch_size // (2 * (part.stop - part.start)))
            maps.append(method.attribute(
                images[part], sliding_window_shapes=(window, window, C), strides=(stride, stride, C),
                baselines=baselines[part], perturbations_per_eval=per_eval,
            ))
        return Attribution(self.name, to_numpy(torch.cat(maps)))


GRADIENT = "logit/value"  # a gradient's unit: logit per unit of pixel value (pixels scaled to [0, 1])

METHOD_LIST: tuple[Method, ...] = (
    Saliency("saliency", "gradient of the cat logit w.r.t. each pixel value", unit=GRADIENT),
    Saliency("saliency-abs", "|gradient| (Simonyan et al. 2013)", unit=GRADIENT, signed=False),
    IntegratedGradients("integrated-gradients", "path integral of the gradient from the baseline "
                        "(Sundararajan et al. 2017)", complete=True),
    InputXGradient("input-x-gradient", "input times gradient"),
    DeepLift("deeplift", "DeepLift rescale rule against the baseline (Shrikumar et al. 2017)", complete=True),
    GradientShap("gradient-shap", "expected gradients, random points between noisy input and baseline", stochastic=True),
    SmoothGrad("smoothgrad", "saliency averaged over noisy copies of the image (Smilkov et al. 2017)", unit=GRADIENT,
               stochastic=True),
    Occlusion("occlusion", "logit drop when a window (all 3 channels) is replaced by the baseline"),
)
METHODS = {method.name: method for method in METHOD_LIST}
# What `catnet explain` runs unless told otherwise: one of each kind, the ones the evaluation found informative on
# the course's model. The plain gradient (saliency) is the one whose maps change most when the weights are
# randomised; integrated gradients is complete (its map sums to the logit's change) and ranks pixels better than
# chance; occlusion needs no gradient and ranks best for deletion. DeepLift's maps ranked pixels as integrated
# gradients' did (the same deletion and insertion AUCs to three decimals), and the rest vary these three.
DEFAULT_METHODS = ("saliency", "integrated-gradients", "occlusion")


def parse_methods(text: str) -> tuple[str, ...]:
    """'saliency,occlusion' -> ('saliency', 'occlusion'); 'all' -> every method; 'default' -> DEFAULT_METHODS."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if names == ("all",):
        return tuple(METHODS)
    if names == ("default",):
        return DEFAULT_METHODS
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names:
        raise CatnetError(f"unknown method(s) {', '.join(unknown) or repr(text)}; choose from {', '.join(METHODS)}, "
                          "default or all")
    return tuple(dict.fromkeys(names))


# ---------- what the methods share ----------


def chunks(count: int, size: int):
    """Consecutive slices of at most `size` (at least 1) covering range(count)."""
    size = max(1, size)
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def image_seed(seed: int, index: int) -> int:
    """One seed per (run seed, dataset index): independent streams for every image."""
    import numpy as np

    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


@contextlib.contextmanager
def seeded_captum(seed: int):
    """Captum draws from the global NumPy and torch generators: seed them for one call, then put them back."""
    import numpy as np
    import torch

    saved = np.random.get_state()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(saved)


def to_numpy(tensor) -> np.ndarray:
    import numpy as np

    return tensor.detach().cpu().numpy().astype(np.float64)
