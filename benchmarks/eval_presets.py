"""The measured table of issue 6: every trained preset evaluated against the 10,000 MNIST
test images, 3 sampling seeds each (mean ± sd), beside the real-vs-real floor.

    python benchmarks/eval_presets.py --runs-dir runs            # evaluates what is there
    python benchmarks/eval_presets.py --runs-dir runs --markdown # table for docs/evaluation.md
    python benchmarks/eval_presets.py --floor-only               # just the real floors

A preset's runs are the directories ``RUNS_DIR/NNN-<preset>`` that hold a checkpoint
(as written by ``ganforge train --preset <preset>``); several runs of one preset are
aggregated together. Presets without a run are listed as "not trained" - this script
never trains (training every preset is hours on 2 CPU cores; do it explicitly). Targets
(issue 6, best preset): classifier score >= 9.5, every class 10 ± 2 points, FID <= 3x
the floor, pixel C2ST <= 0.65, copy rate <= real held-out + 1 point.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

COLUMNS = [
    ("fid", "FID", "{:.2f}"), ("kid", "KID", "{:.4f}"), ("classifier_score", "CS", "{:.2f}"),
    ("classes_present", "classes", "{:.0f}"), ("max_class_deviation", "max dev pts", "{:.1f}"),
    ("precision", "prec", "{:.3f}"), ("recall", "rec", "{:.3f}"), ("density", "dens", "{:.3f}"),
    ("coverage", "cov", "{:.3f}"), ("c2st_features", "C2ST feat", "{:.3f}"), ("c2st_pixels", "C2ST pix", "{:.3f}"),
    ("one_nn", "1-NN", "{:.3f}"), ("copy_rate", "copy %", "{:.2f}"),
]


def targets(rep) -> str:
    m = rep.metrics
    out = []
    if "classifier_score" in m:
        out.append(f"CS>=9.5 {'yes' if m['classifier_score'].value >= 9.5 else 'no'}")
    if rep.class_shares is not None:
        ok = all(abs(100 * s - 10) <= 2 for s in rep.class_shares)
        out.append(f"classes 10±2 {'yes' if ok else 'no'}")
    if "fid" in m and m["fid"].floor:
        out.append(f"FID<=3xfloor {'yes' if m['fid'].value <= 3 * m['fid'].floor else 'no'}")
    if "c2st_pixels" in m:
        out.append(f"C2STpix<=0.65 {'yes' if m['c2st_pixels'].value <= 0.65 else 'no'}")
    if "copy_rate" in m and m["copy_rate"].floor is not None:
        out.append(f"copy<=real+1 {'yes' if m['copy_rate'].value <= m['copy_rate'].floor + 1 else 'no'}")
    return ", ".join(out)


def fmt(m, fmt_s: str) -> str:
    s = fmt_s.format(m.value)
    return s + (" ± " + fmt_s.format(m.sd) if m.sd is not None and m.note.startswith("mean") else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seeds", type=int, default=3, help="sampling seeds per run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--floor-only", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="write all reports here")
    ap.add_argument("--run", action="append", metavar="PRESET=PATH",
                    help="evaluate this run directory or checkpoint as PRESET (repeatable); only these presets")
    args = ap.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from ganforge.data.mnist import load_mnist
    from ganforge.errors import GanforgeError
    from ganforge.eval import aggregate, evaluate
    from ganforge.presets import PRESETS

    # The floor row: n held-out real images (MNIST train, seeded subset) evaluated exactly
    # like samples. evaluate() computes the same numbers as its floor column.
    train, _ = load_mnist("train")
    idx = np.sort(np.random.default_rng(0).choice(len(train), args.n, replace=False))
    print("evaluating the real floor ...", file=sys.stderr, flush=True)
    t = time.perf_counter()
    floor_rep = evaluate(train[idx], n=args.n)
    # The row shows the *floor column* of this report (its values are those same images,
    # which are training images, so their copy rate is 100 % by construction). The
    # copy-rate floor is the test set against train: held-out images never trained on.
    rows = [("real floor (held-out real)", floor_rep, time.perf_counter() - t)]
    reports = {"real": floor_rep.to_dict()}

    if not args.floor_only:
        runs_dir = Path(args.runs_dir)
        chosen: dict[str, list[Path]] = {}
        for spec in args.run or []:
            name, _, path = spec.partition("=")
            chosen.setdefault(name, []).append(Path(path))
        for name in chosen or PRESETS.names():
            if not name.startswith("mnist"):
                continue
            if chosen:
                runs = chosen[name]
            else:
                runs = sorted(p for p in runs_dir.glob(f"*-{name}") if re.match(r"\d+-", p.name)) if runs_dir.exists() else []
                runs = [r for r in runs if (r / "checkpoints").exists()]
            if not runs:
                rows.append((f"{name}: not trained", None, 0.0))
                continue
            print(f"evaluating {name}: {', '.join(r.name for r in runs)} x {args.seeds} seeds", file=sys.stderr, flush=True)
            t = time.perf_counter()
            try:
                reps = [evaluate(str(r), n=args.n, runs=args.seeds) for r in runs]
            except GanforgeError as exc:  # e.g. a checkpoint from an older model definition
                rows.append((f"{name}: failed ({exc})", None, 0.0))
                continue
            rep = aggregate(reps, source=f"{name} ({len(runs)} run(s) x {args.seeds} seeds)") if len(reps) > 1 else reps[0]
            rows.append((name, rep, time.perf_counter() - t))
            reports[name] = rep.to_dict()

    head = ["model"] + [c[1] for c in COLUMNS] + ["targets"]
    lines = []
    if args.markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
    for name, rep, sec in rows:
        if rep is None:
            cells = [name] + ["-"] * len(COLUMNS) + [""]
        else:
            if rep is floor_rep:
                cells = [name] + [f.format(rep.metrics[k].floor) if k in rep.metrics and rep.metrics[k].floor
                                  is not None else "-" for k, _, f in COLUMNS] + [""]
            else:
                cells = [name] + [fmt(rep.metrics[k], f) if k in rep.metrics else "-" for k, _, f in COLUMNS]
                cells.append(targets(rep))
        lines.append(("| " + " | ".join(cells) + " |") if args.markdown else "  ".join(cells))
    print("\n".join(lines))
    print(f"\nfloor protocol: {floor_rep.protocol.floor_set} vs {floor_rep.protocol.reference}, "
          f"extractor {floor_rep.protocol.extractor_sha256[:12]}, seed {floor_rep.protocol.seed}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
