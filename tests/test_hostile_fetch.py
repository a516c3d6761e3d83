"""Hostile mirrors, timeouts and destinations for `catnet fetch-data`: one line, nothing written."""

from __future__ import annotations

import pytest
from hostile import assert_refused, catnet, untouched

from catnet.fetch import mirror_url

MIRRORS = {
    "unclosed-ipv6": ("http://[::1/", "not a valid URL"),
    "port-out-of-range": ("http://127.0.0.1:99999/", "not a valid URL"),
    "port-not-a-number": ("http://127.0.0.1:http/", "not a valid URL"),
    "no-host": ("http:///datasets/", "names no host"),
    "only-a-scheme": ("http://", "names no host"),
    "empty-label": ("http://a..b/", "not a valid internet name"),
    "label-of-70-letters": ("http://" + "a" * 70 + ".invalid/", "not a valid internet name"),
    "space": ("http://exa mple.invalid/", "spaces or control characters"),
    "newline": ("http://example.invalid/\nHost: evil", "spaces or control characters"),
    "ftp": ("ftp://example.invalid/", "http(s):// or file://"),
    "plain-path": ("/some/folder", "http(s):// or file://"),
    "javascript": ("javascript:alert(1)", "http(s):// or file://"),
    "file-not-there": ("file:///nonexistent-catnet-mirror/", "No such file"),
    "file-on-another-host": ("file://elsewhere.invalid/data/", "cannot download"),
}


@pytest.mark.parametrize("mirror, fragment", MIRRORS.values(), ids=MIRRORS.keys())
def test_a_mirror_that_is_no_usable_url(tmp_path, mirror, fragment):
    with untouched(tmp_path):
        outcome = catnet("fetch-data", "--dest", tmp_path / "dest", "--timeout", "5", "--mirror", mirror)
    assert_refused(outcome, fragment, code=2)


def test_a_host_in_another_script_is_asked_for_by_its_idna_name():
    assert mirror_url("http://bücher.example/data/", "x.h5") == "http://xn--bcher-kva.example/data/x.h5"
    assert mirror_url("https://user@bücher.example:8443/d", "x.h5") == "https://user@xn--bcher-kva.example:8443/d/x.h5"


def test_a_host_in_another_script_that_does_not_resolve_is_one_line(tmp_path):
    with untouched(tmp_path):
        outcome = catnet("fetch-data", "--dest", tmp_path / "d", "--timeout", "5", "--mirror", "http://ĉapelo.invalid/")
    assert_refused(outcome, "xn--", code=2)


@pytest.mark.parametrize("timeout", ["1e300", "inf", "-inf", "nan", "0", "-1", "86401", "1e", "ten"])
def test_a_timeout_no_socket_can_wait(tmp_path, timeout):
    with untouched(tmp_path):
        outcome = catnet("fetch-data", "--dest", tmp_path / "d", f"--timeout={timeout}")
    assert_refused(outcome, "--timeout", code=2)


def test_a_file_mirror_folder_where_a_file_should_be(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "train_catvnoncat.h5").mkdir(parents=True)
    with untouched(tmp_path):
        outcome = catnet("fetch-data", "--dest", tmp_path / "d", "--mirror", mirror.as_uri())
    assert_refused(outcome, "train_catvnoncat.h5", code=2)
