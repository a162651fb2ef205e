"""The model-based similarity test (classifier two-sample test)."""

import numpy as np
import pytest

from ganforge.errors import ConfigError, DataError
from ganforge.eval.c2st import C2STResult, c2st


def test_same_distribution_is_chance():
    rng = np.random.default_rng(0)
    r = c2st(rng.normal(size=600), rng.normal(size=600), classifier="knn")
    assert isinstance(r, C2STResult)
    assert abs(r.accuracy - 0.5) < 0.05 and r.p_value > 0.05
    assert r.n_used == 600 and r.cv == 5 and len(r.fold_accuracies) == 5


def test_disjoint_distributions_are_separated():
    rng = np.random.default_rng(1)
    r = c2st(rng.uniform(0, 1, 300), rng.uniform(2, 3, 300), classifier="logistic")
    assert r.accuracy > 0.98 and r.p_value < 1e-20 and r.auc > 0.99


def test_nd_arrays_images_like():
    rng = np.random.default_rng(2)
    same = c2st(rng.normal(size=(500, 8, 8)), rng.normal(size=(500, 8, 8)), seed=3)
    assert abs(same.accuracy - 0.5) < 0.06 and same.p_value > 0.05
    diff = c2st(rng.normal(size=(300, 8, 8)), rng.normal(size=(300, 8, 8)) + 1.0, seed=3)
    assert diff.accuracy > 0.95


def test_scale_difference_needs_a_flexible_classifier():
    """In 1-D a logistic regression on x only sees location; kNN sees any difference."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, 800), rng.normal(0, 2.5, 800)
    assert c2st(a, b, classifier="knn").accuracy > 0.65
    assert c2st(a, b, classifier="logistic").accuracy < 0.58


def test_balances_classes_and_is_seeded():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(500, 3)), rng.normal(size=(120, 3))
    r1, r2 = c2st(a, b, seed=7), c2st(a, b, seed=7)
    assert r1.n_used == 120 and r1.n_a == 500 and r1.n_b == 120
    assert r1.accuracy == r2.accuracy and r1.p_value == r2.p_value


def test_permutation_p_value_and_custom_estimator():
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(6)
    r = c2st(rng.normal(size=80), rng.normal(size=80) + 3, classifier=DecisionTreeClassifier(max_depth=2),
             p_value="permutation", n_perm=19)
    assert r.method == "permutation" and r.p_value == pytest.approx(1 / 20) and r.accuracy > 0.9
    assert r.classifier == "DecisionTreeClassifier"
    assert "accuracy" in r.summary() and r.to_dict()["n_perm"] == 19


def test_bad_inputs():
    rng = np.random.default_rng(7)
    with pytest.raises(DataError, match="different shapes"):
        c2st(rng.normal(size=(50, 2)), rng.normal(size=(50, 3)))
    with pytest.raises(DataError, match="NaN"):
        c2st(np.r_[np.nan, rng.normal(size=49)], rng.normal(size=50))
    with pytest.raises(ConfigError, match="unknown classifier"):
        c2st(rng.normal(size=50), rng.normal(size=50), classifier="forest")
    with pytest.raises(DataError, match="at least 5 rows"):
        c2st(rng.normal(size=3), rng.normal(size=50))
