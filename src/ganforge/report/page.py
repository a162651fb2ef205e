"""The run report: one self-contained HTML page for one run, or several side by side.

Sections (ids are stable, the tests and the docs link to them): ``summary`` (the key
numbers; with several runs one comparison table with the best value per row marked),
``events`` (health: starts, resumes, warnings, early stop, NaN stop), ``curves``,
``grids`` (the fixed-latent grids over time), ``evaluation`` (``ganforge evaluate``'s
latest report: every metric with floor, CI and protocol, class shares, closest pairs),
``config`` (what ran, differences from the preset highlighted) and ``files``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from ganforge.report import plots
from ganforge.report.html import duration, esc, figure, fmt, img, img_file, kv, page, table
from ganforge.report.rundata import RunData, flatten, load_run, resolve_figure

#: At most this many grids per run go into the page (evenly spaced, first and last kept),
#: so a run that saved a grid every 100 steps still makes a page one can e-mail.
MAX_GRIDS = 12

SECTIONS = [("summary", "Summary"), ("events", "Health and events"), ("curves", "Training curves"),
            ("grids", "Samples over training"), ("evaluation", "Evaluation"), ("config", "Configuration"),
            ("files", "Files")]

#: The evaluation's numbers a one-run summary repeats (quality, the similarity test, copies).
HEADLINE = ("fid", "inception_score", "classifier_score", "c2st_pixels", "copy_rate")

BETTER_WORDS = {"lower": "lower", "higher": "higher", "0.5": "≈ 0.5", "floor": "≈ floor"}


# ----------------------------------------------------------------------------- entry points
def build_report(runs: list[str | Path], out: str | Path | None = None, *, title: str | None = None) -> Path:
    """Write the report of one or several run directories to ``out`` (default: the run's
    ``report.html`` for one run, ``./report.html`` for several); returns its path."""
    from ganforge.files import write_atomic

    if not runs:
        from ganforge.errors import ConfigError

        raise ConfigError("no run given; pass at least one run directory, e.g. runs/001-mnist-mlp.")
    data = [load_run(r) for r in runs]
    _unique_labels(data)
    if out is None:
        out = data[0].dir / "report.html" if len(data) == 1 else Path("report.html")
    elif Path(out).is_dir():
        out = Path(out) / "report.html"
    write_atomic(out, render(data, title=title))
    return Path(out)


def write_run_report(run_dir: str | Path) -> Path:
    """``RUN/report.html`` for one run (what ``train --report`` and ``evaluate --report`` write)."""
    return build_report([run_dir], Path(run_dir) / "report.html")


def render(runs: list[RunData], *, title: str | None = None) -> str:
    """The page's HTML for already loaded runs."""
    from ganforge import __version__

    t0 = time.perf_counter()
    single = len(runs) == 1
    if title is None:
        title = (f"ganforge report: {runs[0].label}" if single
                 else "ganforge comparison: " + ", ".join(r.label for r in runs))
    body = "\n".join([
        _section("summary", "Summary" if single else "Comparison", summary(runs)),
        _section("events", "Health and events", events(runs)),
        _section("curves", "Training curves", curves(runs)),
        _section("grids", "Samples over training", grids(runs)),
        _section("evaluation", "Evaluation", evaluation(runs)),
        _section("config", "Configuration", config(runs)),
        _section("files", "Files", files(runs)),
    ])
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    footer = (f"Made by ganforge {esc(__version__)} on {stamp} from the run director"
              f"{'y' if single else 'ies'} alone in {time.perf_counter() - t0:.1f} s "
              "(<code>ganforge report</code>). Self-contained: every image is inline; no network is needed.")
    return page(title, body, SECTIONS, footer)


def _section(anchor: str, heading: str, inner: str) -> str:
    return f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">{esc(heading)}</h2>\n{inner}\n</section>'


