"""The span form of the first layer in torch: W1 = W1_init + C @ X, trained through C (rows are examples here).

numpy_impl/span.py explains why W1 stays in the span of the training images.
Here the first layer's bias rides along as the weight of a constant input 1
(b1 = b1_init + C @ 1), so with G = X @ X.T + 1 (m, m) the first layer's
pre-activation, laid out as in NumPy (units x examples), is
Z1.T = Z1_init.T + C @ G, and SGD trains C with the rest of the network.

The span loop runs every layer in that (units x examples) layout: the same
products, but for a 209-example batch BLAS runs W @ A (7 x 20 x 209) about
twice as fast as A @ W.T, and at ~20 ops a step per-op cost is the budget.
tests/test_fast_loops.py holds it against CatNet's forward pass and the NumPy
reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from torch_impl.model import CatNet


class SpanCoefficients(torch.autograd.Function):
    """Z1_init.T + C @ G, whose gradient for C is dZ1.T, not dZ1.T @ G.

    Plain autograd through C would give dC = dZ1.T @ G, a different
    (preconditioned) descent direction. Gradient descent on [W1 | b1] moves it by
    dZ1.T @ [X | 1], which in span coordinates is exactly dZ1.T, so that is
    the gradient handed to the optimiser: its SGD step on C is the primal
    SGD step on W1 and b1.
    """

    @staticmethod
    def forward(ctx, C, Z1_init_T, gram):  # C (n_1, m), Z1_init_T (n_1, m), gram (m, m)
        return torch.addmm(Z1_init_T, C, gram)  # (n_1, m)

    @staticmethod
    def backward(ctx, grad_Z1_T):  # (n_1, m)
        return grad_Z1_T, None, None


class SpanForm:
    """The span-form network: trained tensors C and layers 2..L of `model`, units x examples."""

    def __init__(self, model: CatNet, X: torch.Tensor, Y: torch.Tensor):  # X (m, n_x), Y (m, 1)
        first = model.linears[0]
        with torch.no_grad():
            self.W1_init = first.weight.detach().clone()  # (n_1, n_x)
            self.b1_init = first.bias.detach().clone()  # (n_1,)
            self.gram = X @ X.T + 1  # (m, m): [X | 1] @ [X | 1].T
            self.Z1_init_T = torch.addmm(self.b1_init.unsqueeze(1), self.W1_init, X.T)  # (n_1, m)
        self.C = torch.zeros(first.out_features, X.shape[0], dtype=X.dtype, device=X.device, requires_grad=True)
        self.rest = [(linear.weight, linear.bias) for linear in model.linears[1:]]
        self.Y_T = Y.T  # (1, m)
        self.first, self.X = first, X

    def parameters(self) -> list[torch.Tensor]:
        return [self.C] + [p for W, b in self.rest for p in (W, b)]

    def loss(self) -> torch.Tensor:
        A = SpanCoefficients.apply(self.C, self.Z1_init_T, self.gram)  # (n_1, m)
        for W, b in self.rest:
            A = torch.addmm(b.unsqueeze(1), W, torch.relu(A))  # (n_l, m)
        return F.binary_cross_entropy_with_logits(A, self.Y_T)

    @torch.no_grad()
    def write_first_layer(self, materialise_W1: bool) -> None:
        """Put the current b1 (and W1, when asked) into the model's first Linear."""
        self.first.bias.copy_(self.b1_init + self.C.sum(dim=1))  # (n_1,)
        if materialise_W1:
            self.first.weight.copy_(torch.addmm(self.W1_init, self.C, self.X))  # (n_1, n_x)
