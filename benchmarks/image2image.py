"""Image-to-image measurements (issue 15): train presets (mnist-sr4, mnist-sr2, mnist-edges2digits,
mnist-inpaint, folder-colorize, folder-sr4) and put the model beside its baselines on the
test split: PSNR, SSIM, L1, identity preserved and FID (digits), plus wall time and ms/step.

    .venv/bin/python benchmarks/image2image.py --preset mnist-sr4 --out /tmp/i2i-bench
    .venv/bin/python benchmarks/image2image.py --preset mnist-sr4 --steps 1000 --pretrain 500 --threads 1
    .venv/bin/python benchmarks/image2image.py --preset folder-colorize --dataset /tmp/emoji64

Writes OUT/<preset>.json (the paired report, the run, its wall time) and OUT/<preset>.png
(one row per test pair: input | baselines | model | target) and prints a markdown table.
The machine's load average is recorded: on a shared machine the times are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch


def grid_rows(run: Path, k: int = 8) -> tuple[torch.Tensor, int, list[str]]:
    """(images, columns, column names): for k test pairs, input | baselines | model | target."""
    from ganforge.errors import ConfigError
    from ganforge.eval.paired import baselines
    from ganforge.translate import display_input, load_translator

    T = load_translator(run)
    info = T.test_pairs()
    x, t, _ = info.test(k)
    cols = {"input": display_input(x, info.target_shape)}  # (translation's baseline *is* the input)
    cols.update({n: v for n, v in baselines(x, info.target_shape, info.scale).items() if n != "input"})
    if T.kind == "srgan":
        try:
            cols["srresnet"] = load_translator(run, net="G_mse").translate(x)
        except ConfigError:
            pass
    cols[T.kind] = T.translate(x)
    cols["target"] = t
    names = list(cols)
    return torch.stack([cols[n].float() for n in names], 1).reshape(-1, *t.shape[1:]), len(names), names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", action="append", required=True)
    ap.add_argument("--steps", type=int, help="override train.steps")
    ap.add_argument("--pretrain", type=int, help="override task.pretrain_steps (srgan)")
    ap.add_argument("--dataset", help="data.dataset for the folder presets")
    ap.add_argument("--n", type=int, default=10000, help="test pairs to evaluate (at most the test split)")
    ap.add_argument("--threads", type=int, default=0, help="train.threads (0 = torch's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/i2i-bench")
    ap.add_argument("--run", help="evaluate this existing run instead of training (one preset)")
    args = ap.parse_args()

    from ganforge.eval.paired import evaluate_paired, paired_table
    from ganforge.images import save_grid
    from ganforge.presets import preset_config
    from ganforge.sampler import to_uint8_images
    from ganforge.training import train

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in args.preset:
        cfg = preset_config(name)
        sets = {"train.seed": args.seed, "train.threads": args.threads}
        if args.steps:
            sets["train.steps"] = args.steps
        if args.pretrain is not None:
            sets["task.pretrain_steps"] = args.pretrain
        if args.dataset:
            sets["data.dataset"] = args.dataset
        cfg = cfg.override(sets)
        load0 = os.getloadavg()
        t0 = time.perf_counter()
        run = Path(args.run) if args.run else train(cfg, runs_root=out / "runs", quiet=True).run_dir
        wall = time.perf_counter() - t0
        rep = evaluate_paired(run, args.n)
        rep.update({"preset": name, "run": str(run), "steps": cfg.train.steps, "wall_s": round(wall, 1),
                    "ms_per_step": round(1000 * wall / cfg.train.steps, 1), "threads": args.threads,
                    "loadavg_start": load0, "loadavg_end": os.getloadavg()})
        (out / f"{name}.json").write_text(json.dumps(rep, indent=2))
        imgs, ncol, names = grid_rows(run)
        save_grid(to_uint8_images(imgs), out / f"{name}.png", nrow=ncol)
        print(paired_table(rep))
        print(f"{name}: {cfg.train.steps} steps in {wall:.0f} s ({rep['ms_per_step']} ms/step, load {load0[0]:.1f}); "
              f"grid columns: {' | '.join(names)} -> {out / f'{name}.png'}", flush=True)
        for method, r in rep["rows"].items():
            cells = " | ".join("n/a" if r.get(c) is None else f"{r[c]:.3f}" for c in ("psnr", "ssim", "l1", "identity", "fid"))
            lines.append(f"| {name} | {method} | {cells} |")
    print("\n| preset | method | PSNR dB | SSIM | L1 | identity | FID |\n|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
