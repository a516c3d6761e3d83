"""A whole class at once: a folder gives one row per file, the exit status is 0 only when every file agrees,
and a Dask cluster (a LocalCluster on 127.0.0.1) gives the very verdicts the local run gives."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import make_tiny_dataset, run_cli
from learner_files import (
    TEXTBOOK,
    TINY_ARGS,
    definitions,
    edited,
    notebook,
    step_by_step,
)

CHECKED = {"textbook.py": "AGREES", "missing_1_over_m.py": "DIFFERS", "Application.ipynb": "AGREES",
           "main.py": "NOTHING TO CHECK"}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A class folder: three learners' files, a script with no graded function, the course's own helpers beside them."""
    root = tmp_path_factory.mktemp("class")
    data = make_tiny_dataset(root / "data")
    folder = root / "week4"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "textbook.py").write_text(TEXTBOOK)
    (folder / "ada" / "missing_1_over_m.py").write_text(step_by_step(("dW = 1.0 / m * np.dot(dZ, A_prev.T)",
                                                                       "dW = np.dot(dZ, A_prev.T)")))
    (folder / "ada" / "main.py").write_text("import numpy as np\n\nprint('training...')\n")
    (folder / "ada" / "testCases_v4.py").write_text("import numpy as np\n")
    (folder / "ada" / "dnn_utils_v2.py").write_text(definitions(TEXTBOOK, "sigmoid", "relu"))
    (folder / "bo").mkdir()
    loops = definitions(TEXTBOOK, "two_layer_model", "L_layer_model")
    notebook(folder / "bo", "Application.ipynb", ["import numpy as np\nfrom dnn_app_utils_v3 import *", loops])
    (folder / "bo" / ".ipynb_checkpoints").mkdir()
    (folder / "bo" / ".ipynb_checkpoints" / "broken-checkpoint.py").write_text("def compute_cost(:\n")
    return data, folder


@pytest.fixture(scope="module")
def local_run(classroom, tmp_path_factory):
    data, folder = classroom
    out = tmp_path_factory.mktemp("local")
    proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", folder, "--jobs", "2", "--training-steps", "3",
                   "--json", out / "class.json", "--csv", out / "class.csv")
    return proc, json.loads((out / "class.json").read_text()), list(csv.DictReader(open(out / "class.csv")))


def verdicts(document) -> dict[str, tuple]:
    """{file name: (verdict, each function's status)}: what two runs of a class must agree on."""
    return {f["path"].rsplit("/", 1)[-1]: (f["verdict"], tuple((c["function"], c["status"]) for c in f["functions"]))
            for f in document["files"]}


def test_a_folder_gives_one_row_per_file_in_the_csv_and_the_json(local_run):
    _, document, rows = local_run
    assert sorted(row["path"].rsplit("/", 1)[-1] for row in rows) == sorted(CHECKED)
    assert {row["path"].rsplit("/", 1)[-1]: row["verdict"] for row in rows} == CHECKED
    assert {name: verdict for name, (verdict, _) in verdicts(document).items()} == CHECKED


def test_each_row_has_every_function_the_first_divergence_and_the_mistake(local_run):
    _, _, rows = local_run
    row = next(r for r in rows if r["path"].endswith("missing_1_over_m.py"))
    assert row["first_divergence"] == "linear_backward: dW is 12 × the expected value: the 1/m is missing"
    assert row["mistake"] == "dW without 1/m"
    assert row["linear_backward"] == "differs" and row["linear_forward"] == "agrees"
    assert row["two_layer_model"] == "not found" and row["counted"] == "yes"


def test_a_folder_prints_one_line_per_file_and_leaves_out_the_courses_own_files(local_run):
    proc, _, _ = local_run
    lines = proc.stdout.splitlines()
    for name, verdict in CHECKED.items():
        assert sum(line.startswith(verdict) and f"/{name}  " in line for line in lines) == 1, name
    assert "Left out 2 of the course's own files (dnn_utils_v2.py, testCases_v4.py)" in proc.stdout
    assert any(line.startswith("DIFFERS: 4 files: 2 agree, 1 differ, 1 with no graded function (not counted)")
               for line in lines)


def test_the_exit_status_is_1_when_one_file_differs(local_run):
    assert local_run[0].returncode == 1


def test_the_exit_status_is_0_when_every_file_agrees_globs_included(classroom):
    data, folder = classroom
    proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", f"{folder}/**/*.ipynb", folder / "ada" /
                   "textbook.py", "--training-steps", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ALL AGREE: 2 files: 2 agree, 0 differ")


def test_a_file_named_by_the_user_counts_even_with_nothing_to_check(classroom):
    data, folder = classroom
    proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", folder / "ada" / "main.py", folder / "ada" /
                   "textbook.py", "--training-steps", "3")
    assert proc.returncode == 1
    assert "DIFFERS: 2 files: 1 agree, 1 differ" in proc.stdout


def test_a_dask_cluster_gives_the_same_verdicts_as_the_local_run(classroom, local_run, tmp_path):
    from distributed import LocalCluster

    data, folder = classroom
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", folder, "--training-steps", "3",
                       "--scheduler", cluster.scheduler_address, "--json", tmp_path / "dask.json")
    assert proc.returncode == local_run[0].returncode == 1, proc.stdout + proc.stderr
    document = json.loads((tmp_path / "dask.json").read_text())
    assert document["settings"]["scheduler"] == cluster.scheduler_address
    assert verdicts(document) == verdicts(local_run[1])


def test_an_unreachable_scheduler_is_a_usage_error_with_one_line(classroom):
    from conftest import assert_clean_error

    data, folder = classroom
    proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", folder / "ada" / "textbook.py",
                   "--scheduler", "tcp://127.0.0.1:9")
    assert proc.returncode == 2
    assert_clean_error(proc, "--scheduler: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")


def test_the_edits_used_here_each_hit_one_line():
    assert edited(("def two_layer_model(", "def two_layer_model("))  # the helper refuses an edit that misses


def test_a_course_file_named_beside_its_folder_is_checked_not_left_out(tmp_path):
    from compare.learners.classroom import find_files

    (tmp_path / "mine.py").write_text("def linear_forward(A, W, b):\n    return W @ A + b, (A, W, b)\n")
    helper = tmp_path / "dnn_app_utils_v3.py"
    helper.write_text("def sigmoid(Z):\n    return Z\n")
    for arguments in ([tmp_path, helper], [helper, tmp_path]):
        found = find_files([str(a) for a in arguments])
        assert sorted(entry.path.name for entry in found.entries) == ["dnn_app_utils_v3.py", "mine.py"]
        assert found.course_files == ()
    assert [p.name for p in find_files([str(tmp_path)]).course_files] == ["dnn_app_utils_v3.py"]
