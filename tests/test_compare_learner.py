"""catnet compare --against: a learner's course-style file or notebook, every graded function of both assignments.

The files are catnet/textbook.py and one- or two-line variants of it
(tests/learner_files.py): another release's dA keys, the other notebook's
initialisation, the older return of the training loops, a notebook of cells.
"""

from __future__ import annotations

import pytest
from learner_files import (
    OLD_DA_KEYS,
    RETURNS_PARAMETERS_ONLY,
    STEP_BY_STEP_INIT,
    TEXTBOOK,
    TEXTBOOK_PATH,
    TINY,
    definitions,
    edited,
    notebook,
    step_by_step,
    write,
)

from catcore.data import load_dataset, prepare_arrays
from compare.learners.check import check_path, open_session
from compare.learners.protocol import GRADED, TRAINING
from compare.learners.runner import Limits
from compare.policy import FLOAT64_CPU


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from conftest import make_tiny_dataset

    arrays = prepare_arrays(load_dataset(make_tiny_dataset(tmp_path_factory.mktemp("data"))), TINY)
    with open_session(TINY, arrays.X_train, arrays.Y_train, FLOAT64_CPU, Limits(timeout=30), steps=4) as shared:
        yield shared


def statuses(report) -> dict[str, str]:
    return {check.function: check.status for check in report.checks}


def check(report, function: str):
    return next(c for c in report.checks if c.function == function)


def test_the_textbook_agrees_in_all_twelve_graded_functions_and_both_training_runs(session):
    report = check_path(TEXTBOOK_PATH, session)
    assert report.passed, report.first_failure
    assert set(statuses(report)) == set(GRADED) | {TRAINING}
    assert set(statuses(report).values()) == {"agrees"}


@pytest.mark.parametrize("keys, found", [("new", "dA0..dA(L-1)"), ("old", "dA1..dAL")])
def test_either_release_of_the_dA_keys_passes_and_is_named(tmp_path, session, keys, found):
    report = check_path(write(tmp_path, "step.py", step_by_step(dA_keys=keys)), session)
    assert report.passed, report.first_failure
    assert check(report, "L_model_backward").found.startswith(found)


def test_the_step_by_step_initialisation_passes_in_the_step_by_step_notebook(tmp_path, session):
    report = check_path(write(tmp_path, "step.py", step_by_step()), session)
    assert check(report, "initialize_parameters_deep").status == "agrees"
    assert check(report, "initialize_parameters_deep").found == "the Step-by-Step notebook's (seed 3, randn * 0.01)"
    assert report.context.reason.startswith("it is the Step-by-Step notebook")


def test_the_application_initialisation_passes_where_the_file_trains_from_it(session):
    report = check_path(TEXTBOOK_PATH, session)
    assert check(report, "initialize_parameters_deep").found.startswith("the Application helpers' (seed 1")


def test_either_initialisation_passes_when_nothing_says_which_notebook_it_is(tmp_path, session):
    alone = definitions(edited(*STEP_BY_STEP_INIT), "initialize_parameters_deep")
    report = check_path(write(tmp_path, "init.py", "import numpy as np\n\n\n" + alone), session)
    assert report.passed and report.context.expected_init is None


@pytest.mark.parametrize("edits, found", [((), "returns (parameters, costs)"),
                                          (RETURNS_PARAMETERS_ONLY, "returns parameters (")])
def test_both_returns_of_the_training_loops_pass_and_are_named(tmp_path, session, edits, found):
    report = check_path(write(tmp_path, "app.py", edited(*edits)), session)
    assert report.passed, report.first_failure
    assert check(report, "L_layer_model").found.startswith(found)
    assert check(report, "two_layer_model").found.startswith(found)
    assert check(report, "L_layer_model").found.endswith("started from the Application helpers' (seed 1, randn / "
                                                         "sqrt(n_prev)) initialisation")


def test_a_loop_is_compared_from_the_start_it_drew_even_unseeded(tmp_path, session):
    unseeded = edited(("    np.random.seed(1)\n    W1 = np.random.randn(n_h, n_x)", "    W1 = np.random.randn(n_h, n_x)"))
    report = check_path(write(tmp_path, "unseeded.py", unseeded), session)
    assert check(report, "initialize_parameters").mistake == "unseeded"
    assert check(report, "initialize_parameters").detail.startswith("unseeded: two calls gave different W1")
    assert check(report, "two_layer_model").status == "agrees"  # its own start, and the twin from the same one


def test_a_loop_that_cannot_be_told_its_iterations_says_so(tmp_path, session):
    source = edited(("def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):",
                     "def L_layer_model(X, Y, layers_dims):\n    learning_rate, num_iterations, print_cost = 0.0075, 30, False"))
    report = check_path(write(tmp_path, "fixed.py", source), session)
    assert check(report, "L_layer_model").detail.startswith("cannot tell it to run 4 iterations")


