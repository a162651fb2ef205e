"""The shipped MNIST extractor: checksum verified at load, shapes, determinism."""

import json
import shutil

import numpy as np
import pytest

from ganforge.errors import CheckpointError, DataError
from ganforge.eval.extractor import META_PATH, WEIGHTS_PATH, extract, load_extractor
from ganforge.files import sha256_file


def test_shipped_weights_match_their_recorded_hash_and_accuracy():
    meta = json.loads(META_PATH.read_text())
    assert sha256_file(WEIGHTS_PATH) == meta["sha256"]
    assert meta["test_accuracy"] >= 0.992
    assert WEIGHTS_PATH.stat().st_size < 1_000_000
    ext = load_extractor()
    assert ext.sha256 == meta["sha256"]


def test_tampered_weights_raise_a_clear_error(tmp_path):
    w, m = tmp_path / "mnist_classifier.safetensors", tmp_path / "mnist_classifier.json"
    shutil.copy(WEIGHTS_PATH, w)
    shutil.copy(META_PATH, m)
    load_extractor(w)  # an untouched copy loads
    data = bytearray(w.read_bytes())
    data[-10] ^= 0xFF  # flip one byte inside the tensor data
    w.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_extractor(w)
    m.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_extractor(w)


def test_extract_shapes_and_probabilities():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    f, p = extract(x)
    assert f.shape == (7, 128) and p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
    f2, _ = extract(x[:, :, :, None], batch_size=3)  # (N,28,28,1) and batching give the same
    np.testing.assert_allclose(f, f2, rtol=1e-5, atol=1e-5)


def test_extract_rejects_wrong_shape_or_dtype():
    with pytest.raises(DataError, match="28x28"):
        extract(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(DataError, match="uint8"):
        extract(np.zeros((3, 28, 28), np.float32))
