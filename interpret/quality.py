"""Do the maps mean anything? Deletion / insertion, the randomisation sanity check, IG completeness.

- Deletion and insertion (Petsiuk et al. 2018, RISE): pixels are removed from
  the image (set to black) or inserted into a blurred copy, most important
  first; the probability of the predicted class is tracked. A faithful map
  makes the deletion curve fall fast (low area) and the insertion curve rise
  fast (high area); a random order is the yardstick.
- Model randomisation (Adebayo et al. 2018, "Sanity checks for saliency maps"):
  the layers' weights are replaced by random ones from the output layer down,
  one more layer at a time, and each method's maps are compared with the
  trained model's by Spearman rank correlation. A map that barely changes does
  not depend on what the network learned.
- Completeness: integrated gradients (and DeepLift) must satisfy
  sum(map) = F(x) - F(baseline); checked here independently of Captum's delta.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from interpret.attribution import explain, gaussian_blur, make_baselines
from interpret.methods import METHODS, Attribution, Settings, image_seed
from interpret.wrapper import ImageModel

CURVE_STEPS = 64  # points on a deletion / insertion curve after the start: 64 pixels per step on 64x64
RANDOM_ORDERS = 4  # random orders averaged per image for the yardstick
FLAG_THRESHOLD = 0.5  # mean |Spearman| still above this with every layer randomised: the map ignores the weights


# ---------- deletion and insertion ----------


@dataclass(frozen=True)
class Curves:
    """Probability of the explained class as pixels are deleted / inserted, most important first."""

    fractions: np.ndarray  # (S+1,) share of pixels removed / inserted
    deletion: np.ndarray  # (N, S+1)
    insertion: np.ndarray  # (N, S+1)

    @property
    def deletion_auc(self) -> np.ndarray:
        """(N,) area under the deletion curve: lower is better."""
        return np.trapezoid(self.deletion, self.fractions, axis=1)

    @property
    def insertion_auc(self) -> np.ndarray:
        """(N,) area under the insertion curve: higher is better."""
        return np.trapezoid(self.insertion, self.fractions, axis=1)


def pixel_scores(maps: np.ndarray, signed: bool, explained_class: np.ndarray) -> np.ndarray:
    """(N, H, W, C) maps -> (N, H, W) evidence for the explained class per pixel.

    Channels are summed (a pixel is deleted whole). Signed maps point towards
    "cat", so for an image explained as non-cat (class 0) they are negated;
    magnitudes (signed=False) rank the same way for either class.
    """
    scores = maps.sum(axis=-1)  # (N, H, W)
    if not signed:
        return np.abs(scores)
    direction = np.where(np.asarray(explained_class) == 1, 1.0, -1.0)  # (N,)
    return scores * direction[:, None, None]


def random_scores(shape: tuple[int, int, int], ids: Sequence[int], seed: int, order: int = 0) -> np.ndarray:
    """(N, H, W) random pixel scores, one seeded stream per image and order number."""
    return np.stack([np.random.default_rng([image_seed(seed, index), order]).random(shape[1:]) for index in ids])


def deletion_insertion(model: ImageModel, images: torch.Tensor, scores: np.ndarray, explained_class: np.ndarray,
                       steps: int = CURVE_STEPS, blurred: torch.Tensor | None = None) -> Curves:
    """Curves for images (N, H, W, C) in [0, 1] ranked by scores (N, H, W); insertion starts from a blurred copy
    (`blurred`: gaussian_blur(images), when the caller has it: blurring is most of the cost on CPU).

    The first layer is linear: Z1 = W1 x + b1 is a sum of one term per pixel (its channels' weights times its
    values). Deleting pixels (setting them black) removes their terms; inserting them into the blurred copy swaps
    the blurred pixel's term for the image's. So Z1 at every step is b1 plus a running sum of per-pixel terms in
    rank order, and only layers 2..L run per step: no (steps, H, W, C) stack of altered images is built and pushed
    through the 12288-wide first layer. The sums are taken in another order than a matrix product takes them, so
    the probabilities agree with pushing the altered images through the network to rounding (tests hold them to
    1e-12), not bit for bit.
    """
    N, H, W, C = images.shape
    n_pixels = H * W
    fractions = np.linspace(0.0, 1.0, steps + 1)  # (S+1,)
    counts = torch.as_tensor(np.round(fractions * n_pixels).astype(np.int64), device=images.device)  # (S+1,)
    first, rest = model.linears[0], model.linears[1:]
    columns = torch.empty_like(first.weight)  # (n_1, n_x) in the course's (image) order
    columns[:, model.perm] = first.weight
    weights = columns.reshape(-1, n_pixels, C)  # (n_1, H*W, C): each pixel's weights
    blurred = gaussian_blur(images) if blurred is None else blurred  # (N, H, W, C)
    deletion = np.empty((N, steps + 1))
    insertion = np.empty((N, steps + 1))
    with torch.no_grad():
        for row in range(N):
            order = torch.as_tensor(np.argsort(-scores[row].ravel(), kind="stable"), device=images.device)
            image_terms = _pixel_terms(weights, images[row])[:, order]  # (n_1, H*W), best-ranked pixel first
            blur_terms = _pixel_terms(weights, blurred[row])[:, order]
            # step s has changed the counts[s] best-ranked pixels: what is left of the image, and what has gone in
            zero = torch.zeros_like(image_terms[:, :1])
            kept = torch.cat([torch.flip(torch.cumsum(torch.flip(image_terms, [1]), 1), [1]), zero], dim=1)
            put_in = torch.cat([zero, torch.cumsum(image_terms - blur_terms, 1)], dim=1)  # (n_1, H*W + 1)
            Z1_deleted = (kept[:, counts] + first.bias[:, None]).T  # (S+1, n_1)
            Z1_inserted = (blur_terms.sum(dim=1, keepdim=True) + put_in[:, counts] + first.bias[:, None]).T
            probability = torch.sigmoid(_upper_layers(torch.cat([Z1_deleted, Z1_inserted]), rest))  # (2(S+1),)
            if explained_class[row] == 0:
                probability = 1.0 - probability
            probability = probability.cpu().numpy()
            deletion[row], insertion[row] = probability[: steps + 1], probability[steps + 1:]
    return Curves(fractions=fractions, deletion=deletion, insertion=insertion)


def _pixel_terms(weights: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Each pixel's share of W1 x: weights (n_1, H*W, C), image (H, W, C) -> (n_1, H*W), channel by channel."""
    values = image.reshape(-1, image.shape[-1])  # (H*W, C)
    terms = weights[..., 0] * values[:, 0]
    for channel in range(1, values.shape[1]):
        terms = terms + weights[..., channel] * values[:, channel]
    return terms


