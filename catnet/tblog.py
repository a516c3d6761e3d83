"""TensorBoard runs written with tensorboard's own writer and protos, never torch: the one writer of every command.

`torch.utils.tensorboard.SummaryWriter` would pull torch into the NumPy
path, and `tf.summary` needs TensorFlow, so events are built from
tensorboard's summary protos and plugin metadata and framed as tensorboard's
`RecordWriter` frames them, in the calling thread (tensorboard's `EventFileWriter`
writes from a background thread, where a full disk printed a traceback and
reached the command only at a later flush, if at all, and queueing cost 0.5 s
for unroll's 7,500 scalars), with the CRC32C computed by google-crc32c's C code:
tensorboard's own is pure Python, 0.12 s per MB, which was 1.3 s of `catnet
neurons` (11 MB of images). The projector's embedding files are written beside
the events. A run folder is made fresh for each run (`new_run_dir`) and removed
again if the command fails.
(tensorboardX would do the same: measured side by side, importing it and
writing a training run took as long as this writer, 0.50 s against 0.49-0.51 s,
and it would be one more dependency.) Scalars are float32, as TensorBoard's
fast loader reads only those: the twins' 1e-15 cost differences do not show in
the charts (compare/ is the place for them).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import struct
import time
from datetime import datetime
from pathlib import Path

import google_crc32c
import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.plugins.text import summary_v2 as text_summary
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

from catcore.errors import WriteFailed
from catcore.outputs import check_folder, new_folder

HISTOGRAM_BUCKETS = 30
HParamValue = bool | int | float | str


class EventWriter:
    """One TensorBoard run folder: scalars, histograms, hyperparameters, images, text, embeddings.

    Use as a context manager; events reach the disk when it closes. Any I/O
    failure (a full disk) is a one-line WriteFailed naming the run folder.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self._embeddings: list = []  # the projector's EmbeddingInfo entries written so far
        with self._io():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            # the name TensorBoard looks for, as tensorboard's own EventFileWriter makes it
            name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{id(self)}"
            self._records = FastRecordWriter(open(self.run_dir / name, "wb"))
            self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._add_summary(scalar_summary.scalar_pb(tag, np.float64(value)), step)

    def scalars(self, tag: str, values, first_step: int = 0) -> None:
        """A whole curve: values[i] at step first_step + i, the very events `scalar` writes one by one.

        Built from one summary, its value replaced per step: scalar_pb's checks, conversions and metadata
        per value were most of the 0.24 s that unroll's 7,500 scalars took.
        """
        summary = scalar_summary.scalar_pb(tag, np.float64(0.0))
        tensor = summary.value[0].tensor
        for step, value in enumerate(np.asarray(values, dtype=np.float32).tolist(), start=first_step):
            tensor.float_val[0] = value
            self._add_summary(summary, step)

    def histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        summary = histogram_summary.histogram_pb(tag, np.asarray(values, dtype=np.float64), buckets=HISTOGRAM_BUCKETS)
        self._add_summary(summary, step)

    def hparams(self, values: dict[str, HParamValue], trial_id: str | None = None) -> None:
        """The run's hyperparameters (bool, int, float or str each) for the HParams dashboard.

        Its metrics are this run's scalars: the dashboard shows their last values.
        """
        self._add_summary(hparams_summary.hparams_pb(values, trial_id=trial_id), step=0)

    def image(self, tag: str, image: np.ndarray, step: int, png: bytes | None = None) -> None:
        """One (H, W, 3) uint8 RGB image, PNG-encoded; `png`: those pixels already encoded (a file's bytes), used as is."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
        if png is None:
            from PIL import Image  # only image summaries pay for Pillow

            buffer = io.BytesIO()
            Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
            png = buffer.getvalue()
        height, width = image.shape[:2]
        # the image plugin's layout: [width, height, encoded image...] as strings
        tensor = tensor_util.make_tensor_proto(np.array([str(width).encode(), str(height).encode(), png], dtype=object))
        metadata = image_metadata.create_summary_metadata(display_name=None, description=None)
        self._add(summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata), step)

    def text(self, tag: str, markdown: str, step: int = 0) -> None:
        self._add_summary(text_summary.text_pb(tag, markdown), step)

    def embedding(self, tag: str, features: np.ndarray, metadata: list[list[str]], header: list[str],
                  images: np.ndarray | None = None, step: int = 0) -> Path:
        """Points for the Projector: features (N, d), one metadata row per point, images (N, H, W, 3) uint8 as sprites.

        Written as the projector plugin reads them: <run>/<step>/<tag>/{tensors,metadata}.tsv and sprite.png,
        listed in <run>/projector_config.pbtxt. Returns the embedding's folder.
        """
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo

        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or len(metadata) != len(features):
            raise ValueError(f"expected (N, d) features with N metadata rows, got {features.shape} and {len(metadata)}")
        folder = self.run_dir / f"{step:05d}" / tag
        info = EmbeddingInfo(tensor_name=f"{tag}:{step:05d}", tensor_path=f"{step:05d}/{tag}/tensors.tsv",
                             metadata_path=f"{step:05d}/{tag}/metadata.tsv")
        with self._io():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "tensors.tsv").write_text("".join("\t".join(repr(float(v)) for v in row) + "\n" for row in features),
                                               encoding="utf-8")
            (folder / "metadata.tsv").write_text("".join("\t".join(row) + "\n" for row in [header, *metadata]),
                                                encoding="utf-8")
            if images is not None:
                _write_sprite(folder / "sprite.png", np.asarray(images))
                info.sprite.image_path = f"{step:05d}/{tag}/sprite.png"
                info.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])  # width, height
            self._embeddings.append(info)
            config = "".join(f"embeddings {{\n{text_format.MessageToString(e)}}}\n" for e in self._embeddings)
            (self.run_dir / "projector_config.pbtxt").write_text(config, encoding="utf-8")
        return folder

    def close(self) -> None:
        with self._io():
            self._records.close()  # flushes: a full disk shows here at the latest

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc) -> bool:
        if exc[0] is None:
            self.close()
        else:  # already failing: close quietly and let that error speak
            try:
                self._records.close()
            except OSError:
                pass
        return False

    def _add(self, value: summary_pb2.Summary.Value, step: int) -> None:
        self._add_summary(summary_pb2.Summary(value=[value]), step)

    def _add_summary(self, summary: summary_pb2.Summary, step: int) -> None:
        self._write(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def _write(self, event: event_pb2.Event) -> None:
        with self._io():
            self._records.write(event.SerializeToString())

    @contextlib.contextmanager
    def _io(self):
        try:
            yield
        except OSError as exc:
            raise WriteFailed(f"cannot write TensorBoard run {self.run_dir}: {exc.strerror or exc}") from None


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C of TFRecord framing (what tensorboard's pure-Python masked_crc32c returns), in C."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class FastRecordWriter(RecordWriter):
    """tensorboard's RecordWriter, the same bytes, with the checksums computed in C."""

    def write(self, data: bytes) -> None:
        header = struct.pack("<Q", len(data))
        footer = struct.pack("<I", masked_crc32c(data))
        self._writer.write(header + struct.pack("<I", masked_crc32c(header)) + data + footer)


