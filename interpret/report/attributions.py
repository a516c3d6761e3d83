"""Question 2, seen from the pixels: attribution maps of the test cats, whether they mean anything, and the input
that drives the cat logit hardest.

Attributions (interpret/methods.py's registry through Captum) say which pixels
moved this model's logit; the checks say whether a map is better than chance
(deletion / insertion against random pixel orders) and whether it depends on
what the network learned at all (the randomisation check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.data import Dataset
from catcore.flatten import FlattenOrder
from catcore.modelfile import ModelFile
from interpret.maximize import MaximizeSettings, maximize_layer
from interpret.methods import METHODS, Settings
from interpret.pictures import (
    Picture,
    colour_scale,
    colourise,
    grid,
    signed_to_grey,
    to_uint8,
    upscale,
)

TOP_SHARE = 0.10  # "concentration": the share of all |attribution| held by this fraction of the pixels


@dataclass(frozen=True)
class MeanMap:
    method: str
    images: int  # test cats averaged over
    limit: float  # the colour scale runs from -limit to +limit, logit units per pixel
    concentration: float  # share of |attribution| in the top TOP_SHARE of pixels, mean over the images
    picture: Picture
    scale: np.ndarray  # (h, w, 3) uint8 colour scale


@dataclass(frozen=True)
class MapChecks:
    """Deletion / insertion against random orders, and the randomisation cascade, for each method."""

    methods: tuple[str, ...]
    deletion_auc: tuple[float, ...]  # mean over the images; lower is better
    insertion_auc: tuple[float, ...]  # higher is better
    random_deletion_auc: float
    random_insertion_auc: float
    rho_all_random: tuple[float, ...]  # mean Spearman rho with every layer randomised
    flagged: tuple[str, ...]  # methods whose maps barely change when the weights are random
    curves_figure: object  # matplotlib Figure
    randomisation_figure: object


@dataclass(frozen=True)
class AttributionEvidence:
    mean_map: MeanMap
    checks: MapChecks


def attribution_evidence(model: ModelFile, dataset: Dataset, methods: tuple[str, ...] = ("integrated-gradients", "saliency"),
                         settings: Settings = Settings()) -> AttributionEvidence:
    """Maps of every test cat by each method; the first method's mean map; the quality checks of all of them."""
    import torch

    from interpret.attribution import explain, gaussian_blur
    from interpret.figures import curves_figure, randomisation_figure
    from interpret.quality import (
        deletion_insertion,
        pixel_scores,
        random_curves,
        randomisation_check,
    )
    from interpret.wrapper import image_model, to_tensor

    net = image_model(model, dtype=torch.float64)
    ids = [int(i) for i in np.flatnonzero(dataset.test.labels == 1)]
    images = to_tensor(dataset.test.images[ids])  # (N, H, W, C) in [0, 1]
    maps = explain(net, images, ids, methods, settings)
    explained = np.ones(len(ids), dtype=np.int64)  # every one explained as "cat"
    blurred = gaussian_blur(images)  # insertion's starting point, made once for every method
    curves = {name: deletion_insertion(net, images, pixel_scores(maps[name].maps, METHODS[name].signed, explained),
                                       explained, blurred=blurred)
              for name in methods}
    random = random_curves(net, images, ids, explained, settings.seed)
    randomisation = randomisation_check(
        net, {name: maps[name].maps for name in methods},
        {name: (lambda randomised, name=name: explain(randomised, images, ids, [name], settings)[name].maps)
         for name in methods},
        settings.seed,
    )
    checks = MapChecks(
        methods=tuple(methods),
        deletion_auc=tuple(float(curves[m].deletion_auc.mean()) for m in methods),
        insertion_auc=tuple(float(curves[m].insertion_auc.mean()) for m in methods),
        random_deletion_auc=float(random.deletion_auc.mean()),
        random_insertion_auc=float(random.insertion_auc.mean()),
        rho_all_random=tuple(float(randomisation.mean(m)[-1]) for m in methods),
        flagged=randomisation.flagged,
        curves_figure=curves_figure(curves, random),
        randomisation_figure=randomisation_figure(randomisation),
    )
    return AttributionEvidence(mean_map(methods[0], maps[methods[0]].maps, dataset.test.images[ids]), checks)


def mean_map(method: str, maps: np.ndarray, images: np.ndarray) -> MeanMap:
    """The average of maps (N, H, W, C) (channels summed) beside the average image, on one symmetric colour scale."""
    per_pixel = maps.sum(axis=-1)  # (N, H, W)
    mean = per_pixel.mean(axis=0)  # (H, W)
    limit = float(np.abs(mean).max())
    magnitudes = np.sort(np.abs(per_pixel).reshape(len(maps), -1), axis=1)[:, ::-1]  # (N, H*W), largest first
    top = max(1, int(round(TOP_SHARE * magnitudes.shape[1])))
    totals = magnitudes.sum(axis=1)
    concentration = float(np.mean(np.where(totals > 0, magnitudes[:, :top].sum(axis=1) / np.where(totals > 0, totals, 1), 0)))
    tiles = [images.mean(axis=0) / 255.0, colourise(mean, limit)]
    return MeanMap(
        method=method, images=len(maps), limit=limit, concentration=concentration,
        picture=Picture(to_uint8(upscale(grid(tiles, columns=2, gap=6), 3)),
                        f"The {len(maps)} test cats averaged, and their mean {method} map (channels summed; green = "
                        f"evidence for cat, red = against, from -{limit:.2g} to +{limit:.2g} logit per pixel)"),
        scale=to_uint8(colour_scale(limit)),
    )


@dataclass(frozen=True)
class Maximised:
    """The input of bounded norm that drives the cat logit hardest, against the real images' logits."""

    logit: float  # the cat logit of that input
    best_real_logit: float  # the highest cat logit of any training image
    radius: float
    picture: Picture


def maximised_cat(model: ModelFile, dataset: Dataset, order: FlattenOrder, steps: int = 200, seed: int = 0) -> Maximised:
    params = model.params.astype(np.float64)
    X = dataset.train.X(order)  # (n_x, m)
    radius = float(np.median(np.linalg.norm(X, axis=0)))
    result = maximize_layer(params, order, len(params.layers), MaximizeSettings(radius=radius, steps=steps, seed=seed))
    from numpy_impl.network import forward

    best = float(forward(params, X).Z[-1].max())
    image = result.images[0]  # (H, W, C), signed
    tiles = [signed_to_grey(image[None])[0], np.clip(image / max(float(image.max()), 1e-12), 0, 1)]
    return Maximised(
        logit=float(result.z[-1, 0]), best_real_logit=best, radius=radius,
        picture=Picture(to_uint8(upscale(grid(tiles, columns=2, gap=6), 3)),
                        f"The input of norm at most {radius:.1f} (the median training image's) that maximises the cat "
                        f"logit, left as signed values (grey = 0), right its positive part as colours"),
    )
