"""One gradient-descent step done in place, in buffers made once: the fast path of numpy_impl.train.

network.forward / network.backward allocate every Z, A and gradient afresh
and keep the maths easy to read. For this network a step's arithmetic (in
span form) is about 1.7 MFLOP, so allocation, temporaries and per-call
overhead would cost more than the work itself. This module runs the same
formulas into preallocated arrays with `out=`, with rearrangements that
change results only at rounding level:

- every layer after the first keeps [W | b] in one array acting on [A_prev; 1],
  so Z = [W | b] @ [A_prev; 1] and [dW | db] = dZ @ [A_prev; 1].T are one product each;
- the learning rate is folded into dZL = (lr/m)(AL - Y), so every gradient
  that backprop derives from it is already the update: [W | b] -= dZ @ [A_prev; 1].T;
- sigmoid(Z) - Y is computed as 0.5 tanh(Z/2) + (0.5 - Y): one transcendental
  call, no overflow for any Z;
- in span form the first layer's bias is in the span too (it is the weight
  of a constant input 1): b1 = b1_init + C @ 1, so Z1 = Z1_init + C @ (X.T @ X + 1)
  and the update is C -= dZ1 alone.

The gradient with respect to the input, dA0, is never computed.
"""

from __future__ import annotations

import numpy as np

from catcore.params import Layer, Params
from numpy_impl.span import SpanBasis


class InPlaceDescent:
    """Full-batch gradient descent from `params` (left untouched) on X (n_x, m), Y (1, m).

    All arrays share the dtype of `params`. `form` is "primal" (W1 is
    updated) or "span" (W1 stays W1_init; C carries its updates: W1 = W1_init
    + C @ X.T). C (n_1, m) is tracked in both forms.
    """

    def __init__(self, params: Params, X: np.ndarray, Y: np.ndarray, learning_rate: float, form: str):
        if form not in ("primal", "span"):
            raise ValueError(f"form must be primal or span, got {form!r}")
        dtype = params.dtype
        n_x, m = X.shape
        sizes = params.layer_sizes
        self.form, self.X = form, X
        first = params.layers[0]
        self.W1, self.b1 = first.W.copy(), first.b.copy()  # span: W1 stays W1_init
        self.b1_init = first.b.copy()
        self.C = np.zeros((sizes[1], m), dtype=dtype)  # (n_1, m)
        if form == "span":
            self.span = SpanBasis(self.W1, X)  # the Gram matrix and W1_init @ X, once
            self.gram = self.span.gram + 1  # [X; 1].T @ [X; 1]: the bias rides along as the weight of an input 1
            self.Z1_init = self.span.Z1_init + self.b1  # (n_1, m)
        self.Wb = [np.concatenate([layer.W, layer.b], axis=1) for layer in params.layers[1:]]  # (n_l, n_{l-1} + 1)
        self.dWb = [np.empty_like(Wb) for Wb in self.Wb]
        # Aa[k] = [A; 1] (n + 1, m) for each hidden layer; its top n rows are the layer's A
        self.Aa = [np.ones((n + 1, m), dtype) for n in sizes[1:-1]]
        self.A = [Aa[:-1] for Aa in self.Aa]  # views, (n, m)
        self.relu_on = [np.empty((n, m), dtype) for n in sizes[1:-1]]  # 1.0 where Z > 0, (n, m)
        self.Z = [np.empty((n, m), dtype) for n in sizes[1:]]  # Z[k] is the course's Z(k+1), (n, m)
        self.dZ = [np.empty((n, m), dtype) for n in sizes[1:]]  # lr-scaled, (n, m)
        if form == "primal":
            self.dW1, self.db1 = np.empty_like(self.W1), np.empty_like(self.b1)
        # (lr/m)(sigmoid(Z) - Y) = (lr/m)/2 * tanh(Z/2) + (lr/m)(0.5 - Y)
        scale = learning_rate / m
        self.half_scale = dtype.type(0.5 * scale)
        self.offset = ((0.5 - Y) * scale).astype(dtype)  # (1, m)

    def step(self) -> np.ndarray:
        """Forward, backward and update of one iteration; returns ZL (1, m) as it was before the update.

        The returned array is a buffer that the next step overwrites.
        """
        self._forward()
        self._backward_and_update()
        return self.Z[-1]

    def params(self) -> Params:
        """The current parameters as live views: in span form W1 is still W1_init (W1 = W1_init + C @ X.T)."""
        if self.form == "span":
            np.add(self.b1_init, self.C.sum(axis=1, keepdims=True), out=self.b1)
        rest = tuple(Layer(W=Wb[:, :-1], b=Wb[:, -1:]) for Wb in self.Wb)
        return Params((Layer(W=self.W1, b=self.b1),) + rest)

    def final_params(self) -> Params:
        """The current parameters as fresh contiguous arrays, W1 materialised from C in span form."""
        live = self.params()
        W1 = self.span.W1(self.C) if self.form == "span" else self.W1.copy()  # (n_1, n_x)
        rest = tuple(Layer(W=np.ascontiguousarray(layer.W), b=layer.b.copy()) for layer in live.layers[1:])
        return Params((Layer(W=W1, b=live.layers[0].b.copy()),) + rest)

    def _forward(self) -> None:
        Z = self.Z
        if self.form == "span":
            np.dot(self.C, self.gram, out=Z[0])  # C @ [X; 1].T @ [X; 1]
            np.add(Z[0], self.Z1_init, out=Z[0])  # (n_1, m)
        else:
            np.dot(self.W1, self.X, out=Z[0])
            np.add(Z[0], self.b1, out=Z[0])  # (n_1, m)
        for k, Wb in enumerate(self.Wb, start=1):
            np.greater(Z[k - 1], 0, out=self.relu_on[k - 1])
            np.multiply(Z[k - 1], self.relu_on[k - 1], out=self.A[k - 1])  # relu
            np.dot(Wb, self.Aa[k - 1], out=Z[k])  # (n, m)

    def _backward_and_update(self) -> None:
        dZ = self.dZ
        np.multiply(self.Z[-1], 0.5, out=dZ[-1])
        np.tanh(dZ[-1], out=dZ[-1])
        np.multiply(dZ[-1], self.half_scale, out=dZ[-1])
        np.add(dZ[-1], self.offset, out=dZ[-1])  # (lr/m)(AL - Y), (1, m)
        for k in reversed(range(1, len(self.Z))):
            Wb = self.Wb[k - 1]
            np.dot(Wb[:, :-1].T, dZ[k], out=dZ[k - 1])  # dA_prev, from W before its update
            np.multiply(dZ[k - 1], self.relu_on[k - 1], out=dZ[k - 1])  # (n, m)
            np.dot(dZ[k], self.Aa[k - 1].T, out=self.dWb[k - 1])  # [dW | db]
            np.subtract(Wb, self.dWb[k - 1], out=Wb)
        np.subtract(self.C, dZ[0], out=self.C)  # the C-coordinates of W1's update dZ1 @ X.T
        if self.form == "primal":
            np.add.reduce(dZ[0], axis=1, keepdims=True, out=self.db1)
            np.subtract(self.b1, self.db1, out=self.b1)
            np.dot(dZ[0], self.X.T, out=self.dW1)  # (n_1, n_x)
            np.subtract(self.W1, self.dW1, out=self.W1)
