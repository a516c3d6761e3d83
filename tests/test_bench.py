"""catnet bench: runs end to end, reports ratios computed the right way round, rejects bad input in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from conftest import assert_clean_error, run_cli
from PIL import Image

from catnet.bench.entries import ENTRIES, Measurement
from catnet.bench.run import (
    BenchReport,
    BenchSettings,
    EntryResult,
    ProcessTiming,
    report_document,
)


def measurement(seconds: float, cost: float) -> Measurement:
    return Measurement(seconds=seconds, final_cost=cost, train_accuracy=1.0, test_accuracy=0.5,
                       peak_rss_mb=100.0, cuda_peak_mb=None)


def test_report_divides_the_baseline_by_each_entry_and_subtracts_the_textbook_cost():
    by_name = {entry.name: entry for entry in ENTRIES}
    settings = BenchSettings(data_dir=Path("."), entries=("textbook", "numpy-span"), iterations=10)
    report = BenchReport(settings=settings, machine={"threads": {}})
    report.entries = [
        EntryResult(by_name["textbook"], (measurement(20.0, 0.5),), (21.0,)),
        EntryResult(by_name["numpy-span"], (measurement(0.3, 0.5 + 1e-12), measurement(0.1, 0.5 + 1e-12),
                                            measurement(0.2, 0.5 + 1e-12)), (0.6, 0.7, 0.5)),
    ]
    report.processes = [ProcessTiming("catnet train --impl numpy", ("-m", "catnet"), "textbook", (0.7, 0.6, 0.8))]
    document = report_document(report)
    span = document["entries"][1]
    assert span["median_seconds"] == 0.2
    assert span["speedup_vs_textbook"] == pytest.approx(100.0)
    assert span["cost_difference_vs_textbook"] == pytest.approx(1e-12)
    assert span["relative_cost_difference"] == pytest.approx(2e-12)
    assert span["process_median_seconds"] == 0.6
    assert document["processes"][0]["speedup"] == pytest.approx(21.0 / 0.7)


@pytest.mark.realdata
def test_bench_runs_end_to_end_and_writes_json_and_png(real_data, tmp_path):
    json_path, png_path = tmp_path / "bench.json", tmp_path / "bench.png"
    proc = run_cli("bench", "--data", real_data, "--iterations", "3", "--repeats", "1",
                   "--only", "textbook,numpy-span,torch-cpu-span", "--json", json_path, "--plot", png_path)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(json_path.read_text())
    entries = {entry["name"]: entry for entry in document["entries"]}
    assert list(entries) == ["textbook", "numpy-span", "torch-cpu-span"]
    for entry in entries.values():
        assert entry["median_seconds"] > 0 and entry["speedup_vs_textbook"] > 0
        assert entry["relative_cost_difference"] < 1e-9  # same trajectory as the course's loop
        assert entry["peak_rss_mb"] > 10
    assert [p["name"] for p in document["processes"]] == ["catnet train --impl numpy"]
    assert document["processes"][0]["baseline_median_seconds"] == entries["textbook"]["process_median_seconds"]
    with Image.open(png_path) as image:
        assert image.format == "PNG" and image.width > 300
    assert "numpy-span" in proc.stdout and "whole process" in proc.stdout


def test_unknown_entry_in_only_is_a_one_line_error():
    assert_clean_error(run_cli("bench", "--only", "numpy-span,numpy-fast"), "numpy-fast", "choose from")


def test_wrong_json_suffix_is_rejected_before_anything_runs(tmp_path):
    assert_clean_error(run_cli("bench", "--only", "numpy-span", "--json", tmp_path / "bench.txt"), "--json", ".json")
    assert not list(tmp_path.iterdir())


def test_a_failing_entry_names_itself_and_writes_no_json(tiny_data, tmp_path):
    # the course's layers do not fit 4x4 images: the entry's own process fails, the bench reports it in one line
    json_path = tmp_path / "bench.json"
    proc = run_cli("bench", "--only", "numpy-span", "--data", tiny_data, "--iterations", "2", "--json", json_path)
    assert_clean_error(proc, "numpy-span", "first layer size")
    assert not json_path.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_cuda_entry_without_a_gpu_is_a_clear_error():
    assert_clean_error(run_cli("bench", "--only", "torch-cuda"), "torch-cuda", "no CUDA GPU")


@pytest.mark.cuda
@pytest.mark.realdata
def test_cuda_entry_reports_device_memory_and_the_textbook_cost(real_data, tmp_path):
    json_path = tmp_path / "bench.json"
    proc = run_cli("bench", "--data", real_data, "--iterations", "20", "--repeats", "1",
                   "--only", "textbook,torch-cuda", "--json", json_path)
    assert proc.returncode == 0, proc.stderr
    cuda = json.loads(json_path.read_text())["entries"][1]
    assert cuda["name"] == "torch-cuda" and cuda["cuda_peak_mb"] > 0
    assert cuda["relative_cost_difference"] < 1e-9


def test_timed_processes_can_import_catnet_from_where_it_lies(monkeypatch):
    from catnet.bench.run import child_environment

    monkeypatch.delenv("PYTHONPATH", raising=False)
    first = Path(child_environment(threads=None)["PYTHONPATH"].split(os.pathsep)[0])
    assert (first / "catnet" / "__init__.py").is_file()


def test_the_commands_table_holds_each_command_against_its_floor(tiny_data, tmp_path):
    """--commands alone runs only the commands table; a ratio is the command's process over its floor's."""
    json_path = tmp_path / "bench.json"
    proc = run_cli("bench", "--commands", "train-numpy", "--repeats", "2", "--json", json_path,
                   env={"CATNET_DATA": str(tiny_data)}, cwd=tmp_path)
    # the course's layers do not fit the tiny images: the table's own training run says so in one line
    assert_clean_error(proc, "train", "first layer size")


@pytest.mark.realdata
def test_the_commands_table_on_the_real_data(real_data, tmp_path):
    json_path = tmp_path / "bench.json"
    proc = run_cli("bench", "--commands", "train-numpy", "--repeats", "2", "--data", real_data, "--json", json_path)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(json_path.read_text())
    assert document["entries"] == [] and document["processes"] == []  # --commands alone: only the table
    (row,) = document["commands"]
    assert row["command"] == "catnet train --impl numpy --quiet" and row["floor"] == 'python -c "import numpy, h5py"'
    assert len(row["runs"]) == len(row["floor_runs"]) == 2
    ratios = [run["wall_seconds"] / floor["wall_seconds"] for run, floor in zip(row["runs"], row["floor_runs"])]
    assert row["ratio"] == pytest.approx(sorted(ratios)[0] / 2 + sorted(ratios)[1] / 2)  # the median of two
    assert row["peak_rss_mb"] > row["floor_peak_rss_mb"] > 10  # training holds the data; the floor only imports
    assert row["cpu_seconds"] > row["floor_cpu_seconds"] > 0
    assert "catnet train --impl numpy --quiet" in proc.stdout and "import numpy, h5py" in proc.stdout


def test_a_command_the_bench_does_not_know_is_a_one_line_error():
    assert_clean_error(run_cli("bench", "--commands", "explain,paint"), "unknown command 'paint'", "choose from")
