"""The torch twin seen through images, so attributions land on pixels.

Captum attributes with respect to whatever the forward function takes. The
network reads a flattened column in the order it was trained with (course,
planar or a seeded permutation); giving Captum the image (N, H, W, C) instead
and flattening inside the wrapper puts every attribution on the pixel and
channel it belongs to, whatever that order was.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from catcore.flatten import FlattenOrder, flatten_order
from catcore.modelfile import ModelFile
from torch_impl.model import CatNet


class ImageModel(nn.Module):
    """forward(images (N, H, W, C) in [0, 1]) -> cat logit (N,), through the twin's own forward pass.

    Positive attribution = pushes the logit, hence P(cat), up.
    """

    def __init__(self, net: CatNet, order: FlattenOrder):
        super().__init__()
        if int(np.prod(order.image_shape)) != net.layer_sizes[0]:
            raise ValueError(f"flatten order for {order.image_shape} does not fit an input of {net.layer_sizes[0]}")
        self.image_shape = tuple(order.image_shape)
        self.order_name = order.name
        self.net = net
        # a buffer, so .to(device) moves the index with the weights
        self.register_buffer("perm", torch.from_numpy(order.perm.astype(np.int64)), persistent=False)
        # the course's order is the identity: gathering 12288 columns then copies every row for nothing
        # (about a fifth of integrated gradients' and occlusion's time); the values are the same
        self.identity = order.is_identity

    @property
    def linears(self) -> list[nn.Linear]:
        """The affine layers, input side first (linears[0] is the course's W1)."""
        return list(self.net.linears)

    @property
    def dtype(self) -> torch.dtype:
        return self.net.linears[0].weight.dtype

    def flatten(self, images: torch.Tensor) -> torch.Tensor:
        """(N, H, W, C) -> (N, n_x) in the model's order: FlattenOrder.flatten, transposed."""
        rows = images.reshape(images.shape[0], -1)  # (N, n_x) in the course's order
        return rows if self.identity else rows[:, self.perm]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.flatten(images)).squeeze(-1)  # (N,)

    def silent_layers(self, images: torch.Tensor) -> list[int | None]:
        """Per image (N, H, W, C), the first hidden layer (1-based) with every unit off, or None.

        Below such a layer no gradient reaches the pixels: gradient maps of that image are exactly zero.
        """
        with torch.no_grad():
            hidden = self.net.forward_all(self.flatten(images)).A[:-1]  # (N, n_l) per hidden layer
        silent = [None] * images.shape[0]
        for layer, A in reversed(list(enumerate(hidden, start=1))):  # the first silent layer wins
            for row in torch.nonzero(~(A > 0).any(dim=1)).flatten().tolist():
                silent[row] = layer
        return silent

    def probability(self, images: torch.Tensor) -> torch.Tensor:
        """P(cat) for (N, H, W, C) images, without building a graph."""
        with torch.no_grad():
            return torch.sigmoid(self(images))  # (N,)


def image_model(model: ModelFile, dtype: torch.dtype = torch.float64, device=None) -> ImageModel:
    """The image-shaped twin of a loaded model file, in eval mode with frozen weights."""
    net = CatNet.from_params(model.params, dtype=dtype, device=device)
    wrapped = ImageModel(net, flatten_order(model.flatten, model.image_shape)).to(device)
    for parameter in wrapped.parameters():
        # attributions need gradients of the input only
        parameter.requires_grad_(False)
    return wrapped.eval()


def to_tensor(images: np.ndarray, dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """uint8 images (N, H, W, C) -> floats in [0, 1], as the model was trained on."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device=device, dtype=dtype) / 255.0  # (N, H, W, C)
