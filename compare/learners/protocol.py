"""What the two sides of the learner check agree on: the graded functions and the tasks the child runs.

Imported by the child process too, so it holds names only (no NumPy).
"""

from __future__ import annotations

STEP_BY_STEP = "Step by Step"  # "Building your Deep Neural Network: Step by Step" (W4A1)
APPLICATION = "Application"  # "Deep Neural Network - Application" (W4A2)

# every graded function of both Week-4 assignments, in the order the course builds them
STEP_BY_STEP_FUNCTIONS = (
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
)
APPLICATION_FUNCTIONS = ("two_layer_model", "L_layer_model")
GRADED = STEP_BY_STEP_FUNCTIONS + APPLICATION_FUNCTIONS

# the step functions a training loop composes, in the order it calls them
STEP_FUNCTIONS = ("L_model_forward", "compute_cost", "L_model_backward", "update_parameters")
TRAINING = "training run"  # catnet's loop over the file's own four step functions

# what the child runs, in order; a task is "function" or "function:case"
TASKS = (
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward:relu",
    "linear_activation_forward:sigmoid",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward:relu",
    "linear_activation_backward:sigmoid",
    "L_model_backward:own",  # with the caches the file's own L_model_forward returned (run just before)
    "L_model_backward:course",  # with caches built as the course builds them
    "update_parameters",
    TRAINING,
    "two_layer_model",
    "L_layer_model",
)
LOAD = "load"  # the phase before the tasks: running the file's kept statements

# how a task runs in the child
CALL = "call"  # once, with the plan's arguments
CALL_TWICE = "call twice"  # an initialiser: twice, to see whether it is seeded
OWN_CACHES = "own caches"  # L_model_backward on the file's own forward output
LOOP = "loop"  # a training loop of the file's, its initialiser and cost function watched
COMPOSE = "compose"  # catnet's loop over the file's step functions


def function_of(task: str) -> str:
    return task.split(":", 1)[0]


# the course's helper modules: a learner's file imports them, and catnet stands in when they are not beside it
ACTIVATION_HELPERS = ("dnn_utils", "dnn_utils_v2")  # sigmoid, relu, sigmoid_backward, relu_backward
APPLICATION_HELPERS = {"dnn_app_utils": "old", "dnn_app_utils_v2": "old", "dnn_app_utils_v3": "new"}  # -> dA keys
TEST_MODULE_PREFIXES = ("testCases", "test_cases", "public_tests", "test_utils")

OLD_KEYS = "old"  # dA1..dAL: grads["dA" + str(l)] is the gradient with respect to layer l's input (releases to v5)
NEW_KEYS = "new"  # dA0..dA(L-1): grads["dA" + str(l)] is the gradient with respect to A_l (v6 and later)


def is_test_module(name: str) -> bool:
    return name.startswith(TEST_MODULE_PREFIXES)
