"""Fit candidate distribution families to a 1-D sample, the way a statistician would.

For each family: maximum-likelihood parameters (``scipy.stats`` fitters; sklearn
``GaussianMixture`` for the two-component mixture), 95 % confidence intervals (exact
pivots where they exist, otherwise Wald intervals from the observed Fisher information on
an unconstrained scale), log-likelihood, AIC and BIC, and Kolmogorov–Smirnov and
Anderson–Darling goodness-of-fit tests whose p-values are **valid although the
parameters were estimated from the same data** (parametric bootstrap: simulate from the
fitted model, refit, recompute the statistic; Stute, Manteiga & Quindimil 1993).

The naive ``scipy.stats.kstest`` p-value is never reported: with estimated parameters it
is far too large (Lilliefors 1967), so a wrong family would look fine.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize, special, stats

from ganforge.errors import ConfigError, DataError

ALPHA = 0.05
_LOG_FLOOR = -1e4  # logcdf/logsf floor so the AD statistic stays finite in far tails
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------------------
# The two-component Gaussian mixture as a (broadcasting) distribution object
# ---------------------------------------------------------------------------------------
class Mixture2:
    """w·N(mu1, s1²) + (1-w)·N(mu2, s2²). Parameters may be arrays that broadcast
    against ``x`` (shape (B,1) for B bootstrap replicates), like a frozen scipy dist."""

    def __init__(self, w, mu1, s1, mu2, s2):
        self.w, self.mu1, self.s1, self.mu2, self.s2 = (np.asarray(v, dtype=float) for v in (w, mu1, s1, mu2, s2))

    def _parts(self, fn, x):
        a = np.log(self.w) + fn(x, self.mu1, self.s1)
        b = np.log1p(-self.w) + fn(x, self.mu2, self.s2)
        return np.logaddexp(a, b)

    def logpdf(self, x):
        return self._parts(stats.norm.logpdf, x)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def logcdf(self, x):
        return self._parts(stats.norm.logcdf, x)

    def logsf(self, x):
        return self._parts(stats.norm.logsf, x)

    def cdf(self, x):
        return self.w * stats.norm.cdf(x, self.mu1, self.s1) + (1 - self.w) * stats.norm.cdf(x, self.mu2, self.s2)

    def ppf(self, q):
        # no closed form: vectorised bisection on the monotone CDF (60 halvings = 1e-18 of the bracket)
        q = np.asarray(q, dtype=float)
        lo = np.minimum(self.mu1 - 40 * self.s1, self.mu2 - 40 * self.s2) + 0 * q
        hi = np.maximum(self.mu1 + 40 * self.s1, self.mu2 + 40 * self.s2) + 0 * q
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def rvs(self, size, random_state=None):
        rng = np.random.default_rng(random_state)
        first = rng.random(size) < self.w
        z = rng.standard_normal(size)
        return np.where(first, self.mu1 + self.s1 * z, self.mu2 + self.s2 * z)

    def mean(self):
        return self.w * self.mu1 + (1 - self.w) * self.mu2

    def std(self):
        m = self.mean()
        ex2 = self.w * (self.s1**2 + self.mu1**2) + (1 - self.w) * (self.s2**2 + self.mu2**2)
        return np.sqrt(ex2 - m**2)


def _em_mixture(Y: np.ndarray, start: np.ndarray, max_iter: int = 400, tol: float = 1e-8) -> np.ndarray:
    """Batched EM for 2-component 1-D Gaussian mixtures: Y (B, n), start (5,) -> (B, 5).

    Hand-written because the parametric bootstrap refits hundreds of replicates and
    sklearn's GaussianMixture fits one dataset per call (~90 ms each); starting every
    replicate at the fitted parameters, EM converges to the same MLE in a few dozen
    vectorised iterations. Variance floor as sklearn's ``reg_covar`` (1e-6)."""
    B, n = Y.shape
    w, m1, s1, m2, s2 = (np.full((B, 1), float(v)) for v in start)
    prev = np.full((B, 1), -np.inf)
    for _ in range(max_iter):
        l1 = np.log(w) - 0.5 * ((Y - m1) / s1) ** 2 - np.log(s1)
        l2 = np.log1p(-w) - 0.5 * ((Y - m2) / s2) ** 2 - np.log(s2)
        lse = np.logaddexp(l1, l2)
        ll = lse.mean(axis=1, keepdims=True)
        r = np.exp(l1 - lse)
        n1 = np.clip(r.sum(axis=1, keepdims=True), 1e-9, n - 1e-9)
        n2 = n - n1
        w = n1 / n
        m1 = (r * Y).sum(axis=1, keepdims=True) / n1
        m2 = ((1 - r) * Y).sum(axis=1, keepdims=True) / n2
        s1 = np.sqrt((r * (Y - m1) ** 2).sum(axis=1, keepdims=True) / n1 + 1e-6)
        s2 = np.sqrt(((1 - r) * (Y - m2) ** 2).sum(axis=1, keepdims=True) / n2 + 1e-6)
        if np.all(np.abs(ll - prev) < tol):
            break
        prev = ll
    P = np.hstack([w, m1, s1, m2, s2])
    return _order_mixture(P)


