"""Measure how similar two 1-D samples D and D′ are.

Distances with a **permutation null** (pool the two samples, split them at random into
the same sizes, recompute): the null's 95th percentile shows what "zero" looks like at
this sample size, since every estimator is positive on two finite samples even when the
distributions are identical.

* two-sample Kolmogorov–Smirnov (``scipy.stats.ks_2samp``: statistic and its own p),
* Wasserstein-1 (``scipy.stats.wasserstein_distance``), in the data's units,
* energy distance (``scipy.stats.energy_distance``, Székely's sqrt form), data units,
* KL(D‖D′), KL(D′‖D) and Jensen–Shannon divergence, **in bits** (log base 2; JS is then
  in [0, 1]), from a shared histogram (default) or shared-grid Gaussian KDEs,
* the model-based similarity test (:func:`ganforge.eval.c2st.c2st`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ganforge.errors import ConfigError
from ganforge.eval.c2st import C2STResult, c2st

LN2 = math.log(2.0)
GRID = 1024


def _kde_on_grid(x: np.ndarray, grid: np.ndarray, bw: float) -> np.ndarray:
    """Gaussian KDE of ``x`` evaluated on the regular ``grid`` by linear binning and
    a discrete convolution (as KernSmooth's binned KDE). Hand-written because the
    permutation null re-estimates two densities hundreds of times, and exact
    ``scipy.stats.gaussian_kde.evaluate`` costs O(n·grid) per call; binning error at 1024
    points is far below the KDE's own bias."""
    d = grid[1] - grid[0]
    pos = (x - grid[0]) / d
    i = np.clip(np.floor(pos).astype(int), 0, len(grid) - 2)
    frac = np.clip(pos - i, 0.0, 1.0)
    counts = np.bincount(i, 1 - frac, len(grid)) + np.bincount(i + 1, frac, len(grid))
    half = int(min(len(grid) - 1, math.ceil(5 * bw / d)))
    t = np.arange(-half, half + 1) * d
    kern = np.exp(-0.5 * (t / bw) ** 2)
    # direct (not FFT) convolution: FFT round-off (~1e-16 of the peak) would swamp the
    # tails where one density is tiny and make KL blow up
    dens = np.convolve(counts, kern, mode="same")
    return dens / (dens.sum() * d)


def _scott_bw(x: np.ndarray) -> float:
    # scipy.stats.gaussian_kde's default (Scott's rule): sd · n^(-1/5)
    return float(np.std(x, ddof=1) * len(x) ** (-0.2))


def _kl_bits(p: np.ndarray, q: np.ndarray, w: float) -> float:
    """Σ p log2(p/q) · w over cells where p > 0; q floored at 1e-300 (then KL is huge, not inf)."""
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / np.maximum(q[m], 1e-300))) * w / LN2)


