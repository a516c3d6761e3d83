"""`catnet fetch-data` against a local HTTP server: verified downloads, and failures that leave no file."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, assert_clean_error, make_tiny_dataset, run_cli

from catcore.data import FILES
from catcore.errors import CatnetError
from catnet.fetch import CHECKSUMS, fetch_dataset


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]  # set per server

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


class CutOffHandler(http.server.BaseHTTPRequestHandler):
    """Promises a megabyte, sends a hundred bytes, hangs up: an interrupted download."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(2**20))
        self.end_headers()
        self.wfile.write(b"\x89HDF\r\n\x1a\n" + b"x" * 92)
        self.close_connection = True

    def log_message(self, *args):
        pass


def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def mirror_of():
    """mirror_of(folder) -> (base URL, list of requested paths); servers stop after the test."""
    servers = []

    def start(folder: Path):
        requests: list[str] = []
        handler = type("Handler", (QuietHandler,), {"requests": requests})
        server = serve(functools.partial(handler, directory=str(folder)))
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tiny_files(tmp_path):
    folder = make_tiny_dataset(tmp_path / "mirror")
    sums = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES.values()}
    return folder, sums


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def assert_empty(folder: Path):
    assert not folder.exists() or sorted(p.name for p in folder.iterdir()) == []  # no file, no .part


@pytest.mark.realdata
def test_the_checksums_in_code_are_the_shared_ones(real_data):
    shared = real_data / "SHA256SUMS"
    listed = dict(reversed(line.split()) for line in shared.read_text().splitlines() if line.strip())
    assert listed == CHECKSUMS


def test_download_verifies_and_writes_both_files(tiny_files, mirror_of, tmp_path):
    folder, sums = tiny_files
    url, requests = mirror_of(folder)
    fetched = fetch_dataset(tmp_path / "dest", mirror=url, checksums=sums)
    assert [f.downloaded for f in fetched] == [True, True]
    for name in FILES.values():
        assert (tmp_path / "dest" / name).read_bytes() == (folder / name).read_bytes()
    assert sorted(requests) == sorted(f"/{name}" for name in FILES.values())


def test_files_already_present_are_not_downloaded_again(tiny_files, mirror_of, tmp_path):
    folder, sums = tiny_files
    url, requests = mirror_of(folder)
    fetch_dataset(tmp_path / "dest", mirror=url, checksums=sums)
    again = fetch_dataset(tmp_path / "dest", mirror=url, checksums=sums)
    assert [f.downloaded for f in again] == [False, False]
    assert len(requests) == 2  # only the first round asked the server


def test_a_damaged_local_copy_is_replaced(tiny_files, mirror_of, tmp_path):
    folder, sums = tiny_files
    url, _ = mirror_of(folder)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / FILES["train"]).write_bytes(b"half a file")
    fetch_dataset(dest, mirror=url, checksums=sums)
    assert (dest / FILES["train"]).read_bytes() == (folder / FILES["train"]).read_bytes()


def test_checksum_mismatch_writes_nothing(tiny_files, mirror_of, tmp_path):
    folder, _ = tiny_files
    url, _ = mirror_of(folder)
    with pytest.raises(CatnetError, match="checksum mismatch"):
        fetch_dataset(tmp_path / "dest", mirror=url)  # the real files' sums; the tiny files differ
    assert_empty(tmp_path / "dest")


