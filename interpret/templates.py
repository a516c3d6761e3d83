"""First-layer templates: each row of W1 seen as the 64x64x3 image it is matched against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catcore.flatten import FlattenOrder
from catcore.modelfile import ModelFile
from catcore.params import Params
from numpy_impl.init import initialize


@dataclass(frozen=True)
class Templates:
    """W1's rows as images, in the image's own layout whatever the flatten order."""

    raw: np.ndarray  # (n_1, H, W, C): W1 itself
    learned: np.ndarray  # (n_1, H, W, C): W1 - W1_init, what training added


def initial_parameters(model: ModelFile) -> Params:
    """The parameters the model started from, redrawn from its init scheme, seed and layer sizes."""
    return initialize(model.layer_sizes, model.init, model.seed, dtype=model.params.dtype)


def first_layer_templates(W1: np.ndarray, W1_init: np.ndarray, order: FlattenOrder) -> Templates:
    """W1, W1_init (n_1, n_x) in `order` -> both as (n_1, H, W, C) images."""
    return Templates(raw=order.unflatten(W1.T), learned=order.unflatten((W1 - W1_init).T))
