"""Fitting: parameter recovery and CI coverage, family identification, and calibrated
goodness-of-fit p-values (the parametric bootstrap) — seeded, CPU, a few seconds."""

import numpy as np
import pytest
from scipy import stats

from ganforge.errors import ConfigError
from ganforge.onedim import fit as F


def test_normal_recovery_true_params_inside_ci():
    x = np.random.default_rng(0).normal(170.0, 10.0, 500)
    ff = F.fit_family(F.FAMILIES["normal"], x)
    (mlo, mhi), (slo, shi) = ff.ci
    assert mlo < 170.0 < mhi and slo < 10.0 < shi
    assert ff.params == pytest.approx([x.mean(), x.std()])
    assert ff.loglik == pytest.approx(stats.norm.logpdf(x, x.mean(), x.std()).sum())


def test_exact_normal_ci_coverage():
    rng = np.random.default_rng(2)
    hits = np.zeros(2)
    for _ in range(400):
        x = rng.normal(5.0, 2.0, 20)
        ci = F._normal_ci(x, F.FAMILIES["normal"].fit(x))
        hits += [ci[0, 0] < 5 < ci[0, 1], ci[1, 0] < 2 < ci[1, 1]]
    assert np.all((hits / 400 > 0.92) & (hits / 400 < 0.98))


def test_uniform_exact_ci_coverage():
    rng = np.random.default_rng(3)
    hits = np.zeros(2)
    for _ in range(1000):
        x = rng.uniform(2.0, 7.0, 15)
        ci = F._uniform_ci(x, F.FAMILIES["uniform"].fit(x))
        hits += [ci[0, 0] <= 2 <= ci[0, 1], ci[1, 0] <= 7 <= ci[1, 1]]
    assert np.all(np.abs(hits / 1000 - 0.95) < 0.02)


@pytest.mark.parametrize("key,true,draw", [
    ("logistic", [3.0, 1.5], lambda r: stats.logistic.rvs(3.0, 1.5, size=300, random_state=r)),
    ("gamma", [2.5, 4.0], lambda r: stats.gamma.rvs(2.5, scale=4.0, size=300, random_state=r)),
])
def test_wald_ci_coverage(key, true, draw):
    rng = np.random.default_rng(4)
    fam = F.FAMILIES[key]
    hits = np.zeros(2)
    for _ in range(60):
        ff = F.fit_family(fam, draw(rng))
        hits += [(lo < t < hi) for t, (lo, hi) in zip(true, ff.ci)]
    assert np.all(hits / 60 >= 0.85)


def test_mixture_recovery_inside_ci():
    rng = np.random.default_rng(5)
    x = np.where(rng.random(2000) < 0.3, rng.normal(-2.0, 0.7, 2000), rng.normal(2.0, 1.0, 2000))
    ff = F.fit_family(F.FAMILIES["mixture2"], x)
    for t, (lo, hi) in zip([0.3, -2.0, 0.7, 2.0, 1.0], ff.ci):
        assert lo < t < hi


@pytest.mark.parametrize("truth,draw", [
    ("normal", lambda r: r.normal(10.0, 2.0, 2000)),
    ("uniform", lambda r: r.uniform(0.0, 5.0, 2000)),
    ("lognormal", lambda r: r.lognormal(0.0, 0.5, 2000)),
    ("mixture2", lambda r: np.where(r.random(2000) < 0.4, r.normal(-2, 0.7, 2000), r.normal(2, 1.0, 2000))),
])
def test_family_identification(truth, draw):
    rep = F.fit(draw(np.random.default_rng(6)), n_mc=0)
    assert rep.best.key == truth


def test_positive_families_skipped_with_reason():
    rep = F.fit(np.random.default_rng(0).normal(0, 1, 100), ["normal", "lognormal", "gamma"], n_mc=0)
    assert [f.key for f in rep.fits] == ["normal"]
    assert {k for k, _ in rep.skipped} == {"lognormal", "gamma"}
    assert all("x > 0" in r for _, r in rep.skipped)


def test_unknown_family():
    with pytest.raises(ConfigError, match="unknown family 'nromal'"):
        F.fit(np.arange(10.0), ["nromal"])


