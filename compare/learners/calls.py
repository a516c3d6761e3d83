"""In the child: one task, one call (or loop) of the learner's code, its return value kept as it came.

Every call gets fresh copies of its inputs (a learner's function may write
into what it is given) and runs with printing silenced. Whatever it raises,
SystemExit included, becomes an `Outcome`; the value goes back through
codec.py, where anything that is not numbers is described, not sent.
"""

from __future__ import annotations

import copy
import inspect
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from compare.learners.codec import decode, fresh
from compare.learners.loader import Learner, describe
from compare.learners.protocol import (
    CALL_TWICE,
    COMPOSE,
    LOOP,
    OWN_CACHES,
    STEP_FUNCTIONS,
    function_of,
)

OK, RAISED, MISSING, UNAVAILABLE = "ok", "raised", "missing", "unavailable"
_LEARNING_RATE_NAMES = ("learning_rate", "lr", "alpha", "learningRate")
_ITERATION_NAMES = ("num_iterations", "iterations", "num_iters", "n_iterations", "n_iter", "epochs", "iters",
                    "num_iteration", "iteration", "numIterations")


@dataclass
class Outcome:
    status: str  # ok, raised, missing, unavailable
    value: object = None
    error: tuple[str, str, str] | None = None  # (type, message, text) when it raised
    notes: list[str] = field(default_factory=list)


class Silenced:
    """sys.stdout and sys.stderr pointed at nothing while learner code runs (fd 1 and 2 are /dev/null too)."""

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = open(os.devnull, "w")
        return self

    def __exit__(self, *exc):
        quiet, (sys.stdout, sys.stderr) = sys.stdout, self.saved
        try:
            quiet.close()
        except BaseException:  # noqa: BLE001 -- the learner may have replaced or broken it
            pass
        return False


def run_task(task: str, spec: dict, learner: Learner, inputs: dict[str, np.ndarray], state: dict) -> Outcome:
    """Run one task of the job on the loaded learner; `state` carries the forward pass to the backward task."""
    function = function_of(task)
    mode = spec["mode"]
    if mode == COMPOSE:
        return _compose(spec, learner, inputs)
    fn = learner.defined(function)
    if fn is None:
        return Outcome(MISSING, learner.provenance(function))
    args = decode(spec["args"], inputs)
    if mode == OWN_CACHES:
        forward = state.get("L_model_forward")
        if not (isinstance(forward, (tuple, list)) and len(forward) == 2):
            return Outcome(UNAVAILABLE, "L_model_forward gave no (AL, caches) in this run")
        args = [forward[0], fresh(args[0]), forward[1]]  # its AL, the plan's Y, its caches
    outcome = _loop(fn, function, args, learner) if mode == LOOP else _call(fn, fresh(args), learner)
    if mode == CALL_TWICE and outcome.status == OK:
        second = _call(fn, fresh(args), learner)
        outcome.value = {"first": outcome.value, "second": second.value if second.status == OK else None}
    if task == "L_model_forward" and outcome.status == OK:
        state["L_model_forward"] = outcome.value
    return outcome


def _call(fn, args, learner: Learner) -> Outcome:
    try:
        with Silenced():
            return Outcome(OK, fn(*args))
    except BaseException as exc:  # noqa: BLE001 -- every escape the learner's code can take ends in a verdict
        return Outcome(RAISED, error=describe(exc, learner))


def _loop(fn, function: str, args, learner: Learner) -> Outcome:
    """A training loop of the file's, with the initialiser and the cost function it calls watched.

    The loop looks both up in the module's globals at each call, as a
    notebook's cells do, so wrapping them there sees the start it drew and
    every cost it computed.
    """
    X, Y, dims, learning_rate, steps = fresh(args)
    call = _bind(fn, learning_rate, steps)
    if isinstance(call, str):
        return Outcome(RAISED, error=("TypeError", call, call))
    namespace = fn.__globals__
    watched = {"start": None, "start_args": None, "costs": []}
    initialiser = "initialize_parameters" if function == "two_layer_model" else "initialize_parameters_deep"
    originals = {name: namespace.get(name) for name in (initialiser, "compute_cost")}

    def watched_initialiser(*a, **k):
        value = originals[initialiser](*a, **k)
        if watched["start"] is None:
            watched["start"], watched["start_args"] = copy.deepcopy(value), list(a)
        return value

    def watched_cost(*a, **k):
        value = originals["compute_cost"](*a, **k)
        if len(watched["costs"]) <= 10 * steps:
            watched["costs"].append(copy.deepcopy(value))
        return value

    if callable(originals[initialiser]):
        namespace[initialiser] = watched_initialiser
    if callable(originals["compute_cost"]):
        namespace["compute_cost"] = watched_cost
    try:
        outcome = _call(lambda: call(X, Y, dims), (), learner)
    finally:
        namespace.update({name: value for name, value in originals.items() if value is not None})
    outcome.value = {"returned": outcome.value, "start": watched["start"], "start_args": watched["start_args"],
                     "costs": watched["costs"]}
    if outcome.status != OK:
        outcome.status, outcome.value["returned"] = RAISED, None
    return outcome


def _bind(fn, learning_rate, steps):
    """fn(X, Y, dims) with the learning rate and the iteration count passed by name (or in the course's places)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return lambda X, Y, dims: fn(X, Y, dims, learning_rate, steps)
    keywords = {}
    for value, names in ((learning_rate, _LEARNING_RATE_NAMES), (steps, _ITERATION_NAMES), (False, ("print_cost",))):
        name = next((n for n in names if n in parameters), None)
        if name is not None:
            keywords[name] = value
    positional = [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(n in parameters for n in _ITERATION_NAMES):
        if len(positional) < 5:
            return (f"cannot tell it to run {steps} iterations: it has no num_iterations parameter "
                    f"(its parameters: {', '.join(parameters)})")
        return lambda X, Y, dims: fn(X, Y, dims, learning_rate, steps)
    return lambda X, Y, dims: fn(X, Y, dims, **keywords)


def _compose(spec: dict, learner: Learner, inputs) -> Outcome:
    """catnet's loop over the file's own step functions: forward, cost, backward, update, `steps` times."""
    functions = [learner.defined(name) for name in STEP_FUNCTIONS]
    if any(fn is None for fn in functions):
        return Outcome(MISSING, "")
    forward, cost, backward, update = functions
    X, Y, parameters, learning_rate, steps = fresh(decode(spec["args"], inputs))
    costs = []
    for step in range(steps):
        outcome = _call(forward, (X, parameters), learner)
        if outcome.status != OK:
            return _failed_at(outcome, "L_model_forward", step)
        if not (isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2):
            return Outcome(RAISED, error=("TypeError", "", f"L_model_forward returned no (AL, caches) at step {step}"))
        AL, caches = outcome.value
        outcome = _call(cost, (AL, Y), learner)
        if outcome.status != OK:
            return _failed_at(outcome, "compute_cost", step)
        costs.append(outcome.value)
        outcome = _call(backward, (AL, Y, caches), learner)
        if outcome.status != OK:
            return _failed_at(outcome, "L_model_backward", step)
        outcome = _call(update, (parameters, outcome.value, learning_rate), learner)
        if outcome.status != OK:
            return _failed_at(outcome, "update_parameters", step)
        parameters = outcome.value
    return Outcome(OK, {"returned": parameters, "costs": costs})


def _failed_at(outcome: Outcome, name: str, step: int) -> Outcome:
    kind, message, text = outcome.error
    return Outcome(RAISED, error=(kind, message, f"{name} raised at step {step}: {text}"))