def _order_mixture(P: np.ndarray) -> np.ndarray:
    """Label components so that mu1 <= mu2 (the mixture is identifiable only up to a swap)."""
    P = np.array(P, dtype=float)
    swap = P[..., 1] > P[..., 3]
    Q = P.copy()
    Q[swap] = np.stack([1 - P[swap, 0], P[swap, 3], P[swap, 4], P[swap, 1], P[swap, 2]], axis=-1)
    return Q


def _fit_mixture(x: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(2, covariance_type="full", n_init=3, tol=1e-4, max_iter=1000, random_state=seed)
    gm.fit(x[:, None])
    p = np.array([gm.weights_[0], gm.means_[0, 0], math.sqrt(gm.covariances_[0, 0, 0]),
                  gm.means_[1, 0], math.sqrt(gm.covariances_[1, 0, 0])])
    # polish with the same EM (same tolerance) the bootstrap uses, so data and replicates
    # get the identical estimator
    return _em_mixture(x[None], _order_mixture(p[None])[0])[0]


# ---------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------
def _col(P: np.ndarray, j: int):
    """Column j of a (k,) or (B, k) parameter array, shaped to broadcast against (B, n)."""
    P = np.asarray(P, dtype=float)
    return P[j] if P.ndim == 1 else P[:, j:j + 1]


@dataclass(frozen=True)
class Family:
    """A candidate family. ``params`` are the user-facing parameters (``param_names``);
    ``dist(P)`` maps them to a frozen ``scipy.stats`` distribution (or :class:`Mixture2`);
    ``fit(x, guess)`` is the MLE; ``transforms`` ('id' | 'log' | 'logit') map each
    parameter to an unconstrained scale for Wald intervals.

    Everything that makes a family special is a field here, so the fitting, testing and
    verdict code below never names a family: a new family is one :func:`_register` call
    (or a ``Family`` passed straight to :func:`fit_family` / :func:`gof_test`)."""

    key: str
    label: str
    param_names: tuple[str, ...]
    dist: Callable[[np.ndarray], object]
    fit: Callable[..., np.ndarray]
    transforms: tuple[str, ...]
    positive: bool = False
    # Vectorised MLE of B bootstrap replicates: fit_many(Y (B, n), start (k,)) -> (B, k).
    # ``start`` is the data's fit: closed forms ignore it, iterative estimators (the
    # mixture's EM) start there and converge in a few dozen steps. None: ``fit`` row by row.
    fit_many: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # The data's MLE when it needs the seed: fit_seeded(x (n,), seed) -> (k,). A likelihood
    # with several local maxima (the mixture) is fitted from seeded random restarts
    # (sklearn GaussianMixture, n_init=3); bootstrap refits use ``fit_many`` from that fit
    # instead. None: ``fit(x)``.
    fit_seeded: Callable[[np.ndarray, int], np.ndarray] | None = None
    # Parameters at which KS/AD are evaluated, for the data and every replicate alike:
    # gof_params(P (k,) or (B, k), n) -> same shape. None: the MLE itself. Needed when the
    # MLE sits on the edge of the support it defines (the uniform's min/max): there ln F
    # = -inf and A² is infinite for every sample, so no bootstrap could tell fits apart.
    gof_params: Callable[[np.ndarray, int], np.ndarray] | None = None
    # Which refitted replicates define a proper distribution: params_valid(P (B, k)) ->
    # bool (B,). None: every finite fit. Needed when a degenerate replicate fits without
    # failing (all values rounded to one tie give the uniform a = b, zero width).
    params_valid: Callable[[np.ndarray], np.ndarray] | None = None
    exact_ci: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    ci_method: str = "Wald, observed information"
    note: str = ""
    # The family a reader assumes unless told otherwise (the Normal: heights, measurement
    # error); the verdict says so when the best family passes but this one is rejected.
    baseline: bool = False

    @property
    def k(self) -> int:
        return len(self.param_names)


def _quiet(fn):
    def wrapped(*a, **kw):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*a, **kw)
    return wrapped


