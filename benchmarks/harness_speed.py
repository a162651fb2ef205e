"""Does the harness cost speed? Wall time of whole `ganforge train` runs, this tree against
another checkout of ganforge (e.g. the release before the harness), same machine, same run.

    git worktree add /tmp/old 7e5a650        # the last commit before the harness (issue 13)
    python benchmarks/harness_speed.py --other /tmp/old/src [--repeats 1]

Runs each case as a fresh process (`python -m ganforge train ... --quiet`), alternating the
two trees so that drift in the machine's speed hits both. Prints a table of wall seconds
(process start to exit, so imports and data loading count too) and the ratio new / other.
Measure on a quiet machine: two runs at once on 2 cores distort both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "src"
#: (label, preset, steps or None for the preset's default). mnist-mlp was the README default, 6,000
#: steps, when the harness landed; its preset now runs 18,000 (at most 5 minutes), so the steps are given.
CASES = [("the README default then: mnist-mlp, 6,000 steps", "mnist-mlp", 6000),
         ("mnist-dcgan, 1,000 steps", "mnist-dcgan", 1000),
         ("mnist-mlp, 1,000 steps", "mnist-mlp-short", 1000)]


def time_run(src: Path, preset: str, steps: int | None, threads: int) -> float:
    cmd = [sys.executable, "-m", "ganforge", "train", "--preset", preset.removesuffix("-short"), "--quiet"]
    if steps:
        cmd += ["--steps", str(steps)]
    if threads:
        cmd += ["--set", f"train.threads={threads}"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(src)}
        t0 = time.perf_counter()
        subprocess.run(cmd + ["--runs-dir", tmp], check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--other", type=Path, required=True, help="the src/ folder of the checkout to compare with")
    ap.add_argument("--this", type=Path, default=HERE, help="the src/ folder to measure (default: this tree's); "
                                                            "a frozen copy keeps edits during the run out of it")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="train.threads (0 = torch's default)")
    ap.add_argument("--only", action="append", help="run only the cases named so (mnist-mlp, mnist-dcgan, "
                                                     "mnist-mlp-short); repeatable")
    args = ap.parse_args(argv)
    rows = []
    for label, preset, steps in CASES:
        if args.only and preset not in args.only:
            continue
        times = {"other": [], "this": []}
        for _ in range(args.repeats):
            for name, src in (("other", args.other), ("this", args.this)):
                times[name].append(time_run(src, preset, steps, args.threads))
                print(f"{label} [{name}]: {times[name][-1]:.1f} s", file=sys.stderr)
        o, t = statistics.median(times["other"]), statistics.median(times["this"])
        rows.append(f"| {label} | {o:.1f} | {t:.1f} | {t / o:.3f} |")
    print(f"\n| run (wall s, median of {args.repeats}) | {args.other} | this tree | this / other |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
