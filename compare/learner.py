"""Check a learner's own course-style file, function by function, against the torch twin.

The file is the course's notebook code: parameters in a dict keyed W1, b1,
..., `L_model_forward(X, parameters) -> (AL, caches)`, `compute_cost(AL, Y)`,
`L_model_backward(AL, Y, caches) -> grads` (dW1, db1, ..., optionally dA0,
...), `update_parameters(parameters, grads, learning_rate)` and
`initialize_parameters_deep(layer_dims)`. Each function found is called on
the same inputs as the twin and its output compared; a missing function is
reported as missing; one that raises is reported with its error. Then, when
the four step functions are all there and agree, a short training run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from compare.learner_file import FUNCTIONS, call, find_functions, load_learner_file
from compare.metrics import Comparison, Tolerance, compare_arrays
from compare.policy import Policy

TRAINING = "training run"


@dataclass(frozen=True)
class FunctionCheck:
    function: str
    status: str  # agrees, differs, raised, missing, skipped
    detail: str  # one line a learner can act on
    comparisons: tuple[Comparison, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status in ("differs", "raised")


@dataclass(frozen=True)
class LearnerReport:
    path: str
    import_error: str | None
    checks: tuple[FunctionCheck, ...]  # in the order the course builds them, the training run last
    step_tolerance: Tolerance
    training_tolerance: Tolerance
    training_steps: int

    @property
    def checked(self) -> tuple[FunctionCheck, ...]:
        return tuple(c for c in self.checks if c.status in ("agrees", "differs", "raised"))

    @property
    def passed(self) -> bool:
        return self.import_error is None and bool(self.checked) and not any(c.failed for c in self.checks)

    @property
    def first_failure(self) -> str | None:
        if self.import_error is not None:
            return f"the file raised on import: {self.import_error}"
        for check in self.checks:
            if check.failed:
                return f"{check.function}: {check.detail}"
        return None if self.checked else "none of the course's functions could be checked"


def summarise(function: str, comparisons: list[Comparison], kind: str) -> FunctionCheck:
    """agrees/differs with the first differing tensor named, and how well the rest agree."""
    failing = [c for c in comparisons if not c.passed]
    if not failing:
        worst = max((c.normwise or 0.0) for c in comparisons) if comparisons else 0.0
        return FunctionCheck(function, "agrees", f"every {kind} agrees (largest normwise error {worst:.1e})",
                             tuple(comparisons))
    first, others = failing[0], [c for c in comparisons if c.passed]
    rest = ""
    if len(failing) > 1:
        names = ", ".join(c.name for c in failing[1:4]) + (", ..." if len(failing) > 4 else "")
        rest += f"; {len(failing) - 1} more differ ({names})"
    if others:
        agree = max((c.normwise or 0.0) for c in others)
        rest += f"; every other {kind} agrees to {agree:.0e}" if len(failing) == 1 else f"; the rest agree to {agree:.0e}"
    return FunctionCheck(function, "differs", f"{first.name} differs: {how_far(first)}{rest}", tuple(comparisons))


def how_far(comparison: Comparison) -> str:
    if comparison.problem and comparison.normwise is None:
        return comparison.problem
    if comparison.max_rel is not None and np.isfinite(comparison.max_rel):
        text = f"max rel {comparison.max_rel:.4g} (normwise {comparison.normwise:.3g})"
    else:
        text = f"max abs {comparison.max_abs:.4g}"
    return f"{comparison.problem}; {text}" if comparison.problem else text


def as_dict_of_arrays(value, what: str) -> tuple[dict | None, str | None]:
    if not isinstance(value, dict):
        return None, f"returned {type(value).__name__}, expected a dict of {what}"
    return value, None


def named_comparisons(names, got: dict, expected: dict, tolerance: Tolerance) -> list[Comparison]:
    """Compare got[name] with expected[name] for each name; a missing key is a failed comparison."""
    comparisons = []
    for name in names:
        if name not in got:
            comparisons.append(Comparison(name, (), "missing", tolerance, passed=False,
                                          problem=f"{name} is missing from the returned dict", total=expected[name].size))
        else:
            comparisons.append(compare_arrays(name, got[name], expected[name], tolerance))
    return comparisons


def check_learner(path: str | Path, config, arrays, policy: Policy, device="cpu", training_steps: int = 100) -> LearnerReport:
    """Every course function in the file at `path` against the torch twin on config's network and arrays (float64)."""
    import torch

    from compare.twins import torch_pass
    from numpy_impl.init import initialize

    path = Path(path)
    report = lambda checks, error=None: LearnerReport(  # noqa: E731
        str(path), error, tuple(checks), policy.step, policy.trajectory, training_steps)
    module, import_error = load_learner_file(path)
    if module is None:
        return report([], import_error)
    X, Y = np.asarray(arrays.X_train, dtype=np.float64), np.asarray(arrays.Y_train, dtype=np.float64)
    initial = initialize(config.layers, config.init, config.seed, dtype=np.float64)
    twin = torch_pass(initial, X, Y, torch.float64, torch.device(device), input_grads=True)
    course = _Course(module, path, find_functions(module), policy, initial, X, Y, config)

    checks = [course.initialize(config)]
    forward, learner_forward = course.forward(twin)
    checks += [forward, course.cost(twin)]
    checks.append(course.backward(twin, forward, learner_forward))
    checks.append(course.update(twin, device))
    checks.append(course.training(checks, training_steps, device))
    return report(checks)


