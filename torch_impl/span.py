"""The span form of the first layer in torch: W1 = W1_init + C @ X, trained through C (rows are examples here).

numpy_impl/span.py explains why W1 stays in the span of the training images.
Here the first layer's bias rides along as the weight of a constant input 1
(b1 = b1_init + C @ 1), so with G = X @ X.T + 1 (m, m) the first layer's
pre-activation, laid out as in NumPy (units x examples), is
Z1.T = Z1_init.T + C @ G, and SGD trains C with the rest of the network.

The span loop runs every layer in that (units x examples) layout: the same
products, but for a 209-example batch BLAS runs W @ A (7 x 20 x 209) about
twice as fast as A @ W.T, and at a few dozen tiny ops a step, per-op cost is the budget.
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


class SpanStep:
    """One SGD step of the span form with autograd's arithmetic written out, op for op, into buffers made once.

    A step of this network is a few dozen tiny ops; on CPU autograd's bookkeeping around them (graph nodes, detach,
    grad accumulation, the optimizer's lists) cost 4x the NumPy loop. These are the very kernels autograd and
    torch.optim.SGD run, in the same order, on the same operands, so every result is bit-identical to
    `SpanForm.loss().backward()` and the SGD update (tests/test_fast_loops.py holds them against each other):
    the forward addmm / relu, the logistic loss, its gradient sigmoid(Z) - Y over m, then per layer
    dW = dZ A^T, db = row sums of dZ, dA = W^T dZ, dZ = dA where A > 0, and p -= lr * grad.
    The span coefficients' gradient is dZ1 itself (SpanCoefficients). A whole run keeps each step's logits and
    costs them a block at a time (`costs`), as the NumPy reference does.
    """

    def __init__(self, span: SpanForm, learning_rate: float):
        self.span, self.lr = span, learning_rate
        C = span.C
        n_1, m = C.shape
        dtype, device = C.dtype, C.device
        self.Ws = [W for W, _ in span.rest]  # the model's own tensors, updated in place
        self.bs = [b for _, b in span.rest]
        self.b_columns = [b.unsqueeze(1) for b in self.bs]  # views: (n_l, 1)
        self.W_T = [W.T for W in self.Ws]  # views
        sizes = [n_1] + [W.shape[0] for W in self.Ws]

        def buffer(n: int) -> torch.Tensor:
            return torch.empty(n, m, dtype=dtype, device=device)

        self.Z = [buffer(n) for n in sizes]  # (n_l, m)
        self.A = [buffer(n) for n in sizes[:-1]]  # ReLU outputs of the hidden layers
        self.A_T = [A.T for A in self.A]  # views
        self.dZ = [buffer(n) for n in sizes]
        self.dA = [buffer(n) for n in sizes[:-1]]
        self.dW = [torch.empty_like(W) for W in self.Ws]
        self.db = [torch.empty_like(b) for b in self.bs]
        self.Y_T = span.Y_T.contiguous()  # (1, m)
        self.threshold_backward = torch.ops.aten.threshold_backward.grad_input
        self.trained = [span.C] + [p for W, b in zip(self.Ws, self.bs) for p in (W, b)]
        self.gradients = [self.dZ[0]] + [g for dW, db in zip(self.dW, self.db) for g in (dW, db)]

    @torch.inference_mode()  # measured 5% faster a step than no_grad here
    def __call__(self) -> torch.Tensor:
        """One step; its cost (before the update), computed at once."""
        logits = self.step()
        return F.binary_cross_entropy_with_logits(logits, self.Y_T)

    def costs(self, logits: torch.Tensor) -> torch.Tensor:
        """The cost of each row of logits (k, m) -- the ZL of k steps -- as __call__ computes it for one: (k,).

        The loss's elementwise terms, then each row's mean: the same kernels on the same values, so the same
        bits (tests/test_fast_loops.py), for a block of steps in one call instead of a dozen small ops a step.
        """
        with torch.inference_mode():
            return F.binary_cross_entropy_with_logits(logits, self.Y_T.expand_as(logits), reduction="none").mean(dim=1)

    @torch.inference_mode()
    def step(self) -> torch.Tensor:
        """One update; returns ZL (1, m) before it, a buffer the next step overwrites."""
        span, Z, A, dZ, dA, m = self.span, self.Z, self.A, self.dZ, self.dA, self.Y_T.shape[1]
        torch.addmm(span.Z1_init_T, span.C, span.gram, out=Z[0])  # (n_1, m)
        for l in range(1, len(Z)):
            torch.clamp_min(Z[l - 1], 0, out=A[l - 1])  # relu
            torch.addmm(self.b_columns[l - 1], self.Ws[l - 1], A[l - 1], out=Z[l])  # (n_l, m)
        torch.sigmoid(Z[-1], out=dZ[-1])
        dZ[-1].sub_(self.Y_T).div_(m)  # the mean loss's gradient for the logits
        for l in range(len(Z) - 1, 0, -1):
            torch.mm(dZ[l], self.A_T[l - 1], out=self.dW[l - 1])
            torch.sum(dZ[l], 1, out=self.db[l - 1])
            torch.mm(self.W_T[l - 1], dZ[l], out=dA[l - 1])
            self.threshold_backward(dA[l - 1], A[l - 1], 0, grad_input=dZ[l - 1])  # relu's backward
        for parameter, gradient in zip(self.trained, self.gradients):
            parameter.sub_(gradient, alpha=self.lr)  # what torch.optim.SGD's update computes, without its wrapper
        return Z[-1]
