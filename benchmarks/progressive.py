"""Progressive growing (issue 16): step cost per level, and mnist-progressive against
mnist-dcgan at equal wall time.

    # ms per step at each level, from a short run of the preset's recipe (a shrunk schedule)
    python benchmarks/progressive.py levels [--images 2000] [--threads 2]
    # equal wall time: train mnist-progressive, then mnist-dcgan for as many seconds (stopped by
    # SIGTERM, which writes a checkpoint), then `ganforge evaluate` both (FID, classifier score,
    # recall, coverage, class shares) and print one Markdown table with the grid paths
    python benchmarks/progressive.py compare [--runs-dir runs/bench-progressive] [-n 10000]
    # the same for image folders: folder-progressive against folder-dcgan (FID etc. need an
    # Inception extractor for RGB; without one the pixel C2ST, the grids and step costs are compared)
    python benchmarks/progressive.py compare --dataset path/to/emoji --pair folder-progressive folder-dcgan \
        -n 1610 --eval-args=--ref=path/to/emoji

Timings come from each run's own metrics.jsonl (``time_s`` at the log rows, ``resolution``
says the level), so they include everything the harness does. Measure on a quiet machine
and print the load average next to the numbers (the script does).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def rows(run: Path) -> list[dict]:
    return [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if '"d_loss"' in l]


def ms_per_step_by_level(run: Path) -> dict[float, float]:
    """Median ms per step over consecutive log rows that stay at one resolution."""
    out: dict[float, list[float]] = {}
    rs = rows(run)
    for a, b in zip(rs, rs[1:]):
        if a["resolution"] == b["resolution"] and b["step"] > a["step"]:
            out.setdefault(b["resolution"], []).append(1000 * (b["time_s"] - a["time_s"]) / (b["step"] - a["step"]))
    return {res: sorted(v)[len(v) // 2] for res, v in sorted(out.items())}


def train(preset: str, runs_dir: Path, extra: list[str], seconds: float | None = None) -> tuple[Path, float]:
    """Train ``preset`` (stopped by SIGTERM after ``seconds`` if given); (run dir, wall seconds)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    before = set(runs_dir.iterdir())
    cmd = [sys.executable, "-m", "ganforge", "train", "--preset", preset, "--runs-dir", str(runs_dir), "--quiet",
           *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the harness finishes the step and writes a checkpoint
        proc.wait()
    wall = time.perf_counter() - t0
    (run,) = set(runs_dir.iterdir()) - before
    return run, wall


def evaluate(run: Path, n: int, extra: list[str], pixel_c2st: bool = False) -> dict:
    """`ganforge evaluate`; the pixel C2ST (the slowest metric) only where it is the one metric
    there is: RGB folders, which the shipped 28×28 extractors cannot embed."""
    out = run / "eval.json"
    subprocess.run([sys.executable, "-m", "ganforge", "evaluate", str(run), "-n", str(n), "--json", str(out),
                    *([] if pixel_c2st else ["--no-pixel-c2st"]), *extra], check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["metrics"]


def _value(metrics: dict, key: str) -> str:
    m = metrics.get(key)
    if m is None:
        return "–"
    v = m.get("value") if isinstance(m, dict) else m
    return f"{v:.3g}" if isinstance(v, (int, float)) else str(v)


def cmd_levels(args) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        from ganforge.presets import preset_config
        from ganforge.tasks.progressive import total_steps

        cfg = preset_config(args.preset).override({"task.fade_images": args.images, "task.stable_images": args.images})
        steps = total_steps(cfg, (1, 28, 28) if cfg.data.dataset == "mnist" else (3, 32, 32))
        run, wall = train(args.preset, Path(tmp), ["--steps", str(steps), "--set", f"task.fade_images={args.images}",
                                                  "--set", f"task.stable_images={args.images}",
                                                  "--set", f"train.threads={args.threads}", "--set", "train.log_every=10",
                                                  *(["--dataset", args.dataset] if args.dataset else [])])
        per = ms_per_step_by_level(run)
        print(f"| `{args.preset}` level | ms / step (median) |\n|---|---:|")
        for res, ms in per.items():
            print(f"| {int(res)}×{int(res)} | {ms:.0f} |")
        print(f"\n{steps} steps in {wall:.0f} s wall; load average after: {os.getloadavg()[0]:.2f}")
    return 0


def cmd_compare(args) -> int:
    runs_dir = Path(args.runs_dir)
    data = (["--dataset", args.dataset] if args.dataset else []) + ["--set", f"train.threads={args.threads}"]
    prog, wall = train(args.pair[0], runs_dir, data)
    base, wall_b = train(args.pair[1], runs_dir, [*data, "--steps", "1000000"], seconds=wall)
    keys = ("fid", "classifier_score", "recall", "coverage", "c2st_pixels")
    table = [("run", "steps", "wall s", "FID", "classifier score", "recall", "coverage", "pixel C2ST", "grid")]
    for run, w in ((prog, wall), (base, wall_b)):
        metrics = evaluate(run, args.n, args.eval_args, pixel_c2st=bool(args.dataset)) if not args.no_eval else {}
        steps = rows(run)[-1]["step"] if (run / "metrics.jsonl").exists() else 0
        table.append((run.name, str(steps), f"{w:.0f}", *(_value(metrics, k) for k in keys),
                      str(run / "samples" / "latest.png")))
        if "class_shares" in metrics:
            print(run.name, "class shares:", _value(metrics, "class_shares"))
    print("| " + " | ".join(table[0]) + " |\n|" + "---|" * len(table[0]))
    for r in table[1:]:
        print("| " + " | ".join(r) + " |")
    print(f"\ngrowth GIF: {prog / 'samples' / 'progress.gif'}; load average after: {os.getloadavg()[0]:.2f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lv = sub.add_parser("levels", help="ms per step at each level (short run)")
    lv.add_argument("--preset", default="mnist-progressive")
    lv.add_argument("--images", type=int, default=2000, help="images per phase of the shrunk schedule")
    lv.add_argument("--threads", type=int, default=2, help="1 on a shared machine (see compare --threads)")
    lv.add_argument("--dataset", default=None)
    cp = sub.add_parser("compare", help="progressive vs a baseline at equal wall time, evaluated")
    cp.add_argument("--pair", nargs=2, default=["mnist-progressive", "mnist-dcgan"], metavar=("PROGRESSIVE", "BASELINE"))
    cp.add_argument("--runs-dir", default="runs/bench-progressive")
    cp.add_argument("--dataset", default=None, help="an image folder (for the folder-* presets)")
    cp.add_argument("-n", type=int, default=10000, help="samples per evaluation")
    cp.add_argument("--threads", type=int, default=2, help="train.threads of both runs (1 on a shared machine: "
                    "2 threads on oversubscribed cores measured 10-20x slower)")
    cp.add_argument("--no-eval", action="store_true", help="only train (grids and step counts)")
    cp.add_argument("--eval-args", nargs="*", default=[], help="more `ganforge evaluate` arguments, e.g. --ref DIR")
    args = ap.parse_args(argv)
    return cmd_levels(args) if args.cmd == "levels" else cmd_compare(args)


if __name__ == "__main__":
    raise SystemExit(main())
