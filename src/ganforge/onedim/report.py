"""Plain-text tables for the ``fit`` and ``compare`` verbs."""

from __future__ import annotations

import math

from ganforge.onedim.fit import FitReport, fmt_p


def _num(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    a = abs(v)
    if a != 0 and (a >= 1e5 or a < 1e-3):
        return f"{v:.3g}"
    return f"{v:.4g}" if a < 100 else f"{v:.1f}"


def format_fit(report: FitReport) -> str:
    x = report.x
    lines = [f"{report.name}: n = {len(x)}, mean {x.mean():.4g}, sd {x.std(ddof=1):.4g}, "
             f"range [{x.min():.4g}, {x.max():.4g}]"]
    if report.rounding is not None:
        lines.append(f"  note: {report.rounding.describe()}; the bootstrap rounds its simulated samples the same way")
    R = report.rank_by.upper()
    head = (f"  {'#':>2}  {'family':<19}{'k':>2}{'loglik':>11}{'AIC':>10}{'BIC':>10}{'Δ' + R:>8}"
            f"{'KS D':>8}{'KS p':>8}{'AD A²':>9}{'AD p':>8}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    best = getattr(report.fits[0], report.rank_by)
    for i, f in enumerate(report.fits, 1):
        g = f.gof
        gof = (f"{g.ks:8.4f}{fmt_p(g.ks_p, g.n_mc):>8}{g.ad:9.3g}{fmt_p(g.ad_p, g.n_mc):>8}" if g else
               f"{'':8}{'—':>8}{'':9}{'—':>8}")
        lines.append(f"  {i:>2}  {f.family.label:<19}{f.family.k:>2}{f.loglik:11.1f}{f.aic:10.1f}{f.bic:10.1f}"
                     f"{getattr(f, report.rank_by) - best:8.1f}{gof}")
        ps = "  ".join(f"{n} = {_num(v)} [{_num(lo)}, {_num(hi)}]"
                       for n, v, (lo, hi) in zip(f.family.param_names, f.params, f.ci))
        lines.append(f"      {ps}   (95% CI: {f.ci_method})")
        if f.note:
            lines.append(f"      note: {f.note}")
        if g and g.failed:
            lines.append(f"      note: {g.failed} bootstrap replicate(s) could not be refitted and were dropped")
    for key, reason in report.skipped:
        lines.append(f"  skipped {key}: {reason}")
    if report.n_mc:
        lines.append(f"  p-values: parametric bootstrap with {report.n_mc} refits per family "
                     f"(valid with estimated parameters; floor {1 / (report.n_mc + 1):.3g})")
    lines.append(f"  verdict: {report.verdict}")
    return "\n".join(lines)


def format_compare(r) -> str:
    lines = [f"{r.name_a} (n = {r.n_a}) vs {r.name_b} (n = {r.n_b})"]
    head = f"  {'metric':<18}{'value':>11}  {'null mean':>10}{'null 95%':>10}{'p':>8}  unit / p from"
    lines += [head, "  " + "-" * (len(head) - 2)]
    for m in r.metrics:
        nm = _num(m.null_mean) if m.null_mean is not None else "—"
        nq = _num(m.null_q95) if m.null_q95 is not None else "—"
        p = f"{m.p_value:.3g}" if m.p_value is not None else "—"
        lines.append(f"  {m.name:<18}{_num(m.value):>11}  {nm:>10}{nq:>10}{p:>8}  "
                     f"{m.unit + ', ' if m.unit else ''}{m.p_method}")
    c = r.c2st
    if c is not None:
        lines.append(f"  {'C2ST accuracy':<18}{c.accuracy:>11.3f}  {0.5:>10}{'':>10}{c.p_value:>8.3g}  "
                     f"{c.classifier}, {c.cv}-fold CV, {c.method} p" + (f", AUC {c.auc:.3f}" if c.auc else ""))
    est = ("shared histogram bins, +0.5 per bin for KL" if r.estimator == "hist"
           else "Gaussian KDEs on a shared grid")
    if r.n_perm:
        lines.append(f"  KL/JS in bits (log2), estimator: {est}; null = {r.n_perm} random relabelings of the "
                     "pooled data (what 'zero' looks like at these sizes)")
    else:
        lines.append(f"  KL/JS in bits (log2), estimator: {est}; no permutation null (n_perm = 0)")
    for note in r.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  verdict: {r.verdict}")
    return "\n".join(lines)
