"""The course's graded functions as the course writes them, and each one small change away.

A `Course` has the Step-by-Step assignment's ten graded functions with the
course's own signatures and return values: parameters and gradients in dicts
keyed "W1", "dW1", ..., caches as positional tuples ((A_prev, W, b), Z). That
is the interface a learner's file implements, so it is kept here on purpose
(STYLE.md's typed containers belong to the twins, not to this yardstick).

With a `Variant` other than the default it computes what a file with one
known mistake computes (mistakes.py names them). Correct, it also stands in
for the course's helper modules (dnn_utils, dnn_app_utils_v2/_v3) when a
learner's file imports them and they are not beside it.

The initialisers draw from np.random.RandomState(seed): the very stream
np.random.seed(seed) gives the course's code, without touching global state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.learners.protocol import NEW_KEYS

RELU, SIGMOID = "relu", "sigmoid"

# the two initialisation conventions of initialize_parameters_deep: (seed, scale of a randn draw)
APPLICATION_INIT = (1, "1/sqrt(n_prev)")  # the Application notebook's helpers, dnn_app_utils_v2/_v3
STEP_BY_STEP_INIT = (3, "0.01")  # the Step-by-Step notebook
TWO_LAYER_INIT = (1, "0.01")  # initialize_parameters(n_x, n_h, n_y), in both notebooks


@dataclass(frozen=True)
class Variant:
    """What the computation does; the defaults are the course's. Each field is one place a learner can slip."""

    init_seed: int = APPLICATION_INIT[0]  # initialize_parameters_deep's np.random.seed
    init_scale: str = APPLICATION_INIT[1]  # "1/sqrt(n_prev)" or "0.01", times randn(n_l, n_prev)
    init_draw: str = "randn"  # "rand": uniform on [0, 1) instead of normal
    init_transposed: bool = False  # W drawn as (n_prev, n_l)
    init_b_drawn: bool = False  # each b drawn too (randn * 0.01, right after its W) instead of zeros
    init_scaled: bool = True  # False: W = randn(n_l, n_prev) alone, neither * 0.01 nor / sqrt(n_prev)
    forward_b: bool = True  # Z = W A + b; False: the + b forgotten
    cache_Z: bool = True  # the activation cache keeps Z; False: it keeps A
    output: str = SIGMOID  # activation of L_model_forward's last layer
    L_halved: bool = True  # L = len(parameters) // 2; False: len(parameters), W and b counted apart
    cost_sign: float = 1.0  # -1: the cost's sign flipped
    cost_mean: bool = True  # the cost's 1/m
    dW_mean: bool = True  # dW's 1/m
    db_mean: bool = True  # db's 1/m
    db_axis: int | None = 1  # the axis db sums over; None: np.sum(dZ), every entry into one number
    db_shape: str = "keepdims"  # "flat": np.sum without keepdims; "squeezed": np.squeeze of it
    relu_mask: str = "Z <= 0"  # the entries of dA that ReLU backward zeroes: "Z > 0" (inverted), "dA <= 0"
    sigmoid_grad: str = "s(1-s)"  # "Z(1-Z)": the derivative taken on Z; "s": the (1 - s) factor missing
    dAL_sign: float = 1.0  # -1: dAL's sign flipped
    hidden: str = RELU  # backward of the hidden layers: "relu", "sigmoid", or "sigmoid of dAL"
    upstream: str = "chain"  # "last": every hidden layer takes the dA the output layer produced
    update_sign: float = -1.0  # +1: the update adds the step; 0: the parameters come back as they went in
    update_last: bool = True  # False: the update loop runs range(1, L) and never reaches the last layer


