"""Shared fixtures: tiny course-layout HDF5 files, the real data, and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _real_data_dir() -> Path:
    """Where the real files are: $CATNET_DATA, else ./datasets, else ../shared/data (this team's checkout)."""
    if os.environ.get("CATNET_DATA"):
        return Path(os.environ["CATNET_DATA"])
    for candidate in (REPO / "datasets", REPO.parent / "shared" / "data"):
        if (candidate / "train_catvnoncat.h5").is_file():
            return candidate
    return REPO / "datasets"


REAL_DATA = _real_data_dir()


def write_split(path: Path, prefix: str, images: np.ndarray, labels: np.ndarray, classes: bool = True) -> Path:
    """An HDF5 file in the course's layout: {prefix}_set_x, {prefix}_set_y, list_classes."""
    with h5py.File(path, "w") as f:
        f.create_dataset(f"{prefix}_set_x", data=images)
        f.create_dataset(f"{prefix}_set_y", data=labels)
        if classes:
            f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))
    return path


def make_tiny_dataset(directory: Path, m_train: int = 12, m_test: int = 6, size: int = 4, seed: int = 0) -> Path:
    """A learnable toy: 'cats' are brighter. Images (m, size, size, 3) uint8."""
    rng = np.random.RandomState(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, m, name in (("train", m_train, "train_catvnoncat.h5"), ("test", m_test, "test_catvnoncat.h5")):
        labels = np.arange(m) % 2
        images = rng.randint(0, 128, size=(m, size, size, 3)) + 100 * labels[:, None, None, None]
        write_split(directory / name, prefix, images.astype(np.uint8), labels.astype(np.int64))
    return directory


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.cuda` alone marks a test as needing a GPU: skipped where torch sees none."""
    cuda_tests = [item for item in items if item.get_closest_marker("cuda")]
    if not cuda_tests:
        return
    import torch  # only when a GPU test was collected

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in cuda_tests:
            item.add_marker(skip)


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    """A folder with tiny train/test files of 4x4x3 images (n_x = 48)."""
    return make_tiny_dataset(tmp_path / "tiny")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The course's files; in CI they are always there, so a missing copy fails there."""
    if not (REAL_DATA / "train_catvnoncat.h5").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the real dataset must be present in CI, looked in {REAL_DATA}")
        pytest.skip(f"real dataset not found in {REAL_DATA} (run catnet fetch-data, or set CATNET_DATA)")
    return REAL_DATA


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `catnet` command in a fresh interpreter, as a user would."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "catnet", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=600,
    )


def assert_clean_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """Non-zero exit, one line on stderr naming the problem, no traceback."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# the tiny run both twins make once per session through the real CLI, shared by the tests that read its outputs
TWIN_TRAIN_ARGS = ("--layers", "48,6,1", "--lr", "0.5", "--iterations", "200", "--log-every", "1", "--quiet")


@pytest.fixture(scope="session")
def twin_runs(tmp_path_factory) -> dict[str, Path]:
    """`catnet train` with each impl on tiny data: {impl: folder with model.npz, metrics.json, logdir/}."""
    data = make_tiny_dataset(tmp_path_factory.mktemp("twin-data"))
    logdir = tmp_path_factory.mktemp("twin-logs")
    folders = {}
    for impl in ("numpy", "torch"):
        folder = tmp_path_factory.mktemp(f"twin-{impl}")
        proc = run_cli("train", "--impl", impl, "--device", "cpu", "--data", data, *TWIN_TRAIN_ARGS,
                       "--save", folder / "model.npz", "--metrics-json", folder / "metrics.json", "--logdir", logdir)
        assert proc.returncode == 0, proc.stderr
        folders[impl] = folder
    return {**folders, "data": data, "logdir": logdir}
