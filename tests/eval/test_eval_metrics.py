"""Metrics against closed forms and direct computations (synthetic data, no MNIST)."""

import numpy as np
import pytest
import scipy.linalg

from ganforge.errors import DataError
from ganforge.eval import metrics as M


def test_frechet_distance_closed_form_diagonal():
    # For commuting (diagonal) covariances: ||mu1-mu2||^2 + sum (sqrt(a) - sqrt(b))^2.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1.0 + 0.0 + 4.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2
    assert M.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_general_covariances_and_identity():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = A @ A.T + np.eye(4), B @ B.T + np.eye(4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    r = scipy.linalg.sqrtm(s1)
    # Equivalent symmetric form: Tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2).
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(r @ s2 @ r)))
    assert M.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)
    assert M.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-7)


def test_fid_from_samples_matches_gaussian_formula():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, size=(20000, 2))
    y = rng.normal([2.0, 0.0], [2.0, 1.0], size=(20000, 2))
    # 1-d pieces: (2-0)^2 + (2-1)^2 = 5 ; second dim identical.
    assert M.fid_from_features(x, y) == pytest.approx(5.0, rel=0.03)


def test_frechet_distance_singular_covariance_is_finite():
    s = np.diag([1.0, 0.0, 0.0])  # dead feature units give singular covariances
    assert np.isfinite(M.frechet_distance(np.zeros(3), s, np.ones(3), s))


def test_kid_unbiased_matches_direct_double_loop():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.5, 1.0, size=(9, 3))
    k = lambda a, b: (a @ b / 3 + 1.0) ** 3
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    assert M.mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_kid_subsets_mean_sd_and_sign():
    rng = np.random.default_rng(3)
    same = M.kid(rng.normal(size=(600, 4)), rng.normal(size=(600, 4)), num_subsets=20, subset_size=200)
    far = M.kid(rng.normal(size=(600, 4)), rng.normal(1.0, 1.0, size=(600, 4)), num_subsets=20, subset_size=200)
    assert abs(same.mean) < 3 * same.std + 1e-3  # unbiased: centred on 0 for one distribution
    assert far.mean > 5 * far.std > 0
    assert same.subset_size == 200 and same.num_subsets == 20


def test_classifier_score_bounds():
    k = 10
    constant = np.tile(np.eye(k)[3], (100, 1))
    assert M.classifier_score(constant)[0] == pytest.approx(1.0)
    uniform_confident = np.eye(k)[np.arange(1000) % k]
    assert M.classifier_score(uniform_confident)[0] == pytest.approx(k, rel=1e-6)
    uncertain = np.full((50, k), 1.0 / k)
    assert M.classifier_score(uncertain)[0] == pytest.approx(1.0)
    mean, sd = M.classifier_score(uniform_confident, splits=10)
    assert mean == pytest.approx(k, rel=1e-6) and sd == pytest.approx(0.0, abs=1e-9)


def test_class_histogram_detects_mode_collapse():
    p = np.eye(10)[np.r_[np.zeros(500, int), np.arange(500) % 9 + 1]]  # class 0 dominates
    h = M.class_histogram(p)
    assert h.classes_present == 10 and not h.collapsed
    assert h.max_deviation == pytest.approx(0.5 - 0.1)
    only3 = M.class_histogram(np.eye(10)[np.arange(300) % 3])
    assert only3.classes_present == 3 and only3.collapsed


def test_classifier_score_rejects_non_probabilities():
    with pytest.raises(DataError):
        M.classifier_score(np.ones((5, 10)))


def test_precision_recall_on_shifted_gaussians():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(1500, 8))
    same = M.manifold_metrics(real, rng.normal(size=(1500, 8)))
    assert same.precision > 0.85 and same.recall > 0.85
    assert 0.8 < same.density < 1.2 and same.coverage > 0.9
    # Fakes shifted far away: no precision, no recall, nothing covered.
    far = M.manifold_metrics(real, rng.normal(size=(1500, 8)) + 10.0)
    assert far.precision < 0.01 and far.recall < 0.01 and far.coverage < 0.01
    # Collapsed fakes (tiny spread at the mode): precise but no recall.
    collapsed = M.manifold_metrics(real, 0.05 * rng.normal(size=(1500, 8)))
    assert collapsed.precision > 0.95 and collapsed.recall < 0.1 and collapsed.coverage < 0.3


def test_one_nn_two_sample_test():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(400, 5))
    same = M.one_nn_accuracy(a, rng.normal(size=(400, 5)))
    assert 0.4 < same.accuracy < 0.6
    apart = M.one_nn_accuracy(a, rng.normal(size=(400, 5)) + 20)
    assert apart.accuracy == 1.0
    copies = M.one_nn_accuracy(a, a + 1e-6)  # every point's neighbour is its twin
    assert copies.accuracy == 0.0


@pytest.mark.parametrize("matmul", ["torch", "onednn"])
def test_nearest_neighbour_matches_brute_force(matmul):
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(37, 20)), rng.normal(size=(53, 20))
    d, i = M.nearest_neighbour(a, b, chunk=8, block=16, matmul=matmul)  # partial last tiles both ways
    full = np.linalg.norm(a[:, None] - b[None], axis=2)
    np.testing.assert_array_equal(i, full.argmin(1))
    np.testing.assert_allclose(d, full.min(1), rtol=1e-4)


def test_bootstrap_interval_contains_the_mean():
    rng = np.random.default_rng(7)
    v = rng.normal(3.0, 1.0, size=2000)
    lo, hi = M.bootstrap_mean_ci(v, num=300)
    assert lo < v.mean() < hi and hi - lo < 0.2


def test_bad_feature_inputs():
    with pytest.raises(DataError):
        M.fid_from_features(np.zeros(10), np.zeros(10))
    with pytest.raises(DataError):
        M.fid_from_features(np.full((10, 2), np.nan), np.zeros((10, 2)))


def test_fast_fid_bootstrap_matches_the_generic_bootstrap():
    rng = np.random.default_rng(8)
    ref, fake = rng.normal(size=(400, 6)), rng.normal(0.3, 1.2, size=(300, 6))
    est = M.fid_from_features(ref, fake)
    mu_r, s_r = M.feature_statistics(ref)
    slow = M.bootstrap_ci(lambda f: M.frechet_distance(*M.feature_statistics(f), mu_r, s_r), fake, num=50,
                          seed=3, estimate=est)
    fast = M.fid_bootstrap_ci(ref, fake, num=50, seed=3, estimate=est)
    np.testing.assert_allclose(fast, slow, rtol=1e-6)
    assert fast[0] < est < fast[1]
