"""Downloading the course's two HDF5 files, checked against SHA-256 sums kept here.

A file is written only whole and verified: the bytes go to a temporary file
beside the target that replaces it only when the checksum matches, so an
interrupted download or a wrong file leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from catcore.config import DATA_FILES as FILES
from catcore.config import DATA_MIRROR, FETCH_TIMEOUT_SECONDS
from catcore.errors import CatnetError, WriteFailed
from catcore.outputs import atomic_path

# the values in shared/data/SHA256SUMS, of the files the course ships
CHECKSUMS = {
    "train_catvnoncat.h5": "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242",
    "test_catvnoncat.h5": "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951",
}
MAX_BYTES = 64 * 1024 * 1024  # the real files are 2.6 MB and 0.6 MB; a mirror sending more is wrong
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int  # bytes
    downloaded: bool  # False: it was already there with the right checksum


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mirror_url(base: str, name: str) -> str:
    """base + name; the base must be an http(s) or file URL (a trailing / is added if missing).

    A host name in another script is sent in its IDNA (xn--) form, which is what DNS knows it by.
    """
    if any(ord(c) < 33 or ord(c) == 127 for c in base):
        raise CatnetError(f"--mirror {base!r} holds spaces or control characters; percent-encode them (%20)")
    try:
        parts = urllib.parse.urlsplit(base)
        port = parts.port  # raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        raise CatnetError(f"--mirror {base!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https", "file"):
        raise CatnetError(f"--mirror must be an http(s):// or file:// URL of the folder holding the files, got {base!r}")
    if parts.scheme != "file":
        if not parts.hostname:
            raise CatnetError(f"--mirror {base!r} names no host")
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise CatnetError(f"--mirror {base!r}: the host name {parts.hostname!r} is not a valid internet name") from None
        if host != parts.hostname:
            user = parts.netloc.rpartition("@")[0]
            netloc = (f"{user}@" if user else "") + host + (f":{port}" if port is not None else "")
            base = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return base.rstrip("/") + "/" + urllib.parse.quote(name)


def fetch_dataset(
    dest: str | os.PathLike,
    mirror: str = DATA_MIRROR,
    checksums: dict[str, str] = CHECKSUMS,
    timeout: float = FETCH_TIMEOUT_SECONDS,
) -> list[Fetched]:
    """Both files of catcore.config.DATA_FILES into `dest`, each skipped when already present and correct."""
    dest = Path(dest)
    urls = {name: mirror_url(mirror, name) for name in FILES.values()}  # check the mirror before any download
    return [fetch_file(urls[name], dest / name, checksums[name], timeout) for name in FILES.values()]


def fetch_file(url: str, path: Path, sha256: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> Fetched:
    """Download `url` to `path` unless a file with checksum `sha256` is there already."""
    if already_there(path, sha256):
        return Fetched(path=path, size=path.stat().st_size, downloaded=False)
    with atomic_path(path) as tmp:
        size, digest = _download(url, tmp, timeout)
        if digest != sha256:
            raise CatnetError(
                f"{url}: checksum mismatch (sha256 {digest}, expected {sha256}); nothing was written to {path}"
            )
    return Fetched(path=path, size=size, downloaded=True)


def already_there(path: Path, sha256: str) -> bool:
    """Whether `path` is a file with checksum `sha256` (a read-only folder holding the right files is fine)."""
    try:
        return path.is_file() and sha256_of(path) == sha256
    except OSError as exc:
        raise CatnetError(f"cannot read the copy already at {path}: {exc.strerror or exc}") from None


def _download(url: str, target: Path, timeout: float) -> tuple[int, str]:
    """Stream `url` into `target`; returns (bytes, sha256 hex digest)."""
    digest, size = hashlib.sha256(), 0
    hint = "" if url.startswith("file:") else " (no network? try --mirror)"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise CatnetError(f"{url}: more than {MAX_BYTES // 2**20} MB, not the course's file")
                digest.update(chunk)
                _write(out, chunk, target)
            # http.client ends a short body quietly; Content-Length says what is missing (file:// has no length)
            missing = getattr(response, "length", None)
            if missing:
                raise CatnetError(
                    f"cannot download {url}: the transfer broke off after {size:,} bytes, {missing:,} missing"
                )
    except CatnetError:
        raise
    except urllib.error.HTTPError as exc:
        raise CatnetError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise CatnetError(f"cannot download {url}: {_reason(exc.reason)}{hint}") from None
    except TimeoutError:
        advice = "no network? try --timeout or --mirror" if hint else "try --timeout"
        raise CatnetError(f"cannot download {url}: no answer within {timeout:g} s ({advice})") from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise CatnetError(f"cannot download {url}: the transfer broke off ({_reason(exc)})") from None
    except OSError as exc:  # TLS errors mid-transfer, a folder where a file:// mirror should have a file, ...
        raise CatnetError(f"cannot download {url}: {_reason(exc)}") from None
    except ValueError as exc:  # http.client's InvalidURL, a URL urllib cannot take apart
        raise CatnetError(f"cannot download {url}: not a URL urllib can fetch ({exc})") from None
    return size, digest.hexdigest()


def _write(out, chunk: bytes, target: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:  # the disk, not the network: said as such
        raise WriteFailed(f"cannot write {target}: {exc.strerror or exc}") from None


def _reason(reason) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
