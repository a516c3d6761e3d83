"""TensorBoard runs: what the event files hold, read back by tensorboard itself, and by a real server over HTTP."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

import numpy as np
import pytest
from conftest import REPO

from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catnet.runs import run_training
from catnet.tblog import EventWriter, new_run_dir, write_training_run

SERVER_START_SECONDS = 90  # a cold tensorboard start on a busy 2-core machine


def accumulate(run_dir):
    """The run as tensorboard's own reader sees it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0, "scalars": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import make_tiny_dataset

    data = make_tiny_dataset(tmp_path_factory.mktemp("tb-data"))
    config = TrainConfig(layers=(48, 4, 1), learning_rate=0.5, iterations=40, first_layer="span")
    return run_training(config, prepare_arrays(load_dataset(data), config))


def test_run_folder_is_named_impl_dtype_time(tiny_run, tmp_path):
    run_dir = write_training_run(tmp_path, tiny_run)
    assert run_dir.parent == tmp_path
    assert re.fullmatch(r"numpy-float64-\d{8}-\d{6}", run_dir.name)
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1


def test_two_runs_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    import catnet.tblog

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2024, 5, 17, 9, 30, 1)

    monkeypatch.setattr(catnet.tblog, "datetime", FrozenClock)
    names = [new_run_dir(tmp_path, "torch-float32").name for _ in range(3)]
    assert names == ["torch-float32-20240517-093001", "torch-float32-20240517-093001-2", "torch-float32-20240517-093001-3"]


def test_costs_are_written_for_every_iteration(tiny_run, tmp_path):
    from tensorboard.util import tensor_util

    events = accumulate(write_training_run(tmp_path, tiny_run))
    cost = events.Tensors("cost")
    assert [e.step for e in cost] == list(range(40))
    written = [tensor_util.make_ndarray(e.tensor_proto) for e in cost]
    np.testing.assert_array_equal(written, tiny_run.result.costs.astype(np.float32))  # TensorBoard keeps float32


def test_accuracies_are_written_at_the_last_step(tiny_run, tmp_path):
    events = accumulate(write_training_run(tmp_path, tiny_run))
    for tag, value in (("accuracy/train", tiny_run.train_accuracy), ("accuracy/test", tiny_run.test_accuracy)):
        (event,) = events.Tensors(tag)
        assert event.step == 40
        assert event.tensor_proto.float_val[0] == pytest.approx(value, rel=1e-7)


def test_weight_histograms_at_the_first_and_last_step(tiny_run, tmp_path):
    from tensorboard.util import tensor_util

    events = accumulate(write_training_run(tmp_path, tiny_run))
    for step, params in ((0, tiny_run.initial), (40, tiny_run.result.params)):
        for name, array in params.named_arrays().items():
            (event,) = [e for e in events.Tensors(f"weights/{name}") if e.step == step]
            buckets = tensor_util.make_ndarray(event.tensor_proto)  # (buckets, 3): left, right, count
            assert buckets[:, 2].sum() == array.size, name
            assert buckets[0, 0] == array.min() and buckets[-1, 1] == array.max(), name


def test_hyperparameters_are_the_config(tiny_run, tmp_path):
    from tensorboard.plugins.hparams import metadata

    events = accumulate(write_training_run(tmp_path, tiny_run))
    content = events.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
    hparams = metadata.parse_session_start_info_plugin_data(content).hparams
    assert hparams["impl"].string_value == "numpy"
    assert hparams["layers"].string_value == "48,4,1"
    assert hparams["learning_rate"].number_value == 0.5
    assert hparams["iterations"].number_value == 40
    assert hparams["first_layer"].string_value == "span"
    assert hparams["dtype"].string_value == "float64"


def test_image_summaries_round_trip(tmp_path):
    from PIL import Image

    picture = np.random.RandomState(0).randint(0, 256, size=(6, 5, 3)).astype(np.uint8)
    with EventWriter(tmp_path / "run") as writer:
        writer.image("picture", picture, step=3)
    (event,) = accumulate(tmp_path / "run").Tensors("picture")
    width, height, png = event.tensor_proto.string_val
    assert (int(width), int(height), event.step) == (5, 6, 3)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), picture)


