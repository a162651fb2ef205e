"""Diagnostic plots (matplotlib, Agg backend, PNG files): QQ plot against the chosen
family, histogram with the fitted densities, empirical vs fitted CDF; and D vs D′."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganforge.files import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fit(report, path: str | Path, *, family: str | None = None, top: int = 3, extra: dict | None = None) -> Path:
    """One PNG with three panels for ``report`` (a :class:`~ganforge.onedim.fit.FitReport`):
    QQ plot against ``family`` (default: the best-ranked), histogram with the ``top``
    fitted densities, empirical vs fitted CDF. ``extra``: ``{label: samples}`` drawn as
    dashed KDE / ECDF curves (e.g. a GAN's samples)."""
    plt = _plt()
    x = np.sort(report.x)
    n = len(x)
    chosen = report.get(family) if family else report.best
    if chosen is None:
        chosen = report.best
    fits = report.fits[:top]
    if chosen not in fits:
        fits = [chosen] + fits[: top - 1]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.4))
    # QQ: Blom plotting positions (i - 3/8)/(n + 1/4), the usual choice for normal-type QQ plots
    pp = (np.arange(1, n + 1) - 0.375) / (n + 0.25)
    theo = np.asarray(chosen.dist.ppf(pp), dtype=float)
    ax[0].plot(theo, x, ".", ms=3, alpha=0.6, color="C0")
    lo, hi = min(theo.min(), x.min()), max(theo.max(), x.max())
    ax[0].plot([lo, hi], [lo, hi], "k--", lw=1)
    ax[0].set_xlabel(f"{chosen.family.label} quantiles")
    ax[0].set_ylabel("data quantiles")
    ax[0].set_title(f"QQ plot vs {chosen.family.label}")
    grid = np.linspace(x.min() - 0.1 * np.ptp(x), x.max() + 0.1 * np.ptp(x), 400)
    bins = "fd"
    r = report.rounding
    if r is not None and np.ptp(x) / r.unit <= 200:  # bins centred on the reporting grid: no empty/double bins
        bins = np.arange(np.floor(x.min() / r.unit) - 0.5, np.ceil(x.max() / r.unit) + 1.0) * r.unit
    ax[1].hist(x, bins=bins, density=True, color="0.8", edgecolor="0.6", label=f"data (n={n})")
    for i, f in enumerate(fits):
        ax[1].plot(grid, f.dist.pdf(grid), color=f"C{i}", lw=1.8, label=f.family.label)
    ecdf = np.arange(1, n + 1) / n
    ax[2].step(x, ecdf, where="post", color="k", lw=1.2, label="empirical")
    for i, f in enumerate(fits):
        ax[2].plot(grid, f.dist.cdf(grid), color=f"C{i}", lw=1.5, label=f.family.label)
    for j, (label, s) in enumerate((extra or {}).items()):
        from scipy.stats import gaussian_kde

        s = np.sort(np.asarray(s, dtype=float))
        ax[1].plot(grid, gaussian_kde(s)(grid), "--", color=f"C{len(fits) + j}", lw=1.8, label=f"{label} (KDE)")
        ax[2].step(s, np.arange(1, len(s) + 1) / len(s), "--", where="post", color=f"C{len(fits) + j}", label=label)
    ax[1].set_title("histogram and fitted densities")
    ax[1].legend(fontsize=8)
    ax[2].set_title("empirical vs fitted CDF")
    ax[2].legend(fontsize=8, loc="lower right")
    for a in ax[1:]:
        a.set_xlabel(report.name)
    fig.suptitle(f"{report.name}: {report.best.family.label} ranks first by {report.rank_by.upper()}", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_compare(a: np.ndarray, b: np.ndarray, path: str | Path, *, name_a: str = "D", name_b: str = "D'") -> Path:
    """Overlaid histograms, ECDFs and a two-sample QQ plot of D and D′."""
    plt = _plt()
    a, b = np.sort(a), np.sort(b)
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.4))
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="fd")
    ax[0].hist(a, edges, density=True, alpha=0.5, label=f"{name_a} (n={len(a)})")
    ax[0].hist(b, edges, density=True, alpha=0.5, label=f"{name_b} (n={len(b)})")
    ax[0].legend(fontsize=8)
    ax[0].set_title("histograms (shared bins)")
    ax[1].step(a, np.arange(1, len(a) + 1) / len(a), where="post", label=name_a)
    ax[1].step(b, np.arange(1, len(b) + 1) / len(b), where="post", label=name_b)
    ax[1].legend(fontsize=8, loc="lower right")
    ax[1].set_title("empirical CDFs")
    q = np.linspace(0.005, 0.995, 199)
    qa, qb = np.quantile(a, q), np.quantile(b, q)
    ax[2].plot(qa, qb, ".", ms=4)
    lo, hi = min(qa.min(), qb.min()), max(qa.max(), qb.max())
    ax[2].plot([lo, hi], [lo, hi], "k--", lw=1)
    ax[2].set_xlabel(f"{name_a} quantiles")
    ax[2].set_ylabel(f"{name_b} quantiles")
    ax[2].set_title("two-sample QQ plot")
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path) -> Path:
    import matplotlib.pyplot as plt

    # The CLI documents these files as PNG: format fixed, whatever path's suffix says.
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return Path(path)