def _unique_labels(runs: list[RunData]) -> None:
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.label] = seen.get(r.label, 0) + 1
    for r in runs:
        if seen[r.label] > 1:
            r.label = f"{r.dir.parent.name}/{r.dir.name}"
    for i, r in enumerate(runs):  # still equal (the same directory twice): number them
        if [x.label for x in runs].count(r.label) > 1:
            r.label = f"{r.label} [{i + 1}]"


def _per_run(runs: list[RunData], render_one) -> str:
    """The same block for every run; several runs side by side (stacked on a phone)."""
    if len(runs) == 1:
        return render_one(runs[0])
    return '<div class="cols">' + "".join(
        f'<div class="col"><h3>{esc(r.label)}</h3>{render_one(r)}</div>' for r in runs) + "</div>"


# ----------------------------------------------------------------------------- summary
def _score(value, better: str, floor) -> float | None:
    """Lower is better; None when the row has no direction or the value is missing."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        return None
    if better == "lower":
        return value
    if better == "higher":
        return -value
    if better == "0.5":
        return abs(value - 0.5)
    if better == "floor" and isinstance(floor, (int, float)):
        return abs(value - floor)
    return None


def _median(xs: list[float]) -> float | None:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else 0.5 * (xs[m - 1] + xs[m])


def _eval_metrics(run: RunData) -> dict:
    return (run.evaluation or {}).get("metrics") or {}


def summary_rows(runs: list[RunData]) -> list[dict]:
    """The comparison table's numeric rows: ``label``, ``values`` (one per run),
    ``better`` (None: nothing to mark), ``floors``, ``cells`` (HTML per run)."""
    rows = []
    group = "training"

    def add(label, values, better=None, floors=None, cells=None, hint=""):
        if all(v is None for v in values):
            return
        rows.append({"label": label, "values": values, "better": better, "hint": hint, "group": group,
                     "floors": floors or [None] * len(values),
                     "cells": cells or [esc(fmt(v)) for v in values]})

    add("steps trained", [r.last_step for r in runs])
    add("training time", [r.train_seconds for r in runs], cells=[esc(duration(r.train_seconds)) for r in runs])
    add("throughput (img/s, median window)", [_median([x["img_per_s"] for x in r.rows
                                                        if isinstance(x.get("img_per_s"), (int, float))])
                                              for r in runs], "higher")
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.stat_keys if k not in keys]
    for k in keys:
        add(f"{plots.OUTPUTS.get(k, k)} (last window)", [r.rows[-1].get(k) if r.rows else None for r in runs],
            hint="a statistic of training, not a quality score")
    fid_last = [r.evals[-1].get("fid") if r.evals else None for r in runs]
    fid_best = [min((e["fid"] for e in r.evals if isinstance(e.get("fid"), (int, float))), default=None)
                for r in runs]
    add("FID during training, last (--eval-every)", fid_last, "lower")
    add("FID during training, best (--eval-every)", fid_best, "lower")
    group = "evaluation (the latest ganforge evaluate)"
    names: list[str] = []
    for r in runs:
        names += [n for n in _eval_metrics(r) if n not in names]
    if len(runs) == 1:  # one run: the headline numbers; every metric is in the Evaluation section
        names = [n for n in names if n in HEADLINE] or names[:3]
    for n in names:
        ms = [_eval_metrics(r).get(n) for r in runs]
        first = next(m for m in ms if m)
        cells = []
        for m in ms:
            if not m:
                cells.append("—")
                continue
            text = esc(fmt(m.get("value")))
            if m.get("sd") is not None:
                text += f" ± {esc(fmt(m['sd']))}"
            extra = []
            if m.get("ci"):
                extra.append(f"CI [{esc(fmt(m['ci'][0]))}, {esc(fmt(m['ci'][1]))}]")
            if m.get("floor") is not None:
                extra.append(f"floor {esc(fmt(m['floor']))}")
            if extra:
                text += f'<br><span class="muted">{"; ".join(extra)}</span>'
            cells.append(text)
        add(first.get("label", n), [m.get("value") if m else None for m in ms],
            first.get("better"), [m.get("floor") if m else None for m in ms], cells)
    return rows


def summary(runs: list[RunData]) -> str:
    single = len(runs) == 1
    info = [("run directory", [f"<code>{esc(r.dir)}</code>" for r in runs]),
            ("model family (kind)", [esc(r.kind) for r in runs]),
            ("preset", [esc(r.name) + ("" if r.preset else ' <span class="muted">(not a preset)</span>')
                        for r in runs]),
            ("status", [_status_pill(r) for r in runs]),
            ("evaluated", [esc(_when((r.evaluation or {}).get("evaluated_at"))) if r.evaluation else "no"
                           for r in runs])]
    head = ["", "better"] + [r.label for r in runs] if not single else ["", "better", "value"]
    trs = []
    for label, cells in info:
        trs.append(f'<tr><th scope="row">{esc(label)}</th><td></td>'
                   + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    group = None
    for row in summary_rows(runs):
        if row["group"] != group:
            group = row["group"]
            trs.append(f'<tr class="group"><th scope="colgroup" colspan="{len(head)}">{esc(group)}</th></tr>')
        scores = [_score(v, row["better"] or "", f) for v, f in zip(row["values"], row["floors"])]
        valid = [s for s in scores if s is not None]
        best = min(valid) if len(valid) >= 2 else None
        tds = []
        for cell, s in zip(row["cells"], scores):
            if best is not None and s is not None and s <= best + 1e-12 * max(1.0, abs(best)):
                value, br, rest = cell.partition("<br>")  # the star beside the value, before the CI/floor line
                tds.append(f'<td class="num best">{value} <span aria-label="best">★</span>{br}{rest}</td>')
            else:
                tds.append(f'<td class="num">{cell}</td>')
        hint = f' title="{esc(row["hint"])}"' if row["hint"] else ""
        better = BETTER_WORDS.get(row["better"] or "", "")
        trs.append(f'<tr><th scope="row"{hint}>{esc(row["label"])}</th><td>{esc(better)}</td>{"".join(tds)}</tr>')
    caption = ("" if single else "★ marks the best value of each row that has a direction "
               "(“≈ floor”: closest to what held-out real images get).")
    out = table(head, trs, cls="metrics", caption=caption)
    notes = _protocol_notes(runs)
    if notes:
        out += "".join(f'<p class="note">{n}</p>' for n in notes)
    return out


def _when(iso) -> str:
    """``2026-12-01T00:22:05+00:00`` -> ``2026-12-01 00:22 UTC`` (anything else as it is)."""
    try:
        return datetime.fromisoformat(str(iso)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return "yes" if iso is None else str(iso)


def _status_pill(r: RunData) -> str:
    s = r.status
    cls = "bad" if "diverged" in s or "killed" in s else "good" if s == "finished" else ""
    return f'<span class="pill {cls}">{esc(s)}</span>'


def _protocol_notes(runs: list[RunData]) -> list[str]:
    evaluated = [r for r in runs if r.evaluation]
    notes = []
    if len(evaluated) >= 2:
        fields = {"num_samples": "sample count", "reference_sha256": "reference set",
                  "feature_space": "feature space", "extractor_sha256": "extractor weights"}
        differ = [word for key, word in fields.items()
                  if len({json.dumps((r.evaluation.get("protocol") or {}).get(key)) for r in evaluated}) > 1]
        if differ:
            notes.append("The evaluations differ in " + ", ".join(differ) + ": their numbers are not directly "
                         "comparable (FID & co. depend on the sample count and the feature space).")
    if 0 < len(evaluated) < len(runs):
        notes.append("Not every run has been evaluated: run <code>ganforge evaluate RUN --report</code> on "
                     + ", ".join(f"<code>{esc(r.dir)}</code>" for r in runs if not r.evaluation) + ".")
    return notes


# ----------------------------------------------------------------------------- events
def events(runs: list[RunData]) -> str:
    def one(r: RunData) -> str:
        parts = [f"<p>Status: {_status_pill(r)}</p>"]
        if r.skipped_lines:
            parts.append(f'<p class="note">{r.skipped_lines} unreadable line(s) of metrics.jsonl / events.jsonl '
                         "skipped (a run killed while writing leaves a partial last line).</p>")
        if r.events is None:
            parts.append('<p class="note">No <code>events.jsonl</code>: this run was written before the harness '
                         "recorded starts, resumes and warnings.</p>")
            return "".join(parts)
        if not r.events:
            return "".join(parts) + "<p>No events recorded.</p>"
        trs, prev = [], None
        collapsed: list[tuple[dict, int]] = []
        for e in r.events:  # a warning repeated every window becomes one row with a count
            key = (e.get("kind"), e.get("message"))
            if key == prev:
                collapsed[-1] = (collapsed[-1][0], collapsed[-1][1] + 1)
            else:
                collapsed.append((e, 1))
            prev = key
        for e, n in collapsed:
            kind = str(e.get("kind", "?"))
            cls = ' class="bad"' if kind in ("diverged", "warning", "signal") else ""
            times = f" (×{n}, the first shown)" if n > 1 else ""
            trs.append(f"<tr{cls}><td class=\"num\">{esc(fmt(e.get('step')))}</td><td>{esc(kind)}</td>"
                       f"<td>{esc(e.get('message', ''))}{esc(times)}</td><td>{esc(e.get('time', ''))}</td></tr>")
        warnings = sum(1 for e in r.events if e.get("kind") == "warning")
        resumes = sum(1 for e in r.events if e.get("kind") == "resume")
        parts.append(f"<p>{warnings} warning(s), {resumes} resume(s).</p>")
        parts.append(table(["step", "event", "message", "time (UTC)"], trs, cls="events"))
        return "".join(parts)

    return _per_run(runs, one)


# ----------------------------------------------------------------------------- curves
def curves(runs: list[RunData]) -> str:
    if not any(r.rows for r in runs):
        return "<p>No metrics logged yet (no <code>metrics.jsonl</code> rows).</p>"
    figs = [figure(img(data, alt)) for _title, data, alt in plots.curve_panels(runs)]  # the title is in the plot
    note = ""
    if len(runs) == 1 and any(e.get("kind") in plots.MARKED_EVENTS for e in runs[0].events or []):
        note = '<p class="note">Dotted vertical lines: resumes and stops (see Health and events).</p>'
    first = ", ".join(f"{r.label}: every {r.rows[1]['step'] - r.rows[0]['step']} steps"
                      for r in runs if len(r.rows) > 1)
    sub = f'<p class="note">One point per logging window (mean over the window; {esc(first)}).</p>' if first else ""
    return sub + note + '<div class="plots">' + "".join(figs) + "</div>"


# ----------------------------------------------------------------------------- grids
def _pick(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    idx = sorted({round(i * (len(items) - 1) / (k - 1)) for i in range(k)})
    return [items[i] for i in idx]


def grids(runs: list[RunData]) -> str:
    def one(r: RunData) -> str:
        if not r.grids:
            return "<p>No sample grids in <code>samples/</code> (a model family that makes no images, or a run " \
                   "that stopped before its first grid).</p>"
        shown = _pick(r.grids, MAX_GRIDS)
        note = (f'<p class="note">{len(shown)} of {len(r.grids)} grids, evenly spaced.</p>'
                if len(shown) < len(r.grids) else "")
        figs = "".join(figure(img_file(p, f"sample grid of run {r.label} at step {s:,} (the same fixed latent "
                                          "batch at every step)", "pixels"), f"step {s:,}")
                       for s, p in shown)
        hint = ('<p class="note">The same inputs at every step: drag the slider (or scroll the strip) to watch '
                "learning happen.</p>")
        return note + hint + '<div class="grids" data-slider><div class="strip">' + figs + "</div></div>"

    return _per_run(runs, one)


# ----------------------------------------------------------------------------- evaluation
def evaluation(runs: list[RunData]) -> str:
    def one(r: RunData) -> str:
        ev = r.evaluation
        if not ev:
            return (f"<p>Not evaluated yet. Run <code>ganforge evaluate {esc(r.dir)} --report</code> "
                    "to measure quality, diversity and memorisation, and refresh this page.</p>")
        p = ev.get("protocol") or {}
        parts = []
        when = f" on {esc(_when(ev['evaluated_at']))}" if ev.get("evaluated_at") else ""
        history = (f" ({r.evaluation_count} evaluations kept in <code>eval/</code>; the latest is shown)"
                   if r.evaluation_count > 1 else "")
        parts.append(f"<p>{esc(fmt(p.get('num_samples')))} samples of <code>{esc(p.get('source', '?'))}</code> "
                     f"against {esc(p.get('reference', '?'))}{when}{history}.</p>")
        trs = []
        for name, m in (ev.get("metrics") or {}).items():
            val = esc(fmt(m.get("value")))
            if m.get("sd") is not None:
                val += f" ± {esc(fmt(m['sd']))}"
            ci = f"[{esc(fmt(m['ci'][0]))}, {esc(fmt(m['ci'][1]))}]" if m.get("ci") else "—"
            pv = m.get("p_value")
            pv = "—" if pv is None else ("&lt; 1e-300" if pv == 0 else esc(f"{pv:.2g}"))
            trs.append(f'<tr><th scope="row">{esc(m.get("label", name))}</th><td class="num">{val}</td>'
                       f'<td class="num">{ci}</td><td class="num">{esc(fmt(m.get("floor")))}</td>'
                       f'<td>{esc(BETTER_WORDS.get(m.get("better", ""), m.get("better", "")))}</td>'
                       f'<td class="num">{pv}</td><td>{esc(m.get("note", ""))}</td></tr>')
        parts.append(table(["metric", "value", "95% CI", "real floor", "better", "p", "note"], trs, cls="eval"))
        for name, why in (ev.get("skipped") or {}).items():
            parts.append(f'<p class="note">not computed: {esc(name)}: {esc(why)}</p>')
        shares = ev.get("class_shares")
        if shares:
            names = None
            if (ev.get("protocol") or {}).get("feature_space") == "ganforge-fashion-mnist-cnn":
                from ganforge.data.fashion import FASHION_CLASSES as names  # clothes, not digits
            data, alt = plots.class_share_bars(shares, ev.get("floor_class_shares"),
                                               "class shares of the samples (mode collapse: missing bars)",
                                               None if names is None else list(names))
            parts.append(figure(img(data, alt), "Share of samples per class, as the evaluation's classifier "
                                                "predicts it; markers: held-out real images."))
        for key, path in (ev.get("figures") or {}).items():
            f = resolve_figure(r, path)
            if f is None:
                parts.append(f'<p class="note">{esc(key)}: the figure {esc(path)} is missing.</p>')
                continue
            parts.append(figure(img_file(f, f"{key}: the generated samples closest to a training image, each "
                                            f"above its nearest training image, with their RMS distance"),
                                f"{esc(key)}: memorisation check (a copy would be a pair of identical images)."))
        proto = [(k, esc(fmt(v)) if not isinstance(v, str) else f"<code>{esc(v)}</code>") for k, v in p.items()]
        parts.append(f"<details><summary>protocol (what it takes to reproduce or compare these numbers)</summary>"
                     f"{kv(proto)}</details>")
        return "".join(parts)

    return _per_run(runs, one)


# ----------------------------------------------------------------------------- config
def _norm(v):
    return json.loads(json.dumps(v))


def _value(v) -> str:
    if isinstance(v, str):
        return esc(v) if v else '<span class="muted">""</span>'
    return esc(json.dumps(_norm(v)))  # as config.json writes it: 0.0002, [256, 512], true


def config(runs: list[RunData]) -> str:
    flat = [flatten(r.config) if r.config else {} for r in runs]
    presets = [flatten(r.preset) if r.preset else None for r in runs]
    keys: list[str] = []
    for f in flat:
        keys += [k for k in f if k not in keys]
    notes = "".join(f'<p class="note">{esc(r.label)}: {esc(r.config_note)}</p>' for r in runs if r.config_note)
    if not keys:
        return notes + "<p>No configuration recorded.</p>"
    def differs(i, k) -> bool:
        return presets[i] is not None and k != "name" and _norm(flat[i].get(k)) != _norm(presets[i].get(k))

    if len(runs) == 1:
        r, p = runs[0], presets[0]
        trs, n_diff = [], 0
        for k in keys:
            d = differs(0, k)
            n_diff += d
            pv = _value(p.get(k)) if (p is not None and d) else ""
            cls = ' class="diff"' if d else ""
            trs.append(f'<tr{cls}><th scope="row"><code>{esc(k)}</code></th>'
                       f"<td{cls}>{_value(flat[0].get(k))}</td><td>{pv}</td></tr>")
        lead = (f"<p>{n_diff} setting(s) differ from the preset <code>{esc(r.name)}</code> (highlighted; "
                "its value in the last column).</p>" if p is not None else
                f"<p><code>{esc(r.name)}</code> is not a preset of this release: the settings are shown as they ran.</p>")
        return notes + lead + table(["setting", "value", "preset value"], trs, cls="config")

    varying, same = [], []
    for k in keys:
        vals = [_norm(f.get(k)) for f in flat]
        if any(differs(i, k) for i in range(len(runs))) or any(v != vals[0] for v in vals):
            varying.append(k)
        else:
            same.append(k)

    def row(k):
        tds = []
        for i, f in enumerate(flat):
            if differs(i, k):
                tds.append(f'<td class="diff" title="preset: {esc(json.dumps(_norm(presets[i].get(k))))}">{_value(f.get(k))}'
                           f' <span class="muted">(preset {_value(presets[i].get(k))})</span></td>')
            else:
                tds.append(f"<td>{_value(f.get(k)) if k in f else '—'}</td>")
        return f'<tr><th scope="row"><code>{esc(k)}</code></th>{"".join(tds)}</tr>'

    head = ["setting"] + [r.label for r in runs]
    out = notes + (f"<p>{len(varying)} setting(s) differ between the runs or from a run's preset (highlighted: "
                   "differs from that run's preset).</p>")
    out += table(head, [row(k) for k in varying], cls="config")
    if same:
        out += (f"<details><summary>{len(same)} setting(s) the same in every run and as in the presets</summary>"
                + table(head, [row(k) for k in same], cls="config") + "</details>")
    return out


# ----------------------------------------------------------------------------- files
def files(runs: list[RunData]) -> str:
    def one(r: RunData) -> str:
        pairs = [("run directory", f"<code>{esc(r.dir)}</code>")]
        if r.checkpoints:
            latest = f" (latest: <code>{esc(r.latest_checkpoint)}</code>)" if r.latest_checkpoint else ""
            pairs.append(("checkpoints", ", ".join(f"<code>{esc(c)}</code>" for c in r.checkpoints) + latest))
        else:
            pairs.append(("checkpoints", "none"))
        pairs.append(("sample grids", f"{len(r.grids)} in <code>samples/</code>"))
        if r.evaluation_path is not None:
            pairs.append(("evaluation", f"<code>{esc(r.evaluation_path)}</code>"))
        if r.tensorboard:
            pairs.append(("TensorBoard", f"<code>tensorboard --logdir {esc(r.dir / 'tensorboard')}</code>"))
        pairs.append(("next", f"<code>ganforge sample {esc(r.dir)} -n 64 -o samples.png</code>"))
        return kv(pairs)

    return _per_run(runs, one)
