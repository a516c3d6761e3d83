"""Writing output files whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from catcore.errors import CatnetError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_dir(directory: str | os.PathLike) -> Path:
    """Create `directory` (and parents) or fail with a one-line reason."""
    directory = Path(directory) if str(directory) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatnetError(f"cannot create output folder {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK):
        raise CatnetError(f"output folder {directory} is not writable")
    return directory


def check_output_file(flag: str, path: str | os.PathLike | None, *suffixes: str) -> Path | None:
    """Before any work: `path` (given for `flag`) ends in one of `suffixes` and its folder can be written."""
    if path is None or str(path) == "":
        return None
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise CatnetError(f"{flag} expects a {' or '.join(suffixes)} path, got {str(path)!r}")
    ensure_dir(path.parent)
    return path