class Course:
    """The graded functions, computed as `variant` says, with the dA keys of one release (protocol.OLD_/NEW_KEYS)."""

    def __init__(self, variant: Variant = Variant(), dA_keys: str = NEW_KEYS):
        self.v, self.dA_keys = variant, dA_keys

    # --- dnn_utils ------------------------------------------------------------------------------------------

    def sigmoid(self, Z):
        return 1 / (1 + np.exp(-Z)), Z

    def relu(self, Z):
        return np.maximum(0, Z), Z

    def relu_backward(self, dA, cache):
        Z = cache
        dZ = np.array(dA, copy=True)
        mask = {"Z <= 0": lambda: Z <= 0, "Z > 0": lambda: Z > 0, "dA <= 0": lambda: dZ <= 0}[self.v.relu_mask]()
        dZ[mask] = 0
        return dZ

    def sigmoid_backward(self, dA, cache):
        Z = cache
        s = 1 / (1 + np.exp(-Z))
        if self.v.sigmoid_grad == "Z(1-Z)":
            return dA * Z * (1 - Z)
        if self.v.sigmoid_grad == "s":
            return dA * s
        return dA * s * (1 - s)

    # --- initialisation -------------------------------------------------------------------------------------

    def initialize_parameters(self, n_x, n_h, n_y):
        return self._draw([n_x, n_h, n_y], *TWO_LAYER_INIT)

    def initialize_parameters_deep(self, layer_dims):
        return self._draw(layer_dims, self.v.init_seed, self.v.init_scale)

    def _draw(self, layer_dims, seed: int, scale: str) -> dict:
        rng = np.random.RandomState(seed)
        draw = rng.randn if self.v.init_draw == "randn" else rng.rand
        parameters = {}
        for l in range(1, len(layer_dims)):
            n, n_prev = layer_dims[l], layer_dims[l - 1]
            W = draw(n_prev, n) if self.v.init_transposed else draw(n, n_prev)
            if self.v.init_scaled:
                W = W / np.sqrt(n_prev) if scale == "1/sqrt(n_prev)" else W * 0.01
            parameters["W" + str(l)] = W
            parameters["b" + str(l)] = draw(n, 1) * 0.01 if self.v.init_b_drawn else np.zeros((n, 1))
        return parameters

    # --- forward --------------------------------------------------------------------------------------------

    def linear_forward(self, A, W, b):
        Z = W.dot(A) + b if self.v.forward_b else W.dot(A)  # (n_l, m)
        return Z, (A, W, b)

    def linear_activation_forward(self, A_prev, W, b, activation):
        Z, linear_cache = self.linear_forward(A_prev, W, b)
        A, activation_cache = self.sigmoid(Z) if activation == SIGMOID else self.relu(Z)
        return A, (linear_cache, activation_cache if self.v.cache_Z else A)

    def L_model_forward(self, X, parameters):
        caches = []
        A = X
        L = len(parameters) // 2 if self.v.L_halved else len(parameters)
        for l in range(1, L):
            A, cache = self.linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], RELU)
            caches.append(cache)
        AL, cache = self.linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], self.v.output)
        caches.append(cache)
        return AL, caches

    def compute_cost(self, AL, Y):
        m = Y.shape[1]
        log_likelihood = np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T)  # (1, 1)
        cost = -self.v.cost_sign * log_likelihood / (m if self.v.cost_mean else 1)
        return np.squeeze(cost)

    # --- backward -------------------------------------------------------------------------------------------

    def linear_backward(self, dZ, cache):
        A_prev, W, b = cache
        m = A_prev.shape[1]
        dW = np.dot(dZ, A_prev.T) / (m if self.v.dW_mean else 1)  # (n_l, n_prev)
        db = np.sum(dZ, axis=self.v.db_axis, keepdims=self.v.db_shape == "keepdims") / (m if self.v.db_mean else 1)
        if self.v.db_shape == "squeezed":
            db = np.squeeze(db)
        dA_prev = np.dot(W.T, dZ)  # (n_prev, m)
        return dA_prev, dW, db

    def linear_activation_backward(self, dA, cache, activation):
        linear_cache, activation_cache = cache
        if activation == SIGMOID:
            dZ = self.sigmoid_backward(dA, activation_cache)
        else:
            dZ = self.relu_backward(dA, activation_cache)
        return self.linear_backward(dZ, linear_cache)

    def L_model_backward(self, AL, Y, caches):
        grads = {}
        L = len(caches)
        Y = Y.reshape(AL.shape)
        dAL = -self.v.dAL_sign * (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))  # (1, m)
        dA, dW, db = self.linear_activation_backward(dAL, caches[L - 1], SIGMOID)
        self._store(grads, L, dA, dW, db)
        from_output = dA
        for l in reversed(range(L - 1)):  # layer l + 1, a ReLU layer
            upstream = from_output if self.v.upstream == "last" else dA
            if self.v.hidden == "sigmoid of dAL":
                linear_cache, Z = caches[l]
                dA, dW, db = self.linear_backward(self.sigmoid_backward(dAL, Z), linear_cache)
            else:
                dA, dW, db = self.linear_activation_backward(upstream, caches[l], self.v.hidden)
            self._store(grads, l + 1, dA, dW, db)
        return grads

    def _store(self, grads: dict, layer: int, dA_prev, dW, db) -> None:
        grads["dA" + str(layer - 1 if self.dA_keys == NEW_KEYS else layer)] = dA_prev
        grads["dW" + str(layer)] = dW
        grads["db" + str(layer)] = db

    def update_parameters(self, parameters, grads, learning_rate):
        parameters = dict(parameters)
        L = len(parameters) // 2 if self.v.L_halved else len(parameters)
        for l in range(1, L + 1 if self.v.update_last else L):
            step = self.v.update_sign * learning_rate
            parameters["W" + str(l)] = parameters["W" + str(l)] + step * grads["dW" + str(l)]
            parameters["b" + str(l)] = parameters["b" + str(l)] + step * grads["db" + str(l)]
        return parameters


ACTIVATION_NAMES = ("sigmoid", "relu", "sigmoid_backward", "relu_backward")
HELPER_NAMES = ACTIVATION_NAMES + (
    "initialize_parameters", "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
    "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward", "L_model_backward",
    "update_parameters",
)


def helper_functions(names: tuple[str, ...], dA_keys: str = NEW_KEYS) -> dict:
    """{name: function} of the correct course, for a stand-in helper module."""
    course = Course(Variant(), dA_keys)
    return {name: getattr(course, name) for name in names}
