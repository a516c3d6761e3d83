"""catnet compare --against: a learner's course-style file, function by function, against the torch twin.

The known-correct learner is catnet/textbook.py; the broken ones are made from
it by changing one line, the way a learner's bug would.
"""

from pathlib import Path

import pytest

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import CatnetError
from compare.learner import check_learner
from compare.policy import FLOAT64_CPU

TEXTBOOK = (Path(__file__).resolve().parents[1] / "catnet" / "textbook.py").read_text()
TINY = TrainConfig(layers=(48, 5, 3, 1))  # the tiny data's 4x4x3 images; m = 12 training examples


@pytest.fixture
def tiny_arrays(tiny_data):
    return prepare_arrays(load_dataset(tiny_data), TINY)


def learner_file(tmp_path, source: str, name: str = "learner.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def broken(old: str, new: str) -> str:
    assert TEXTBOOK.count(old) == 1, old  # the substitution must hit exactly the line meant
    return TEXTBOOK.replace(old, new)


def check(path, arrays, steps=5):
    return check_learner(path, TINY, arrays, FLOAT64_CPU, training_steps=steps)


def status(report) -> dict[str, str]:
    return {c.function: c.status for c in report.checks}


def test_the_textbook_file_agrees_in_every_function_and_in_training(tmp_path, tiny_arrays):
    report = check(Path(__file__).resolve().parents[1] / "catnet" / "textbook.py", tiny_arrays)
    assert report.passed, report.first_failure
    assert set(status(report).values()) == {"agrees"}
    assert len(report.checks) == 6  # five functions and the training run


def test_a_wrong_relu_derivative_is_caught_in_backward_at_the_first_relu_layer(tmp_path, tiny_arrays):
    # the mask inverted: the gradient flows where the unit is off
    path = learner_file(tmp_path, broken("dZ[Z <= 0] = 0", "dZ[Z > 0] = 0"))
    report = check(path, tiny_arrays)
    assert not report.passed
    assert status(report)["L_model_backward"] == "differs"
    # backprop order: dW3, db3 and dA2 come before any ReLU, so dW2 is the first that differs
    assert report.first_failure.startswith("L_model_backward: dW2 differs: ")
    assert status(report)["L_model_forward"] == "agrees"


def test_a_missing_one_over_m_is_caught_with_the_factor_m(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, broken("dW = 1.0 / m * np.dot(dZ, A_prev.T)", "dW = np.dot(dZ, A_prev.T)"))
    report = check(path, tiny_arrays)
    assert report.first_failure.startswith("L_model_backward: dW3 differs: max rel 11 ")  # m - 1 with m = 12
    backward = report.checks[3]
    assert [c.name for c in backward.comparisons if not c.passed] == ["dW3", "dW2", "dW1"]  # db and dA keep their 1/m
    assert status(report)["training run"] == "skipped"


def test_a_transposed_weight_is_caught_by_its_shape(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, broken("np.random.randn(layer_dims[l], layer_dims[l - 1])",
                                         "np.random.randn(layer_dims[l - 1], layer_dims[l])"))
    report = check(path, tiny_arrays)
    assert report.first_failure.startswith(
        "initialize_parameters_deep: W1 differs: shape (48, 5), expected (5, 48); 2 more differ (W2, W3)")
    # the other functions get the reference parameters, so they are checked on their own merits
    assert status(report)["L_model_backward"] == "agrees"


def test_a_float32_cast_in_the_middle_is_caught_even_when_the_result_is_float64_again(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, broken("Z = W.dot(A) + b", "Z = W.dot(A).astype(np.float32) + b"))
    report = check(path, tiny_arrays)
    forward = report.checks[1]
    assert forward.function == "L_model_forward" and forward.status == "differs"
    assert forward.comparisons[0].dtype == "float64"  # + b (float64) hides the cast from a dtype check
    assert 1e-12 < forward.comparisons[0].normwise < 1e-6  # float32 rounding, caught by the float64 tolerance
    assert report.first_failure.startswith("L_model_forward: AL differs")
    assert status(report)["L_model_backward"] == "skipped"  # its caches came from the differing forward


def test_a_float32_output_is_named_by_its_dtype(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, broken("    A = 1 / (1 + np.exp(-Z))", "    A = (1 / (1 + np.exp(-Z))).astype(np.float32)"))
    report = check(path, tiny_arrays)
    assert "dtype float32, expected float64" in report.first_failure


def test_a_file_with_only_forward_and_cost_gets_those_two_checked(tmp_path, tiny_arrays):
    source = TEXTBOOK
    for name in ("initialize_parameters_deep", "L_model_backward", "update_parameters"):
        source = source.replace(f"def {name}(", f"def not_yet_{name}(")
    report = check(learner_file(tmp_path, source), tiny_arrays)
    assert report.passed
    assert [c.function for c in report.checked] == ["L_model_forward", "compute_cost"]
    assert status(report)["L_model_backward"] == "missing"
    assert status(report)["training run"] == "skipped"


def test_a_file_that_raises_on_import_is_reported_not_crashed_on(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, "import numpy as np\n\nscale = 1 / 0\n")
    report = check(path, tiny_arrays)
    assert not report.passed
    assert report.import_error == "ZeroDivisionError: division by zero (line 3)"
    assert report.checks == ()


def test_a_function_that_raises_is_named_with_its_error(tmp_path, tiny_arrays):
    path = learner_file(tmp_path, broken("    grads = {}\n", "    grads = {}\n    raise NotImplementedError('todo')\n"))
    report = check(path, tiny_arrays)
    assert status(report)["L_model_backward"] == "raised"
    assert report.first_failure.startswith("L_model_backward: NotImplementedError: todo (line ")
    assert status(report)["update_parameters"] == "agrees"


def test_a_file_without_any_course_function_does_not_pass(tmp_path, tiny_arrays):
    report = check(learner_file(tmp_path, "x = 1\n"), tiny_arrays)
    assert not report.passed
    assert report.first_failure == "none of the course's functions could be checked"


@pytest.mark.parametrize("name, message", [("learner.txt", "expects a Python file"), ("absent.py", "no such file")])
def test_a_path_that_is_not_a_python_file_is_a_usage_error(tmp_path, tiny_arrays, name, message):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("x = 1\n")
    with pytest.raises(CatnetError, match=message):
        check(path, tiny_arrays)