@_quiet
def _scipy_fit(dist, x, guess=None, **fixed):
    if guess is None:
        return np.asarray(dist.fit(x, **fixed), dtype=float)
    return np.asarray(dist.fit(x, *guess[:-2], loc=guess[-2], scale=guess[-1], **fixed), dtype=float)


def _normal_ci(x, P, z_of_logs=False):
    n = len(x)
    s1 = np.std(x, ddof=1)
    tq = stats.t.ppf(0.975, n - 1)
    mu = P[0]
    ss = n * P[1] ** 2
    return np.array([[mu - tq * s1 / math.sqrt(n), mu + tq * s1 / math.sqrt(n)],
                     [math.sqrt(ss / stats.chi2.ppf(0.975, n - 1)), math.sqrt(ss / stats.chi2.ppf(0.025, n - 1))]])


def _uniform_ci(x, P):
    # exact: T = (min - a)/(max - min) ~ F(2, 2n-2)/(n-1) whatever (a, b) are (uniform
    # spacings are Exp/Gamma ratios); T's density decreases, so [0, q95] is the shortest
    # 95 % set and a lies in [min - q95*range, min]; b by symmetry.
    n = len(x)
    r = P[1] - P[0]
    q = stats.f.ppf(0.95, 2, 2 * n - 2) / (n - 1)
    return np.array([[P[0] - q * r, P[0]], [P[1], P[1] + q * r]])


def _uniform_gof_params(P, n):
    # the unbiased endpoints (min - r/(n-1), max + r/(n-1)) lie just outside the sample
    P = np.asarray(P, dtype=float)
    r = P[..., 1] - P[..., 0]
    return np.stack([P[..., 0] - r / (n - 1), P[..., 1] + r / (n - 1)], axis=-1)


def _expon_ci(x, P):
    n = len(x)  # 2n·mean/scale ~ chi2(2n)
    t = 2 * n * P[0]
    return np.array([[t / stats.chi2.ppf(0.975, 2 * n), t / stats.chi2.ppf(0.025, 2 * n)]])


def _normal_many(Y, start=None):
    return np.stack([Y.mean(axis=1), Y.std(axis=1)], axis=1)


FAMILIES: dict[str, Family] = {}


def _register(f: Family) -> None:
    FAMILIES[f.key] = f


