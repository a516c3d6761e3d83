"""Verdicts, in catnet's own process, from what the child sent back: the blob is read as data and nothing else.

Every graded function gets one FunctionCheck: agrees, differs (with the
first tensor that does and, where one reproduces it, the catalogued mistake),
raised, timed out, crashed, does not parse, or not found (with why that is
fine). Both course conventions of the dA keys are recognised and checked
against, and so are both initialisation conventions where the file does not
say which notebook it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compare.learners import protocol as p
from compare.learners.codec import decode, from_npz_bytes
from compare.learners.conventions import DA_KEY_NAMES, INIT_NAMES, Context
from compare.learners.course import APPLICATION_INIT, STEP_BY_STEP_INIT, TWO_LAYER_INIT
from compare.learners.mistakes import diagnose
from compare.learners.outputs import (
    Leaf,
    agreement,
    compare_leaves,
    difference,
    hint,
    parameter_leaves,
    same_values,
)
from compare.learners.plan import Plan, expected_variant
from compare.learners.source import LearnerSource
from compare.learners.training import judge_compose, judge_loop
from compare.learners.verdict import (
    AGREES,
    BROKEN,
    CRASHED,
    DIFFERS,
    NOT_FOUND,
    RAISED,
    TIMED_OUT,
    FunctionCheck,
)
from compare.metrics import Comparison, Tolerance

CONVENTION_OF = {APPLICATION_INIT: p.APPLICATION, STEP_BY_STEP_INIT: p.STEP_BY_STEP}
LINEAR_FORWARD = [Leaf("Z", (0,)), Leaf("cache A_prev", (1, 0)), Leaf("cache W", (1, 1)), Leaf("cache b", (1, 2))]
ACTIVATION_FORWARD = [Leaf("A", (0,)), Leaf("cache Z", (1, 1)), Leaf("cache A_prev", (1, 0, 0)),
                      Leaf("cache W", (1, 0, 1)), Leaf("cache b", (1, 0, 2))]
ONE_LAYER_BACKWARD = [Leaf("dW", (1,)), Leaf("db", (2,)), Leaf("dA_prev", (0,))]


@dataclass(frozen=True)
class Outcome:
    """One task's outcome as the child (or the runner) recorded it, every field checked."""

    status: str  # ok, raised, missing, unavailable, timed out, crashed
    value: object = None
    error: tuple[str, str, str] | None = None  # (type, first line of the message, text for the report)
    notes: tuple[str, ...] = ()

    @property
    def error_key(self) -> tuple[str, str] | None:
        return self.error[:2] if self.error else None


def read_outcomes(blob: bytes) -> dict[str, Outcome]:
    """The blob's outcomes by task; a malformed one becomes a crash that says so."""
    document, arrays = from_npz_bytes(blob)
    outcomes = {}
    raw = document.get("outcomes")
    if not isinstance(raw, dict):
        raise ValueError("the blob has no outcomes")
    for task, entry in raw.items():
        prefix = f"{task}/"
        mine = {name[len(prefix):]: array for name, array in arrays.items() if name.startswith(prefix)}
        try:
            outcomes[task] = _outcome(entry, mine)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            text = f"its result could not be read back ({exc})"
            outcomes[task] = Outcome(CRASHED, error=(CRASHED, text, text))
    return outcomes


def _outcome(entry: dict, arrays: dict) -> Outcome:
    status, error, notes = entry["status"], entry.get("error"), entry.get("notes") or []
    if not isinstance(status, str) or not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ValueError("malformed status or notes")
    if error is not None and not (isinstance(error, list) and len(error) == 3 and all(isinstance(e, str) for e in error)):
        raise ValueError("malformed error")
    return Outcome(status, decode(entry["value"], arrays), tuple(error) if error else None,
                   tuple(n[:300] for n in notes[:50]))