class _Course:
    """The learner's module with the inputs every check shares."""

    def __init__(self, module, path: Path, present: dict[str, bool], policy: Policy, initial, X, Y, config):
        self.module, self.path, self.present, self.policy = module, path, present, policy
        self.initial, self.X, self.Y, self.config = initial, X, Y, config
        self.learning_rate = config.learning_rate
        self.L = len(initial.layers)

    def params_dict(self) -> dict[str, np.ndarray]:
        """A fresh copy each call: a learner's function may write into what it is given."""
        return {name: array.copy() for name, array in self.initial.named_arrays().items()}

    def _call(self, function: str, *args):
        return call(self.module, self.path, function, *args)

    def initialize(self, config) -> FunctionCheck:
        name = "initialize_parameters_deep"
        if not self.present[name]:
            return FunctionCheck(name, "missing", "not defined in the file")
        if config.init != "dls" or config.seed != 1:
            return FunctionCheck(name, "skipped", "the course's initialiser is --init dls --seed 1; "
                                 f"this run uses --init {config.init} --seed {config.seed}")
        value, error = self._call(name, list(config.layers))
        if error:
            return FunctionCheck(name, "raised", error)
        got, problem = as_dict_of_arrays(value, "W1, b1, ...")
        if problem:
            return FunctionCheck(name, "differs", problem)
        expected = self.initial.named_arrays()
        return summarise(name, named_comparisons(expected, got, expected, self.policy.step), "parameter")

    def forward(self, twin) -> tuple[FunctionCheck, tuple | None]:
        name = "L_model_forward"
        if not self.present[name]:
            return FunctionCheck(name, "missing", "not defined in the file"), None
        value, error = self._call(name, self.X.copy(), self.params_dict())
        if error:
            return FunctionCheck(name, "raised", error), None
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            return FunctionCheck(name, "differs", f"returned {type(value).__name__}, expected the pair (AL, caches)"), None
        check = summarise(name, [compare_arrays("AL", value[0], twin.forward.AL, self.policy.step)], "output")
        return check, tuple(value)

    def cost(self, twin) -> FunctionCheck:
        name = "compute_cost"
        if not self.present[name]:
            return FunctionCheck(name, "missing", "not defined in the file")
        value, error = self._call(name, twin.forward.AL.copy(), self.Y.copy())  # the twin's AL: the same input for both
        if error:
            return FunctionCheck(name, "raised", error)
        value = np.asarray(value)
        if value.size != 1:
            return FunctionCheck(name, "differs", f"returned an array of shape {value.shape}, expected a single number")
        return summarise(name, [compare_arrays("cost", value.reshape(()), np.asarray(twin.cost), self.policy.step)], "output")

    def backward(self, twin, forward: FunctionCheck, learner_forward) -> FunctionCheck:
        name = "L_model_backward"
        if not self.present[name]:
            return FunctionCheck(name, "missing", "not defined in the file")
        if forward.status != "agrees":
            return FunctionCheck(name, "skipped", f"it takes the caches of L_model_forward, which {forward.status}")
        AL, caches = learner_forward
        value, error = self._call(name, np.array(AL, copy=True), self.Y.copy(), caches)
        if error:
            return FunctionCheck(name, "raised", error)
        got, problem = as_dict_of_arrays(value, "dW1, db1, ...")
        if problem:
            return FunctionCheck(name, "differs", problem)
        expected, order = {}, []
        for l in range(self.L, 0, -1):  # backprop order: the first tensor that differs is where the bug starts
            grad = twin.grads.layers[l - 1]
            expected[f"dW{l}"], expected[f"db{l}"] = grad.dW, grad.db
            order += [f"dW{l}", f"db{l}"]
            if f"dA{l - 1}" in got:  # optional in the course's dict
                # the course applies 1/m in dW and db only, so its dA are gradients of the summed loss: m x the cost's
                expected[f"dA{l - 1}"] = twin.dA[l - 1] * self.Y.shape[1]
                order.append(f"dA{l - 1}")
        return summarise(name, named_comparisons(order, got, expected, self.policy.step), "gradient")

    def update(self, twin, device) -> FunctionCheck:
        name = "update_parameters"
        if not self.present[name]:
            return FunctionCheck(name, "missing", "not defined in the file")
        grads = {key: value.copy() for key, value in twin.grads.named_arrays().items()}
        value, error = self._call(name, self.params_dict(), grads, self.learning_rate)
        if error:
            return FunctionCheck(name, "raised", error)
        got, problem = as_dict_of_arrays(value, "W1, b1, ...")
        if problem:
            return FunctionCheck(name, "differs", problem)
        expected = _torch_sgd_step(self.initial, twin.grads, self.learning_rate, device).named_arrays()
        return summarise(name, named_comparisons(expected, got, expected, self.policy.step), "parameter")

    def training(self, checks: list[FunctionCheck], steps: int, device) -> FunctionCheck:
        needed = FUNCTIONS[1:]
        missing = [f for f in needed if not self.present[f]]
        if missing:
            return FunctionCheck(TRAINING, "skipped", f"needs {', '.join(needed)}; missing: {', '.join(missing)}")
        failed = [c.function for c in checks if c.function in needed and c.status != "agrees"]
        if failed:
            return FunctionCheck(TRAINING, "skipped", f"not run: {', '.join(failed)} did not agree")
        learner = self._train(steps)
        if isinstance(learner, str):
            return FunctionCheck(TRAINING, "raised", learner)
        costs, params = learner
        twin_costs, twin_params = _torch_training(self.initial, self.X, self.Y, self.config, steps, device)
        tolerance = self.policy.trajectory
        comparisons = [compare_arrays(f"cost over {steps} steps", costs, twin_costs, tolerance)]
        comparisons += named_comparisons(twin_params, params, twin_params, tolerance)
        return summarise(TRAINING, comparisons, "tensor")

    def _train(self, steps: int):
        """The learner's own loop from the reference initial parameters: (costs, params), or what raised."""
        parameters, costs = self.params_dict(), []
        for step in range(steps):
            (value, error) = self._call("L_model_forward", self.X, parameters)
            if error:
                return f"L_model_forward raised at step {step}: {error}"
            AL, caches = value
            cost, error = self._call("compute_cost", AL, self.Y)
            if error:
                return f"compute_cost raised at step {step}: {error}"
            costs.append(float(np.asarray(cost).reshape(())))
            grads, error = self._call("L_model_backward", AL, self.Y, caches)
            if error:
                return f"L_model_backward raised at step {step}: {error}"
            parameters, error = self._call("update_parameters", parameters, grads, self.learning_rate)
            if error:
                return f"update_parameters raised at step {step}: {error}"
            if not isinstance(parameters, dict):
                return f"update_parameters returned {type(parameters).__name__} at step {step}, expected a dict"
        return np.asarray(costs), parameters


def _torch_sgd_step(initial, grads, learning_rate: float, device):
    """One SGD step of the twin from `initial` with the given gradients (torch.optim's update, torch_impl.sgd)."""
    import torch

    from torch_impl.model import CatNet
    from torch_impl.sgd import PlainSGD

    model = CatNet.from_params(initial, dtype=torch.float64, device=device)
    for linear, grad in zip(model.linears, grads.layers):
        linear.weight.grad = torch.from_numpy(np.ascontiguousarray(grad.dW)).to(device)
        linear.bias.grad = torch.from_numpy(np.ascontiguousarray(grad.db).reshape(-1)).to(device)
    PlainSGD(list(model.parameters()), lr=learning_rate).step()
    return model.to_params()


def _torch_training(initial, X, Y, config, steps: int, device):
    """The twin trained as the course trains: primal form, `steps` steps; (costs (steps,), named parameters)."""
    from torch_impl.train import train

    result = train(initial, X, Y, replace(config, iterations=steps, first_layer="primal", dtype="float64"), device)
    return result.costs, result.params.named_arrays()
