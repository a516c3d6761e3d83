"""The hostile-input suite's tools: the real CLI run in this process, the claim every case makes, and file makers.

Every case claims the same thing of the command line: a refused input ends in
exit status != 0 (the one expected, where it is known), exactly one line on
stderr, no traceback, and no file left behind (the folder it wrote in is as it
was). `catnet()` runs `catnet.cli.main` in this process, so a case costs
milliseconds; the cases that need a real process (pipes, signals, a full disk,
/dev/full) use conftest.run_cli.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def catnet(*argv, cwd: Path | None = None) -> Outcome:
    """`catnet ARGV...` through catnet.cli.main in this process, stdout and stderr captured.

    An exception escaping main is not caught here: pytest shows it, and the case fails.
    """
    from catnet.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("always")  # a warning shown once per process would hide from later cases
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exit_:  # argparse's own exits
                code = exit_.code
    finally:
        os.chdir(here)
    return Outcome(int(code or 0), out.getvalue(), err.getvalue())


def assert_refused(outcome, *fragments: str, code: int | None = None) -> str:
    """Exit status != 0 (== `code` if given), one line on stderr naming the problem, no traceback; returns the line."""
    stderr = outcome.stderr
    returncode = outcome.code if isinstance(outcome, Outcome) else outcome.returncode
    assert returncode != 0, (returncode, outcome.stdout, stderr)
    if code is not None:
        assert returncode == code, (returncode, stderr)
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under `folder`, hidden ones included: folders with their mode, files also with size and content time.

    (A folder's own time changes whenever something is made and removed in it, which is no trace left behind.)
    """
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            found[str(Path(root, name).relative_to(folder))] = ("folder", Path(root, name).lstat().st_mode)
        for name in files:
            info = Path(root, name).lstat()
            found[str(Path(root, name).relative_to(folder))] = ("file", info.st_size, info.st_mtime_ns, info.st_mode)
    return found


@contextlib.contextmanager
def untouched(folder: Path):
    """The block must leave `folder` exactly as it was: no new file, folder or .part, nothing changed or removed."""
    before = snapshot(folder)
    yield
    after = snapshot(folder)
    assert after == before, {"new": sorted(set(after) - set(before)), "gone": sorted(set(before) - set(after)),
                             "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k])}


# --- model files, made by hand the way a damaged or hostile one could be


def model_arrays(layers=(48, 3, 1), seed: int = 1) -> dict[str, np.ndarray]:
    from numpy_impl.init import initialize

    return dict(initialize(layers, "he", seed).named_arrays())


def model_meta(**changes) -> dict:
    meta = {"format": 1, "layer_sizes": [48, 3, 1], "init": "he", "seed": 1, "flatten": "course",
            "image_shape": [4, 4, 3], "dtype": "float64", "extra": {"impl": "numpy"}}
    meta.update(changes)
    return meta


def write_npz(path: Path, meta, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    """np.savez with `meta` as the JSON string catnet writes (a dict), or as given (anything else)."""
    members = dict(arrays)
    if meta is not None:
        members["meta"] = np.array(json.dumps(meta)) if isinstance(meta, dict) else meta
    with open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **members)
    return path


def npy_member(shape, descr: str, data: bytes = b"") -> bytes:
    """The bytes of an .npy file whose header declares `shape` and `descr`, followed by `data` (however short)."""
    from numpy.lib import format as npy_format

    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    npy_format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def replace_member(path: Path, name: str, content: bytes, method: int = zipfile.ZIP_STORED) -> Path:
    """Rewrite the archive at `path` with member `name` replaced (or added) by `content`."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = content
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path
