"""The one atomic writer and the one sha256 helper (ganforge.files)."""

import hashlib
import os
import stat

import numpy as np
import pytest

from ganforge.files import atomic_path, sha256_bytes, sha256_file, write_atomic


def test_write_atomic_writes_text_and_bytes_and_leaves_no_temp_file(tmp_path):
    write_atomic(tmp_path / "new" / "a.json", "{\"é\": 1}\n")  # creates the folder; text is UTF-8
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "new" / "a.json").read_bytes() == "{\"é\": 1}\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    write_atomic(tmp_path / "b.bin", b"second")  # replaces an existing file
    assert (tmp_path / "b.bin").read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.bin", "new"]


def test_atomic_path_keeps_the_suffix_and_renames_on_success(tmp_path):
    target = tmp_path / "out.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npz" and tmp != target
        np.savez(tmp, x=np.arange(3))  # a writer that picks the format by suffix
        assert not target.exists()  # nothing at the final name until the block ends
    with np.load(target) as z:
        assert z["x"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]


def test_an_error_inside_the_block_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_files_get_the_mode_a_plain_open_gives(tmp_path):
    # mkstemp would create 0600, and the rename would carry that onto every output.
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "x")
        (tmp_path / "b.txt").write_text("x")
    finally:
        os.umask(old)
    modes = [stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("a.txt", "b.txt")]
    assert modes == [0o644, 0o644]


def test_sha256_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 5000  # > 1 MiB, so sha256_file reads more than one block
    (tmp_path / "f").write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert sha256_file(tmp_path / "f") == sha256_bytes(data) == sha256_bytes(memoryview(data)) == want
    assert sha256_bytes("héllo") == hashlib.sha256("héllo".encode()).hexdigest()
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert sha256_bytes(a.T) == hashlib.sha256(np.ascontiguousarray(a.T).tobytes()).hexdigest()  # not a's memory order
