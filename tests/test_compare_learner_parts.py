"""The learner check's parts on their own: the course's computation against the twin, the channel back from the
child, which top-level statements run, how files are read, which release a file follows."""

from __future__ import annotations

import ast
import io
import signal

import numpy as np
import pytest
from learner_files import TINY, notebook

from catcore.data import load_dataset, prepare_arrays
from compare.learners import protocol as p
from compare.learners.codec import (
    Encoder,
    Opaque,
    Problem,
    decode,
    from_npz_bytes,
    to_npz_bytes,
)
from compare.learners.conventions import context_of
from compare.learners.course import Course
from compare.learners.keep import select
from compare.learners.plan import build_plan
from compare.learners.runner import describe_exit
from compare.learners.source import read_source


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    from conftest import make_tiny_dataset

    arrays = prepare_arrays(load_dataset(make_tiny_dataset(tmp_path_factory.mktemp("data"))), TINY)
    return build_plan(TINY, arrays.X_train, arrays.Y_train, steps=3)


def relative(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


def test_the_course_computation_agrees_with_the_twin_on_backprop_and_the_update(plan):
    AL, Y, caches = plan.tasks["L_model_backward:course"].args
    grads = Course().L_model_backward(AL, Y, caches)
    expected = plan.tasks["L_model_backward:course"].expected  # the twin's autograd, dA scaled by m
    for name, value in expected.items():
        assert relative(grads[name], value) < 1e-13, name
    parameters, twin_grads, rate = plan.tasks["update_parameters"].args
    updated = Course().update_parameters(parameters, twin_grads, rate)
    for name, value in plan.tasks["update_parameters"].expected.items():
        assert relative(updated[name], value) < 1e-15, name


def test_the_course_computation_agrees_with_the_twin_on_the_forward_pass_and_the_cost(plan):
    X, parameters = plan.tasks["L_model_forward"].args
    AL, caches = Course().L_model_forward(X, parameters)
    twin_AL, twin_caches = plan.tasks["L_model_forward"].expected
    assert relative(AL, twin_AL) < 1e-13
    assert all(relative(mine[1], theirs[1]) < 1e-13 for mine, theirs in zip(caches, twin_caches))
    assert abs(Course().compute_cost(*plan.tasks["compute_cost"].args) - plan.tasks["compute_cost"].expected) < 1e-14


def test_the_old_dA_keys_hold_the_same_gradients_one_number_up(plan):
    AL, Y, caches = plan.tasks["L_model_backward:course"].args
    new, old = Course().L_model_backward(AL, Y, caches), Course(dA_keys=p.OLD_KEYS).L_model_backward(AL, Y, caches)
    L = len(caches)
    assert {k for k in old if k.startswith("dA")} == {f"dA{l}" for l in range(1, L + 1)}
    assert all(np.array_equal(old[f"dA{l + 1}"], new[f"dA{l}"]) for l in range(L))


def test_the_channel_carries_trees_of_arrays_and_describes_what_is_not_numbers():
    value = {"W1": np.ones((2, 3)), "cache": (np.zeros(2), [1.0, 2.0]), "cost": np.float64(0.5), "none": None,
             "ragged": [[1.0, 2.0], [3.0]], "objects": np.array([None, 1], dtype=object), "thing": object(),
             "keys": {1: np.ones(1)}}
    encoder = Encoder()
    tree = encoder.encode(value)
    back = decode(tree, from_npz_bytes(to_npz_bytes(encoder.arrays, {}))[1])
    assert np.array_equal(back["W1"], np.ones((2, 3))) and back["cache"][1].tolist() == [1.0, 2.0]
    assert back["cost"].shape == () and back["none"] is None
    assert isinstance(back["ragged"], Problem) and back["ragged"].text.startswith("a ragged list")
    assert back["objects"] == Problem("an array of Python objects (a ragged list?)")
    assert back["thing"] == Opaque("object")
    assert back["keys"] == Problem("a dict with a int key ('1')")


@pytest.mark.parametrize("tree", [
    {"t": "exec", "v": "print(1)"},
    {"t": "array", "k": "a7"},
    {"t": "dict", "items": [[1, {"t": "none"}]]},
    {"t": "int", "v": "1"},
    ["not", "a", "node"],
])
def test_a_malformed_tree_from_the_child_is_refused(tree):
    with pytest.raises(ValueError):
        decode(tree, {"a0": np.ones(1)})


def test_an_archive_holding_a_pickled_object_is_refused_not_unpickled():
    buffer = io.BytesIO()
    np.savez(buffer, document=np.frombuffer(b"{}", dtype=np.uint8), evil=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        from_npz_bytes(buffer.getvalue())


def kept_and_skipped(code: str) -> tuple[list[str], dict[str, str]]:
    body = ast.parse(code).body
    keep, skipped = select(body, set(), code, lambda line: f"line {line}")
    lines = code.splitlines()
    return [lines[body[i].lineno - 1] for i in keep], {s.code: s.category for s in skipped}


def test_top_level_code_keeps_imports_definitions_and_constants_and_says_why_the_rest_is_skipped():
    kept, skipped = kept_and_skipped(
        "import numpy as np\ntry:\n    import scipy\nexcept ImportError:\n    scipy = None\nlayers_dims = [12288, 20, 7, 5, 1]\n"
        "n_x = layers_dims[0]\ndef f(x):\n    return x\ntrain_x, train_y = load_data()\nn = train_x.shape[0]\n"
        "parameters = L_layer_model(train_x, train_y, layers_dims)\nplt.imshow(train_x[0])\nprint(n)\n"
        "for i in range(3):\n    pass\nif __name__ == '__main__':\n    f(1)\nnp.random.seed(1)\n")
    assert kept == ["import numpy as np", "try:", "layers_dims = [12288, 20, 7, 5, 1]", "n_x = layers_dims[0]",
                    "def f(x):"]
    assert skipped == {"train_x, train_y = load_data()": "loads files", "n = train_x.shape[0]": "uses what skipped code makes",
                       "parameters = L_layer_model(train_x, train_y, layers_dims)": "trains",
                       "plt.imshow(train_x[0])": "draws", "print(n)": "prints or runs tests", "for i in range(3):": "loop",
                       "if __name__ == '__main__':": "main block", "np.random.seed(1)": "other top-level code"}


def test_a_notebooks_magics_and_shell_lines_are_blanked_and_a_cell_magic_skips_its_cell(tmp_path):
    path = notebook(tmp_path, "n.ipynb", ["%matplotlib inline\nimport numpy as np\n!pip install h5py",
                                          "%%time\nx = 1", "def compute_cost(AL, Y):\n    return 0.0"])
    source = read_source(path)
    assert [s.code for s in source.skipped] == ["%matplotlib inline", "!pip install h5py", "%%time"]
    assert [unit.label for unit in source.units] == ["cell 2", "cell 4"] and source.defines == ("compute_cost",)


def test_a_notebook_that_is_not_json_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    assert read_source(path).problem.startswith("is not a notebook nbformat can read")


def test_a_python_file_with_a_coding_cookie_is_decoded_by_it(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes("# -*- coding: latin-1 -*-\n# caf\xe9\ndef compute_cost(AL, Y):\n    return 0.0\n".encode("latin-1"))
    assert read_source(path).problem is None


@pytest.mark.parametrize("imports, release", [
    ("from testCases_v4a import *", "v8a (imports testCases_v4a)"),
    ("from testCases_v3 import *", "v5-v7 (imports testCases_v3)"),
    ("from testCases import *\nfrom public_tests import *", "2021+ (imports public_tests)"),
    ("from dnn_app_utils_v2 import *", "v3-v7 (imports dnn_app_utils_v2)"),
    ("from testCases import *\nfrom dnn_utils import relu", "the first release, 2017 (imports dnn_utils, testCases)"),
])
def test_the_release_is_read_off_the_imports(tmp_path, imports, release):
    path = tmp_path / "f.py"
    path.write_text(imports + "\n")
    assert context_of(read_source(path)).release == release


def test_a_killed_child_is_described_by_its_signal():
    assert describe_exit(-signal.SIGKILL) == "the process was killed by SIGKILL (the memory limit, or killed from outside?)"
    assert describe_exit(0) == "the process ended with exit status 0 in the middle of it (os._exit?)"


def test_reading_sources_and_results_waits_for_the_ast_lock(tmp_path):
    """CPython 3.11's AST constructor is not thread-safe (gh-106905): the class runner's threads parse sources and
    read .npy headers (np.load -> ast.literal_eval) only while holding one lock."""
    import threading

    import numpy as np

    from compare.learners.codec import AST_LOCK, read_npz
    from compare.learners.source import parse

    np.savez(tmp_path / "a.npz", x=np.arange(3))
    done = []
    with AST_LOCK:
        workers = [threading.Thread(target=lambda: done.append(read_npz(tmp_path / "a.npz"))),
                   threading.Thread(target=lambda: done.append(parse("x = 1")))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=0.3)
        assert done == []  # both wait while the lock is held
    for worker in workers:
        worker.join(timeout=10)
    assert len(done) == 2