def test_interrupted_download_writes_nothing(tmp_path):
    server = serve(CutOffHandler)
    try:
        with pytest.raises(CatnetError, match="broke off"):
            fetch_dataset(tmp_path / "dest", mirror=f"http://127.0.0.1:{server.server_address[1]}/", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert_empty(tmp_path / "dest")


def test_ctrl_c_during_a_download_writes_nothing(tmp_path, monkeypatch):
    import io

    import catnet.fetch

    class Interrupted(io.BytesIO):
        length = None

        def read(self, size=-1):
            if self.tell():
                raise KeyboardInterrupt
            return super().read(size)

    monkeypatch.setattr(catnet.fetch.urllib.request, "urlopen", lambda url, timeout: Interrupted(b"x" * 200_000))
    with pytest.raises(KeyboardInterrupt):
        fetch_dataset(tmp_path / "dest", mirror="http://127.0.0.1:9/")
    assert_empty(tmp_path / "dest")


def test_missing_file_on_the_mirror(mirror_of, tmp_path):
    url, _ = mirror_of(tmp_path)  # an empty folder: every file is a 404
    with pytest.raises(CatnetError, match="HTTP 404"):
        fetch_dataset(tmp_path / "dest", mirror=url)
    assert_empty(tmp_path / "dest")


def test_silent_server_times_out(tmp_path):
    with socket.socket() as listener:  # accepts connections into its backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with pytest.raises(CatnetError, match="no answer within 0.5 s|timed out"):
            fetch_dataset(tmp_path / "dest", mirror=url, timeout=0.5)
    assert_empty(tmp_path / "dest")


def test_mirror_must_be_a_url(tmp_path):
    with pytest.raises(CatnetError, match="--mirror must be an http"):
        fetch_dataset(tmp_path / "dest", mirror="/some/folder")


# --- through the real CLI


@pytest.mark.realdata
def test_cli_downloads_the_real_files(real_data, mirror_of, tmp_path):
    url, _ = mirror_of(real_data)
    # no --dest and no $CATNET_DATA: ./datasets, where train looks last
    proc = run_cli("fetch-data", "--mirror", url, cwd=tmp_path, env={"CATNET_DATA": ""})
    assert proc.returncode == 0, proc.stderr
    for name in FILES.values():
        assert hashlib.sha256((tmp_path / "datasets" / name).read_bytes()).hexdigest() == CHECKSUMS[name]
    assert proc.stdout.count("downloaded") == 2 and proc.stdout.count("sha256 ok") == 2
    again = run_cli("fetch-data", "--dest", tmp_path / "datasets", "--mirror", url)
    assert again.stdout.count("already present") == 2


def test_cli_checksum_mismatch(tiny_files, mirror_of, tmp_path):
    url, _ = mirror_of(tiny_files[0])
    assert_clean_error(run_cli("fetch-data", "--dest", tmp_path / "dest", "--mirror", url), "checksum mismatch")
    assert_empty(tmp_path / "dest")


def test_cli_without_network(tmp_path):
    proc = run_cli("fetch-data", "--dest", tmp_path / "dest", "--mirror", closed_port_url(), "--timeout", "5")
    assert_clean_error(proc, "cannot download", FILES["train"], "Connection refused")
    assert_empty(tmp_path / "dest")


@pytest.mark.realdata
def test_cli_without_dest_finds_the_files_in_catnet_data_and_downloads_nothing(real_data, tmp_path):
    copy = tmp_path / "readonly-copy"
    copy.mkdir()
    for name in FILES.values():
        (copy / name).write_bytes((real_data / name).read_bytes())
    copy.chmod(0o555)  # a shared, read-only copy such as CI's
    try:
        proc = run_cli("fetch-data", "--mirror", closed_port_url(), cwd=tmp_path, env={"CATNET_DATA": str(copy)})
    finally:
        copy.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("already present") == 2, proc.stdout
    assert sorted(p.name for p in copy.iterdir()) == sorted(FILES.values())
    assert not (tmp_path / "datasets").exists()


def test_cli_without_dest_writes_into_catnet_data_not_datasets(tiny_files, mirror_of, tmp_path):
    folder, _ = tiny_files  # their sums are not the course's: the download is made, then refused
    url, requests = mirror_of(folder)
    proc = run_cli("fetch-data", "--mirror", url, cwd=tmp_path, env={"CATNET_DATA": str(tmp_path / "elsewhere")})
    assert_clean_error(proc, "checksum mismatch", str(tmp_path / "elsewhere" / FILES["train"]))
    assert requests == ["/" + FILES["train"]]
    assert_empty(tmp_path / "elsewhere")
    assert not (tmp_path / "datasets").exists()


@pytest.mark.realdata
def test_fetch_data_loads_neither_numpy_nor_h5py(real_data):
    code = ("import sys, runpy; sys.argv = ['catnet', 'fetch-data']\n"
            "try:\n    runpy.run_module('catnet', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('numpy' in sys.modules, 'h5py' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO), "CATNET_DATA": str(real_data)})
    assert proc.stdout.strip().splitlines()[-1] == "False False", proc.stdout + proc.stderr
