"""The Family extension point: a family defined here, outside ganforge, flows through
fit_family, gof_test and the verdict using only its fields (no code names it)."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from ganforge.onedim import fit as F


def _normal_var(calls: dict, **extra) -> F.Family:
    """Normal parametrised by (mu, var): a family ganforge does not have, with a closed-form
    MLE (mean, biased variance) we can check. ``calls`` records which fitter ran."""

    def mle(x):
        return np.array([x.mean(), x.var()])

    def fit_seeded(x, seed):
        calls["seeded"] = seed
        return mle(x)

    def fit_many(Y, start):
        calls["start"] = np.array(start)
        return np.stack([Y.mean(axis=1), Y.var(axis=1)], axis=1)

    def plain_fit(x, guess=None):
        calls["plain"] = calls.get("plain", 0) + 1
        return mle(x)

    return F.Family(
        "normal-var-test", "Normal (variance)", ("mu", "var"),
        dist=lambda P: stats.norm(F._col(P, 0), np.sqrt(F._col(P, 1))),
        fit=plain_fit, transforms=("id", "log"),
        fit_many=fit_many, fit_seeded=fit_seeded, **extra,
    )


def test_custom_family_fit_seeded_flows_through_fit_family():
    x = np.random.default_rng(0).normal(3.0, 2.0, 400)
    calls: dict = {}
    ff = F.fit_family(_normal_var(calls), x, seed=17)
    # the seeded fitter, not the plain one, made the data's fit, and it got the seed
    assert calls == {"seeded": 17}
    assert ff.params == pytest.approx([x.mean(), x.var()])
    ll = stats.norm.logpdf(x, x.mean(), x.std()).sum()
    assert ff.loglik == pytest.approx(ll)
    assert ff.aic == pytest.approx(4 - 2 * ll) and ff.bic == pytest.approx(2 * math.log(400) - 2 * ll)
    # no exact_ci: Wald intervals on (id, log) scale, containing the truth
    assert ff.ci_method == "Wald, observed information"
    (mlo, mhi), (vlo, vhi) = ff.ci
    assert mlo < 3.0 < mhi and 0 < vlo < 4.0 < vhi
    # Wald on (id, log): mean ± z·sd/√n, and var·exp(±z·√(2/n)) (information of log var is n/2)
    z = stats.norm.ppf(0.975)
    assert ff.ci[0] == pytest.approx(x.mean() + np.array([-z, z]) * x.std() / 20, rel=1e-4)
    assert ff.ci[1] == pytest.approx(x.var() * np.exp(np.array([-z, z]) * math.sqrt(2 / 400)), rel=1e-4)
    assert ff.key == "normal-var-test" and ff.to_dict()["label"] == "Normal (variance)"


def test_custom_family_without_fit_seeded_uses_fit():
    x = np.random.default_rng(1).normal(0.0, 1.0, 100)
    calls: dict = {}
    fam = replace(_normal_var(calls), fit_seeded=None)
    F.fit_family(fam, x, seed=5)
    assert calls == {"plain": 1}


def test_custom_family_bootstrap_uses_its_fields():
    x = np.random.default_rng(2).normal(1.0, 0.5, 150)
    calls: dict = {}
    # every replicate whose mean exceeds 1 is declared invalid: the test counts them
    # as failed and the p-value runs over the rest
    fam = _normal_var(calls, params_valid=lambda P: P[:, 0] <= 1.0)
    P = F.fit_family(fam, x).params
    g = F.gof_test(fam, x, P, n_mc=99, seed=3)
    assert np.array_equal(calls["start"], P)  # fit_many got the data's fit as its start
    assert 0 < g.failed < 99 and g.n_mc + g.failed == 99
    assert 1 / (g.n_mc + 1) <= g.ad_p <= 1 and 1 / (g.n_mc + 1) <= g.ks_p <= 1
    # the data's KS statistic is evaluated at gof_params(P, n) when the family gives one
    shifted = replace(fam, gof_params=lambda Q, n: np.asarray(Q) + [0.5, 0.0])
    g2 = F.gof_test(shifted, x, P, n_mc=9, seed=3)
    assert g2.ks == pytest.approx(stats.kstest(x, stats.norm(P[0] + 0.5, math.sqrt(P[1])).cdf).statistic)
    assert g.ks == pytest.approx(stats.kstest(x, stats.norm(P[0], math.sqrt(P[1])).cdf).statistic)


def test_verdict_names_the_baseline_family_from_its_field():
    x = np.random.default_rng(4).normal(0.0, 1.0, 200)
    best = F.fit_family(_normal_var({}), x)
    base = F.fit_family(replace(F.FAMILIES["logistic"], baseline=True), x)
    best.gof = F.GofResult(0.03, 0.6, 0.3, 0.5, 99)
    base.gof = F.GofResult(0.09, 0.02, 2.0, 0.02, 99)
    rep = F.FitReport("x", x, [best, base], [], "bic", None, 99)
    assert "a single Logistic is rejected (AD p = 0.020)" in F.verdict(rep)