_register(Family(
    "normal", "Normal", ("mu", "sigma"),
    dist=lambda P: stats.norm(_col(P, 0), _col(P, 1)),
    fit=lambda x, guess=None: np.array([x.mean(), x.std()]),
    fit_many=_normal_many, transforms=("id", "log"), exact_ci=_normal_ci, ci_method="exact (t and chi-square)",
    baseline=True,
))
_register(Family(
    "uniform", "Uniform", ("a", "b"),
    dist=lambda P: stats.uniform(_col(P, 0), _col(P, 1) - _col(P, 0)),
    fit=lambda x, guess=None: np.array([x.min(), x.max()]),
    fit_many=lambda Y, start=None: np.stack([Y.min(axis=1), Y.max(axis=1)], axis=1),
    gof_params=_uniform_gof_params, params_valid=lambda P: P[:, 1] > P[:, 0],
    transforms=("id", "id"), exact_ci=_uniform_ci, ci_method="exact (spacings pivot)",
))
_register(Family(
    "lognormal", "Lognormal", ("mu_log", "sigma_log"), positive=True,
    dist=lambda P: stats.lognorm(_col(P, 1), scale=np.exp(_col(P, 0))),
    fit=lambda x, guess=None: np.array([np.log(x).mean(), np.log(x).std()]),
    fit_many=lambda Y, start=None: _normal_many(np.log(Y)),
    transforms=("id", "log"), exact_ci=lambda x, P: _normal_ci(np.log(x), P),
    ci_method="exact on log scale",
))
_register(Family(
    "gamma", "Gamma", ("shape", "scale"), positive=True,
    dist=lambda P: stats.gamma(_col(P, 0), scale=_col(P, 1)),
    fit=lambda x, guess=None: _scipy_fit(stats.gamma, x, floc=0)[[0, 2]],
    transforms=("log", "log"),
))
_register(Family(
    "weibull", "Weibull", ("shape", "scale"), positive=True,
    dist=lambda P: stats.weibull_min(_col(P, 0), scale=_col(P, 1)),
    fit=lambda x, guess=None: _scipy_fit(
        stats.weibull_min, x, None if guess is None else np.array([guess[0], 0.0, guess[1]]), floc=0)[[0, 2]],
    transforms=("log", "log"),
))
_register(Family(
    "exponential", "Exponential", ("scale",), positive=True,
    dist=lambda P: stats.expon(scale=_col(P, 0)),
    fit=lambda x, guess=None: np.array([x.mean()]),
    fit_many=lambda Y, start=None: Y.mean(axis=1, keepdims=True),
    transforms=("log",), exact_ci=_expon_ci, ci_method="exact (chi-square)",
))
_register(Family(
    "logistic", "Logistic", ("mu", "s"),
    dist=lambda P: stats.logistic(_col(P, 0), _col(P, 1)),
    fit=lambda x, guess=None: _scipy_fit(stats.logistic, x, guess),
    transforms=("id", "log"),
))
_register(Family(
    "student-t", "Student-t", ("df", "mu", "sigma"),
    dist=lambda P: stats.t(_col(P, 0), _col(P, 1), _col(P, 2)),
    fit=lambda x, guess=None: _scipy_fit(stats.t, x, guess),
    transforms=("log", "id", "log"),
    note="df is unbounded above when the data look Normal; its CI may be unavailable",
))
_register(Family(
    "gumbel", "Gumbel", ("mu", "beta"),
    dist=lambda P: stats.gumbel_r(_col(P, 0), _col(P, 1)),
    fit=lambda x, guess=None: _scipy_fit(stats.gumbel_r, x, guess),
    transforms=("id", "log"),
))
_register(Family(
    "mixture2", "Normal mixture (2)", ("w1", "mu1", "sigma1", "mu2", "sigma2"),
    dist=lambda P: Mixture2(_col(P, 0), _col(P, 1), _col(P, 2), _col(P, 3), _col(P, 4)),
    fit=lambda x, guess=None: _fit_mixture(x) if guess is None else _em_mixture(x[None], guess)[0],
    fit_many=_em_mixture, fit_seeded=_fit_mixture,
    transforms=("logit", "id", "log", "id", "log"),
))

DEFAULT_FAMILIES = tuple(FAMILIES)


def get_families(names: list[str] | tuple[str, ...] | None) -> list[Family]:
    """Families by key; unknown keys fail with the list of valid ones."""
    if not names:
        return [FAMILIES[k] for k in DEFAULT_FAMILIES]
    out = []
    for name in names:
        key = name.strip().lower()
        if key not in FAMILIES:
            raise ConfigError(f"unknown family '{name}'; choose from: {', '.join(FAMILIES)}.")
        out.append(FAMILIES[key])
    return out


# ---------------------------------------------------------------------------------------
# Rounded (tied) data
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rounding:
    """``fraction`` of the values are whole multiples of ``unit`` (e.g. heights reported to
    the inch). KS/AD compare against a *continuous* CDF, so ties alone would reject every
    family; the bootstrap therefore rounds the same share of each simulated sample."""

    unit: float
    fraction: float

    def apply(self, Y: np.ndarray, rng: np.random.Generator, positive: bool = False) -> np.ndarray:
        mask = rng.random(Y.shape) < self.fraction
        R = np.round(Y / self.unit) * self.unit
        if positive:  # a report is never rounded down to 0 for a positive quantity
            R = np.where(R > 0, R, Y)
        return np.where(mask, R, Y)

    def describe(self) -> str:
        return f"{self.fraction:.0%} of values are whole multiples of {self.unit:g} (rounded reports)"