def test_gof_statistics_match_scipy():
    x = np.sort(np.random.default_rng(7).normal(0.3, 1.2, 200))
    ks, ad = F._gof_stats(F.FAMILIES["normal"], x[None], np.array([[0.0, 1.0]]))
    assert ks[0] == pytest.approx(stats.kstest(x, "norm").statistic, rel=1e-10)
    ref = stats.goodness_of_fit(stats.norm, x, known_params={"loc": 0.0, "scale": 1.0}, statistic="ad",
                                n_mc_samples=9, rng=0)
    assert ad[0] == pytest.approx(ref.statistic, rel=1e-8)


def test_bootstrap_p_agrees_with_scipy_goodness_of_fit():
    x = np.random.default_rng(8).logistic(0.0, 1.0, 150)  # mildly non-normal: p neither 0 nor 1
    fam = F.FAMILIES["normal"]
    ours = F.gof_test(fam, x, fam.fit(x), n_mc=1999, seed=1)
    for stat, p in (("ks", ours.ks_p), ("ad", ours.ad_p)):
        ref = stats.goodness_of_fit(stats.norm, x, statistic=stat, n_mc_samples=1999, rng=2).pvalue
        assert abs(p - ref) < 0.04, (stat, p, ref)


@pytest.mark.slow
@pytest.mark.parametrize("rounded", [False, True])
def test_gof_pvalues_calibrated_under_null(rounded):
    """Under H0 (data Normal, parameters estimated), a 5% test rejects 2%..9% of the time.
    ``rounded``: the data are reported to whole units (heavy ties); the bootstrap's
    rounding model must keep the test calibrated."""
    rng = np.random.default_rng(9)
    fam = F.FAMILIES["normal"]
    rej = np.zeros(2)
    reps = 200
    for i in range(reps):
        x = rng.normal(20.0, 2.0, 40)
        rounding = None
        if rounded:
            x = np.round(x)
            rounding = F.detect_rounding(x)
            assert rounding is not None and rounding.unit == 1.0
        g = F.gof_test(fam, x, fam.fit(x), n_mc=99, seed=i, rounding=rounding)
        rej += [g.ks_p < 0.05, g.ad_p < 0.05]
    rate = rej / reps
    assert np.all((rate >= 0.02) & (rate <= 0.09)), rate


def test_naive_ks_is_not_what_we_report():
    """Lilliefors: with estimated parameters the naive KS p-value is far too large; the
    bootstrap must reject an obviously non-normal sample that the naive test passes."""
    x = np.random.default_rng(10).exponential(1.0, 60) + 5
    fam = F.FAMILIES["normal"]
    P = fam.fit(x)
    g = F.gof_test(fam, x, P, n_mc=199, seed=0)
    assert g.ad_p < 0.01
    assert stats.kstest(x, "norm", args=tuple(P)).pvalue > g.ks_p


def test_detect_rounding():
    rng = np.random.default_rng(11)
    assert F.detect_rounding(rng.normal(0, 1, 500)) is None
    assert F.detect_rounding(np.round(rng.normal(0, 1, 500), 2)) is None  # fine grid, few ties: continuous
    r = F.detect_rounding(np.round(rng.normal(68, 4, 500)))
    assert r.unit == 1.0 and r.fraction == 1.0
    r = F.detect_rounding(np.round(rng.normal(68, 4, 500) * 2) / 2)
    assert r.unit == 0.5


def test_verdict_mixture_rejects_single_normal():
    rng = np.random.default_rng(12)
    x = np.where(rng.random(600) < 0.5, rng.normal(-2.5, 1, 600), rng.normal(2.5, 1, 600))
    rep = F.fit(x, ["normal", "mixture2"], n_mc=99)
    assert rep.best.key == "mixture2"
    assert "a single Normal is rejected" in rep.verdict
    d = rep.to_dict()
    assert d["best"] == "mixture2" and d["fits"][0]["ad_p"] > 0.05


def test_sample_is_seeded_and_rounded_like_data():
    ff = F.fit_family(F.FAMILIES["normal"], np.random.default_rng(0).normal(0, 1, 100))
    a, b = ff.sample(50, seed=3), ff.sample(50, seed=3)
    assert np.array_equal(a, b) and len(a) == 50
    s = ff.sample(1000, seed=1, rounding=F.Rounding(1.0, 0.5))
    assert 0.4 < np.mean(s == np.round(s)) < 0.6
