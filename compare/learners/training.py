"""The training loops: the file's own two_layer_model and L_layer_model, and catnet's loop over its step functions.

A loop is compared with the twin trained from the very start the loop drew
(its initialiser's first return, watched in the child), for the same short
run: the cost at every iteration (what its compute_cost returned) and the
parameters at the end. A wrong start is the initialiser's verdict, not the
loop's; a loop that differs because a step function it calls differs says so.
"""

from __future__ import annotations

import numpy as np

from compare.learners import protocol as p
from compare.learners.conventions import INIT_NAMES, RETURN_NAMES
from compare.learners.course import APPLICATION_INIT, STEP_BY_STEP_INIT, TWO_LAYER_INIT
from compare.learners.outputs import (
    agreement,
    compare,
    compare_leaves,
    describe,
    difference,
    hint,
    parameter_leaves,
)
from compare.learners.verdict import (
    AGREES,
    CRASHED,
    DIFFERS,
    RAISED,
    SKIPPED,
    TIMED_OUT,
    FunctionCheck,
)
from compare.metrics import Comparison

LOOP_CALLS = {  # what each loop calls, besides compute_cost
    "two_layer_model": ("initialize_parameters", "linear_activation_forward", "compute_cost",
                        "linear_activation_backward", "update_parameters"),
    "L_layer_model": ("initialize_parameters_deep", "L_model_forward", "compute_cost", "L_model_backward",
                      "update_parameters"),
}


def judge_compose(judge, outcome, checks: dict, defined: set[str]) -> FunctionCheck:
    """catnet's loop over the file's four step functions, when it has all four and they agree."""
    missing = [name for name in p.STEP_FUNCTIONS if name not in defined]
    if missing:
        return FunctionCheck(p.TRAINING, SKIPPED, f"needs {', '.join(p.STEP_FUNCTIONS)} in the file; "
                             f"not there: {', '.join(missing)}")
    failed = [name for name in p.STEP_FUNCTIONS if checks[name].status != AGREES]
    if failed:
        return FunctionCheck(p.TRAINING, SKIPPED, f"not run: {', '.join(failed)} did not agree")
    if outcome is None:
        return FunctionCheck(p.TRAINING, SKIPPED, "not run")
    if outcome.status in (RAISED, TIMED_OUT, CRASHED):
        return FunctionCheck(p.TRAINING, outcome.status, outcome.error[2])
    start = judge.plan.tasks[p.TRAINING].args[2]
    value = outcome.value if isinstance(outcome.value, dict) else {}
    comparisons, note = _compare_run(judge, start, value.get("costs"), value.get("returned"))
    return _verdict(p.TRAINING, comparisons, note)


def judge_loop(judge, function: str, outcome, checks: dict, source) -> FunctionCheck:
    """The file's own training loop, from the start it drew, against the twin's run from that start."""
    if outcome.status in (RAISED, TIMED_OUT, CRASHED):
        return FunctionCheck(function, outcome.status, hint(outcome.error[2], outcome.error, source)
                             + _blame(function, checks))
    value = outcome.value if isinstance(outcome.value, dict) else {}
    returned = value.get("returned")
    if isinstance(returned, dict):
        params, shape = returned, "parameters"
    elif isinstance(returned, (tuple, list)) and len(returned) == 2 and isinstance(returned[0], dict):
        params, shape = returned[0], "pair"
    else:
        return FunctionCheck(function, DIFFERS, f"returned {describe(returned)}, expected parameters "
                             "(releases up to v8) or (parameters, costs) (2021+)")
    start, note = value.get("start"), ""
    if start is None:
        start = judge.plan.tasks["initialize_parameters"].expected if function == "two_layer_model" \
            else judge.plan.init_conventions[p.APPLICATION]
        note = f" (its loop never called {LOOP_CALLS[function][0]}, so it was compared from the course's start)"
    dims = judge.plan.tasks[function].args[2]
    problem = _start_problem(start, dims)
    if problem:
        return FunctionCheck(function, DIFFERS, f"its start cannot be trained from: {problem}" + _blame(function, checks))
    comparisons, run_note = _compare_run(judge, start, value.get("costs"), params,
                                         returned_costs=returned[1] if shape == "pair" else None)
    found = f"returns {RETURN_NAMES[shape]}; {_start_name(judge, function, start) if not note else 'start not seen'}"
    check = _verdict(function, comparisons, note + run_note, found)
    if check.failed:
        return FunctionCheck(function, check.status, check.detail + _blame(function, checks), check.comparisons,
                             found=check.found)
    return check