def _upper_layers(Z1: torch.Tensor, rest) -> torch.Tensor:
    """The logit from the first layer's pre-activation (rows, n_1), through ReLU and the affine layers 2..L: (rows,)."""
    if not rest:
        return Z1.squeeze(-1)
    A = torch.relu(Z1)
    for linear in rest[:-1]:
        A = torch.relu(linear(A))
    return rest[-1](A).squeeze(-1)


def random_curves(model: ImageModel, images: torch.Tensor, ids: Sequence[int], explained_class: np.ndarray,
                  seed: int, orders: int = RANDOM_ORDERS, steps: int = CURVE_STEPS) -> Curves:
    """The yardstick: curves of random pixel orders, averaged over `orders` orders per image."""
    blurred = gaussian_blur(images)  # (N, H, W, C), once for every order
    runs = [
        deletion_insertion(model, images, random_scores(tuple(images.shape[:3]), ids, seed, order), explained_class,
                           steps, blurred)
        for order in range(orders)
    ]
    return Curves(
        fractions=runs[0].fractions,
        deletion=np.mean([run.deletion for run in runs], axis=0),
        insertion=np.mean([run.insertion for run in runs], axis=0),
    )


# ---------- rank correlation ----------


def rank_average(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-d array, ties sharing their average rank (what Spearman's rho needs)."""
    values = np.asarray(values).ravel()
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]  # (n,) first element of each tie group
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(values)]  # one past each group's end
    average = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(values))
    ranks[order] = average[group]
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equally sized arrays; NaN when either is constant."""
    ra, rb = rank_average(a), rank_average(b)
    if len(ra) != len(rb):
        raise ValueError(f"spearman needs equal sizes, got {len(ra)} and {len(rb)}")
    ra, rb = ra - ra.mean(), rb - rb.mean()
    norm = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float((ra * rb).sum() / norm) if norm > 0 else float("nan")


# ---------- model randomisation ----------


@dataclass(frozen=True)
class Randomisation:
    """Spearman rho of |map| (channels summed) between trained and cascade-randomised models."""

    stages: tuple[str, ...]  # e.g. ("layer 4 (output)", "layers 3-4", ...): what is random at each stage
    spearman: dict[str, np.ndarray]  # method -> (stages, N); NaN where a map is constant
    threshold: float

    def mean(self, method: str) -> np.ndarray:
        """(stages,) mean rho over images; a constant map (NaN) counts as fully changed (0)."""
        return np.nan_to_num(self.spearman[method], nan=0.0).mean(axis=1)

    @property
    def flagged(self) -> tuple[str, ...]:
        """Methods whose maps stay rank-correlated even with every layer randomised."""
        return tuple(name for name in self.spearman if self.mean(name)[-1] > self.threshold)


def cascade(model: ImageModel, seed: int):
    """Yield (stage name, model copy) with the top 1, 2, ... layers re-initialised, output layer first.

    New weights are drawn as the course's 'dls' scheme draws them (randn / sqrt(fan_in)),
    biases zero, from a generator seeded with `seed`; the trained model is untouched.
    """
    randomised = copy.deepcopy(model)
    linears = randomised.linears
    generator = torch.Generator().manual_seed(int(seed))
    count = len(linears)
    for depth, linear in enumerate(reversed(linears), start=1):
        fan_out, fan_in = linear.weight.shape
        with torch.no_grad():
            weight = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) / np.sqrt(fan_in)
            linear.weight.copy_(weight.to(linear.weight))
            linear.bias.zero_()
        top = count - depth + 1
        name = f"layer {count} (output)" if depth == 1 else f"layers {top}-{count}"
        yield name, randomised


def randomisation_check(model: ImageModel, trained: Mapping[str, np.ndarray],
                        explainers: Mapping[str, Callable[[ImageModel], np.ndarray]],
                        seed: int, threshold: float = FLAG_THRESHOLD) -> Randomisation:
    """Compare trained maps (N, H, W, C) per method with each explainer's maps on the cascade's models."""
    stages, rows = [], {name: [] for name in explainers}
    for stage, randomised in cascade(model, seed):
        stages.append(stage)
        for name, explainer in explainers.items():
            maps = explainer(randomised)  # (N, H, W, C)
            rows[name].append([
                spearman(np.abs(before.sum(axis=-1)), np.abs(after.sum(axis=-1)))
                for before, after in zip(trained[name], maps)
            ])
    return Randomisation(
        stages=tuple(stages),
        spearman={name: np.array(values) for name, values in rows.items()},
        threshold=threshold,
    )


# ---------- completeness ----------


@dataclass(frozen=True)
class Completeness:
    """sum(map) against F(x) - F(baseline), both on the logit."""

    attribution_sum: np.ndarray  # (N,)
    output_gap: np.ndarray  # (N,) F(x) - F(baseline)

    @property
    def gap(self) -> np.ndarray:
        """(N,) sum(map) - (F(x) - F(baseline)): zero for a complete method."""
        return self.attribution_sum - self.output_gap


def completeness(model: ImageModel, images: torch.Tensor, baselines: torch.Tensor, maps: np.ndarray) -> Completeness:
    """Check sum(map) = F(x) - F(baseline) for maps (N, H, W, C) of images and baselines (N, H, W, C)."""
    with torch.no_grad():
        output_gap = (model(images) - model(baselines)).cpu().numpy().astype(np.float64)  # (N,)
    return Completeness(attribution_sum=maps.reshape(len(maps), -1).sum(axis=1), output_gap=output_gap)


# ---------- all of it ----------


@dataclass(frozen=True)
class Evaluation:
    explained_class: np.ndarray  # (N,) the predicted class each curve follows
    curves: dict[str, Curves]  # method -> curves
    random: Curves  # the random-order yardstick
    randomisation: Randomisation
    completeness: dict[str, Completeness]  # for the methods that promise it (IG, DeepLift)


def evaluate(model: ImageModel, images: torch.Tensor, ids: Sequence[int], results: Mapping[str, Attribution],
             settings: Settings, on_progress: Callable[[str], None] | None = None) -> Evaluation:
    """Deletion/insertion against random orders, the randomisation cascade and completeness, for maps of images (N, H, W, C)."""
    def step(what: str) -> None:
        if on_progress is not None:
            on_progress(what)

    explained = (model.probability(images) > 0.5).long().cpu().numpy()  # (N,) the predicted class
    blurred = gaussian_blur(images)  # (N, H, W, C), for every method's insertion curves
    curves = {}
    for name, result in results.items():
        scores = pixel_scores(result.maps, METHODS[name].signed, explained)
        curves[name] = deletion_insertion(model, images, scores, explained, blurred=blurred)
        step(f"deletion/insertion {name}")
    random = random_curves(model, images, ids, explained, settings.seed)
    step("random orders")
    explainers = {name: (lambda randomised, name=name: explain(randomised, images, ids, [name], settings)[name].maps)
                  for name in results}
    randomisation = randomisation_check(
        model, {name: result.maps for name, result in results.items()}, _with_progress(explainers, step), settings.seed,
    )
    baselines = make_baselines(images, settings.baseline, ids, settings.seed)  # (N, H, W, C)
    complete = {name: completeness(model, images, baselines, results[name].maps)
                for name in results if METHODS[name].complete}
    return Evaluation(explained, curves, random, randomisation, complete)


def _with_progress(explainers: Mapping[str, Callable], step: Callable[[str], None]) -> dict[str, Callable]:
    def wrap(name, explain):
        def run(model):
            maps = explain(model)
            step(f"randomised {name}")
            return maps

        return run

    return {name: wrap(name, explain) for name, explain in explainers.items()}


def evaluation_steps(methods: int, layers: int) -> int:
    """How many times `evaluate` calls on_progress: for a progress bar's total."""
    return methods + 1 + methods * layers
