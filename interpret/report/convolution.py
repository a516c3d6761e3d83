"""The other side of question 1: a small convolutional network, which does know which pixels are neighbours.

Trained on the images as they are and on the same images with their pixels
scrambled (one fixed permutation, as the fully connected network saw them),
from the same seeds. A convolution slides one small filter over neighbouring
pixels, so scrambling destroys exactly what it relies on. Whatever the numbers
show is reported; with 209 training images neither network is far from its
limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.data import Dataset
from catcore.errors import CatnetError
from catcore.flatten import flatten_order

STEPS = 150  # full-batch Adam steps per run
LEARNING_RATE = 2e-3


@dataclass(frozen=True)
class ConvolutionRun:
    order: str  # "course" (the images as they are) or a scrambled order
    seed: int
    train_accuracy: float
    test_accuracy: float
    final_cost: float


@dataclass(frozen=True)
class ConvolutionExperiment:
    runs: tuple[ConvolutionRun, ...]
    steps: int
    architecture: str
    train_images: int
    test_images: int

    def test_accuracies(self, order: str) -> np.ndarray:
        return np.array([run.test_accuracy for run in self.runs if run.order == order])

    @property
    def orders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(run.order for run in self.runs))


MIN_SIDE = 16  # an 8x8 filter at stride 4, then a 3x3 one, need images at least this many pixels a side


def check_fits(image_shape) -> None:
    """CatnetError unless the network's filters fit images of `image_shape` (H, W, C)."""
    if min(image_shape[:2]) < MIN_SIDE:
        raise CatnetError(f"the convolutional network needs images of at least {MIN_SIDE}x{MIN_SIDE} pixels, the data "
                          f"holds {image_shape[0]}x{image_shape[1]}; drop --cnn")


def convolution_experiment(dataset: Dataset, scrambled: str = "random-0", seeds: tuple[int, ...] = (0, 1, 2),
                           steps: int = STEPS) -> ConvolutionExperiment:
    """Train the small network on the images and on their `scrambled` pixels, once per seed."""
    import torch

    shape = dataset.image_shape  # (H, W, C)
    check_fits(shape)
    order = flatten_order(scrambled, shape)
    runs = []
    for name in ("course", scrambled):
        images = {}
        for split in ("train", "test"):
            raw = getattr(dataset, split).images  # (m, H, W, C) uint8
            if name != "course":  # the scrambled column put back into an image's shape: neighbours are gone
                raw = order.flatten(raw).T.reshape(raw.shape)
            images[split] = torch.from_numpy(np.ascontiguousarray(raw.transpose(0, 3, 1, 2))).float() / 255.0
        labels = {split: torch.from_numpy(getattr(dataset, split).labels).float().unsqueeze(1) for split in ("train", "test")}
        for seed in seeds:
            model = _network(shape, torch.Generator().manual_seed(seed))
            cost = _train(model, images["train"], labels["train"], steps)
            runs.append(ConvolutionRun(name, seed, _accuracy(model, images["train"], labels["train"]),
                                       _accuracy(model, images["test"], labels["test"]), cost))
    return ConvolutionExperiment(tuple(runs), steps, _describe(shape, steps), len(dataset.train), len(dataset.test))


def _describe(shape, steps: int) -> str:
    return (f"conv 8 filters 8x8 stride 4, ReLU; conv 16 filters 3x3 stride 2, ReLU; one linear output; "
            f"{steps} full-batch Adam steps (learning rate {LEARNING_RATE}), float32; input {shape[0]}x{shape[1]}x{shape[2]}")


def _network(shape, generator):
    import torch
    from torch import nn

    height, width, channels = shape
    first = nn.Conv2d(channels, 8, kernel_size=8, stride=4)
    second = nn.Conv2d(8, 16, kernel_size=3, stride=2)
    side = lambda n: ((n - 8) // 4 + 1 - 3) // 2 + 1  # noqa: E731
    out = nn.Linear(16 * side(height) * side(width), 1)
    with torch.no_grad():  # seeded, so each seed is the same start in both conditions
        for layer in (first, second, out):
            bound = 1.0 / np.sqrt(layer.weight[0].numel())
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.zero_()
    return nn.Sequential(first, nn.ReLU(), second, nn.ReLU(), nn.Flatten(), out)


def _train(model, X, Y, steps: int) -> float:
    import torch
    import torch.nn.functional as F

    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(X), Y)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def _accuracy(model, X, Y) -> float:
    import torch

    with torch.no_grad():
        return float(((model(X) > 0) == (Y > 0.5)).float().mean())
