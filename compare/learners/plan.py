"""What each graded function is given and what it must return: built once per run, shared by every file.

The inputs are the course's network on the run's data, at parameters whose
biases are not zero (so a forgotten "+ b" or a db summed the wrong way
shows). The expected values of the whole-network functions come from the
torch twin (its forward pass, its autograd gradients, torch.optim's update,
its training); those of the one-layer functions, and the course-scaled dZ
and dA they take, from the course's own computation (course.py), which
tests/test_compare_learner_course.py holds against the twin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from compare.learners import protocol as p
from compare.learners.codec import Encoder, to_npz_bytes
from compare.learners.course import (
    APPLICATION_INIT,
    RELU,
    SIGMOID,
    STEP_BY_STEP_INIT,
    Course,
    Variant,
)

N_H = 7  # the course's two-layer model: (n_x, 7, 1)
BIAS_SCALE = 0.1  # the check point's biases: randn * 0.1
BIAS_SEED = 0  # of the RandomState that draws them


@dataclass(frozen=True)
class TaskPlan:
    mode: str  # protocol.CALL, CALL_TWICE, ...
    args: tuple  # what the function is called with (arrays, dicts, tuples, ints, strings)
    expected: object = None  # what it must return, shaped as the course returns it; None for the loops


@dataclass(frozen=True)
class Plan:
    """The run's network and data, every task's arguments and expected value, and the init conventions."""

    layers: tuple[int, ...]
    m: int
    learning_rate: float
    steps: int
    relu_layer: int  # the layer the one-layer ReLU checks use
    tasks: dict[str, TaskPlan]
    init_conventions: dict[str, dict]  # assignment -> initialize_parameters_deep's expected parameters
    X: np.ndarray
    Y: np.ndarray

    def inputs(self) -> tuple[dict, bytes]:
        """({task: {"mode", "args" tree}}, the arrays as one .npz blob) for the child."""
        encoder = Encoder(plain_numbers=True)
        trees = {task: {"mode": plan.mode, "args": encoder.encode(list(plan.args))} for task, plan in self.tasks.items()}
        return trees, to_npz_bytes(encoder.arrays, {})


def build_plan(config, X: np.ndarray, Y: np.ndarray, steps: int, device="cpu") -> Plan:
    """Every task's inputs and expected outputs for `config`'s network on X (n_x, m), Y (1, m), in float64."""
    from numpy_impl.init import initialize

    layers, lr = tuple(int(n) for n in config.layers), float(config.learning_rate)
    X, Y = np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(Y, dtype=np.float64)
    m, L = X.shape[1], len(layers) - 1
    start = initialize(layers, "dls", 1, dtype=np.float64)
    rng = np.random.RandomState(BIAS_SEED)
    at = {}
    for l, layer in enumerate(start.layers, start=1):
        at[f"W{l}"], at[f"b{l}"] = layer.W, rng.randn(layer.W.shape[0], 1) * BIAS_SCALE  # (n_l, 1), not zero
    twin = _twin_pass(at, X, Y, device)
    course = Course()
    AL, caches = course.L_model_forward(X, at)
    k = 2 if L >= 3 else 1  # a hidden layer that has a hidden layer before it, where there is one
    (A_prev, W, b), Z = caches[k - 1]
    (A_last, W_last, b_last), Z_last = caches[L - 1]
    dAL = -(np.divide(Y, twin["AL"]) - np.divide(1 - Y, 1 - twin["AL"]))  # (1, m), the course's
    dA_k = twin["dA"][k] * m  # (n_k, m): the course's dA of the summed loss, input to layer k + 1
    dZ_k = course.relu_backward(dA_k, Z)
    tasks = {
        "initialize_parameters": TaskPlan(p.CALL_TWICE, (layers[0], N_H, 1),
                                          _named(initialize((layers[0], N_H, 1), "small", 1))),
        "initialize_parameters_deep": TaskPlan(p.CALL_TWICE, (list(layers),)),
        "linear_forward": TaskPlan(p.CALL, (A_prev, W, b), course.linear_forward(A_prev, W, b)),
        "linear_activation_forward:relu": TaskPlan(p.CALL, (A_prev, W, b, RELU),
                                                   course.linear_activation_forward(A_prev, W, b, RELU)),
        "linear_activation_forward:sigmoid": TaskPlan(p.CALL, (A_last, W_last, b_last, SIGMOID),
                                                      (twin["AL"], ((A_last, W_last, b_last), twin["Z"][-1]))),
        "L_model_forward": TaskPlan(p.CALL, (X, at), (twin["AL"], [((twin["A"][l], at[f"W{l + 1}"], at[f"b{l + 1}"]),
                                                                    twin["Z"][l]) for l in range(L)])),
        "compute_cost": TaskPlan(p.CALL, (twin["AL"], Y), np.asarray(twin["cost"])),
        "linear_backward": TaskPlan(p.CALL, (dZ_k, (A_prev, W, b)), course.linear_backward(dZ_k, (A_prev, W, b))),
        "linear_activation_backward:relu": TaskPlan(p.CALL, (dA_k, ((A_prev, W, b), Z), RELU),
                                                    course.linear_activation_backward(dA_k, ((A_prev, W, b), Z), RELU)),
        "linear_activation_backward:sigmoid": TaskPlan(
            p.CALL, (dAL, ((A_last, W_last, b_last), Z_last), SIGMOID),
            course.linear_activation_backward(dAL, ((A_last, W_last, b_last), Z_last), SIGMOID)),
        "L_model_backward:own": TaskPlan(p.OWN_CACHES, (Y,), _backward_expected(twin, m)),
        "L_model_backward:course": TaskPlan(p.CALL, (twin["AL"], Y, caches), _backward_expected(twin, m)),
        "update_parameters": TaskPlan(p.CALL, (at, twin["grads"], lr), _torch_step(at, twin["grads"], lr, device)),
        p.TRAINING: TaskPlan(p.COMPOSE, (X, Y, _named(start), lr, steps)),
        "two_layer_model": TaskPlan(p.LOOP, (X, Y, (layers[0], N_H, 1), lr, steps)),
        "L_layer_model": TaskPlan(p.LOOP, (X, Y, list(layers), lr, steps)),
    }
    conventions = {p.APPLICATION: _named(initialize(layers, "dls", APPLICATION_INIT[0])),
                   p.STEP_BY_STEP: _named(initialize(layers, "small", STEP_BY_STEP_INIT[0]))}
    return Plan(layers, m, lr, steps, k, tasks, conventions, X, Y)


def _named(params) -> dict[str, np.ndarray]:
    return params.named_arrays()


def _backward_expected(twin: dict, m: int) -> dict:
    """dW, db of the twin, and dA as the course keeps them: gradients of the summed loss, m x the cost's."""
    return {**twin["grads"], **{f"dA{l}": dA * m for l, dA in enumerate(twin["dA"])}}  # dA{l}: with respect to A_l