def _write_sprite(path: Path, images: np.ndarray) -> None:
    """(N, H, W, 3) uint8 images as one square grid, row by row, black where the grid runs out."""
    from PIL import Image

    count, height, width = images.shape[:3]
    side = int(np.ceil(np.sqrt(count)))
    grid = np.zeros((side * height, side * width, 3), dtype=np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, side)
        grid[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    Image.fromarray(grid).save(path, format="PNG", compress_level=1)  # photos barely compress: 3x faster than level 6, 6% larger


def new_run_dir(logdir: str | os.PathLike, name: str) -> Path:
    """Create logdir/name-YYYYmmdd-HHMMSS, adding -2, -3, ... when that exists already.

    Inside the command's output transaction (catcore.outputs) the folder is removed again if the command fails.
    """
    logdir = check_folder("--logdir", logdir)
    return new_folder(logdir, f"{name}-{datetime.now():%Y%m%d-%H%M%S}")


def write_training_run(logdir: str | os.PathLike, run) -> Path:
    """Write a `catnet.runs.Run` as logdir/<impl>-<dtype>-<time>; returns that folder.

    Costs at every iteration (step i = the cost before update i), both
    accuracies and the final weights at step `iterations` (after the last
    update), initial weights at step 0, and the hyperparameters. The folder is
    removed again if writing fails.
    """
    config = run.config
    run_dir = new_run_dir(logdir, f"{run.impl}-{config.dtype}")
    try:
        with EventWriter(run_dir) as writer:
            writer.hparams(training_hparams(run), trial_id=run_dir.name)
            writer.scalars("cost", run.result.costs)
            writer.scalar("accuracy/train", run.train_accuracy, step=config.iterations)
            writer.scalar("accuracy/test", run.test_accuracy, step=config.iterations)
            for step, params in ((0, run.initial), (config.iterations, run.result.params)):
                for name, array in params.named_arrays().items():
                    writer.histogram(f"weights/{name}", array, step=step)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return run_dir


def training_hparams(run) -> dict[str, HParamValue]:
    """The run's settings as HParams values: the layer list as text, unset values left out."""
    values: dict[str, HParamValue] = {"impl": run.impl}
    for name, value in run.settings().items():
        if name == "layers":
            values[name] = ",".join(map(str, value))
        elif isinstance(value, (bool, int, float, str)):
            values[name] = value
        elif value is not None:
            values[name] = str(value)
    return values