class Judge:
    """Turns one file's outcomes into FunctionChecks, against the run's plan."""

    def __init__(self, plan: Plan, references, step: Tolerance, trajectory: Tolerance):
        self.plan, self.references, self.step, self.trajectory = plan, references, step, trajectory

    def checks(self, source: LearnerSource, context: Context, outcomes: dict[str, Outcome]) -> list[FunctionCheck]:
        lost = Outcome(CRASHED, error=(CRASHED, "no result came back", "no result came back"))
        outcomes = {task: outcomes.get(task, lost) for task in (p.LOAD, *p.TASKS)}
        load = outcomes[p.LOAD].value
        defined = set(load.get("defined", [])) if isinstance(load, dict) else set()
        provenance = load.get("provenance", {}) if isinstance(load, dict) else {}
        checks: dict[str, FunctionCheck] = {}
        for function in p.GRADED:
            tasks = [task for task in p.TASKS if p.function_of(task) == function]
            if function not in defined:
                checks[function] = _not_found(function, source, context, provenance)
            elif any(outcomes[t].status in (TIMED_OUT, CRASHED) for t in tasks):
                task = next(t for t in tasks if outcomes[t].status in (TIMED_OUT, CRASHED))
                checks[function] = FunctionCheck(function, outcomes[task].status, outcomes[task].error[2])
            else:
                checks[function] = self._judge(function, outcomes, context, checks, source)
        checks[p.TRAINING] = judge_compose(self, outcomes[p.TRAINING], checks, defined)
        order = list(p.STEP_BY_STEP_FUNCTIONS) + [p.TRAINING] + list(p.APPLICATION_FUNCTIONS)
        return [checks[name] for name in order]

    def _judge(self, function, outcomes, context, checks, source) -> FunctionCheck:
        if function in ("initialize_parameters", "initialize_parameters_deep"):
            return self._initialiser(function, outcomes[function], context, source)
        if function in p.APPLICATION_FUNCTIONS:
            return judge_loop(self, function, outcomes[function], checks, source)
        if function == "L_model_backward":
            return self._backward(outcomes, checks.get("L_model_forward"), source)
        cases = [task for task in p.TASKS if p.function_of(task) == function]
        return self._cases(function, [(task, outcomes[task]) for task in cases], source)

    # --- one task's output against the plan ------------------------------------------------------------------

    def leaves(self, task: str, got=None) -> tuple[list[Leaf], bool]:
        """The tensors to compare for `task`, and whether its output is a single number."""
        L = len(self.plan.layers) - 1
        function = p.function_of(task)
        if function == "linear_forward":
            return LINEAR_FORWARD, False
        if function == "linear_activation_forward":
            return ACTIVATION_FORWARD, False
        if function in ("linear_backward", "linear_activation_backward"):
            return ONE_LAYER_BACKWARD, False
        if function == "compute_cost":
            return [Leaf("cost", ())], True
        if function == "L_model_forward":
            caches = got[1] if isinstance(got, (tuple, list)) and len(got) == 2 else None
            in_layout = isinstance(caches, (list, tuple)) and len(caches) == L and all(
                isinstance(c, (tuple, list)) and len(c) == 2 and isinstance(c[0], (tuple, list)) for c in caches)
            zs = [Leaf(f"Z{l} (in caches)", (1, l - 1, 1)) for l in range(1, L + 1)] if in_layout else []
            return zs + [Leaf("AL", (0,))], False
        return parameter_leaves(2 if function == "initialize_parameters" else L), False

    def compare_task(self, task: str, outcome: Outcome, expected=None, base=None, keys=p.NEW_KEYS, words=None,
                     leaves=None, args=None) -> tuple[str, str, list[Comparison], object]:
        """(status, detail, comparisons, diagnosis) of one task's outcome against its expected value."""
        plan = self.plan.tasks[task]
        expected = plan.expected if expected is None else expected
        args = plan.args if args is None else args
        default_leaves, scalar = self.leaves(task, outcome.value)
        leaves = leaves or default_leaves
        words = {"m": self.plan.m, **(words or {})}
        base = base or expected_variant(APPLICATION_INIT)
        if outcome.status == RAISED:
            found = diagnose(task, args, None, outcome.error_key, leaves, self.step, base, keys, words)
            return RAISED, outcome.error[2] + (f": {found.text}" if found else ""), [], found
        if outcome.value is None:
            return DIFFERS, "returned None (is the template's None still in place?)", [], None
        comparisons = compare_leaves(outcome.value, expected, leaves, self.step, scalar)
        failing = [c for c in comparisons if not c.passed]
        if not failing:
            return AGREES, agreement(comparisons), comparisons, None
        found = diagnose(task, args, outcome.value, None, leaves, self.step, base, keys,
                         {"tensor": failing[0].name, **words}, scalar)
        return DIFFERS, found.text if found else difference(comparisons), comparisons, found

    def _cases(self, function: str, cases: list[tuple[str, Outcome]], source) -> FunctionCheck:
        """A function checked on one or two cases (relu and sigmoid): the first case that fails decides."""
        comparisons = []
        for task, outcome in cases:
            status, detail, found_comparisons, found = self.compare_task(task, outcome)
            case = task.partition(":")[2]
            comparisons += [_named(c, case) for c in found_comparisons]
            if status != AGREES:
                where = f"with activation={case!r}: " if case else ""
                return _check(function, status, where + hint(detail, outcome.error, source), comparisons, found)
        return FunctionCheck(function, AGREES, agreement(comparisons), tuple(comparisons))

    # --- the initialisers, the backward pass -----------------------------------------------------------------

    def _initialiser(self, function: str, outcome: Outcome, context: Context, source) -> FunctionCheck:
        if outcome.status == RAISED:
            return FunctionCheck(function, RAISED, hint(outcome.error[2], outcome.error, source))
        first, second = (outcome.value.get(k) if isinstance(outcome.value, dict) else None for k in ("first", "second"))
        deep = function == "initialize_parameters_deep"
        seed = (context.expected_init or STEP_BY_STEP_INIT)[0] if deep else TWO_LAYER_INIT[0]
        if isinstance(first, dict) and isinstance(second, dict) and not same_values(first, second):
            name = next((k for k in first if not same_values(first.get(k), second.get(k))), "the parameters")
            return FunctionCheck(function, DIFFERS, f"unseeded: two calls gave different {name} (the course calls "
                                 f"np.random.seed({seed}) at the top of the function)", mistake="unseeded",
                                 mistake_title="unseeded")
        if not deep:
            status, detail, comparisons, found = self.compare_task(function, Outcome("ok", first),
                                                                   base=expected_variant(TWO_LAYER_INIT))
            return _check(function, status, detail, comparisons, found, INIT_NAMES[TWO_LAYER_INIT]
                          if status == AGREES else None)
        conventions = [context.expected_init] if context.expected_init else [STEP_BY_STEP_INIT, APPLICATION_INIT]
        verdicts = []
        for init in conventions:
            expected = self.plan.init_conventions[CONVENTION_OF[init]]
            verdict = self.compare_task(function, Outcome("ok", first), expected, base=expected_variant(init),
                                        words={"why": context.reason})
            if verdict[0] == AGREES:
                return _check(function, *verdict, INIT_NAMES[init])
            verdicts.append(verdict)
        return _check(function, *next((v for v in verdicts if v[3] is not None), verdicts[0]))

    def _backward(self, outcomes: dict[str, Outcome], forward: FunctionCheck | None, source) -> FunctionCheck:
        own, course = outcomes.get("L_model_backward:own"), outcomes.get("L_model_backward:course")
        use_own = forward is not None and forward.status == AGREES and own is not None and own.status != "unavailable"
        outcome, task = (own, "L_model_backward:own") if use_own else (course, "L_model_backward:course")
        note = "" if use_own or forward is None or forward.status == NOT_FOUND else \
            f" (given the course's caches, since L_model_forward {forward.status})"
        keys = dA_convention(outcome.value, len(self.plan.layers) - 1)
        expected = in_convention(self.plan.tasks[task].expected, keys)
        leaves = backward_leaves(len(self.plan.layers) - 1, keys, outcome.value)
        args = self.plan.tasks["L_model_backward:course"].args
        status, detail, comparisons, found = self.compare_task(task, outcome, expected, keys=keys, leaves=leaves,
                                                               args=args)
        has_dA = any(leaf.name.startswith("dA") for leaf in leaves)
        convention = DA_KEY_NAMES[keys] if has_dA and status == AGREES else None
        if status == AGREES and not has_dA:
            detail += " (no dA keys returned, so only dW and db were checked)"
        return _check("L_model_backward", status, hint(detail, outcome.error, source) + note, comparisons, found,
                      convention)


