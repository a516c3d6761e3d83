"""The output transaction on its own: staged beside the target, committed together, removed together."""

from __future__ import annotations

import os
import stat

import pytest

from catcore.errors import WriteFailed
from catcore.outputs import atomic_path, commit, new_folder, staged_folder, transaction


def test_nothing_is_in_place_before_the_transaction_commits(tmp_path):
    with transaction():
        with atomic_path(tmp_path / "a.json") as tmp:
            tmp.write_text("a")
        assert not (tmp_path / "a.json").exists() and tmp.name.startswith(".a.json.") and tmp.suffix == ".part"
    assert (tmp_path / "a.json").read_text() == "a" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failure_removes_every_output_and_every_folder_made_for_them(tmp_path):
    (tmp_path / "old.json").write_text("kept")
    with pytest.raises(RuntimeError), transaction():
        with atomic_path(tmp_path / "new" / "deep" / "a.json") as tmp:
            tmp.write_text("a")
        with atomic_path(tmp_path / "old.json") as tmp:
            tmp.write_text("replaced")
        (new_folder(tmp_path / "runs", "run") / "events").write_text("e")
        raise RuntimeError("the command failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"] and (tmp_path / "old.json").read_text() == "kept"


def test_a_staged_folder_replaces_an_earlier_one_whole(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.png").write_bytes(b"from an earlier run")
    with transaction():
        folder = staged_folder(tmp_path / "out")
        with atomic_path(folder / "new.png") as path:  # inside a staged folder: written there directly
            path.write_bytes(b"new")
        assert path == folder / "new.png"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["new.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the earlier folder was moved aside and removed


def test_commit_puts_outputs_in_place_before_the_transaction_ends(tmp_path):
    with transaction():
        with atomic_path(tmp_path / "a.json") as tmp:
            tmp.write_text("a")
        commit()
        assert (tmp_path / "a.json").read_text() == "a"


def test_a_write_that_fails_is_one_writefailed_naming_the_output(tmp_path):
    with pytest.raises(WriteFailed, match="cannot write .*a.json: No space left on device"):
        with atomic_path(tmp_path / "a.json"):
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_staged_files_and_folders_take_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        with transaction():
            with atomic_path(tmp_path / "a.json") as tmp:
                tmp.write_text("a")
            staged_folder(tmp_path / "out")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask


def test_a_result_folder_someone_browsed_may_still_be_replaced(tmp_path):
    from catcore.outputs import check_output_folder

    out = tmp_path / "out"
    out.mkdir()
    for name in ("test-000.png", "summary.json", ".DS_Store", "Thumbs.db", ".summary.json.abcd1234.part"):
        (out / name).write_bytes(b"x")
    assert check_output_folder("--out", out) == out
