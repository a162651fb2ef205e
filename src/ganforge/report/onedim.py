"""The 1-D problem's page: ``ganforge fit ... --report`` and ``ganforge compare ... --report``.

Built from the result objects the verbs already compute (:class:`~ganforge.onedim.fit.FitReport`,
:class:`~ganforge.onedim.compare.CompareReport`) and their plots
(:mod:`ganforge.onedim.plots`), inlined: the family table, QQ / density / CDF, the
distances D vs D′ next to their permutation nulls, the classifier test, and the verdict.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ganforge.files import write_atomic
from ganforge.report.html import esc, figure, fmt, img, kv, page, table


@dataclass
class FitGroup:
    """One fitted column (or one group of it): the report, the family drawn from and
    plotted, and optionally samples drawn as extra curves and the 1-D GAN's comparison
    (``entry["gan"]`` of ``ganforge fit --json``)."""

    report: object
    family: str | None = None
    extra: dict | None = None
    gan: dict | None = None


def _plot_bytes(plot, *args, **kwargs) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = plot(*args, Path(tmp) / "plot.png", **kwargs)
        return Path(path).read_bytes()


def _footer(t0: float, verb: str) -> str:
    from ganforge import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Made by ganforge {esc(__version__)} (<code>ganforge {verb} --report</code>) on {stamp} in "
            f"{time.perf_counter() - t0:.1f} s. Self-contained: every image is inline; no network is needed.")


def _p(p, n_mc: int | None = None) -> str:
    if p is None:
        return "—"
    if n_mc and p <= 1 / (n_mc + 1) + 1e-12:
        return f"≤ {1 / (n_mc + 1):.2g}"
    return f"{p:.3g}"


def _fit_section(i: int, g: FitGroup) -> str:
    from ganforge.onedim.plots import plot_fit

    rep = g.report
    x = np.asarray(rep.x, dtype=float)
    chosen = rep.get(g.family) if g.family else rep.best
    chosen = chosen or rep.best
    parts = [f'<h3 id="group-{i}">{esc(rep.name)}</h3>']
    parts.append(kv([("values", esc(f"{len(x):,}")), ("mean", esc(fmt(float(x.mean())))),
                     ("sd", esc(fmt(float(x.std(ddof=1))))),
                     ("range", esc(f"[{fmt(float(x.min()))}, {fmt(float(x.max()))}]"))]
                    + ([("rounding", esc(rep.rounding.describe()))] if rep.rounding is not None else [])))
    R = rep.rank_by.upper()
    best = getattr(rep.fits[0], rep.rank_by)
    trs = []
    for rank, f in enumerate(rep.fits, 1):
        gof = f.gof
        params = "; ".join(f"{esc(n)} = {esc(fmt(float(v)))} [{esc(fmt(float(lo)))}, {esc(fmt(float(hi)))}]"
                           for n, v, (lo, hi) in zip(f.family.param_names, f.params, f.ci))
        num = [f.family.k, f.loglik, f.aic, f.bic, getattr(f, rep.rank_by) - best]
        cells = [esc(fmt(v)) for v in num]
        cells += ([esc(fmt(gof.ks)), esc(_p(gof.ks_p, gof.n_mc)), esc(fmt(gof.ad)), esc(_p(gof.ad_p, gof.n_mc))]
                  if gof else ["—"] * 4)
        tds = "".join(f'<td class="num{" best" if rank == 1 and i == 4 else ""}">{c}</td>' for i, c in enumerate(cells))
        note = f'<br><span class="note">{esc(f.note)}</span>' if f.note else ""
        star = " ★" if rank == 1 else ""
        trs.append(f'<tr><td class="num">{rank}</td><th scope="row">{esc(f.family.label)}{star}</th>{tds}'
                   f'<td>{params} <span class="muted">({esc(f.ci_method)})</span>{note}</td></tr>')
    parts.append(table(["#", "family", "k", "log-lik", "AIC", "BIC", f"Δ{R}", "KS D", "KS p", "AD A²", "AD p",
                        "parameters [95% CI]"], trs, cls="families",
                       caption=f"ranked by {R} (lower is better); ★ first. KS/AD p-values: parametric bootstrap, "
                               f"{rep.n_mc} refits per family."))
    for key, reason in rep.skipped:
        parts.append(f'<p class="note">skipped {esc(key)}: {esc(reason)}</p>')
    data = _plot_bytes(plot_fit, rep, family=chosen.key, extra=g.extra)
    top = ", ".join(f.family.label for f in rep.fits[:3])
    alt = (f"Three panels for {rep.name} (n = {len(x)}): a QQ plot of the data against the fitted "
           f"{chosen.family.label}, a histogram with the fitted densities of {top}, and the empirical against "
           f"the fitted CDFs. {rep.best.family.label} ranks first by {R}.")
    parts.append(figure(img(data, alt), "QQ plot (points on the diagonal: the family fits), histogram with the "
                                        "fitted densities, empirical vs fitted CDF."))
    if g.gan:
        parts.append(_gan_block(g.gan, chosen.family.label))
    parts.append(f'<p class="verdict"><strong>Verdict:</strong> {esc(rep.verdict)}</p>')
    return "".join(parts)


def _gan_block(gan: dict, label: str) -> str:
    fit_c, gan_c = gan.get("compare_fitted") or {}, gan.get("compare") or {}
    trs = []
    for mf, mg in zip(fit_c.get("metrics", []), gan_c.get("metrics", [])):
        trs.append(f'<tr><th scope="row">{esc(mf["name"])}</th><td class="num">{esc(fmt(mf["value"]))}</td>'
                   f'<td class="num">{esc(fmt(mg["value"]))}</td></tr>')
    for key, word in (("accuracy", "C2ST accuracy (0.5 = similar)"), ("p_value", "C2ST p")):
        a, b = (fit_c.get("c2st") or {}).get(key), (gan_c.get("c2st") or {}).get(key)
        if a is not None or b is not None:
            trs.append(f'<tr><th scope="row">{esc(word)}</th><td class="num">{esc(fmt(a))}</td>'
                       f'<td class="num">{esc(fmt(b))}</td></tr>')
    head = f"<h4>1-D GAN ({esc(fmt(gan.get('steps')))} steps, {esc(fmt(gan.get('seconds')))} s) vs the fitted {esc(label)}</h4>"
    return head + table(["each against D", label, "GAN"], trs, cls="gan")


def fit_page(groups: list[FitGroup], *, source: str, column: str, notes: list[str] | None = None) -> str:
    t0 = time.perf_counter()
    body = ['<section id="data" aria-labelledby="data-h"><h2 id="data-h">Data</h2>'
            f"<p>Column <code>{esc(column)}</code> of <code>{esc(source)}</code>; {len(groups)} "
            f"group(s) fitted.</p>" + "".join(f'<p class="note">{esc(n)}</p>' for n in notes or []) + "</section>"]
    body.append('<section id="families" aria-labelledby="families-h"><h2 id="families-h">Families, plots and verdict'
                "</h2>" + "".join(_fit_section(i, g) for i, g in enumerate(groups)) + "</section>")
    verdicts = "".join(f"<li><strong>{esc(g.report.name)}</strong>: {esc(g.report.verdict)}</li>" for g in groups)
    body.append(f'<section id="verdict" aria-labelledby="verdict-h"><h2 id="verdict-h">Verdict in words</h2>'
                f"<ul>{verdicts}</ul></section>")
    nav = [("data", "Data"), ("families", "Families and plots"), ("verdict", "Verdict")]
    return page(f"ganforge fit: {column}", "\n".join(body), nav, _footer(t0, "fit"))


def write_fit_report(groups: list[FitGroup], out: str | Path, *, source: str, column: str,
                     notes: list[str] | None = None) -> Path:
    """The ``fit`` page for one or more fitted groups, written atomically to ``out``."""
    return write_atomic(out, fit_page(groups, source=source, column=column, notes=notes))


def compare_page(report, a: np.ndarray, b: np.ndarray, *, label_a: str, label_b: str) -> str:
    """The ``compare`` page: distances with their permutation nulls, the C2ST, the plots, the verdict."""
    from ganforge.onedim.plots import plot_compare

    t0 = time.perf_counter()
    r = report
    body = ['<section id="data" aria-labelledby="data-h"><h2 id="data-h">Data</h2>'
            + kv([(r.name_a, f"<code>{esc(label_a)}</code>, n = {r.n_a:,}"),
                  (r.name_b, f"<code>{esc(label_b)}</code>, n = {r.n_b:,}")])
            + "".join(f'<p class="note">note: {esc(n)}</p>' for n in r.notes) + "</section>"]
    trs = []
    for m in r.metrics:
        cls = ' class="bad"' if m.p_value is not None and m.p_value < 0.05 else ""
        trs.append(f'<tr{cls}><th scope="row">{esc(m.name)}</th><td class="num">{esc(fmt(m.value))}</td>'
                   f'<td class="num">{esc(fmt(m.null_mean))}</td><td class="num">{esc(fmt(m.null_q95))}</td>'
                   f'<td class="num">{esc(_p(m.p_value))}</td><td>{esc(m.unit)}</td><td>{esc(m.p_method)}</td></tr>')
    est = ("shared histogram bins" if r.estimator == "hist" else "Gaussian KDEs on a shared grid")
    cap = (f"KL/JS in bits; estimator: {est}. Null: {r.n_perm} random relabelings of the pooled data (what "
           "“zero” looks like at these sizes). Rows with p &lt; 0.05 highlighted.") if r.n_perm else \
        f"KL/JS in bits; estimator: {est}; no permutation null (n_perm = 0)."
    body.append('<section id="distances" aria-labelledby="distances-h"><h2 id="distances-h">D vs D′: distances '
                "and their nulls</h2>" + table(["metric", "value", "null mean", "null 95%", "p", "unit", "p from"],
                                               trs, cls="distances", caption=cap) + "</section>")
    c = r.c2st
    if c is not None:
        c2 = kv([("classifier", esc(c.classifier)), ("held-out accuracy", esc(f"{c.accuracy:.3f} ± {c.accuracy_std:.3f}")),
                 ("chance", "0.5"), ("p", esc(_p(c.p_value)) + f" ({esc(c.method)})"),
                 ("AUC", esc(fmt(c.auc))), ("folds", esc(c.cv)), ("per class", esc(f"{c.n_used:,}"))])
        c2 = f"<p>{esc(c.summary())}</p>" + c2
    else:
        c2 = "<p>Not run (<code>--classifier none</code>).</p>"
    body.append('<section id="c2st" aria-labelledby="c2st-h"><h2 id="c2st-h">The model-based similarity test '
                "(C2ST)</h2>" + c2 + "</section>")
    data = _plot_bytes(plot_compare, a, b, name_a=r.name_a, name_b=r.name_b)
    ks = next((m for m in r.metrics if m.name == "KS statistic"), None)
    alt = (f"Three panels comparing {r.name_a} (n = {r.n_a}) with {r.name_b} (n = {r.n_b}): overlaid histograms "
           f"on shared bins, the two empirical CDFs, and a two-sample QQ plot against the diagonal"
           + (f"; KS statistic {ks.value:.3g}" if ks else "") + ".")
    body.append('<section id="plots" aria-labelledby="plots-h"><h2 id="plots-h">Plots</h2>'
                + figure(img(data, alt), "Histograms, ECDFs and the QQ plot of D against D′ (on the diagonal: "
                                         "the same quantiles).") + "</section>")
    body.append(f'<section id="verdict" aria-labelledby="verdict-h"><h2 id="verdict-h">Verdict in words</h2>'
                f"<p><strong>{esc(r.verdict)}</strong></p></section>")
    nav = [("data", "Data"), ("distances", "Distances"), ("c2st", "C2ST"), ("plots", "Plots"), ("verdict", "Verdict")]
    return page(f"ganforge compare: {r.name_a} vs {r.name_b}", "\n".join(body), nav, _footer(t0, "compare"))


def write_compare_report(report, a, b, out: str | Path, *, label_a: str, label_b: str) -> Path:
    """The ``compare`` page written atomically to ``out``."""
    return write_atomic(out, compare_page(report, np.asarray(a, float), np.asarray(b, float),
                                          label_a=label_a, label_b=label_b))
