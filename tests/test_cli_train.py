"""`catnet train` as a user runs it: printed costs, --metrics-json, --save, start-up imports, the course's run."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, assert_clean_error, run_cli

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catnet.runs import run_training

TINY = ("--layers", "48,6,1", "--lr", "0.5", "--iterations", "25")


def test_prints_costs_every_n_iterations_and_the_last(tiny_data):
    proc = run_cli("train", "--data", tiny_data, *TINY, "--log-every", "10")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == [f"Cost after iteration {i}" for i in (0, 10, 20)]
    assert lines[3].startswith("Cost after iteration 24: ")
    assert lines[4].startswith("Train accuracy: ") and lines[5].startswith("Test accuracy: ")


def test_metrics_json_schema(twin_runs):
    for impl in ("numpy", "torch"):
        doc = json.loads((twin_runs[impl] / "metrics.json").read_text())
        assert set(doc) == {"impl", "costs", "train_accuracy", "test_accuracy", "train_seconds", "config"}
        assert doc["impl"] == impl
        assert [i for i, _ in doc["costs"]] == list(range(200))  # --log-every 1: every iteration
        assert 0 <= doc["test_accuracy"] <= 1 and doc["train_accuracy"] == 1.0 and doc["train_seconds"] > 0
        config = doc["config"]
        assert {k: config[k] for k in ("layers", "init", "learning_rate", "iterations", "seed", "dtype", "flatten",
                                       "log_every")} == {
            "layers": [48, 6, 1], "init": "dls", "learning_rate": 0.5, "iterations": 200, "seed": 1,
            "dtype": "float64", "flatten": "course", "log_every": 1,
        }
        assert config["first_layer"] in ("primal", "span")
    assert json.loads((twin_runs["torch"] / "metrics.json").read_text())["config"]["device"] == "cpu"


def test_metrics_json_costs_are_the_runs_costs(twin_runs):
    config = TrainConfig(layers=(48, 6, 1), learning_rate=0.5, iterations=200, log_every=1)
    run = run_training(config, prepare_arrays(load_dataset(twin_runs["data"]), config))
    doc = json.loads((twin_runs["numpy"] / "metrics.json").read_text())
    np.testing.assert_array_equal([c for _, c in doc["costs"]], run.result.costs)  # JSON keeps every float64 digit
    assert doc["test_accuracy"] == run.test_accuracy


def test_metrics_json_lists_logged_iterations_and_the_last(tiny_data, tmp_path):
    proc = run_cli("train", "--data", tiny_data, *TINY, "--log-every", "10", "--quiet", "--metrics-json", tmp_path / "m.json")
    assert proc.returncode == 0, proc.stderr
    assert [i for i, _ in json.loads((tmp_path / "m.json").read_text())["costs"]] == [0, 10, 20, 24]


def test_numpy_training_imports_no_torch_captum_or_tensorboard(tiny_data, tmp_path):
    script = (
        "import json, sys\n"
        "from catnet.cli import main\n"
        f"code = main(['train', '--impl', 'numpy', '--data', {str(tiny_data)!r}, '--iterations', '5', '--layers', '48,3,1',"
        f" '--save', {str(tmp_path / 'm.npz')!r}, '--metrics-json', {str(tmp_path / 'm.json')!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'captum', 'tensorboard', 'tensorflow'))\n"
        "print(json.dumps([code, heavy]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    code, heavy = json.loads(proc.stdout.splitlines()[-1])
    assert code == 0 and (tmp_path / "m.npz").is_file()
    assert heavy == []


def test_help_shows_the_course_defaults():
    proc = run_cli("train", "--help")
    assert proc.returncode == 0
    for default in ("(12288, 20, 7, 5, 1)", "0.0075", "2500", "dls"):
        assert default in proc.stdout, default


@pytest.mark.realdata
def test_course_run_through_the_cli(real_data, tmp_path):
    proc = run_cli("train", "--data", real_data, "--metrics-json", tmp_path / "m.json", "--save", tmp_path / "m.npz")
    assert proc.returncode == 0, proc.stderr
    # the digits past the 15th are the BLAS kernel's rounding (...686 here, ...688 with OpenBLAS's generic kernel)
    first = re.search(r"^Cost after iteration 0: (\S+)$", proc.stdout, re.MULTILINE)
    assert first and float(first.group(1)) == pytest.approx(0.7717493284237686, rel=1e-13)
    assert "Train accuracy: 0.9856  (206/209)" in proc.stdout
    assert "Test accuracy:  0.8000  (40/50)" in proc.stdout
    costs = dict(json.loads((tmp_path / "m.json").read_text())["costs"])
    assert sorted(costs) == list(range(0, 2500, 100)) + [2499]
    assert costs[0] == pytest.approx(0.7717493284237686, abs=1e-12)
    assert costs[2499] == pytest.approx(0.088439943441702, rel=1e-9)


def test_an_upper_case_npz_suffix_is_saved_not_refused_after_training(tiny_data, tmp_path):
    target = tmp_path / "MODEL.NPZ"
    proc = run_cli("train", "--data", tiny_data, "--layers", "48,3,1", "--iterations", "3", "--quiet", "--save", target)
    assert proc.returncode == 0, proc.stderr
    assert target.is_file()


def test_an_unknown_pixel_order_is_refused_before_the_data_is_looked_for(tmp_path):
    proc = run_cli("train", "--flatten", "spiral", "--data", tmp_path / "no-data-here")
    assert_clean_error(proc, "unknown flatten order 'spiral'")


def test_the_parser_of_every_command_loads_without_numpy():
    code = ("import sys; from catnet.cli import build_parser; build_parser(); "
            "print('numpy' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.stdout.strip() == "False", proc.stdout + proc.stderr


def test_run_training_starts_from_given_parameters_of_the_configs_shape(tiny_data):
    from numpy_impl.init import initialize

    config = TrainConfig(layers=(48, 3, 1), iterations=4)
    arrays = prepare_arrays(load_dataset(tiny_data), config)
    drawn = run_training(config, arrays)
    given = run_training(config, arrays, initial=initialize((48, 3, 1), "he", seed=7))
    assert given.initial.layers[0].W[0, 0] == initialize((48, 3, 1), "he", seed=7).layers[0].W[0, 0]
    assert not np.allclose(given.result.costs, drawn.result.costs)
    with pytest.raises(ValueError, match=r"\(48, 5, 1\)"):
        run_training(config, arrays, initial=initialize((48, 5, 1)))
