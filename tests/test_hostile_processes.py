"""What only a real process shows: a closed pipe, /dev/full, a full disk (RLIMIT_FSIZE), SIGTERM, SIGINT, SIGHUP.

Each case runs `python -m catnet` as a user would and asserts the exit status, one line on stderr (none for a
closed pipe), no traceback, and no file or .part left behind.
"""

from __future__ import annotations

import http.server
import os
import resource
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import REPO, make_tiny_dataset, run_cli
from hostile import Outcome, assert_refused, untouched
from PIL import Image

from catcore.modelfile import ModelFile, save_model
from numpy_impl.init import initialize

ENV = {**os.environ, "PYTHONPATH": str(REPO)}
LONG_RUN = ("--layers", "48,3,1", "--lr", "0.01", "--iterations", "10000000", "--first-layer", "primal")


def catnet_process(*args, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "catnet", *map(str, args)], env=ENV, text=True, **popen)


# --- stdout in trouble


def test_a_closed_pipe_ends_training_quietly_and_saves_nothing(tmp_path):
    """`catnet train --log-every 1 --save m.npz | head -1`."""
    data = make_tiny_dataset(tmp_path / "data")
    with untouched(tmp_path):
        proc = catnet_process("train", "--data", data, *LONG_RUN, "--log-every", "1", "--save", tmp_path / "m.npz",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.readline()
        proc.stdout.close()  # head -1 has read its line and gone
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    assert first.startswith("Cost after iteration 0")
    assert stderr == "" and proc.returncode == 128 + signal.SIGPIPE


def test_a_closed_pipe_ends_predict_quietly(tmp_path):
    """`catnet predict --model m.npz photo.png ... | head -1`, with more lines than a pipe holds."""
    model = save_model(tmp_path / "m.npz", ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1,
                                                     flatten="course", image_shape=(4, 4, 3)))
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "photo.png")
    proc = catnet_process("predict", "--model", model, *[tmp_path / "photo.png"] * 3000,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=60)
    assert "P(cat)" in first and stderr == "" and proc.returncode == 128 + signal.SIGPIPE


@pytest.mark.parametrize("command", ["train", "predict"])
def test_stdout_on_a_full_device_is_one_line(tmp_path, command):
    data = make_tiny_dataset(tmp_path / "data")
    if command == "train":
        args = ("train", "--data", data, "--layers", "48,3,1", "--iterations", "3", "--save", tmp_path / "out/m.npz")
    else:
        model = save_model(tmp_path / "m.npz", ModelFile(params=initialize((48, 3, 1), "he", 1), init="he", seed=1,
                                                         flatten="course", image_shape=(4, 4, 3)))
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "photo.png")
        args = ("predict", "--model", model, tmp_path / "photo.png")
    with untouched(tmp_path), open("/dev/full", "w") as full:
        proc = catnet_process(*args, stdout=full, stderr=subprocess.PIPE)
        stderr = proc.communicate(timeout=120)[1]
    assert_refused(Outcome(proc.returncode, "", stderr), "cannot write to standard output", "No space left on device", code=1)


# --- a full disk, for real: the kernel refuses writes past RLIMIT_FSIZE (EFBIG), in every file the process writes


def limited_to(size: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process instead of failing the write
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return preexec


@pytest.mark.parametrize("layers, fails", [("48,100,1", "m.npz"), ("48,3,1", "TensorBoard run")],
                         ids=["model-too-big", "tensorboard-events-too-big"])
def test_a_disk_that_fills_up_while_writing_keeps_no_output(tmp_path, layers, fails):
    data = make_tiny_dataset(tmp_path / "data")
    out = tmp_path / "out"
    with untouched(tmp_path):
        proc = subprocess.run(
            [sys.executable, "-m", "catnet", "train", "--data", str(data), "--layers", layers, "--iterations", "2000",
             "--lr", "0.01", "--quiet", "--save", str(out / "m.npz"), "--metrics-json", str(out / "m.json"),
             "--logdir", str(out / "tb")],
            env=ENV, capture_output=True, text=True, timeout=300, preexec_fn=limited_to(20_000),
        )
    assert_refused(proc, "cannot write", fails, "File too large", code=1)


# --- signals


def wait_for_line(proc) -> str:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return line


@pytest.mark.parametrize("signum, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGHUP, 129, "terminated")], ids=["TERM", "INT", "HUP"])
def test_a_signal_during_training_removes_every_staged_output(tmp_path, signum, code, word):
    data = make_tiny_dataset(tmp_path / "data")
    with untouched(tmp_path):
        proc = catnet_process("train", "--data", data, *LONG_RUN, "--log-every", "1000", "--save", tmp_path / "o/m.npz",
                              "--metrics-json", tmp_path / "o/m.json", "--logdir", tmp_path / "tb",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_line(proc)  # training has started
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    assert_refused(Outcome(proc.returncode, stdout, stderr), word, code=code)


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """Sends the first 64 KB of a 2 MB file, then nothing for a minute: a download to interrupt."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(2 * 2**20))
        self.end_headers()
        self.wfile.write(b"\0" * 65536)
        self.wfile.flush()
        time.sleep(60)

    def log_message(self, *args):
        pass


def test_sigterm_during_a_download_leaves_no_part_file(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dest = tmp_path / "dest"
    try:
        proc = catnet_process("fetch-data", "--dest", dest, "--mirror", f"http://127.0.0.1:{server.server_address[1]}/",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".part") and p.stat().st_size for p in dest.glob(".*")):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else "timeout"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert_refused(Outcome(proc.returncode, stdout, stderr), "terminated (SIGTERM)", code=143)
    assert not dest.exists() or list(dest.iterdir()) == []


def test_threads_beyond_the_cpus_never_reach_openmp(tmp_path):
    """`explain --threads 100000` crashed OpenMP (exit 139) and left an empty output folder."""
    proc = run_cli("explain", "--model", tmp_path / "m.npz", "--threads", "100000", "--out", tmp_path / "out")
    assert_refused(proc, "--threads", code=2)
    assert list(tmp_path.iterdir()) == []