def divergences(a: np.ndarray, b: np.ndarray, *, estimator: str = "hist", bins: int | None = None,
                _grid=None) -> dict[str, float]:
    """``{"kl_ab", "kl_ba", "js"}`` in bits between the densities of samples a and b.

    ``estimator="hist"`` (default): one shared set of ``bins`` equal-width bins over both samples
    (default: Freedman–Diaconis on the pooled data); KL adds 0.5 to every count
    (Krichevsky–Trofimov) so an empty bin does not make it infinite; JS needs no
    smoothing (it is finite whenever p or q is positive). Works with rounded/tied data.
    ``estimator="kde"``: Gaussian KDEs (Scott bandwidth of each sample) on one shared
    grid of 1024 points, renormalised over the pooled data range; JS is stable, but KL
    stays sensitive to the tails (Gaussian kernels decay faster than most data), so
    prefer ``hist`` for KL.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if estimator == "kde":
        ha, hb = _scott_bw(a), _scott_bw(b)
        if _grid is None:
            lo = min(a.min(), b.min()) - 4 * max(ha, hb)
            hi = max(a.max(), b.max()) + 4 * max(ha, hb)
            _grid = np.linspace(lo, hi, GRID)
        d = _grid[1] - _grid[0]
        # integrate only over the span of the data: beyond it both "densities" are just
        # Gaussian kernel tails, whose log-ratio grows quadratically and swamps KL
        inside = (_grid >= min(a.min(), b.min())) & (_grid <= max(a.max(), b.max()))
        p = _kde_on_grid(a, _grid, ha)[inside]
        q = _kde_on_grid(b, _grid, hb)[inside]
        p, q = p / (p.sum() * d), q / (q.sum() * d)
        w = d
    elif estimator == "hist":
        edges = _grid
        if edges is None:
            pooled = np.concatenate([a, b])
            edges = np.histogram_bin_edges(pooled, bins=bins if bins else "fd")
        ca = np.histogram(a, edges)[0].astype(float)
        cb = np.histogram(b, edges)[0].astype(float)
        p_s, q_s = (ca + 0.5) / (ca + 0.5).sum(), (cb + 0.5) / (cb + 0.5).sum()
        p, q = ca / ca.sum(), cb / cb.sum()
        mix = 0.5 * (p + q)
        return {"kl_ab": _kl_bits(p_s, q_s, 1.0), "kl_ba": _kl_bits(q_s, p_s, 1.0),
                "js": 0.5 * _kl_bits(p, mix, 1.0) + 0.5 * _kl_bits(q, mix, 1.0)}
    else:
        raise ConfigError(f"unknown divergence estimator '{estimator}'; choose 'kde' or 'hist'.")
    mix = 0.5 * (p + q)
    return {"kl_ab": _kl_bits(p, q, w), "kl_ba": _kl_bits(q, p, w),
            "js": 0.5 * _kl_bits(p, mix, w) + 0.5 * _kl_bits(q, mix, w)}


@dataclass
class Metric:
    """One row of the comparison: ``value``; under the permutation null its mean and
    95th percentile (what "zero" looks like here) and p = (1 + #{null >= value})/(1 + n_perm)."""

    name: str
    value: float
    unit: str
    null_mean: float | None = None
    null_q95: float | None = None
    p_value: float | None = None
    p_method: str = "permutation"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CompareReport:
    name_a: str
    name_b: str
    n_a: int
    n_b: int
    metrics: list[Metric]
    c2st: C2STResult | None
    estimator: str
    n_perm: int
    seed: int
    verdict: str = ""
    notes: list[str] = field(default_factory=list)

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    def to_dict(self) -> dict:
        return {
            "a": self.name_a, "b": self.name_b, "n_a": self.n_a, "n_b": self.n_b,
            "divergence_estimator": self.estimator, "divergence_base": "bits (log2)",
            "n_perm": self.n_perm, "seed": self.seed,
            "metrics": [m.to_dict() for m in self.metrics],
            "c2st": None if self.c2st is None else self.c2st.to_dict(),
            "verdict": self.verdict, "notes": self.notes,
        }


def _stats_pair(a, b, estimator, bins, grid) -> dict[str, float]:
    out = {
        "ks": float(stats.ks_2samp(a, b).statistic),
        "wasserstein1": float(stats.wasserstein_distance(a, b)),
        "energy": float(stats.energy_distance(a, b)),
    }
    out.update(divergences(a, b, estimator=estimator, bins=bins, _grid=grid))
    return out


def compare(
    a: np.ndarray, b: np.ndarray, *, name_a: str = "D", name_b: str = "D'", estimator: str = "hist",
    bins: int | None = None, n_perm: int = 200, classifier="knn", c2st_p: str = "binomial", c2st_perm: int = 100,
    cv: int = 5, seed: int = 0, alpha: float = 0.05,
) -> CompareReport:
    """Compare 1-D samples ``a`` (D) and ``b`` (D′); see the module docstring.

    ``n_perm``: permutations for the distance nulls (0 to skip). ``classifier``: for the
    C2ST; in 1-D the default k-nearest-neighbours estimates the local density ratio and
    so detects any difference, whereas a logistic regression on x alone only sees a
    shift of location. ``classifier=None`` skips the C2ST.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if estimator not in ("kde", "hist"):
        raise ConfigError(f"unknown divergence estimator '{estimator}'; choose 'kde' or 'hist'.")
    # one shared grid/bin set for the observed value and every permutation: the null then
    # differs from the observed statistic only by the labels
    if estimator == "kde":
        h = max(_scott_bw(a), _scott_bw(b))
        lo, hi = min(a.min(), b.min()) - 4 * h, max(a.max(), b.max()) + 4 * h
        grid = np.linspace(lo, hi, GRID)
    else:
        grid = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins if bins else "fd")
    obs = _stats_pair(a, b, estimator, bins, grid)
    ks = stats.ks_2samp(a, b)
    units = {"ks": "", "wasserstein1": "data units", "energy": "data units", "kl_ab": "bits", "kl_ba": "bits",
             "js": "bits"}
    labels = {"ks": "KS statistic", "wasserstein1": "Wasserstein-1", "energy": "energy distance",
              "kl_ab": f"KL({name_a}‖{name_b})", "kl_ba": f"KL({name_b}‖{name_a})", "js": "JS divergence"}
    null = {k: [] for k in obs}
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([a, b])
    for _ in range(n_perm):
        perm = rng.permutation(pooled)
        for k, v in _stats_pair(perm[:len(a)], perm[len(a):], estimator, bins, grid).items():
            null[k].append(v)
    metrics = []
    for k, v in obs.items():
        m = Metric(labels[k], v, units[k])
        if n_perm:
            nv = np.asarray(null[k])
            m.null_mean, m.null_q95 = float(nv.mean()), float(np.quantile(nv, 0.95))
            m.p_value = float((1 + np.sum(nv >= v - 1e-12)) / (1 + n_perm))
        if k == "ks":  # the KS row reports scipy's own two-sample p (exact or asymptotic)
            m.p_value, m.p_method = float(ks.pvalue), "ks_2samp"
        metrics.append(m)
    res = None
    if classifier is not None:
        res = c2st(a[:, None], b[:, None], classifier=classifier, cv=cv, seed=seed, p_value=c2st_p, n_perm=c2st_perm)
    report = CompareReport(name_a, name_b, len(a), len(b), metrics, res, estimator, n_perm, seed)
    report.verdict = _verdict(report, alpha)
    return report


def _verdict(r: CompareReport, alpha: float) -> str:
    flagged = [m.name for m in r.metrics if m.p_value is not None and m.p_value < alpha]
    c = r.c2st
    parts = []
    if c is not None:
        parts.append(f"the {c.classifier} classifier reaches held-out accuracy {c.accuracy:.3f} "
                     f"(chance 0.5, p = {c.p_value:.3g})")
        if c.p_value < alpha:
            flagged.append("C2ST")
    if flagged:
        head = f"{r.name_a} and {r.name_b} differ at the {alpha:.0%} level by: {', '.join(flagged)}"
    else:
        head = f"{r.name_a} and {r.name_b} are statistically indistinguishable at the {alpha:.0%} level"
    return head + ("; " + parts[0] if parts else "") + "."