def dA_convention(grads, L: int) -> str:
    """Which release's dA keys a returned grads dict uses: dA1..dAL (old) or dA0..dA(L-1) (new)."""
    numbers = {int(m.group(1)) for key in (grads if isinstance(grads, dict) else {})
               for m in [re.fullmatch(r"dA(\d+)", key)] if m}
    return p.OLD_KEYS if L in numbers and 0 not in numbers else p.NEW_KEYS


def in_convention(expected: dict, keys: str) -> dict:
    """The expected grads with dA keyed as `keys` says (the plan keys dA{l} by the activation A_l)."""
    if keys == p.NEW_KEYS:
        return expected
    return {(f"dA{int(k[2:]) + 1}" if k.startswith("dA") else k): v for k, v in expected.items()}


def backward_leaves(L: int, keys: str, got) -> list[Leaf]:
    """dW, db and the dA each layer produces, output layer first: the first that differs is where the bug starts."""
    leaves = []
    for l in range(L, 0, -1):
        dA = f"dA{l - 1 if keys == p.NEW_KEYS else l}"
        leaves += [Leaf(f"dW{l}", (f"dW{l}",)), Leaf(f"db{l}", (f"db{l}",))]
        if isinstance(got, dict) and dA in got:  # the course's dict has them; catnet does not insist
            leaves.append(Leaf(dA, (dA,)))
    return leaves