def application_cells(*loops: str) -> list[str]:
    return [
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\nfrom dnn_app_utils_v3 import *\n"
        "from public_tests import *\n%load_ext autoreload",
        "np.random.seed(1)",
        "train_x_orig, train_y, test_x_orig, test_y, classes = load_data()",
        "index = 10\nplt.imshow(train_x_orig[index])",
        "!ls datasets",
        "n_x = 12288\nn_h = 7\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\nlearning_rate = 0.0075",
        *loops,
        "parameters, costs = two_layer_model(train_x, train_y, layers_dims=(n_x, n_h, n_y), num_iterations=2500)",
        "%%time\nparameters, costs = L_layer_model(train_x, train_y, layers_dims, num_iterations=2500)",
        "pred_test = predict(test_x, test_y, parameters)",
    ]


def test_an_application_notebook_passes_with_its_top_level_work_skipped_and_said(tmp_path, session):
    loops = definitions(TEXTBOOK, "two_layer_model", "L_layer_model")
    report = check_path(notebook(tmp_path, "Application.ipynb", application_cells(loops)), session)
    assert report.passed, report.first_failure
    assert {c.function for c in report.checked} == {"two_layer_model", "L_layer_model"}
    categories = {s.category for s in report.skipped}
    assert {"trains", "loads files", "draws", "magics and shell lines"} <= categories
    assert any(note.startswith("dnn_app_utils_v3 is not beside the file: catnet's stand-in") for note in report.notes)
    assert check(report, "L_model_backward").detail == "catnet's stand-in for the course's helper module supplies it"


def test_a_notebook_uses_the_course_helper_beside_it_when_there_is_one(tmp_path, session):
    loops = definitions(TEXTBOOK, "two_layer_model", "L_layer_model")
    helper = edited(("dZ[Z <= 0] = 0", "dZ[Z > 0] = 0"))  # a helper beside it with a wrong ReLU backward
    write(tmp_path, "dnn_app_utils_v3.py", helper)
    report = check_path(notebook(tmp_path, "Application.ipynb", application_cells(loops)), session)
    assert check(report, "L_model_backward").detail.startswith("it comes from dnn_app_utils_v3")
    assert check(report, "L_layer_model").status == "differs"  # trained through the helper that was beside it


def test_a_helper_beside_the_file_with_an_import_that_fails_keeps_the_rest(tmp_path, session):
    # a real learner's dnn_app_utils_v2.py began with `import scipy`, which a machine without scipy cannot import
    # (and a __future__ import still holds for the statements after it: the annotation names nothing defined)
    helper = "from __future__ import annotations\nimport not_installed_anywhere\n" + TEXTBOOK.replace(
        "def linear_forward(A, W, b):", "def linear_forward(A: Undefined, W, b):")
    write(tmp_path, "dnn_app_utils_v3.py", helper)
    loops = definitions(TEXTBOOK, "two_layer_model", "L_layer_model")
    report = check_path(notebook(tmp_path, "Application.ipynb", application_cells(loops)), session)
    assert report.passed, report.first_failure
    assert check(report, "L_layer_model").status == "agrees"
    assert any(note.startswith("dnn_app_utils_v3.py, line 2 raised ModuleNotFoundError") for note in report.notes)


def test_missing_activation_helpers_are_supplied_and_a_missing_test_module_is_noted(tmp_path, session):
    source = ("import numpy as np\nfrom testCases_v4a import *\nfrom dnn_utils_v2 import sigmoid, sigmoid_backward, "
              "relu, relu_backward\n\n\n" + definitions(TEXTBOOK, "linear_backward", "linear_activation_backward"))
    report = check_path(write(tmp_path, "backward.py", source), session)
    assert report.passed, report.first_failure
    assert ("testCases_v4a is not beside the file: left empty (catnet checks with its own inputs, not the course's "
            "test cases)") in report.notes
    assert any(note.startswith("dnn_utils_v2 is not beside the file: catnet's stand-in supplies sigmoid")
               for note in report.notes)


def test_a_helper_beside_the_file_that_is_an_html_page_is_stood_in_for(tmp_path, session):
    write(tmp_path, "dnn_utils_v2.py", "<!DOCTYPE HTML>\n<html><title>dnn_utils_v2.py (editing)</title></html>\n")
    source = "import numpy as np\nfrom dnn_utils_v2 import *\n\n\n" + definitions(TEXTBOOK, "L_model_backward",
                                                                               "linear_activation_backward", "linear_backward")
    report = check_path(write(tmp_path, "backward.py", source), session)
    assert report.passed, report.first_failure
    assert any(note.startswith("dnn_utils_v2.py beside the file is an HTML page") for note in report.notes)


