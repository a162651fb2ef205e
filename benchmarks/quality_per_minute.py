"""Quality per CPU minute: FID and classifier score against training time, and the minutes
to reach classifier score 8 and 9 (issue 20).

    # train the README default and mnist-mlp with a cheap evaluation every 500 steps, then plot
    python benchmarks/quality_per_minute.py --train mnist-quick mnist-mlp --out docs/img/quality_per_minute.png
    # or read runs you trained yourself with --eval-every
    python benchmarks/quality_per_minute.py --runs runs/001-mnist-quick runs/002-mnist-mlp

Reads each run's ``metrics.jsonl``: the ``--eval-every`` rows (FID and classifier score of
2,000 samples against the MNIST test set, ganforge's extractor) and the training rows'
``time_s``. The time axis is training time *without* the evaluations: each evaluation's
cost (the jump in ``time_s`` across it beyond the median step time) is subtracted, so the
curve shows what a run without ``--eval-every`` would take. ``--ms-per-step PRESET=MS``
replaces a run's clock by steps × MS (for runs trained on a shared machine, with MS
measured on a quiet one; the table says which clock each row uses).

The cheap numbers (n = 2,000) are biased: FID upward, the classifier score slightly
downward; report final numbers from ``ganforge evaluate`` (10,000 samples × 3 seeds).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def read_run(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    cfg = json.loads((run / "config.json").read_text())
    train = [r for r in rows if "fid" not in r and "time_s" in r]
    evals = [r for r in rows if "fid" in r]
    if not evals:
        raise SystemExit(f"{run} has no --eval-every rows; train it with --eval-every N")
    # seconds per step from consecutive training rows that do not straddle an evaluation
    steps = np.array([r["step"] for r in train], float)
    times = np.array([r["time_s"] for r in train], float)
    eval_steps = {e["step"] for e in evals}
    per = [(t1 - t0) / (s1 - s0) for s0, s1, t0, t1 in zip(steps, steps[1:], times, times[1:])
           if not any(s0 < e <= s1 for e in eval_steps)]
    sec_per_step = float(np.median(per)) if per else float("nan")
    # training time at each evaluation = the step's time minus the evaluations before it
    out = []
    overhead = 0.0
    for e in evals:
        before = [r for r in train if r["step"] <= e["step"]]
        after = [r for r in train if r["step"] > e["step"]]
        t = before[-1]["time_s"] if before else 0.0
        if before and after:  # the next row's gap beyond the usual step time is this evaluation
            gap = after[0]["time_s"] - before[-1]["time_s"]
            overhead_here = max(0.0, gap - sec_per_step * (after[0]["step"] - before[-1]["step"]))
        else:
            overhead_here = 0.0
        out.append({"step": e["step"], "train_s": t - overhead, "fid": e["fid"],
                    "classifier_score": e.get("classifier_score", float("nan"))})
        overhead += overhead_here
    return {"name": cfg.get("name", run.name), "run": str(run), "evals": out, "sec_per_step": sec_per_step}


def minutes_to(evals: list[dict], key: str, target: float, clock) -> float | None:
    for e in evals:
        if e[key] >= target:
            return clock(e) / 60
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="*", default=[], type=Path, help="run directories trained with --eval-every")
    ap.add_argument("--train", nargs="*", default=[], metavar="PRESET", help="train these presets first")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--ms-per-step", action="append", default=[], metavar="NAME=MS",
                    help="use steps x MS as the clock of the run named NAME (quiet-machine step time)")
    ap.add_argument("--out", type=Path, default=None, help="PNG: FID and classifier score against minutes")
    args = ap.parse_args()

    runs = list(args.runs)
    for preset in args.train:
        before = set(Path(args.runs_dir).glob("*")) if Path(args.runs_dir).exists() else set()
        subprocess.run([sys.executable, "-m", "ganforge", "train", "--preset", preset, "--eval-every",
                        str(args.eval_every), "--runs-dir", args.runs_dir, "--quiet"], check=True)
        runs += sorted(set(Path(args.runs_dir).glob("*")) - before)
    if not runs:
        ap.error("give --runs or --train")
    ms = dict(kv.split("=", 1) for kv in args.ms_per_step)
    data = [read_run(r) for r in runs]

    print(f"{'run':<32} {'clock':<22} {'s/step':>7} {'min to CS 8':>12} {'min to CS 9':>12} {'final FID':>10} "
          f"{'final CS':>9}")
    curves = []
    for d in data:
        if d["name"] in ms:
            per = float(ms[d["name"]]) / 1000
            clock, label = (lambda e, per=per: e["step"] * per), f"steps x {ms[d['name']]} ms"
        else:
            clock, label = (lambda e: e["train_s"]), "this run's time_s"
            per = d["sec_per_step"]
        m8, m9 = minutes_to(d["evals"], "classifier_score", 8, clock), minutes_to(d["evals"], "classifier_score", 9, clock)
        last = d["evals"][-1]
        print(f"{d['name'] + ' (' + Path(d['run']).name + ')':<32} {label:<22} {per:7.3f} "
              f"{'-' if m8 is None else f'{m8:.1f}':>12} {'-' if m9 is None else f'{m9:.1f}':>12} "
              f"{last['fid']:10.3f} {last['classifier_score']:9.3f}")
        curves.append((d["name"], [clock(e) / 60 for e in d["evals"]], d["evals"]))

    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
        for name, xs, ev in curves:
            a1.plot(xs, [e["fid"] for e in ev], "o-", ms=3, label=name)
            a2.plot(xs, [e["classifier_score"] for e in ev], "o-", ms=3, label=name)
        a1.set_yscale("log")
        a1.set_ylabel("FID (n = 2,000, extractor)")
        a2.set_ylabel("classifier score (n = 2,000)")
        for a in (a1, a2):
            a.set_xlabel("training minutes")
            a.grid(alpha=0.3)
        a2.axhline(9, color="grey", lw=0.8, ls="--")
        a2.axhline(8, color="grey", lw=0.8, ls=":")
        a1.legend(fontsize=8)
        fig.tight_layout()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=110)
        print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