def detect_rounding(x: np.ndarray) -> Rounding | None:
    """The coarsest unit u (1, 2 or 5 × 10^k) such that at least half the values are
    multiples of u *and* those values are heavily tied; None for continuous data. A finer
    unit (down to u/10) wins if it holds clearly more values (integers are 50 % even by
    chance, so a 1-grid must not be read as a 2-grid)."""
    x = np.asarray(x, dtype=float)
    span = float(np.max(np.abs(x)))
    if span == 0:
        return None
    top = math.floor(math.log10(span))
    units = [m * 10.0**e for e in range(top, top - 10, -1) for m in (5, 2, 1)]

    def on_grid(u):
        q = x / u
        return np.abs(q - np.round(q)) <= 1e-9 * np.maximum(1.0, np.abs(q))

    fracs = [float(on_grid(u).mean()) for u in units]
    first = next((i for i, f in enumerate(fracs) if f >= 0.5), None)
    if first is None:
        return None
    best = first
    for j in range(first + 1, len(units)):
        if units[j] < units[first] / 10 - 1e-12:
            break
        if fracs[j] > fracs[best] + 0.1:
            best = j
    on = on_grid(units[best])
    if len(np.unique(x[on])) > 0.5 * on.sum():
        return None  # the grid that holds half the data is not tied: continuous data
    return Rounding(units[best], fracs[best])


