"""Outputs in trouble: checked before work, committed together or not at all, one line for any I/O failure.

Also the folders of results (explain and neurons replace --out whole and write TensorBoard runs in per-run
subfolders) and file modes (the user's umask, not mkstemp's 0600).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from conftest import make_tiny_dataset
from hostile import assert_refused, catnet, snapshot, untouched

from catcore.modelfile import ModelFile, save_model
from numpy_impl.init import initialize

TINY = ("--layers", "48,3,1", "--iterations", "5", "--lr", "0.1")


@pytest.fixture
def place(tmp_path):
    make_tiny_dataset(tmp_path / "data")
    save_model(tmp_path / "m.npz", ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1,
                                             flatten="course", image_shape=(4, 4, 3)))
    return tmp_path


def train(place, *flags):
    return catnet("train", "--data", place / "data", *TINY, "--quiet", *flags)


def compare(place, *flags):
    return catnet("compare", "--data", place / "data", *TINY, "--device", "cpu", *flags)


def explain(place, *flags):
    return catnet("explain", "--model", place / "m.npz", "--data", place / "data", "--methods", "saliency",
                  "--images", "0,1", *flags)


def neurons(place, *flags):
    return catnet("neurons", "--model", place / "m.npz", "--data", place / "data", "--k", "2", "--am-steps", "3", *flags)


def unroll(place, *flags):
    return catnet("unroll", "--data", place / "data", *TINY, *flags)


# --- every output path is checked before any work


def _blocked(place):
    (place / "dir.npz").mkdir()
    (place / "dir.json").mkdir()
    (place / "dir.md").mkdir()
    (place / "dir.png").mkdir()
    (place / "a-file").write_text("in the way")
    (place / "null.json").symlink_to("/dev/null")
    (place / "fetched" / "train_catvnoncat.h5").mkdir(parents=True)


OUTPUT_PATHS = {
    "save-is-a-folder": (train, ("--save", "dir.npz"), "is a folder"),
    "metrics-is-a-folder": (train, ("--metrics-json", "dir.json"), "is a folder"),
    "metrics-is-a-device": (train, ("--metrics-json", "null.json"), "not a regular file"),
    "save-under-a-file": (train, ("--save", "a-file/m.npz"), "cannot create output folder"),
    "logdir-is-a-file": (train, ("--logdir", "a-file"), "is a file"),
    "logdir-under-a-file": (train, ("--logdir", "a-file/runs"), "cannot create output folder"),
    "save-name-too-long": (train, ("--save", "m" * 260 + ".npz"), "too long"),
    "json-ok-markdown-a-folder": (compare, ("--json", "ok.json", "--markdown", "dir.md"), "--markdown"),
    "json-a-folder-markdown-ok": (compare, ("--json", "dir.json", "--markdown", "ok.md"), "--json"),
    "compare-logdir-is-a-file": (compare, ("--json", "ok.json", "--logdir", "a-file"), "is a file"),
    "explain-out-is-a-file": (explain, ("--out", "a-file"), "is a file, not a folder"),
    "explain-out-under-a-file": (explain, ("--out", "a-file/out"), "cannot create output folder"),
    "explain-logdir-is-a-file": (explain, ("--out", "out", "--logdir", "a-file"), "is a file"),
    "neurons-out-is-a-file": (neurons, ("--out", "a-file", "--logdir", "runs"), "is a file, not a folder"),
    "neurons-logdir-is-a-file": (neurons, ("--out", "out", "--logdir", "a-file"), "is a file"),
    "unroll-out-is-a-file": (unroll, ("--out", "a-file", "--logdir", "runs"), "is a file"),
    "unroll-logdir-under-a-file": (unroll, ("--out", "out", "--logdir", "a-file/x"), "cannot create output folder"),
    "bench-json-is-a-folder": (lambda p, *f: catnet("bench", "--only", "numpy-span", *f), ("--json", "dir.json"), "is a folder"),
    "bench-plot-is-a-folder": (lambda p, *f: catnet("bench", "--only", "numpy-span", *f), ("--plot", "dir.png"), "is a folder"),
    "fetch-dest-is-a-file": (lambda p, *f: catnet("fetch-data", "--mirror", "http://127.0.0.1:9/", *f),
                             ("--dest", "a-file"), "is a file"),
    "fetch-target-is-a-folder": (lambda p, *f: catnet("fetch-data", "--mirror", "http://127.0.0.1:9/", *f),
                                 ("--dest", "fetched"), "is a folder"),
}


@pytest.mark.parametrize("run, flags, fragment", OUTPUT_PATHS.values(), ids=OUTPUT_PATHS.keys())
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(place, run, flags, fragment):
    _blocked(place)
    here = os.getcwd()
    os.chdir(place)
    try:
        with untouched(place):
            outcome = run(place, *flags)
    finally:
        os.chdir(here)
    assert_refused(outcome, fragment, code=2)
    assert outcome.stdout == ""  # nothing was computed


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_even_root_cannot_write_is_refused_before_training(place):
    with untouched(place):
        assert_refused(train(place, "--save", "/proc/m.npz"), "not writable", code=2)


# --- all outputs of one command, or none


def fail_on_call(monkeypatch, owner, name: str, after: int, error: BaseException):
    """Make owner.name raise `error` on its call number after + 1 (the earlier calls run as they would)."""
    original = getattr(owner, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_the_last_output_of_train_keeps_none(place, monkeypatch):
    from catnet.tblog import FastRecordWriter

    fail_on_call(monkeypatch, FastRecordWriter, "write", 5, DISK_FULL)  # the TensorBoard run, written last
    with untouched(place):
        outcome = train(place, "--save", place / "out/m.npz", "--metrics-json", place / "out/m.json",
                        "--logdir", place / "runs")
    assert_refused(outcome, "cannot write TensorBoard run", "No space left on device", code=1)


def test_compare_keeps_neither_report_when_the_second_cannot_be_written(place, monkeypatch):
    fail_on_call(monkeypatch, Path, "write_text", 1, DISK_FULL)  # the JSON report is written first, the Markdown second
    with untouched(place):
        outcome = compare(place, "--json", place / "ok.json", "--markdown", place / "report.md")
    assert_refused(outcome, "report.md", "No space left on device", code=1)


def test_fetch_data_keeps_neither_file_when_the_second_is_missing(tmp_path, real_data):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "train_catvnoncat.h5").symlink_to(real_data / "train_catvnoncat.h5")
    with untouched(tmp_path):
        outcome = catnet("fetch-data", "--dest", tmp_path / "dest", "--mirror", mirror.as_uri() + "/")
    assert_refused(outcome, "test_catvnoncat.h5", "No such file", code=2)


@pytest.mark.parametrize("error, code", [(DISK_FULL, 1), (KeyboardInterrupt(), 130)], ids=["disk-full", "ctrl-c"])
@pytest.mark.parametrize("command", ["explain", "neurons"])
def test_a_run_that_fails_while_writing_its_folder_leaves_the_last_one_as_it_was(place, monkeypatch, command, error, code):
    from PIL import Image

    run = explain if command == "explain" else neurons
    first = run(place, "--out", place / "out", "--logdir", place / "runs")
    assert first.code == 0, first.stderr
    before = snapshot(place)
    fail_on_call(monkeypatch, Image.Image, "save", 2, error)  # the third PNG
    outcome = run(place, "--out", place / "out", "--logdir", place / "runs")
    assert_refused(outcome, code=code)
    assert snapshot(place) == before  # the earlier result and its TensorBoard run, untouched; nothing staged left


def test_terminated_while_writing_a_folder_is_143_and_leaves_nothing(place, monkeypatch):
    import signal

    import catnet.figfiles
    from catnet.cli import Terminated

    fail_on_call(monkeypatch, catnet.figfiles, "write_file", 3, Terminated(signal.SIGTERM))
    with untouched(place):
        outcome = neurons(place, "--out", place / "out", "--logdir", place / "runs")
    assert_refused(outcome, "terminated (SIGTERM)", code=143)


def test_unroll_keeps_neither_file_when_the_figure_cannot_be_written(place, monkeypatch):
    fail_on_call(monkeypatch, Path, "write_bytes", 0, DISK_FULL)  # costs.png's bytes, after unroll.json
    with untouched(place):
        outcome = unroll(place, "--out", place / "out", "--logdir", place / "runs")
    assert_refused(outcome, "costs.png", "No space left on device", code=1)


# --- folders of results


def test_a_second_explain_replaces_the_first_folder_whole(place):
    catnet("explain", "--model", place / "m.npz", "--data", place / "data", "--methods", "saliency,input-x-gradient",
           "--out", place / "out")
    outcome = catnet("explain", "--model", place / "m.npz", "--data", place / "data", "--methods", "saliency",
                     "--images", "0", "--out", place / "out")
    assert outcome.code == 0, outcome.stderr
    assert sorted(p.name for p in (place / "out").iterdir()) == ["overview-saliency.png", "summary.json", "test-000.png"]
    assert not [p for p in place.iterdir() if p.name.startswith(".")]  # no staged or moved-aside folder left


@pytest.mark.parametrize("foreign", ["notes.txt", "subfolder", ".hidden"])
def test_a_folder_holding_more_than_an_earlier_result_is_never_replaced(place, foreign):
    out = place / "out"
    out.mkdir()
    (out / "test-000.png").write_bytes(b"an earlier result")
    (out / foreign).mkdir() if foreign == "subfolder" else (out / foreign).write_text("mine")
    for run in (explain, neurons):
        with untouched(place):
            assert_refused(run(place, "--out", out, "--logdir", place / "runs"), repr(foreign), code=2)


def test_the_current_folder_is_never_a_result_folder(place):
    with untouched(place):
        assert_refused(catnet("neurons", "--model", place / "m.npz", "--data", place / "data", "--out", ".", cwd=place / "data"),
                       "current folder", code=2)


@pytest.mark.parametrize("command", ["explain", "neurons"])
def test_each_run_writes_its_own_tensorboard_folder(place, command):
    run = explain if command == "explain" else neurons
    for _ in range(2):
        assert run(place, "--out", place / "out", "--logdir", place / "runs").code == 0
    runs = sorted((place / "runs").iterdir())
    assert len(runs) == 2 and all(r.name.startswith(f"{command}-") and r.is_dir() for r in runs)
    assert all(list(r.glob("events.out.tfevents.*")) for r in runs)


# --- file modes: the user's umask


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_outputs_are_created_with_the_users_umask(place, umask):
    previous = os.umask(umask)
    try:
        assert train(place, "--save", place / "o/m.npz", "--metrics-json", place / "o/m.json", "--logdir", place / "tb").code == 0
        assert explain(place, "--out", place / "e").code == 0
    finally:
        os.umask(previous)
    files = [place / "o/m.npz", place / "o/m.json", *(place / "e").iterdir(), *(place / "tb").rglob("events*")]
    folders = [place / "o", place / "e", *(place / "tb").iterdir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o666 & ~umask}
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o777 & ~umask}


def test_downloads_are_created_with_the_users_umask(tmp_path, real_data):
    previous = os.umask(0o027)
    try:
        outcome = catnet("fetch-data", "--dest", tmp_path / "d", "--mirror", real_data.as_uri() + "/")
    finally:
        os.umask(previous)
    assert outcome.code == 0, outcome.stderr
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "d").iterdir()} == {0o640}


def test_a_file_mirror_downloads_and_verifies(tmp_path, real_data):
    outcome = catnet("fetch-data", "--dest", tmp_path / "d", "--mirror", real_data.as_uri())
    assert outcome.code == 0 and outcome.stdout.count("sha256 ok") == 2, outcome.stderr
    assert np.all([p.stat().st_size > 0 for p in (tmp_path / "d").iterdir()])


def test_an_out_folder_that_is_a_link_is_replaced_where_it_points(place):
    """`--out results` where results -> elsewhere/: the folder it points to is replaced whole, the link stays."""
    (place / "elsewhere").mkdir()
    (place / "results").symlink_to(place / "elsewhere")
    outcome = explain(place, "--out", place / "results")
    assert outcome.code == 0, outcome.stderr
    assert (place / "results").is_symlink()
    assert sorted(p.name for p in (place / "elsewhere").iterdir()) == ["overview-saliency.png", "summary.json",
                                                                        "test-000.png", "test-001.png"]


def test_text_reports_are_utf8_whatever_the_locale(place):
    """compare's Markdown holds Δ and —: written as UTF-8 even where Python's locale encoding is ASCII."""
    from conftest import run_cli

    proc = run_cli("compare", "--data", place / "data", *TINY, "--device", "cpu", "--markdown", place / "r.md",
                   env={"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "Δθ" in (place / "r.md").read_text(encoding="utf-8")
