"""Pixel C2ST, TSTR and memorisation on scikit-learn's 8x8 digits (ships with sklearn)."""

import numpy as np
import pytest
import torch

from ganforge.data.arrays import load_digits8
from ganforge.errors import DataError
from ganforge.eval.c2st_pixels import c2st_pixels, train_synthetic_test_real
from ganforge.eval.memorisation import closest_pairs_figure, memorisation, nearest_training


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits8()
    perm = np.random.default_rng(0).permutation(len(x))
    return x[perm], y[perm]


def test_pixel_c2st_same_distribution_is_chance(digits):
    x, _ = digits
    r = c2st_pixels(x[:898], x[898:1796], epochs=3, seed=0)
    assert 0.40 < r.accuracy < 0.62
    assert r.p_value > 0.001
    assert r.n_test == 449


def test_pixel_c2st_disjoint_is_one(digits):
    x, _ = digits
    r = c2st_pixels(x[:898], 255 - x[898:1796], epochs=3, seed=0)
    assert r.accuracy > 0.98
    assert r.p_value < 1e-50


def test_pixel_c2st_rejects_tiny_or_mismatched_inputs(digits):
    x, _ = digits
    with pytest.raises(DataError):
        c2st_pixels(x[:5], x[5:10])
    with pytest.raises(DataError):
        c2st_pixels(x[:100], np.zeros((100, 9, 9), np.uint8))


def test_tstr_real_labels_beat_shuffled_labels(digits):
    x, y = digits
    good = train_synthetic_test_real(x[:1200], y[:1200], x[1200:], y[1200:], epochs=6, seed=0)
    shuffled = train_synthetic_test_real(x[:1200], np.random.default_rng(1).permutation(y[:1200]),
                                         x[1200:], y[1200:], epochs=6, seed=0)
    assert good.accuracy > 0.8
    assert shuffled.accuracy < 0.3


def test_copy_rate_is_total_for_training_images_and_low_for_held_out(digits):
    x, _ = digits
    train, held = x[:1200], x[1200:]
    copies = memorisation(train[:300], train)
    assert copies.copy_rate == 1.0 and copies.median_distance == pytest.approx(0.0, abs=1e-3)
    new = memorisation(held, train)
    assert new.copy_rate < 0.05
    noise = memorisation(np.random.default_rng(0).integers(0, 256, (50, 8, 8), dtype=np.uint8), train)
    assert noise.copy_rate == 0.0


def test_nearest_training_index_and_shape_check(digits, tmp_path):
    x, _ = digits
    d, i = nearest_training(x[[5, 17]], x[:100])
    np.testing.assert_array_equal(i, [5, 17])
    with pytest.raises(DataError):
        nearest_training(x[:3], np.zeros((4, 28, 28), np.uint8))
    res = memorisation(x[100:140], x[:100])
    path = closest_pairs_figure(x[100:140], x[:100], res, tmp_path / "pairs.png", k=8)
    assert path.exists() and path.stat().st_size > 1000
