"""catnet compare through the real command line: exit status, the files it writes, its usage errors."""

import json
from pathlib import Path

import pytest
from conftest import assert_clean_error, run_cli

TEXTBOOK = (Path(__file__).resolve().parents[1] / "catnet" / "textbook.py").read_text()
TINY = ("--layers", "48,5,3,1")


@pytest.mark.realdata
def test_compare_on_the_real_data_holds_parity_and_writes_every_section(real_data, tmp_path):
    report, markdown = tmp_path / "parity.json", tmp_path / "parity.md"
    proc = run_cli("compare", "--data", real_data, "--iterations", "50", "--device", "cpu",
                   "--json", report, "--markdown", markdown)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PARITY HOLDS under the float64 on cpu policy" in proc.stdout
    document = json.loads(report.read_text())
    assert document["passed"] is True and document["first_divergence"] is None
    for key in ("environment", "policy", "forward", "gradients", "parameters", "trajectory", "gradcheck"):
        assert document[key], key
    assert document["environment"]["numpy_blas"] and document["settings"]["first_layer_resolved"] == "span"
    assert [row["step"] for row in document["parameters"]["rows"][::8]] == [1, 2, 10, 50]
    pair = document["trajectory"]["pairs"][0]
    assert len(pair["param_diff"]) == 50 and pair["max_param_diff"] < 1e-12
    assert [o["train_correct"] for o in document["trajectory"]["outcomes"]] == [140, 140]  # after 50 steps, both twins
    assert "### 1. Forward pass at step 0 — PASS" in markdown.read_text()


def test_compare_writes_both_cost_curves_and_the_differences_for_tensorboard(tiny_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    def scalars(run_dir, tag):
        events = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
        events.Reload()
        return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]

    proc = run_cli("compare", "--data", tiny_data, *TINY, "--iterations", "8", "--device", "cpu",
                   "--logdir", tmp_path / "tb")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # auto picks the span form for 48 inputs and 12 images; one fresh folder per invocation
    [root] = (tmp_path / "tb").glob("compare-float64-span-*")
    costs = {run: [value for _, value in scalars(root / run, "cost")] for run in ("numpy", "torch")}
    assert len(costs["numpy"]) == 8 and costs["numpy"] == pytest.approx(costs["torch"], rel=1e-6)
    assert [step for step, _ in scalars(root / "difference", "parameters_normwise/torch_vs_numpy")] == list(range(1, 9))


def test_a_broken_learner_file_exits_1_and_names_the_function_the_tensor_and_the_mistake(tiny_data, tmp_path):
    learner = tmp_path / "my_dnn.py"
    learner.write_text(TEXTBOOK.replace("db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)",
                                        "db = np.sum(dZ, axis=1, keepdims=True)"))
    report = tmp_path / "learner.json"
    proc = run_cli("compare", "--data", tiny_data, *TINY, "--against", learner, "--json", report)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DIFFERS: linear_backward: db is 12 × the expected value: the 1/m is missing" in proc.stdout
    assert ">> linear_backward" in proc.stdout
    assert any(line.split()[:3] == ["L_model_backward", "differs", "db3"] for line in proc.stdout.splitlines())
    [document] = json.loads(report.read_text())["files"]
    assert document["mistake"] == "db_without_1_over_m" and document["verdict"] == "DIFFERS"


def test_the_textbook_file_passes_as_a_learner(tiny_data):
    proc = run_cli("compare", "--data", tiny_data, *TINY, "--against", "catnet/textbook.py", "--training-steps", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("AGREES: every graded function in the file agrees")


@pytest.mark.parametrize("args, fragment", [
    (("--json", "out.txt"), "--json expects a .json path"),
    (("--against", "missing.py"), "--against: no such file or folder, and no file matches 'missing.py'"),
    (("--against", "README.md"), "--against expects .py or .ipynb files, folders or globs, got 'README.md'"),
    (("--against", "catnet/textbook.py", "--dtype", "float32"), "--against checks course-style code in float64"),
    (("--against", "catnet/textbook.py", "--span-check"), "--span-check belongs to the twins' comparison"),
    (("--against", "catnet/textbook.py", "--csv", "out.txt"), "--csv expects a .csv path"),
    (("--against", "catnet/textbook.py", "--memory", "100"), "--memory below 512 MiB"),
    (("--against", "catnet/textbook.py", "--scheduler", "localhost"), "--scheduler expects a Dask address"),
    (("--jobs", "2",), "--jobs belongs to --against"),
])
def test_usage_errors_exit_2_with_one_line_and_write_nothing(tiny_data, tmp_path, args, fragment):
    proc = run_cli("compare", "--data", tiny_data, *TINY, *args, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2
    assert_clean_error(proc, fragment)
    assert not (Path(__file__).resolve().parents[1] / "out.txt").exists()