def _twin_pass(at: dict, X: np.ndarray, Y: np.ndarray, device) -> dict:
    import torch

    from compare.twins import torch_pass

    pass_ = torch_pass(_params(at), X, Y, torch.float64, torch.device(device), input_grads=True)
    return {"AL": pass_.forward.AL, "Z": pass_.forward.Z, "A": pass_.forward.A, "cost": pass_.cost,
            "grads": pass_.grads.named_arrays(), "dA": pass_.dA}


def _params(named: dict):
    from catcore.params import Layer, Params

    count = len(named) // 2
    return Params(tuple(Layer(np.asarray(named[f"W{l}"], dtype=np.float64), np.asarray(named[f"b{l}"], dtype=np.float64))
                        for l in range(1, count + 1)))


def _torch_step(at: dict, grads: dict, learning_rate: float, device) -> dict:
    """One step of torch.optim's SGD update (torch_impl.sgd) from `at` with the given gradients."""
    import torch

    from torch_impl.model import CatNet
    from torch_impl.sgd import PlainSGD

    model = CatNet.from_params(_params(at), dtype=torch.float64, device=device)
    for l, linear in enumerate(model.linears, start=1):
        linear.weight.grad = torch.from_numpy(np.ascontiguousarray(grads[f"dW{l}"])).to(device)
        linear.bias.grad = torch.from_numpy(np.ascontiguousarray(grads[f"db{l}"]).reshape(-1)).to(device)
    PlainSGD(list(model.parameters()), lr=learning_rate).step()
    return model.to_params().named_arrays()


class References:
    """The twin's short training runs from a given start, computed once per start (a class shares most starts).

    Thread-safe: the class runner judges several files at once.
    """

    def __init__(self, plan: Plan, config, device="cpu"):
        self.plan, self.config, self.device = plan, config, device
        self._runs: dict[bytes, tuple[np.ndarray, dict]] = {}
        self._lock = threading.Lock()

    def training(self, start: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(costs (steps,), final parameters) of the twin trained `steps` steps from `start` (float64 W1, b1, ...)."""
        key = b"".join(np.ascontiguousarray(start[name], dtype=np.float64).tobytes() + name.encode()
                       for name in sorted(start))
        with self._lock:
            if key not in self._runs:
                self._runs[key] = self._train(start)
            return self._runs[key]

    def _train(self, start: dict) -> tuple[np.ndarray, dict]:
        from torch_impl.train import train

        params = _params(start)
        config = replace(self.config, layers=params.layer_sizes, iterations=self.plan.steps, first_layer="primal",
                         dtype="float64", learning_rate=self.plan.learning_rate)
        result = train(params, self.plan.X, self.plan.Y, config, self.device)
        return result.costs, result.params.named_arrays()


def expected_variant(init: tuple[int, str]) -> Variant:
    return Variant(init_seed=init[0], init_scale=init[1])
