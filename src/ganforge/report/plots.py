"""The report's plots: matplotlib (Agg) figures rendered to PNG bytes for inlining.

Each plot comes with alt text that states its numbers (first and last value of every
line), so the page says the same thing to someone who cannot see the picture.
"""

from __future__ import annotations

import io
import math

from ganforge.report.html import fmt
from ganforge.report.rundata import EVAL_ROW_KEYS, RunData

#: Statistics drawn on their own panel (and how they are called), whatever the family.
OUTPUTS = {"d_real": "D(x)", "d_fake": "D(G(z))", "elbo": "ELBO (nats)"}
#: Events marked on a single run's curves.
MARKED_EVENTS = ("resume", "early_stop", "signal", "time_limit", "diverged")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig, dpi: int = 100) -> bytes:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})  # no URL in the PNG's text chunk
    plt.close(fig)
    return buf.getvalue()


def _series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            xs.append(r["step"])
            ys.append(float(v))
    return xs, ys


def _describe(name: str, ys: list[float]) -> str:
    finite = [y for y in ys if math.isfinite(y)]
    if not finite:
        return f"{name}: no finite value"
    end = ys[-1]
    return (f"{name} from {fmt(ys[0], 3)} to {fmt(end, 3)} "
            f"(range {fmt(min(finite), 3)} to {fmt(max(finite), 3)})")


def curve_panels(runs: list[RunData]) -> list[tuple[str, bytes, str]]:
    """(title, PNG bytes, alt text) per panel. One run: its losses together, D's outputs (or
    the ELBO) together, img/s, FID. Several runs: one panel per statistic, a line per run."""
    plt = _plt()
    single = len(runs) == 1
    panels: list[tuple[str, list[tuple[RunData, str, str]]]] = []
    if single:
        run = runs[0]
        keys = run.stat_keys
        other = [k for k in keys if k not in OUTPUTS]
        if other:
            panels.append(("losses and statistics", [(run, k, k) for k in other]))
        d_out = [k for k in ("d_real", "d_fake") if k in keys]
        if d_out:
            panels.append(("discriminator outputs", [(run, k, OUTPUTS[k]) for k in d_out]))
        if "elbo" in keys:
            panels.append(("ELBO (nats, higher is better)", [(run, "elbo", "ELBO")]))
    else:
        keys = []
        for run in runs:
            keys += [k for k in run.stat_keys if k not in keys]
        for k in keys:
            panels.append((OUTPUTS.get(k, k), [(run, k, run.label) for run in runs if k in run.stat_keys]))
    panels.append(("throughput (images/s)", [(run, "img_per_s", run.label if not single else "img/s")
                                              for run in runs if run.rows]))
    if any(run.evals for run in runs):
        panels.append(("FID during training (--eval-every)", [(run, "fid", run.label if not single else "FID")
                                                              for run in runs if run.evals]))
        cs = [(run, "classifier_score", run.label if not single else "classifier score") for run in runs
              if any("classifier_score" in r for r in run.evals)]
        if cs:
            panels.append(("classifier score during training (--eval-every)", cs))
    out = []
    colours = {id(run): f"C{i % 10}" for i, run in enumerate(runs)}
    for title, lines in panels:
        if not lines:
            continue
        fig, ax = plt.subplots(figsize=(4.6, 3.0))
        described = []
        for i, (run, key, label) in enumerate(lines):
            from_evals = key in EVAL_ROW_KEYS  # an --eval-every statistic: its own rows, drawn with markers
            rows = run.evals if from_evals else run.rows
            xs, ys = _series(rows, key)
            if not xs:
                continue
            style = "o-" if from_evals or len(xs) < 3 else "-"
            colour = f"C{i % 10}" if single else colours[id(run)]
            ax.plot(xs, ys, style, ms=3, lw=1.4, color=colour, label=label)
            described.append(_describe(label if single else f"{run.label}", ys))
        if not described:
            plt.close(fig)
            continue
        if single:
            for e in runs[0].events or []:
                if e.get("kind") in MARKED_EVENTS and isinstance(e.get("step"), int):
                    ax.axvline(e["step"], color="0.4", ls=":", lw=1)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("step", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        who = f"run {runs[0].label}" if single else f"{len(runs)} runs"
        alt = f"Line chart, {title} against training step for {who}: " + "; ".join(described) + "."
        out.append((title, png(fig), alt))
    return out


def class_share_bars(shares: list[float], floor: list[float] | None, title: str,
                     names: list[str] | None = None) -> tuple[bytes, str]:
    """Bars of the share of samples per predicted class (mode collapse shows as missing
    bars), real held-out images' shares as markers; ``names``: one label per class."""
    names = names if names is not None and len(names) == len(shares) else [f"class {i}" for i in range(len(shares))]
    plt = _plt()
    k = len(shares)
    fig, ax = plt.subplots(figsize=(4.6, 2.8))
    ax.bar(range(k), [100 * s for s in shares], color="C0", label="samples")
    if floor is not None and len(floor) == k:
        ax.plot(range(k), [100 * s for s in floor], "k_", ms=18, mew=2, label="real (floor)")
    else:
        ax.axhline(100 / k, color="k", ls="--", lw=1, label="uniform")
    ax.set_xticks(range(k), [n.removeprefix("class ") for n in names], rotation=0 if k <= 10 and
                  all(len(n) <= 8 for n in names) else 45, ha="center" if len(max(names, key=len)) <= 8 else "right")
    ax.set_xlabel("predicted class", fontsize=10)
    ax.set_ylabel("% of samples", fontsize=10)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    alt = (f"Bar chart, {title}: " + ", ".join(f"{n} {100 * s:.1f} %" for n, s in zip(names, shares))
           + ("" if floor is None else "; real images: " + ", ".join(f"{100 * s:.1f} %" for s in floor)) + ".")
    return png(fig), alt
