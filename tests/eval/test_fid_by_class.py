"""benchmarks/fid_by_class.py's two decompositions, on features whose answer is known."""

import importlib.util
from pathlib import Path

import numpy as np

spec = importlib.util.spec_from_file_location(
    "fid_by_class", Path(__file__).resolve().parents[2] / "benchmarks" / "fid_by_class.py")
fid_by_class = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fid_by_class)


def test_within_and_between_class_variance_add_up_to_the_total():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    f = rng.normal(size=(600, 4)) + 5.0 * y[:, None]
    within, between = fid_by_class.variance_split(f, y, 3)
    total = ((f - f.mean(0)) ** 2).sum() / len(f)
    assert np.isclose(within + between, total)
    assert 3.5 < within < 4.5  # four unit-variance features inside each class
    assert between > 10 * within


def test_fid_parts_mean_term_and_variance_ratio():
    rng = np.random.default_rng(1)
    b = rng.normal(size=(4000, 3))
    a = 0.5 * rng.normal(size=(4000, 3)) + np.array([1.0, 0.0, 0.0])
    fid, mean, ratio = fid_by_class.fid_parts(a, b)
    assert abs(mean - 1.0) < 0.1 and abs(ratio - 0.25) < 0.03
    # N(μ, 0.25 I) against N(0, I) in 3-d: ‖μ‖² + 3 (1 + 0.25 − 2·0.5) = 1.75
    assert abs(fid - 1.75) < 0.15