# ---------------------------------------------------------------------------------------
# Goodness of fit
# ---------------------------------------------------------------------------------------
def _gof_stats(fam: Family, Ys: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KS D and AD A² of sorted rows ``Ys`` (B, n) against ``fam`` with per-row params P.

    Hand-written (not ``scipy.stats.kstest``/``anderson``) so B replicates are one
    vectorised call; formulas are the standard ones (D = max(D+, D-), A² = -n - mean((2i-1)
    [ln F_i + ln(1-F_{n+1-i})])), checked against scipy in the tests."""
    with np.errstate(all="ignore"):
        d = fam.dist(P)
        logF = np.nan_to_num(d.logcdf(Ys), nan=_LOG_FLOOR, neginf=_LOG_FLOOR)
        logS = np.nan_to_num(d.logsf(Ys), nan=_LOG_FLOOR, neginf=_LOG_FLOOR)
    logF = np.maximum(logF, _LOG_FLOOR)
    logS = np.maximum(logS, _LOG_FLOOR)
    n = Ys.shape[-1]
    F = np.exp(logF)
    i = np.arange(1, n + 1)
    ks = np.maximum((i / n - F).max(axis=-1), (F - (i - 1) / n).max(axis=-1))
    ad = -n - ((2 * i - 1) * (logF + logS[..., ::-1])).mean(axis=-1)
    return ks, ad


def _gof_params(fam: Family, x: np.ndarray, P: np.ndarray) -> np.ndarray:
    # see Family.gof_params: an MLE on the support's edge makes A² infinite
    return P if fam.gof_params is None else fam.gof_params(P, x.shape[-1])


def _fit_rows(fam: Family, Y: np.ndarray, guess: np.ndarray) -> np.ndarray:
    if fam.fit_many is not None:
        with np.errstate(all="ignore"):
            return fam.fit_many(Y, guess)
    out = np.full((Y.shape[0], fam.k), np.nan)
    for b in range(Y.shape[0]):
        try:
            out[b] = fam.fit(Y[b], guess)
        except Exception:  # a replicate the optimiser cannot fit is dropped (counted below)
            pass
    return out


@dataclass
class GofResult:
    ks: float
    ks_p: float
    ad: float
    ad_p: float
    n_mc: int
    failed: int = 0


def gof_test(fam: Family, x: np.ndarray, params: np.ndarray, *, n_mc: int = 199, seed: int = 0,
             rounding: Rounding | None = None) -> GofResult:
    """Parametric-bootstrap KS and AD tests of ``x`` against ``fam`` with ``params``
    estimated from ``x``: p = (1 + #{T* >= T}) / (1 + B) over B = ``n_mc`` replicates that
    are simulated from the fit, (rounded like the data,) refitted and re-tested.

    Why not ``scipy.stats.goodness_of_fit``: it refits once per statistic (we need KS and
    AD from the same refits, half the cost), cannot simulate the rounding of tied data,
    does not know the mixture, and must use exactly our estimators (e.g. loc fixed at 0).
    A test checks our p-value against scipy's on a case both handle."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    ks0, ad0 = _gof_stats(fam, x[None], _gof_params(fam, x, params)[None])
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        Y = fam.dist(np.asarray(params)).rvs(size=(n_mc, n), random_state=rng)
    if rounding is not None:
        Y = rounding.apply(Y, rng, fam.positive)
    if fam.positive:
        Y = np.where(Y > 0, Y, np.nan)
    ok_rows = np.all(np.isfinite(Y), axis=1)
    P = np.full((n_mc, fam.k), np.nan)
    if ok_rows.any():
        P[ok_rows] = _fit_rows(fam, Y[ok_rows], np.asarray(params))
    good = ok_rows & np.all(np.isfinite(P), axis=1)
    if fam.params_valid is not None:
        good &= fam.params_valid(P)
    Ys = np.sort(Y[good], axis=1)
    ks, ad = _gof_stats(fam, Ys, _gof_params(fam, Ys, P[good]))
    B = int(good.sum())
    ks_p = (1 + np.sum(ks >= ks0[0] - 1e-12)) / (B + 1)
    ad_p = (1 + np.sum(ad >= ad0[0] - 1e-12)) / (B + 1)
    return GofResult(float(ks0[0]), float(ks_p), float(ad0[0]), float(ad_p), B, n_mc - B)


# ---------------------------------------------------------------------------------------
# Confidence intervals
# ---------------------------------------------------------------------------------------
_TO_U = {"id": lambda v: v, "log": np.log, "logit": special.logit}
_FROM_U = {"id": lambda u: u, "log": np.exp, "logit": special.expit}


def _nll(fam: Family, x: np.ndarray, P: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        v = -float(np.sum(fam.dist(P).logpdf(x)))
    return v if math.isfinite(v) else math.inf


def wald_ci(fam: Family, x: np.ndarray, P: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, str]:
    """Wald intervals from the observed information (central finite-difference Hessian of
    the negative log-likelihood) on the unconstrained scale, mapped back — so positive
    parameters get positive, asymmetric intervals. Parameters whose curvature is flat or
    negative (e.g. Student-t df → ∞ for Normal-looking data) get NaN."""
    tr = fam.transforms
    u0 = np.array([_TO_U[t](p) for t, p in zip(tr, P)], dtype=float)

    def f(u):
        return _nll(fam, x, np.array([_FROM_U[t](v) for t, v in zip(tr, u)]))

    k = len(u0)
    h = 1e-4 * np.maximum(1.0, np.abs(u0))
    H = np.zeros((k, k))
    f0 = f(u0)
    for i in range(k):
        ei = np.zeros(k); ei[i] = h[i]
        H[i, i] = (f(u0 + ei) - 2 * f0 + f(u0 - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k); ej[j] = h[j]
            H[i, j] = H[j, i] = (f(u0 + ei + ej) - f(u0 + ei - ej) - f(u0 - ei + ej) + f(u0 - ei - ej)) / (4 * h[i] * h[j])
    z = stats.norm.ppf(0.5 + level / 2)
    out = np.full((k, 2), np.nan)
    note = ""
    keep = list(range(k))
    # drop parameters with flat/negative curvature until the rest is positive definite
    while keep:
        sub = H[np.ix_(keep, keep)]
        if np.all(np.isfinite(sub)):
            try:
                np.linalg.cholesky(sub)
                cov = np.linalg.inv(sub)
                break
            except np.linalg.LinAlgError:
                pass
        worst = min(keep, key=lambda i: H[i, i] if np.isfinite(H[i, i]) else -np.inf)
        keep.remove(worst)
    else:
        return out, "information matrix not positive definite; no CI"
    for a, i in enumerate(keep):
        se = math.sqrt(cov[a, a])
        lo, hi = u0[i] - z * se, u0[i] + z * se
        with np.errstate(over="ignore"):  # exp of a huge log-scale bound is honestly inf
            out[i] = [_FROM_U[tr[i]](lo), _FROM_U[tr[i]](hi)]
    if len(keep) < k:
        dropped = [fam.param_names[i] for i in range(k) if i not in keep]
        note = f"no CI for {', '.join(dropped)} (flat likelihood)"
    return out, note


# ---------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------
@dataclass
class FamilyFit:
    """One fitted family. ``ci``: (k, 2) 95 % intervals; ``ks_p``/``ad_p``: parametric-
    bootstrap p-values over ``n_mc`` replicates (smallest possible 1/(n_mc+1))."""

    family: Family
    params: np.ndarray
    ci: np.ndarray
    ci_method: str
    loglik: float
    aic: float
    bic: float
    gof: GofResult | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return self.family.key

    @property
    def dist(self):
        return self.family.dist(self.params)

    def sample(self, n: int, seed: int = 0, rounding: Rounding | None = None) -> np.ndarray:
        """D′: ``n`` seeded draws from the fitted model (float64, (n,)); with ``rounding``
        the same share of values is rounded as in the data, so D′ is recorded like D."""
        rng = np.random.default_rng(seed)
        s = np.asarray(self.dist.rvs(size=n, random_state=rng), dtype=float)
        return rounding.apply(s, rng, self.family.positive) if rounding is not None else s

    def to_dict(self) -> dict:
        d = {
            "family": self.key, "label": self.family.label, "k": self.family.k,
            "params": {n: float(v) for n, v in zip(self.family.param_names, self.params)},
            "ci95": {n: [_j(lo), _j(hi)] for n, (lo, hi) in zip(self.family.param_names, self.ci)},
            "ci_method": self.ci_method, "loglik": self.loglik, "aic": self.aic, "bic": self.bic,
        }
        if self.gof is not None:
            d.update(ks=self.gof.ks, ks_p=self.gof.ks_p, ad=self.gof.ad, ad_p=self.gof.ad_p, n_mc=self.gof.n_mc)
        if self.note:
            d["note"] = self.note
        return d


def _j(v: float):
    return None if not np.isfinite(v) else float(v)


@dataclass
class FitReport:
    """All families fitted to one sample, ranked by ``rank_by`` (lower is better)."""

    name: str
    x: np.ndarray
    fits: list[FamilyFit]
    skipped: list[tuple[str, str]]
    rank_by: str
    rounding: Rounding | None
    n_mc: int
    alpha: float = ALPHA
    verdict: str = ""

    @property
    def best(self) -> FamilyFit:
        return self.fits[0]

    def get(self, key: str) -> FamilyFit | None:
        return next((f for f in self.fits if f.key == key), None)

    def to_dict(self) -> dict:
        x = self.x
        return {
            "name": self.name, "n": int(len(x)),
            "summary": {"mean": float(x.mean()), "sd": float(x.std(ddof=1)), "min": float(x.min()),
                        "max": float(x.max())},
            "rounding": None if self.rounding is None else {"unit": self.rounding.unit,
                                                            "fraction": self.rounding.fraction},
            "rank_by": self.rank_by, "alpha": self.alpha, "n_mc": self.n_mc,
            "fits": [f.to_dict() for f in self.fits],
            "skipped": [{"family": k, "reason": r} for k, r in self.skipped],
            "best": self.best.key if self.fits else None,
            "verdict": self.verdict,
        }


def fit_family(fam: Family, x: np.ndarray, *, seed: int = 0) -> FamilyFit:
    """MLE, 95 % CI, log-likelihood, AIC and BIC of one family (no GOF)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        P = np.asarray(fam.fit(x) if fam.fit_seeded is None else fam.fit_seeded(x, seed), dtype=float)
    if not np.all(np.isfinite(P)):
        raise DataError(f"the {fam.label} fit did not converge")
    ll = -_nll(fam, x, P)
    if not math.isfinite(ll):
        raise DataError(f"the {fam.label} fit gives zero likelihood to some values")
    note = fam.note
    if fam.exact_ci is not None:
        ci, method = fam.exact_ci(x, P), fam.ci_method
    else:
        ci, extra = wald_ci(fam, x, P)
        method = fam.ci_method
        note = extra or ""
    k = fam.k
    return FamilyFit(fam, P, ci, method, ll, 2 * k - 2 * ll, k * math.log(n) - 2 * ll, note=note)


def fit(
    x: np.ndarray, families: list[str] | tuple[str, ...] | None = None, *, name: str = "data", rank_by: str = "bic",
    n_mc: int = 199, seed: int = 0, rounding: Rounding | None | str = "auto", alpha: float = ALPHA,
) -> FitReport:
    """Fit every family to ``x`` (float (n,), finite), test each, rank by AIC or BIC.

    ``rounding="auto"`` detects reports rounded to a grid (see :class:`Rounding`);
    ``None`` treats the data as continuous. ``n_mc=0`` skips the goodness-of-fit tests.
    """
    if rank_by not in ("aic", "bic"):
        raise ConfigError(f"rank_by must be 'aic' or 'bic', not {rank_by!r}.")
    if n_mc < 0:
        raise ConfigError("the number of bootstrap replicates must be >= 0; try 199 (p-values to 0.005) or 999.")
    x = np.asarray(x, dtype=float)
    from ganforge.onedim.io import check_values

    check_values(x, name)
    fams = get_families(families)
    if isinstance(rounding, str):
        rounding = detect_rounding(x)
    fits: list[FamilyFit] = []
    skipped: list[tuple[str, str]] = []
    for i, fam in enumerate(fams):
        if fam.positive and np.any(x <= 0):
            skipped.append((fam.key, f"support is x > 0 but {int(np.sum(x <= 0))} value(s) are <= 0"))
            continue
        try:
            ff = fit_family(fam, x, seed=seed)
        except DataError as exc:
            skipped.append((fam.key, str(exc)))
            continue
        if n_mc:
            # the stream depends on the family, not on its position in the list, so a subset
            # of families reproduces the same p-values as the full run
            stream = list(FAMILIES).index(fam.key) + 1
            ff.gof = gof_test(fam, x, ff.params, n_mc=n_mc, seed=seed + 1000 * stream, rounding=rounding)
        fits.append(ff)
    if not fits:
        raise DataError(f"no family could be fitted to {name} ({'; '.join(r for _, r in skipped)}).")
    fits.sort(key=lambda f: getattr(f, rank_by))
    report = FitReport(name, x, fits, skipped, rank_by, rounding, n_mc, alpha)
    report.verdict = verdict(report)
    return report


def fmt_p(p: float, n_mc: int) -> str:
    """A bootstrap p-value; at its floor 1/(B+1) it is shown as '<floor'."""
    floor = 1 / (n_mc + 1)
    if p <= floor + 1e-12:
        return f"<{floor:.3g}"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def verdict(report: FitReport) -> str:
    """One sentence: which family, and what the tests say (AD is the primary test: it is
    more powerful than KS, especially in the tails; Stephens 1974)."""
    fits, a = report.fits, report.alpha
    best = fits[0]
    R = report.rank_by.upper()
    if best.gof is None:
        s = f"{best.family.label} ranks first by {R} (goodness of fit not tested)"
        return s + "."

    def p(f):
        return fmt_p(f.gof.ad_p, f.gof.n_mc)

    tie = ""
    if len(fits) > 1:
        d = getattr(fits[1], report.rank_by) - getattr(best, report.rank_by)
        if d < 2:
            tie = f" ({fits[1].family.label} is about as good, Δ{R} = {d:.1f})"
    if best.gof.ad_p >= a:
        s = (f"{best.family.label} fits best by {R}{tie} and the tests do not reject it "
             f"(AD p = {p(best)}, KS p = {fmt_p(best.gof.ks_p, best.gof.n_mc)})")
        base = next((f for f in fits if f.family.baseline), None)
        if base is not None and base is not best and base.gof is not None and base.gof.ad_p < a:
            s += f"; a single {base.family.label} is rejected (AD p = {p(base)})"
        return s + "."
    ok = [f for f in fits if f.gof is not None and f.gof.ad_p >= a]
    if ok:
        return (f"{best.family.label} ranks first by {R} but is rejected (AD p = {p(best)}); "
                f"{ok[0].family.label} is the best-ranked family the tests do not reject (AD p = {p(ok[0])}).")
    return (f"No candidate family fits: even the best by {R}, {best.family.label}, is rejected "
            f"(AD p = {p(best)}); the data may be a mixture or need a non-parametric model.")
