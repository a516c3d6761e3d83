"""The attribution methods and their settings, by name: no torch or Captum here.

The command line builds its --help from this module at start-up, so it must
stay import-light; interpret.attribution does the computing.
"""

from __future__ import annotations

from dataclasses import dataclass

from catnet.errors import CatnetError

BASELINES = ("black", "blurred", "uniform-noise")


@dataclass(frozen=True)
class Method:
    name: str
    signed: bool  # False: the map is a magnitude and says nothing about the direction
    stochastic: bool  # draws noise, seeded per image
    summary: str  # one line for --help and the README


METHOD_LIST = (
    Method("saliency", True, False, "gradient of the cat logit w.r.t. each pixel value"),
    Method("saliency-abs", False, False, "|gradient| (Simonyan et al. 2013)"),
    Method("integrated-gradients", True, False, "path integral of the gradient from the baseline (Sundararajan et al. 2017)"),
    Method("input-x-gradient", True, False, "input times gradient"),
    Method("deeplift", True, False, "DeepLift rescale rule against the baseline (Shrikumar et al. 2017)"),
    Method("gradient-shap", True, True, "expected gradients, random points between noisy input and baseline"),
    Method("smoothgrad", True, True, "saliency averaged over noisy copies of the image (Smilkov et al. 2017)"),
    Method("occlusion", True, False, "logit drop when a window (all 3 channels) is replaced by the baseline"),
)
METHODS = {method.name: method for method in METHOD_LIST}


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
        if not self.ig_tolerance > 0:
            raise CatnetError(f"ig_tolerance must be positive, got {self.ig_tolerance!r}")


def parse_methods(text: str) -> tuple[str, ...]:
    """'saliency,occlusion' -> ('saliency', 'occlusion'); 'all' -> every method."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if names == ("all",):
        return tuple(METHODS)
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names:
        raise CatnetError(f"unknown method(s) {', '.join(unknown) or repr(text)}; choose from {', '.join(METHODS)} or all")
    return tuple(dict.fromkeys(names))