def _compare_run(judge, start: dict, costs, params, returned_costs=None) -> tuple[list[Comparison], str]:
    """The loop's costs and final parameters against the twin's from `start`, and a note on what was not compared."""
    reference_costs, reference_params = judge.references.training(start)
    steps = len(reference_costs)
    tolerance = judge.trajectory
    comparisons, notes = [], []
    watched = _numbers(costs)
    if isinstance(watched, str):
        comparisons.append(Comparison("cost", (), "-", tolerance, passed=False, problem=watched))
    elif len(watched) and len(watched) % steps == 0:  # once an iteration; or k times, on the same parameters (to print it, say)
        per_iteration = watched[:: len(watched) // steps]
        comparisons.append(compare(f"cost, iterations 0-{steps - 1}", per_iteration, reference_costs, tolerance))
    elif len(watched):  # not once an iteration: which value belongs to which iteration is a guess, so none is made
        notes.append(f"compute_cost ran {len(watched)} times in {steps} iterations, so only the final parameters "
                     "were compared")
    elif returned_costs is not None:  # the loop works the cost out itself: its own record, every 100th
        recorded = _numbers(returned_costs)
        if isinstance(recorded, str) or not len(recorded):
            comparisons.append(Comparison("costs returned", (), "-", tolerance, passed=False,
                                          problem=recorded if isinstance(recorded, str) else "no costs returned"))
        else:
            comparisons.append(compare("costs returned", recorded[:1], reference_costs[:1], tolerance))
    comparisons += compare_leaves(params, reference_params, parameter_leaves(len(reference_params) // 2), tolerance)
    return comparisons, "".join(f" ({note})" for note in notes)


def _verdict(function: str, comparisons: list[Comparison], note: str, found: str | None = None) -> FunctionCheck:
    if all(c.passed for c in comparisons):
        return FunctionCheck(function, AGREES, agreement(comparisons) + note, tuple(comparisons), found=found)
    return FunctionCheck(function, DIFFERS, difference(comparisons) + note, tuple(comparisons), found=found)


def _start_name(judge, function: str, start: dict) -> str:
    """Which course initialisation the loop's start is, if any (a loop may call a helper that is not the course's)."""
    if function == "two_layer_model":
        known = {TWO_LAYER_INIT: judge.plan.tasks["initialize_parameters"].expected}
    else:
        known = {APPLICATION_INIT: judge.plan.init_conventions[p.APPLICATION],
                 STEP_BY_STEP_INIT: judge.plan.init_conventions[p.STEP_BY_STEP]}
    for init, expected in known.items():
        if all(c.passed for c in compare_leaves(start, expected, parameter_leaves(len(expected) // 2), judge.step)):
            return f"started from {INIT_NAMES[init]} initialisation"
    return "started from parameters no course initialisation draws"


def _numbers(values) -> np.ndarray | str:
    """A list of one-number values (what compute_cost returned each time) as a float array, or what is wrong."""
    if values is None:
        return np.zeros(0)
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values.astype(np.float64)
    if not isinstance(values, (list, tuple)):
        return f"the costs came back as {describe(values)}"
    numbers = []
    for value in values:
        if not (isinstance(value, np.ndarray) and value.size == 1):
            return f"compute_cost returned {describe(value)}, not a single number"
        numbers.append(float(value.reshape(())))
    return np.asarray(numbers)


def _start_problem(start, dims) -> str | None:
    sizes = [int(n) for n in dims]
    if not isinstance(start, dict):
        return f"the initialiser returned {describe(start)}"
    for l in range(1, len(sizes)):
        for name, shape in ((f"W{l}", (sizes[l], sizes[l - 1])), (f"b{l}", (sizes[l], 1))):
            value = start.get(name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                return f"{name} is {describe(value)}, expected shape {shape}"
            if not np.all(np.isfinite(value)):
                return f"{name} is not finite"
    return None


def _blame(function: str, checks: dict) -> str:
    """'; it calls L_model_backward, which differs': the step functions of the file's that a loop calls and that fail."""
    failing = [name for name in LOOP_CALLS[function] if name in checks and checks[name].failed]
    if not failing:
        return ""
    return f"; it calls {', '.join(failing)}, which {'does' if len(failing) == 1 else 'do'} not agree"
