"""Whatever a learner's code does, catnet's verdict stands: each escape ends in DIFFERS for that file, exit status 1.

The learner's code runs in a child process with a time limit per function
and a memory limit, and only arrays come back; these files try every way out
the issue lists (exits, exceptions of every kind, threads, monkeypatching
catnet, closing stdout, printing megabytes, loops that never end, ragged
arrays, memory) and one class run checks them all.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from conftest import run_cli
from learner_files import TINY_ARGS, step_by_step

TIMEOUT = 5  # seconds per function in these runs


def inject(function: str, *lines: str) -> str:
    """A correct Step-by-Step file whose `function` first runs `lines`."""
    source = step_by_step()
    header = re.search(rf"^def {function}\(.*\):\n", source, re.MULTILINE).group(0)
    return source.replace(header, header + "".join(f"    {line}\n" for line in lines), 1)


ESCAPES = {  # file -> (its source, the function, the status it must get, words its detail must hold)
    "sys_exit": (inject("compute_cost", "import sys", "sys.exit(0)"), "compute_cost", "raised", "called sys.exit(0)"),
    "os_exit": (inject("L_model_backward", "import os", "os._exit(0)"), "L_model_backward", "crashed",
                "exit status 0 in the middle of it"),
    "atexit_hook": (inject("compute_cost", "import atexit, os", "atexit.register(os._exit, 0)", "return 0.5"),
                    "compute_cost", "differs", "cost differs"),
    "keyboard_interrupt": (inject("linear_forward", "raise KeyboardInterrupt"), "linear_forward", "raised",
                           "KeyboardInterrupt"),
    "base_exception": (inject("linear_backward", "class Escape(BaseException): pass", "raise Escape('out')"),
                       "linear_backward", "raised", "Escape: out"),
    "endless_thread": (inject("update_parameters", "import threading, time",
                              "threading.Thread(target=lambda: time.sleep(10 ** 6)).start()", "return {}"),
                       "update_parameters", "differs", "no 'W1' in the returned dict"),
    "monkeypatching_catnet": (inject("L_model_forward", "import compare.metrics, compare.learners.outputs as out",
                                     "import compare.learners.verdict as verdict",
                                     "compare.metrics.compare_arrays = lambda *a, **k: None",
                                     "out.compare_leaves = lambda *a, **k: []",
                                     "verdict.LearnerReport.passed = property(lambda self: True)",
                                     "return np.zeros((1, 1)), []"),
                              "L_model_forward", "differs", "AL differs"),
    "closing_stdout": (inject("compute_cost", "import os, sys", "sys.stdout.close()", "os.close(1)", "os.close(2)",
                              "return 0.5"), "compute_cost", "differs", "cost differs"),
    "closing_every_descriptor": (inject("compute_cost", "import os", "os.closerange(0, 4096)", "return 0.5"),
                                 "compute_cost", "crashed", "closed the channel its process reports on"),
    "printing_megabytes": (inject("compute_cost", "import os", "print('x' * 20_000_000)",
                                  "os.write(1, b'y' * 20_000_000)", "return 0.5"), "compute_cost", "differs",
                           "cost differs"),
    "endless_loop": (inject("L_model_backward", "while True: pass"), "L_model_backward", "timed out",
                     f"timed out after {TIMEOUT} s"),
    "endless_return_value": (inject("compute_cost", "class Forever(list):", "    def __iter__(self):",
                                    "        while True: yield 1.0", "return Forever([1.0])"), "compute_cost",
                             "timed out", f"timed out after {TIMEOUT} s"),
    "ragged_array": (inject("linear_forward", "return [[1.0, 2.0], [3.0]], (A, W, b)"), "linear_forward", "differs",
                     "a ragged list"),
    "memory_hog": (inject("linear_backward", "hog = [bytearray(1 << 28) for _ in range(1000)]"), "linear_backward",
                   "raised", "MemoryError"),
    "endless_recursion": (inject("linear_forward", "def deeper(n): return deeper(n + 1)", "deeper(0)"),
                          "linear_forward", "raised", "RecursionError"),
}


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """Every escape file checked in one `catnet compare --against FOLDER` run: (process, {file: document}, seconds)."""
    from conftest import make_tiny_dataset

    data = make_tiny_dataset(tmp_path_factory.mktemp("data"))
    folder = tmp_path_factory.mktemp("escapes")
    for name, (source, *_) in ESCAPES.items():
        (folder / f"{name}.py").write_text(source)
    report = folder / "report.json"
    started = time.perf_counter()
    proc = run_cli("compare", "--data", data, *TINY_ARGS, "--against", folder, "--timeout", str(TIMEOUT),
                   "--memory", "1024", "--jobs", "2", "--training-steps", "3", "--json", report)
    seconds = time.perf_counter() - started
    documents = {document["path"].rsplit("/", 1)[-1][:-3]: document for document in json.loads(report.read_text())["files"]}
    return proc, documents, seconds


def test_the_class_run_exits_1_with_no_traceback_and_none_of_the_learners_output(class_run):
    proc, documents, _ = class_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert len(proc.stdout) < 20_000  # the 40 MB the learner printed went nowhere near catnet's output
    assert set(documents) == set(ESCAPES)


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_each_escape_ends_in_a_verdict_against_the_file(class_run, name):
    _, documents, _ = class_run
    document = documents[name]
    _, function, status, words = ESCAPES[name]
    checked = next(f for f in document["functions"] if f["function"] == function)
    assert document["verdict"] == "DIFFERS" and document["counted"]
    assert checked["status"] == status, f"{function}: {checked['detail']}"
    assert words in checked["detail"]


def test_after_a_function_hangs_or_kills_its_process_the_functions_after_it_are_still_checked(class_run):
    _, documents, _ = class_run
    for name in ("endless_loop", "os_exit"):
        statuses = {f["function"]: f["status"] for f in documents[name]["functions"]}
        assert statuses["update_parameters"] == "agrees", name


def test_a_learners_thread_that_never_ends_does_not_hold_the_run(class_run):
    _, _, seconds = class_run
    assert seconds < 120  # the run ends: nothing waits for the thread that sleeps 10**6 s


@pytest.mark.parametrize("name", ["sys_exit", "os_exit"])
def test_an_exit_inside_the_learners_code_cannot_make_catnet_exit_0(tiny_data, tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(ESCAPES[name][0])
    proc = run_cli("compare", "--data", tiny_data, *TINY_ARGS, "--against", path, "--training-steps", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith(f"DIFFERS: {ESCAPES[name][1]}: ")


def test_a_file_whose_helper_ends_the_process_on_import_is_reported_not_loaded(tiny_data, tmp_path):
    (tmp_path / "course_helpers.py").write_text("import os\nos._exit(0)\n")
    path = tmp_path / "learner.py"
    path.write_text("import course_helpers\n" + step_by_step())
    proc = run_cli("compare", "--data", tiny_data, *TINY_ARGS, "--against", path, "--training-steps", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DIFFERS: the file could not be loaded: the process ended with exit status 0" in proc.stdout
