"""D vs D′ metrics: KL/JS against closed forms, permutation nulls."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from ganforge.onedim.compare import compare, divergences

KL_BITS = 0.5 / math.log(2)  # KL(N(0,1) || N(1,1)) = (mu1-mu2)^2 / 2 nats


def _js_bits():
    f, g = stats.norm(0, 1).pdf, stats.norm(1, 1).pdf
    def term(p):
        return integrate.quad(lambda x: p(x) * np.log2(2 * p(x) / (f(x) + g(x))), -15, 16)[0]
    return 0.5 * term(f) + 0.5 * term(g)


@pytest.fixture(scope="module")
def two_normals():
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, 20000), rng.normal(1, 1, 20000)


def test_kl_js_histogram_match_closed_forms(two_normals):
    d = divergences(*two_normals, estimator="hist")
    assert d["kl_ab"] == pytest.approx(KL_BITS, rel=0.08)
    assert d["kl_ba"] == pytest.approx(KL_BITS, rel=0.08)
    assert d["js"] == pytest.approx(_js_bits(), rel=0.08)


def test_js_kde_matches_closed_form(two_normals):
    d = divergences(*two_normals, estimator="kde")
    assert d["js"] == pytest.approx(_js_bits(), rel=0.08)


def test_kl_unequal_scales_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 20000), rng.normal(0, 2, 20000)
    kl_ab = (math.log(2) + 1 / 8 - 0.5) / math.log(2)  # log(s2/s1) + s1²/(2 s2²) - 1/2, in bits
    assert divergences(a, b)["kl_ab"] == pytest.approx(kl_ab, rel=0.1)


def test_permutation_null_same_vs_different():
    rng = np.random.default_rng(2)
    same = compare(rng.normal(0, 1, 400), rng.normal(0, 1, 400), n_perm=99, seed=1)
    for m in same.metrics:
        assert m.p_value > 0.01, m
        assert m.null_q95 > 0 and m.null_mean > 0
    assert same.c2st.accuracy < 0.56
    assert "indistinguishable" in same.verdict
    diff = compare(rng.normal(0, 1, 400), rng.normal(0.6, 1, 400), n_perm=99, seed=1)
    for m in diff.metrics:
        assert m.p_value < 0.02 and m.value > m.null_q95, m
    assert diff.c2st.p_value < 0.001
    d = diff.to_dict()
    assert d["divergence_base"] == "bits (log2)" and d["metrics"][0]["name"] == "KS statistic"


def test_wasserstein_shift_is_the_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 5000)
    r = compare(a, a + 2.0, n_perm=0, classifier=None)
    assert r.metric("Wasserstein-1").value == pytest.approx(2.0, rel=1e-9)
    assert r.c2st is None