def test_a_curve_written_at_once_is_the_events_written_one_by_one(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import (
        LegacyEventFileLoader,
    )

    values = np.random.RandomState(1).normal(size=50) * 10.0**np.arange(-25, 25)
    with EventWriter(tmp_path / "one") as writer:
        for step, value in enumerate(values, start=7):
            writer.scalar("cost", value, step)
    with EventWriter(tmp_path / "all") as writer:
        writer.scalars("cost", values, first_step=7)

    def events(folder):
        (path,) = folder.glob("events.out.tfevents.*")
        return [(event.step, event.summary.SerializeToString()) for event in LegacyEventFileLoader(str(path)).Load()
                if event.HasField("summary")]

    assert events(tmp_path / "all") == events(tmp_path / "one")
    read = [float(event.tensor_proto.float_val[0]) for event in accumulate(tmp_path / "all").Tensors("cost")]
    assert read == [float(np.float32(v)) for v in values]


def test_event_records_carry_tensorboards_own_checksums(tmp_path):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import (
        masked_crc32c as pure_python,
    )

    from catnet.tblog import masked_crc32c

    for data in (b"", b"x", os.urandom(1000), os.urandom(100_003)):
        assert masked_crc32c(data) == pure_python(data)


def test_embeddings_are_written_where_the_projector_looks(tmp_path):
    from google.protobuf import text_format
    from PIL import Image
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    rng = np.random.RandomState(1)
    features, images = rng.rand(5, 3), rng.randint(0, 256, size=(5, 4, 6, 3)).astype(np.uint8)  # (N, d), (N, H, W, 3)
    rows = [[f"#{i}", "cat" if i % 2 else "non-cat"] for i in range(5)]
    with EventWriter(tmp_path / "run") as writer:
        writer.embedding("hidden", features, rows, ["index", "label"], images=images)
    config = text_format.Parse((tmp_path / "run" / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (embedding,) = config.embeddings
    run = tmp_path / "run"
    np.testing.assert_array_equal(np.loadtxt(run / embedding.tensor_path, delimiter="\t"), features)
    assert (run / embedding.metadata_path).read_text().splitlines() == ["index\tlabel"] + ["\t".join(r) for r in rows]
    sprite = np.asarray(Image.open(run / embedding.sprite.image_path))
    assert list(embedding.sprite.single_image_dim) == [6, 4]  # width, height
    assert sprite.shape == (3 * 4, 3 * 6, 3)  # a 3 x 3 grid for 5 images
    np.testing.assert_array_equal(sprite[4:8, 0:6], images[3])  # row-major: image 3 starts the second row


def test_failed_write_leaves_no_run_folder(tiny_run, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(EventWriter, "histogram", broken)
    with pytest.raises(OSError, match="disk full"):
        write_training_run(tmp_path, tiny_run)
    assert list(tmp_path.iterdir()) == []


def test_logging_needs_neither_torch_nor_tensorflow(tiny_data, tmp_path):
    script = (
        "import json, sys\n"
        "from catnet.cli import main\n"
        f"code = main(['train', '--impl', 'numpy', '--data', {str(tiny_data)!r}, '--layers', '48,3,1',"
        f" '--iterations', '5', '--quiet', '--logdir', {str(tmp_path)!r}])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'captum'))]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == [0, []]
    assert len(list(tmp_path.glob("numpy-float64-*/events.out.tfevents.*"))) == 1


# --- a real tensorboard server reading the two twins' runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port: int, path: str, **query):
    url = f"http://127.0.0.1:{port}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def post_json(port: int, path: str, body: dict):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"},  # tensorboard refuses POSTs without it
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for_tags(port: int, server: subprocess.Popen, runs: set[str]) -> dict:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "tensorboard exited early"
        try:
            tags = get_json(port, "/data/plugin/scalars/tags")
            if runs <= set(tags) and all("cost" in tags[run] for run in runs):
                return tags
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        time.sleep(0.5)
    raise AssertionError(f"tensorboard did not list {sorted(runs)} within {SERVER_START_SECONDS} s")


def test_tensorboard_server_shows_both_twins_costs(twin_runs, tmp_path):
    logdir = twin_runs["logdir"]
    runs = {path.name: path.name.split("-")[0] for path in logdir.iterdir()}
    assert sorted(runs.values()) == ["numpy", "torch"]
    port = free_port()
    log = open(tmp_path / "tensorboard.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,  # its own group: the data server goes with it
    )
    try:
        tags = wait_for_tags(port, server, set(runs))
        for run, impl in runs.items():
            assert {"cost", "accuracy/train", "accuracy/test"} <= set(tags[run])
            served = get_json(port, "/data/plugin/scalars/scalars", run=run, tag="cost")  # [[wall_time, step, value]]
            expected = [cost for _, cost in json.loads((twin_runs[impl] / "metrics.json").read_text())["costs"]]
            assert [step for _, step, _ in served] == list(range(200))
            np.testing.assert_array_equal([value for _, _, value in served], np.float32(expected), err_msg=impl)
        # the HParams tab: one session per run, its final metrics read from the run's scalars
        groups = post_json(port, "/data/plugin/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 10, "colParams": [],
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        })["sessionGroups"]
        assert sorted(group["name"] for group in groups) == sorted(runs)
        for group in groups:
            impl = runs[group["name"]]
            assert group["hparams"]["impl"] == impl and group["hparams"]["layers"] == "48,6,1"
            metrics = {value["name"]["tag"]: value["value"] for value in group["metricValues"]}
            doc = json.loads((twin_runs[impl] / "metrics.json").read_text())
            assert metrics["cost"] == np.float32(doc["costs"][-1][1])
            assert metrics["accuracy/test"] == np.float32(doc["test_accuracy"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
