"""Forward pass, cost and backprop of [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catcore.params import ForwardPass, Grads, Layer, LayerGrad, Params


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-Z) without overflow for large |Z|."""
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forward(params: Params, X: np.ndarray) -> ForwardPass:
    """Run X (n_x, m) through the network; every Z and A, A[0] = X."""
    first = params.layers[0]
    Z1 = first.W @ X + first.b  # (n_1, m)
    Zs, As = propagate(Z1, params.layers[1:])
    return ForwardPass(Z=Zs, A=(X,) + As)


def propagate(Z: np.ndarray, later: Sequence[Layer]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """From one layer's pre-activation Z (n_l, m) through the `later` layers to the output: (every Z, every A).

    The first Z and A returned are the given layer's own; the layer is the
    output (sigmoid) when no layer follows it, else a ReLU layer.
    """
    Zs, As = [], []
    for index in range(len(later) + 1):
        if index > 0:
            layer = later[index - 1]
            Z = layer.W @ As[-1] + layer.b  # (n_l, m)
        Zs.append(Z)
        As.append(sigmoid(Z) if index == len(later) else relu(Z))  # (n_l, m)
    return tuple(Zs), tuple(As)


def cost(ZL: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy of the logits ZL (1, m) against labels Y (1, m).

    The course computes -mean(Y log AL + (1-Y) log(1-AL)), which is log(0)
    = -inf once AL saturates; from the logit it is
    max(Z, 0) - Z*Y + log(1 + e^-|Z|), finite for every finite Z.
    """
    return float(batch_costs(ZL, Y)[0])


def batch_costs(ZL_rows: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """`cost` of each row of ZL_rows (k, m) -- the logits of k iterations -- against Y (1, m): (k,)."""
    m = Y.shape[1]
    losses = np.maximum(ZL_rows, 0) - ZL_rows * Y + np.log1p(np.exp(-np.abs(ZL_rows)))  # (k, m)
    return np.sum(losses, axis=1) / m


def backward(params: Params, fp: ForwardPass, Y: np.ndarray) -> Grads:
    """Gradients of `cost` for every layer.

    The gradient with respect to the input, dA0, is never needed and never
    computed.
    """
    m = Y.shape[1]
    dZ = (fp.AL - Y) / m  # (1, m): sigmoid + cross-entropy, the 1/m of the mean folded in
    grads: list[LayerGrad | None] = [None] * len(params.layers)
    for index in reversed(range(len(params.layers))):
        A_prev = fp.A[index]  # (n_{l-1}, m)
        dW = dZ @ A_prev.T  # (n_l, n_{l-1})
        db = dZ.sum(axis=1, keepdims=True)  # (n_l, 1)
        grads[index] = LayerGrad(dW=dW, db=db)
        if index == 0:
            break
        dA_prev = params.layers[index].W.T @ dZ  # (n_{l-1}, m)
        dZ = dA_prev * (fp.Z[index - 1] > 0)  # ReLU'(Z) = 1 where Z > 0
    return Grads(tuple(grads))


def predict_proba(params: Params, X: np.ndarray) -> np.ndarray:
    """P(cat) for each column of X: (1, m)."""
    return forward(params, X).AL


def overflowing_column(params: Params, X: np.ndarray) -> int | None:
    """The first column of X (n_x, m) whose forward pass leaves the float range in some layer, else None.

    A model's weights can all be finite and still so large that W @ A overflows:
    its "probability" would then be a meaningless 0, 1 or nan.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        fp = forward(params, X)
    bad = np.zeros(X.shape[1], dtype=bool)  # (m,)
    for Z in fp.Z:
        bad |= ~np.all(np.isfinite(Z), axis=0)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def evaluate(params: Params, X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """(cost, accuracy) on X (n_x, m), Y (1, m) from one forward pass.

    A model whose outputs overflow gets a non-finite cost, silently: the
    caller judges it (catcore.training.check_outcome) and says so in one line.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        fp = forward(params, X)
        predictions = fp.AL > 0.5  # (1, m)
        return cost(fp.Z[-1], Y), float(np.mean(predictions == (Y > 0.5)))


def accuracy(params: Params, X: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of examples whose 0.5-thresholded prediction equals the label."""
    predictions = predict_proba(params, X) > 0.5
    return float(np.mean(predictions == (Y > 0.5)))
