"""Known learner mistakes, each the course's computation with one thing changed, and the one a difference matches.

When a function differs, each catalogued mistake that can show in it is
computed on the very inputs the learner's function got (course.py with that
mistake's Variant); the one whose output the learner's reproduces, every
tensor within the same tolerance, or whose error it raised, names the bug:
"db4 is 209 x the expected value: the 1/m is missing".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from compare.learners.codec import fresh
from compare.learners.course import APPLICATION_INIT, STEP_BY_STEP_INIT, Course, Variant
from compare.learners.outputs import Leaf, compare_leaves
from compare.learners.protocol import OLD_KEYS, function_of
from compare.metrics import Tolerance

BACKWARD = ("linear_backward", "linear_activation_backward", "L_model_backward")
RELU_BACKWARD = ("linear_activation_backward:relu", "L_model_backward")
SIGMOID_BACKWARD = ("linear_activation_backward:sigmoid", "L_model_backward")
FORWARD = ("linear_forward", "linear_activation_forward", "L_model_forward")
INITIALISERS = ("initialize_parameters", "initialize_parameters_deep")


@dataclass(frozen=True)
class Mistake:
    key: str
    title: str  # a few words, for tables and CSV
    says: str  # the diagnosis; {tensor}, {m}, {found}, {expected} and {why} are filled in
    shows_in: tuple[str, ...]  # functions, or "function:case" tasks, whose output it changes
    changes: dict | Callable[[Variant], dict]  # Variant fields, or a function of the expected Variant giving them

    def variant(self, base: Variant) -> Variant:
        return replace(base, **(self.changes(base) if callable(self.changes) else self.changes))

    def applies_to(self, task: str) -> bool:
        return task in self.shows_in or function_of(task) in self.shows_in


def _other_init(base: Variant) -> tuple[int, str]:
    return STEP_BY_STEP_INIT if (base.init_seed, base.init_scale) == APPLICATION_INIT else APPLICATION_INIT


CATALOGUE = (
    Mistake("dW_without_1_over_m", "dW without 1/m", "{tensor} is {m} × the expected value: the 1/m is missing",
            BACKWARD, {"dW_mean": False}),
    Mistake("db_without_1_over_m", "db without 1/m", "{tensor} is {m} × the expected value: the 1/m is missing",
            BACKWARD, {"db_mean": False}),
    Mistake("db_wrong_axis", "db summed over axis 0",
            "{tensor} is summed over axis 0 (the units) instead of axis 1 (the examples)", BACKWARD, {"db_axis": 0}),
    Mistake("db_over_every_axis", "db summed over every axis",
            "{tensor} is one number: np.sum(dZ) without axis=1 adds up every unit's gradient over every example",
            BACKWARD, {"db_axis": None, "db_shape": "flat"}),
    Mistake("db_without_keepdims", "db without keepdims",
            "{tensor} has shape (n,) instead of (n, 1): np.sum without keepdims=True (or np.squeeze)", BACKWARD, {"db_shape": "flat"}),
    Mistake("db_squeezed", "db squeezed", "{tensor} is squeezed (np.squeeze): the course's db keeps the shape (n, 1)",
            BACKWARD, {"db_shape": "squeezed"}),
    Mistake("relu_mask_inverted", "ReLU backward mask inverted",
            "ReLU backward zeroes dA where Z > 0 instead of where Z <= 0", RELU_BACKWARD, {"relu_mask": "Z > 0"}),
    Mistake("relu_mask_on_dA", "ReLU backward masks dA by its own sign",
            "ReLU backward zeroes dA where dA <= 0: the mask must come from Z, the cache", RELU_BACKWARD,
            {"relu_mask": "dA <= 0"}),
    Mistake("sigmoid_derivative_on_Z", "sigmoid derivative taken on Z",
            "sigmoid backward uses Z * (1 - Z); the derivative is s * (1 - s) with s = sigmoid(Z)", SIGMOID_BACKWARD,
            {"sigmoid_grad": "Z(1-Z)"}),
    Mistake("sigmoid_derivative_without_1_minus_s", "sigmoid derivative without (1 - s)",
            "sigmoid backward multiplies by s alone; the derivative is s * (1 - s)", SIGMOID_BACKWARD,
            {"sigmoid_grad": "s"}),
    Mistake("dAL_sign_flipped", "dAL sign flipped",
            "dAL has its sign flipped: it is -(Y / AL - (1 - Y) / (1 - AL))", ("L_model_backward",), {"dAL_sign": -1.0}),
    Mistake("relu_layers_with_sigmoid_backward", "ReLU layers back-propagated with sigmoid_backward",
            "the ReLU layers are back-propagated with sigmoid_backward instead of relu_backward",
            ("L_model_backward",), {"hidden": "sigmoid"}),
    Mistake("relu_layers_with_sigmoid_backward_of_dAL", "ReLU layers back-propagated with sigmoid_backward of dAL",
            "the ReLU layers are back-propagated with sigmoid_backward(dAL, ...) instead of relu_backward of their own dA",
            ("L_model_backward",), {"hidden": "sigmoid of dAL"}),
    Mistake("every_layer_takes_the_output_dA", "every layer takes the output layer's dA",
            "every hidden layer back-propagates the dA of the output layer ({dAL_key}) instead of the one "
            "the layer above it produced", ("L_model_backward",), {"upstream": "last"}),
    Mistake("cost_sign_flipped", "cost sign flipped",
            "the cost has its sign flipped: it is -(1/m) * sum(Y log(AL) + (1 - Y) log(1 - AL))", ("compute_cost",),
            {"cost_sign": -1.0}),
    Mistake("cost_without_1_over_m", "cost without 1/m", "the cost is {m} × the expected value: the 1/m is missing",
            ("compute_cost",), {"cost_mean": False}),
    Mistake("forward_without_b", "+ b missing", "Z is computed as W . A without + b", FORWARD, {"forward_b": False}),
    Mistake("cache_holds_A", "cache holds A instead of Z", "the activation cache holds A where the course keeps Z",
            ("linear_activation_forward", "L_model_forward"), {"cache_Z": False}),
    Mistake("output_layer_relu", "output layer uses relu", "the output layer uses relu instead of sigmoid",
            ("L_model_forward",), {"output": "relu"}),
    Mistake("L_counts_W_and_b", "L = len(parameters)",
            "L = len(parameters) counts W and b apart, so a W past the last layer is looked up; "
            "the course writes L = len(parameters) // 2", ("L_model_forward", "update_parameters"), {"L_halved": False}),
    Mistake("update_adds", "update adds the step",
            "the update adds learning_rate × gradient instead of subtracting it", ("update_parameters",),
            {"update_sign": 1.0}),
    Mistake("update_misses_the_last_layer", "update misses the last layer",
            "the update loop stops before the last layer (range(1, L) where the layers run 1..L)",
            ("update_parameters",), {"update_last": False}),
    Mistake("update_does_nothing", "parameters returned unchanged",
            "the parameters come back as they went in: no update was applied", ("update_parameters",),
            {"update_sign": 0.0}),
    Mistake("W_transposed", "W transposed",
            "{tensor} is drawn transposed: randn(layer_dims[l - 1], layer_dims[l]) instead of "
            "randn(layer_dims[l], layer_dims[l - 1])", INITIALISERS, {"init_transposed": True}),
    Mistake("b_not_zero", "b not zero at the start",
            "b is drawn at random (randn * 0.01): the course starts every b at zero", INITIALISERS, {"init_b_drawn": True}),
    Mistake("W_unscaled", "W not scaled",
            "{tensor} is randn alone: the course scales each W (* 0.01, or / np.sqrt(layer_dims[l - 1]) in the "
            "Application helpers)", INITIALISERS, {"init_scaled": False}),
    Mistake("uniform_draw", "np.random.rand instead of randn",
            "W is drawn with np.random.rand (uniform on [0, 1)) instead of np.random.randn (normal)", INITIALISERS,
            {"init_draw": "rand"}),
    Mistake("other_init_convention", "the other initialisation convention",
            "{tensor} follows {found} initialisation, but {why}: it must follow {expected}",
            ("initialize_parameters_deep",), lambda base: dict(zip(("init_seed", "init_scale"), _other_init(base)))),
    Mistake("init_seed_of_the_other_convention", "seed of the other initialisation convention",
            "{tensor} is drawn with seed {other_seed} and scaled as {expected} initialisation is; that one seeds "
            "with {seed}", ("initialize_parameters_deep",), lambda base: {"init_seed": _other_init(base)[0]}),
    Mistake("init_scale_of_the_other_convention", "scale of the other initialisation convention",
            "{tensor} is drawn with seed {seed} as {expected} initialisation is, but scaled by {other_scale} "
            "instead of {scale}", ("initialize_parameters_deep",), lambda base: {"init_scale": _other_init(base)[1]}),
)


@dataclass(frozen=True)
class Diagnosis:
    mistake: Mistake
    text: str


def diagnose(task: str, args: tuple, got, error: tuple[str, str] | None, leaves: list[Leaf], tolerance: Tolerance,
             base: Variant, dA_keys: str, words: dict, scalar: bool = False) -> Diagnosis | None:
    """The first catalogued mistake whose output `got` reproduces (or whose error `error` = (type, message) is).

    `args` are the inputs the learner's function got; `words` fill the
    message ({tensor}, {m}, ...).
    """
    for mistake in CATALOGUE:
        if not mistake.applies_to(task):
            continue
        variant = mistake.variant(base)
        if variant == base:
            continue
        try:
            mutated = getattr(Course(variant, dA_keys), function_of(task))(*fresh(args))
        except Exception as exc:  # the mistake makes the course's code raise: does the learner's raise the same?
            if error is not None and error == (type(exc).__name__, _first_line(exc)):
                return Diagnosis(mistake, _say(mistake, variant, base, words, dA_keys))
            continue
        if error is None and _reproduces(got, mutated, leaves, tolerance, scalar, words.get("tensor")):
            return Diagnosis(mistake, _say(mistake, variant, base, words, dA_keys))
    return None


def _reproduces(got, mutated, leaves: list[Leaf], tolerance: Tolerance, scalar: bool, first: str | None) -> bool:
    """Whether every tensor of `got` matches the mistake's output, the one that differed first tried first.

    Most candidates fail on that tensor, so on the course's data (dA0 alone
    is 12288 x 209) this stops after one comparison instead of every one.
    """
    ordered = sorted(leaves, key=lambda leaf: leaf.name != first)
    return all(compare_leaves(got, mutated, [leaf], tolerance, scalar)[0].passed for leaf in ordered)


def _say(mistake: Mistake, variant: Variant, base: Variant, words: dict, dA_keys: str) -> str:
    from compare.learners.conventions import INIT_NAMES

    other = _other_init(base)
    # the output layer's dA is the input gradient of layer L: stored as dA(L-1) (v6 on) or dAL (older releases)
    dAL_key = "grads['dA' + str(L)]" if dA_keys == OLD_KEYS else "grads['dA' + str(L - 1)]"
    fill = {"tensor": "it", "m": "m", "why": "", "dAL_key": dAL_key, "found": INIT_NAMES.get((variant.init_seed, variant.init_scale), ""),
            "expected": INIT_NAMES.get((base.init_seed, base.init_scale), ""), "seed": base.init_seed,
            "scale": base.init_scale, "other_seed": other[0], "other_scale": other[1], **words}
    return mistake.says.format(**fill)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
