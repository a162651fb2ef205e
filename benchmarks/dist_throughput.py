"""Data parallelism on the CPU: img/s of one preset as 1 process × N threads vs N processes
× 1 thread (torchrun, gloo), at the same global batch.

    python benchmarks/dist_throughput.py [--preset mnist-dcgan] [--steps 300] [--procs 2]

img/s is the run's own metrics.jsonl figure (global real images per second), averaged over
the windows after the first two. Measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def img_per_s(run_dir: Path) -> float:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "img_per_s" in r][2:]
    return sum(r["img_per_s"] for r in rows) / len(rows)


def run(procs: int, threads: int, preset: str, steps: int, global_batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        train = ["-m", "ganforge", "train", "--preset", preset, "--steps", str(steps), "--quiet", "--runs-dir", tmp,
                 "--batch-size", str(global_batch // procs), "--set", f"train.threads={threads}",
                 "--set", f"train.log_every={max(1, steps // 10)}", "--set", "train.sample_every=1000000",
                 "--set", "train.checkpoint_every=1000000"]
        cmd = [sys.executable, *(["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
                                 if procs > 1 else []), *train]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        (run_dir,) = Path(tmp).iterdir()
        return img_per_s(run_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="mnist-dcgan")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64, help="global batch (split over the processes)")
    args = ap.parse_args(argv)
    one = run(1, args.procs, args.preset, args.steps, args.batch)
    many = run(args.procs, 1, args.preset, args.steps, args.batch)
    print(f"| `{args.preset}`, global batch {args.batch} | img/s |\n|---|---:|")
    print(f"| 1 process × {args.procs} threads | {one:,.0f} |")
    print(f"| {args.procs} processes × 1 thread (torchrun, gloo) | {many:,.0f} ({many / one:.2f}×) |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