def _named(comparison: Comparison, case: str) -> Comparison:
    from dataclasses import replace

    return replace(comparison, name=f"{comparison.name} ({case})") if case else comparison


def _check(function, status, detail, comparisons, found, convention=None) -> FunctionCheck:
    return FunctionCheck(function, status, detail, tuple(comparisons), found.mistake.key if found else None,
                         found.mistake.title if found else None, convention)


def _not_found(function: str, source: LearnerSource, context: Context, provenance: dict) -> FunctionCheck:
    """Why a graded function the file does not define is fine (or, in a cell that does not parse, is not)."""
    broken = next((cell for cell in source.broken if function in cell.defines), None)
    if broken is not None:
        python2 = " (the notebook's kernel is Python 2)" if source.metadata.kernel.startswith("python2") else ""
        return FunctionCheck(function, BROKEN, f"its {broken.label} does not parse: {broken.error}{python2}")
    origin = provenance.get(function, "")
    if origin == "compare.learners.course":
        why = "catnet's stand-in for the course's helper module supplies it"
    elif origin:
        # a helper beside the file may be the course's or the learner's own edit of it: it is checked when named
        why = f"it comes from {origin}, not from this file (name {origin}'s file to check it)"
    elif function in p.APPLICATION_FUNCTIONS and p.APPLICATION not in context.assignment:
        why = "it belongs to the Application notebook"
    elif function not in p.APPLICATION_FUNCTIONS and p.STEP_BY_STEP not in context.assignment:
        why = "the Application notebook takes it from dnn_app_utils"
    else:
        why = "not defined in this file"
    return FunctionCheck(function, NOT_FOUND, why)

