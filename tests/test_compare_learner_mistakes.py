"""Every catalogued mistake, injected into a correct course-style file, is found and named.

Each injection is the line a learner would write, applied to catnet/textbook.py;
the check must name that very mistake at the first function it shows in.
"""

from __future__ import annotations

import pytest
from learner_files import TINY, edited, step_by_step

from catcore.data import load_dataset, prepare_arrays
from compare.learners.check import check_path, open_session
from compare.learners.mistakes import CATALOGUE
from compare.learners.runner import Limits
from compare.policy import FLOAT64_CPU

M = 12  # the tiny data's training examples

LOOP = 'linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "relu")'
# squeezed and flat db differ only for a one-unit layer: linear_backward's ReLU layer cannot tell them apart, the
# output layer's db in L_model_backward can
SAME_ON_A_WIDE_LAYER = {"db_squeezed": "db_without_keepdims"}
INJECTED = {  # mistake -> (the file with it, the first function whose verdict must name it)
    "dW_without_1_over_m": (edited(("dW = 1.0 / m * np.dot(dZ, A_prev.T)", "dW = np.dot(dZ, A_prev.T)")),
                            "linear_backward"),
    "db_without_1_over_m": (edited(("db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)",
                                    "db = np.sum(dZ, axis=1, keepdims=True)")), "linear_backward"),
    "db_wrong_axis": (edited(("np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=0, keepdims=True)")),
                      "linear_backward"),
    "db_over_every_axis": (edited(("db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)", "db = 1.0 / m * np.sum(dZ)")),
                           "linear_backward"),
    "db_without_keepdims": (edited(("np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=1)")), "linear_backward"),
    "db_squeezed": (edited(("db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)",
                            "db = np.squeeze(np.sum(dZ, axis=1, keepdims=True)) / m")), "L_model_backward"),
    "relu_mask_inverted": (edited(("dZ[Z <= 0] = 0", "dZ[Z > 0] = 0")), "linear_activation_backward"),
    "relu_mask_on_dA": (edited(("dZ[Z <= 0] = 0", "dZ[dA <= 0] = 0")), "linear_activation_backward"),
    "sigmoid_derivative_on_Z": (edited(("return dA * s * (1 - s)", "return dA * Z * (1 - Z)")),
                                "linear_activation_backward"),
    "sigmoid_derivative_without_1_minus_s": (edited(("return dA * s * (1 - s)", "return dA * s")),
                                             "linear_activation_backward"),
    "dAL_sign_flipped": (edited(("dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))",
                                 "dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)")), "L_model_backward"),
    "relu_layers_with_sigmoid_backward": (edited((LOOP, LOOP.replace('"relu"', '"sigmoid"'))), "L_model_backward"),
    "relu_layers_with_sigmoid_backward_of_dAL": (edited((
        f"dA_prev, dW, db = {LOOP}",
        "dA_prev, dW, db = linear_backward(sigmoid_backward(dAL, current_cache[1]), current_cache[0])")),
        "L_model_backward"),
    "every_layer_takes_the_output_dA": (edited((LOOP, LOOP.replace("str(l + 1)", "str(L - 1)"))), "L_model_backward"),
    "cost_sign_flipped": (edited(("(1.0 / m) * (-np.dot(Y, np.log(AL).T) - np.dot(1 - Y, np.log(1 - AL).T))",
                                  "(1.0 / m) * (np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T))")),
                          "compute_cost"),
    "cost_without_1_over_m": (edited(("(1.0 / m) * (-np.dot(Y, np.log(AL).T)", "(-np.dot(Y, np.log(AL).T)")),
                              "compute_cost"),
    "forward_without_b": (edited(("Z = W.dot(A) + b", "Z = W.dot(A)")), "linear_forward"),
    "cache_holds_A": (edited(("cache = (linear_cache, activation_cache)", "cache = (linear_cache, A)")),
                      "linear_activation_forward"),
    "output_layer_relu": (edited(('parameters["b" + str(L)], "sigmoid")', 'parameters["b" + str(L)], "relu")')),
                          "L_model_forward"),
    "L_counts_W_and_b": (edited(("    L = len(parameters) // 2\n    for l in range(1, L):",
                                 "    L = len(parameters)\n    for l in range(1, L):")), "L_model_forward"),
    "update_adds": (edited(('parameters["W" + str(l + 1)] - learning_rate', 'parameters["W" + str(l + 1)] + learning_rate'),
                           ('parameters["b" + str(l + 1)] - learning_rate', 'parameters["b" + str(l + 1)] + learning_rate')),
                    "update_parameters"),
    "update_misses_the_last_layer": (edited(("    for l in range(L):\n        parameters[",
                                             "    for l in range(L - 1):\n        parameters[")), "update_parameters"),
    "update_does_nothing": (edited(("    L = len(parameters) // 2\n    for l in range(L):",
                                    "    L = len(parameters) // 2\n    return parameters\n    for l in range(L):")),
                            "update_parameters"),
    "W_transposed": (edited(("np.random.randn(layer_dims[l], layer_dims[l - 1])",
                             "np.random.randn(layer_dims[l - 1], layer_dims[l])")), "initialize_parameters_deep"),
    "b_not_zero": (edited(('parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))',
                           'parameters["b" + str(l)] = np.random.randn(layer_dims[l], 1) * 0.01')),
                   "initialize_parameters_deep"),
    "W_unscaled": (edited(("W1 = np.random.randn(n_h, n_x) * 0.01", "W1 = np.random.randn(n_h, n_x)"),
                           ("W2 = np.random.randn(n_y, n_h) * 0.01", "W2 = np.random.randn(n_y, n_h)")),
                   "initialize_parameters"),
    "uniform_draw": (edited(("np.random.randn(layer_dims[l], layer_dims[l - 1])",
                             "np.random.rand(layer_dims[l], layer_dims[l - 1])")), "initialize_parameters_deep"),
    # the textbook trains L_layer_model from its initialiser, so the Application's convention is the one it must keep
    "other_init_convention": (edited(("np.random.seed(1)\n    parameters = {}", "np.random.seed(3)\n    parameters = {}"),
                                     ("/ np.sqrt(layer_dims[l - 1])", "* 0.01")), "initialize_parameters_deep"),
    "init_seed_of_the_other_convention": (edited(("np.random.seed(1)\n    parameters = {}",
                                                  "np.random.seed(3)\n    parameters = {}")),
                                          "initialize_parameters_deep"),
    "init_scale_of_the_other_convention": (edited(("/ np.sqrt(layer_dims[l - 1])", "* 0.01")),
                                           "initialize_parameters_deep"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every injected file checked once, two at a time: {mistake: report}."""
    from conftest import make_tiny_dataset

    from compare.learners.classroom import Entry, check_all

    folder = tmp_path_factory.mktemp("mistakes")
    arrays = prepare_arrays(load_dataset(make_tiny_dataset(folder / "data")), TINY)
    entries = []
    for key, (source, _) in INJECTED.items():
        path = folder / f"{key}.py"
        path.write_text(source)
        entries.append(Entry(path, True))
    with open_session(TINY, arrays.X_train, arrays.Y_train, FLOAT64_CPU, Limits(timeout=30), steps=5) as session:
        found = check_all(tuple(entries), session, jobs=2, on_report=lambda entry, report: None)
    return {path.stem: report for path, report in found.items()}


def test_the_catalogue_holds_at_least_twelve_mistakes_and_each_is_injected_here():
    assert len(CATALOGUE) >= 12
    assert {mistake.key for mistake in CATALOGUE} == set(INJECTED)


@pytest.mark.parametrize("key", sorted(INJECTED))
def test_each_injected_mistake_is_named(reports, key):
    report = reports[key]
    function = INJECTED[key][1]
    check = next(c for c in report.checks if c.function == function)
    assert not report.passed
    assert check.mistake == key, f"{check.status}: {check.detail}"
    assert report.first_failed.mistake == SAME_ON_A_WIDE_LAYER.get(key, key), report.first_failure


def test_a_missing_one_over_m_in_db_is_named_with_the_tensor_and_the_factor(reports):
    check = next(c for c in reports["db_without_1_over_m"].checks if c.function == "L_model_backward")
    assert check.detail == f"db3 is {M} × the expected value: the 1/m is missing"  # backprop order: db3 first


def test_ulp_distances_are_shown_for_agreeing_tensors_and_not_for_a_factor_of_m(reports):
    check = next(c for c in reports["db_without_1_over_m"].checks if c.function == "L_model_backward")
    tensors = {c.name: c for c in check.comparisons}
    assert tensors["db3"].max_ulp is None  # 12 x off: no rounding distance means anything
    assert isinstance(tensors["dW3"].max_ulp, int)  # equal to rounding: its ULP distance is the measure


def test_the_other_initialisation_convention_says_which_one_and_why(reports):
    check = next(c for c in reports["other_init_convention"].checks if c.function == "initialize_parameters_deep")
    assert "follows the Step-by-Step notebook's (seed 3, randn * 0.01)" in check.detail
    assert "its L_layer_model trains from it" in check.detail


def test_a_difference_no_mistake_explains_is_shown_without_a_name(tmp_path, tiny_data):
    arrays = prepare_arrays(load_dataset(tiny_data), TINY)
    path = tmp_path / "cast.py"
    path.write_text(step_by_step(("Z = W.dot(A) + b", "Z = W.dot(A).astype(np.float32) + b")))
    with open_session(TINY, arrays.X_train, arrays.Y_train, FLOAT64_CPU, Limits(timeout=30), steps=3) as session:
        report = check_path(path, session)
    check = report.first_failed
    assert check.function == "linear_forward" and check.mistake is None
    assert check.detail.startswith("Z differs: max rel ")


def test_the_output_layers_dA_is_quoted_with_the_files_own_keys(reports):
    check = next(c for c in reports["every_layer_takes_the_output_dA"].checks if c.function == "L_model_backward")
    assert "grads['dA' + str(L - 1)]" in check.detail  # the textbook keeps dA0..dA(L-1), as v6 on does