def test_names_the_file_uses_but_never_imports_are_supplied_and_said(tmp_path, session):
    report = check_path(write(tmp_path, "bare.py", definitions(TEXTBOOK, "compute_cost", "linear_activation_forward")),
                        session)
    assert report.passed, report.first_failure
    assert "np is used but never imported: catnet supplied numpy as np" in report.notes
    assert ("linear_forward, relu, sigmoid are used but never defined or imported: catnet's stand-in for the "
            "course's dnn_app_utils_v3 supplied them") in report.notes


def test_a_cell_that_does_not_parse_fails_the_function_it_defines(tmp_path, session):
    broken = definitions(TEXTBOOK, "two_layer_model").replace("        grads = {", "            grads = {")
    cells = application_cells(broken, definitions(TEXTBOOK, "L_layer_model"))
    report = check_path(notebook(tmp_path, "Application.ipynb", cells), session)
    failed = check(report, "two_layer_model")
    assert failed.status == "does not parse"
    assert failed.detail.startswith("its cell 8 does not parse: IndentationError: unexpected indent (line ")
    assert check(report, "L_layer_model").status == "agrees"


def test_a_python_2_notebook_says_so_when_its_cells_do_not_parse(tmp_path, session):
    cells = ["import numpy as np", 'def compute_cost(AL, Y):\n    print "cost"\n    return 0.0']
    report = check_path(notebook(tmp_path, "old.ipynb", cells, kernel="python2"), session)
    assert check(report, "compute_cost").detail.endswith("(the notebook's kernel is Python 2)")


def test_a_name_only_skipped_code_makes_is_explained(tmp_path, session):
    source = TEXTBOOK + "\n\nm_train = load_data()[0].shape[0]\n\n\ndef compute_cost(AL, Y):\n    return AL.sum() / m_train\n"
    report = check_path(write(tmp_path, "uses_data.py", source), session)
    detail = check(report, "compute_cost").detail
    assert detail.startswith("NameError: name 'm_train' is not defined (line ")
    assert "m_train is made by top-level code catnet skips" in detail and "which loads files" in detail


def test_a_template_left_unfilled_is_told_so(tmp_path, session):
    source = edited(("    Z = W.dot(A) + b\n", "    Z = None\n"))
    report = check_path(write(tmp_path, "template.py", source), session)
    assert check(report, "linear_forward").detail.startswith("Z differs: None where an array was expected")
    assert check(report, "L_model_forward").detail.endswith("(a template line '... = None' not filled in?)")


def test_a_template_unpacked_from_none_is_told_so(tmp_path, session):
    # the template form `A, cache = None`, left as it is: TypeError: cannot unpack non-iterable NoneType object
    source = edited(("    Z, linear_cache = linear_forward(A_prev, W, b)\n", "    Z, linear_cache = None\n"))
    report = check_path(write(tmp_path, "template.py", source), session)
    detail = check(report, "linear_activation_forward").detail
    assert "cannot unpack non-iterable NoneType object" in detail
    assert detail.endswith("(a template line '... = None' not filled in?)")


@pytest.mark.parametrize("content, problem", [
    (b"<!DOCTYPE HTML>\n<html></html>", "is an HTML page"),
    (b"def compute_cost(AL, Y)\n    return 0\n", "does not parse: SyntaxError: expected ':' (line 1)"),
])
def test_a_file_that_cannot_be_read_as_python_fails_with_one_line(tmp_path, session, content, problem):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    report = check_path(path, session)
    assert not report.passed and problem in report.first_failure


def test_a_file_with_a_byte_order_mark_is_read(tmp_path, session):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + TEXTBOOK.encode())
    assert check_path(path, session).passed


def test_a_file_without_any_graded_function_does_not_pass(tmp_path, session):
    report = check_path(write(tmp_path, "notes.py", "x = 1\n"), session)
    assert not report.passed
    assert report.first_failure == "none of the course's graded functions is defined in the file"


def test_functions_not_found_say_why_that_is_fine(tmp_path, session):
    report = check_path(write(tmp_path, "step.py", step_by_step()), session)
    assert check(report, "L_layer_model").detail == "it belongs to the Application notebook"
    assert check(report, "L_layer_model").status == "not found"


def test_old_dA_keys_in_the_step_by_step_edits_are_the_courses_three_lines():
    assert len(OLD_DA_KEYS) == 3  # the exact difference between dnn_app_utils_v2 and _v3


def test_a_loop_that_computes_its_cost_twice_an_iteration_is_still_compared_cost_by_cost(tmp_path, session):
    source = edited(("        cost = compute_cost(AL, Y)\n        grads = L_model_backward",
                     "        cost = compute_cost(AL, Y)\n        shown = compute_cost(AL, Y)\n        grads = L_model_backward"))
    report = check_path(write(tmp_path, "twice.py", source), session)
    loop = check(report, "L_layer_model")
    assert loop.status == "agrees" and loop.comparisons[0].name == "cost, iterations 0-3"
