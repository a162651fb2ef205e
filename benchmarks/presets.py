"""Train every preset for its default length and print a table: wall time, throughput,
final sample grid, load average. Run by hand:

    python benchmarks/presets.py                      # every preset, default lengths
    python benchmarks/presets.py --only mnist-dcgan --steps 200
    python benchmarks/presets.py --threads 1 --docs   # copy grids to docs/img, write docs table

``img/s`` counts real images the discriminator sees per second (steps × batch × d_steps /
wall time, the whole run including data loading and grids); ``G steps/s`` counts
generator updates. Wall times on a shared machine are inflated by other processes: the
1-minute load average before and after each run is recorded next to it.

``folder-dcgan`` needs a folder of images: pass ``--folder PATH``, or ``--folder demo``
to write a demonstration folder of 64×64 colourised MNIST digits (PNG) under the runs
directory. Without ``--folder`` it is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_demo_folder(out: Path, n: int = 6000, seed: int = 0) -> Path:
    """64×64 RGB PNGs: MNIST digits upscaled, in a random colour on a random dark background."""
    from PIL import Image

    from ganforge.data.mnist import load_mnist

    out.mkdir(parents=True, exist_ok=True)
    if len(list(out.glob("*.png"))) >= n:
        return out
    x, _ = load_mnist("train")
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = np.asarray(Image.fromarray(x[i]).resize((64, 64), Image.Resampling.BILINEAR), np.float32)[..., None] / 255
        fg = rng.uniform(0.5, 1.0, 3)
        bg = rng.uniform(0.0, 0.3, 3)
        rgb = (img * fg + (1 - img) * bg) * 255
        Image.fromarray(rgb.round().astype(np.uint8)).save(out / f"{i:05d}.png")
    return out


def run_preset(name: str, steps: int | None, threads: int, runs_dir: Path, dataset: str | None) -> dict:
    import torch

    from ganforge.presets import preset_config
    from ganforge.training import train

    cfg = preset_config(name)
    updates = {"train.threads": threads}
    if steps:
        updates["train.steps"] = steps
    if dataset:
        updates["data.dataset"] = dataset
    cfg = cfg.override(updates)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = train(cfg, runs_root=runs_dir, quiet=True)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    t = cfg.train
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = rows[-1] if rows else {}
    return {
        "preset": name,
        "steps": result.step,
        "batch": t.batch_size,
        "d_steps": t.d_steps,
        "wall_s": round(wall, 1),
        "img_per_s": round(result.step * t.batch_size * t.d_steps / wall, 1),
        "g_steps_per_s": round(result.step / wall, 2),
        "threads": torch.get_num_threads(),
        "load_before": round(load_before[0], 2),
        "load_after": round(load_after[0], 2),
        "grid": str(result.grid),
        "run_dir": str(result.run_dir),
        "final": {k: last.get(k) for k in ("d_loss", "g_loss", "d_real", "d_fake", "penalty") if k in last},
    }


def markdown(rows: list[dict], img_prefix: str | None = None) -> str:
    lines = [
        "| preset | G steps | batch × n_critic | wall time | img/s | G steps/s | threads | load avg (1 min) before → after | grid |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        grid = f"![{r['preset']}]({img_prefix}/preset_{r['preset']}.png)" if img_prefix else r["grid"]
        lines.append(
            f"| `{r['preset']}` | {r['steps']} | {r['batch']} × {r['d_steps']} | {r['wall_s'] / 60:.1f} min | "
            f"{r['img_per_s']:.0f} | {r['g_steps_per_s']:.2f} | {r['threads']} | {r['load_before']} → {r['load_after']} | {grid} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from ganforge.presets import PRESETS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", help="preset name (repeatable); default: all")
    p.add_argument("--steps", type=int, help="override every preset's train.steps")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--runs-dir", default="/tmp/ganforge-bench/runs", help="where the runs go (not the repo)")
    p.add_argument("--folder", help="image folder for folder-dcgan, or 'demo' for colourised MNIST at 64 px")
    p.add_argument("--docs", action="store_true", help="copy final grids to docs/img/preset_<name>.png")
    p.add_argument("--json", help="append each result row to this JSON-lines file")
    args = p.parse_args(argv)

    names = args.only or PRESETS.names()
    runs_dir = Path(args.runs_dir)
    rows = []
    for name in names:
        dataset = None
        if name.startswith("folder-"):
            if not args.folder:
                print(f"skipping {name}: pass --folder PATH (or --folder demo)", file=sys.stderr)
                continue
            dataset = str(make_demo_folder(runs_dir.parent / "demo-folder")) if args.folder == "demo" else args.folder
        print(f"training {name} ...", file=sys.stderr, flush=True)
        row = run_preset(name, args.steps, args.threads, runs_dir, dataset)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
        if args.docs and row["grid"] != "None":
            dst = ROOT / "docs" / "img" / f"preset_{name}.png"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(row["grid"], dst)
    print(markdown(rows, "img" if args.docs else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
