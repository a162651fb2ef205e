"""Train every preset for its default length and print a table: wall time, throughput,
final sample grid, load average. Run by hand:

    python benchmarks/presets.py                      # every preset, default lengths
    python benchmarks/presets.py --only mnist-dcgan --steps 200
    python benchmarks/presets.py --threads 1 --docs   # copy grids to docs/img, write docs table

``cpu_s_per_step`` is the process's CPU time per generator step (all threads, setup
included): unlike wall time it hardly depends on what else runs on the machine, so
``steps × cpu_s_per_step`` estimates the single-thread time on an idle machine.

``img/s`` counts real images the discriminator sees per second (steps × batch × d_steps /
wall time, the whole run including data loading and grids); ``G steps/s`` counts
generator updates. Wall times on a shared machine are inflated by other processes: the
1-minute load average before and after each run is recorded next to it.

``folder-dcgan`` needs a folder of images: pass ``--folder PATH``, or ``--folder demo``
to write a demonstration folder of 64×64 colourised MNIST digits (PNG) under the runs
directory. Without ``--folder`` it is skipped.

``--time-steps N`` trains nothing to the end: it times N discriminator and N generator
updates of each preset's own models and optimisers on random data of the preset's shape
(after 5 warm-up updates), counts the critic updates the default length makes
(``task.critic_steps``: n_critic, and the WGAN warm-up schedule when it is on), and
prints the default length's estimated wall time. Data loading, grids and checkpoints are
left out (a few per cent of a run). Use it on an idle machine:

    python benchmarks/presets.py --time-steps 40
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


def run_preset(name: str, steps: int | None, threads: int, runs_dir: Path, dataset: str | None,
               resume: dict | None = None) -> dict:
    """Train one preset; with ``resume`` (a row written earlier for the same preset),
    continue that run up to ``steps`` and count its earlier wall time too."""
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
    t0, c0 = time.perf_counter(), time.process_time()
    result = train(cfg, runs_root=runs_dir, quiet=True, resume=resume["run_dir"] if resume else None)
    wall = time.perf_counter() - t0 + (resume["wall_s"] if resume else 0.0)
    cpu = time.process_time() - c0  # CPU seconds of this segment: what an idle machine would need
    if resume:
        load_before = (resume["load_before"],)
    load_after = os.getloadavg()
    t = cfg.train
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = rows[-1] if rows else {}
    return {
        "preset": name,
        "steps": result.step,
        "batch": t.batch_size,
        "d_steps": getattr(cfg.task, "d_steps", 1),
        "wall_s": round(wall, 1),
        "img_per_s": round(result.step * t.batch_size * getattr(cfg.task, "d_steps", 1) / wall, 1),
        "g_steps_per_s": round(result.step / wall, 2),
        "threads": torch.get_num_threads(),
        "cpu_s_per_step": round(cpu / max(1, result.step - (resume["steps"] if resume else 0)), 4),
        "load_before": round(load_before[0], 2),
        "load_after": round(load_after[0], 2),
        "grid": str(result.grid),
        "run_dir": str(result.run_dir),
        "final": {k: last.get(k) for k in ("d_loss", "g_loss", "d_real", "d_fake", "penalty") if k in last},
    }


def add_eval(row: dict, n: int) -> dict:
    """FID / KID / classifier score of ``n`` samples against MNIST test, in the feature
    space of ganforge's own MNIST classifier (see docs/evaluation.md); MNIST presets only.
    Floors, bootstrap intervals, pixel C2ST and memorisation are skipped to stay cheap."""
    from ganforge.eval import evaluate

    t0 = time.perf_counter()
    rep = evaluate(row["run_dir"], n=n, floor=False, pixel_c2st=False, memorisation=False, bootstrap=0,
                   kid_subsets=10, kid_subset_size=min(1000, n))
    row["eval"] = {"n": n, "fid": round(rep.value("fid"), 2), "kid": round(rep.value("kid"), 4),
                   "classifier_score": round(rep.value("classifier_score"), 2),
                   "eval_s": round(time.perf_counter() - t0, 1)}
    return row


def markdown(rows: list[dict], img_prefix: str | None = None) -> str:
    with_eval = any("eval" in r for r in rows)
    head = "| preset | G steps | batch × n_critic | wall time | img/s | G steps/s | threads | load avg (1 min) before → after |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---|"
    if with_eval:
        head += " FID | KID | classifier score |"
        rule += "---:|---:|---:|"
    lines = [head + " grid |", rule + "---|"]
    for r in rows:
        grid = f"![{r['preset']}]({img_prefix}/preset_{r['preset']}.png)" if img_prefix else r["grid"]
        line = (f"| `{r['preset']}` | {r['steps']} | {r['batch']} × {r['d_steps']} | {r['wall_s'] / 60:.1f} min | "
                f"{r['img_per_s']:.0f} | {r['g_steps_per_s']:.2f} | {r['threads']} | {r['load_before']} → {r['load_after']} |")
        if with_eval:
            e = r.get("eval")
            line += f" {e['fid']} | {e['kid']} | {e['classifier_score']} |" if e else " – | – | – |"
        lines.append(line + f" {grid} |")
    return "\n".join(lines)


def time_default_length(name: str, n: int, threads: int) -> dict:
    """ms per D update and per G update of preset ``name`` and the default length's estimate."""
    import torch

    from ganforge.data.training import DataSpec
    from ganforge.presets import preset_config
    from ganforge.tasks.gan import GANTask, d_step, ema_update, g_step

    if threads:
        torch.set_num_threads(threads)
    cfg = preset_config(name)
    folder = name.startswith("folder-")
    shape = ((cfg.data.channels or 3, cfg.data.image_size, cfg.data.image_size) if folder
             else (1, 8, 8) if cfg.data.dataset == "digits" else (1, 28, 28))
    k = 10 if cfg.data.conditional else 0
    task = GANTask(cfg, DataSpec(shape, k, True), torch.device("cpu"))  # the preset's real networks and optimizers
    G, D, G_ema, obj, opt_d, opt_g = task.G, task.D, task.G_ema, task.obj, task.opt_d, task.opt_g
    b = cfg.train.batch_size
    gen = torch.Generator().manual_seed(0)
    real = torch.rand((b,) + shape, generator=gen) * 2 - 1
    y = torch.randint(0, 10, (b,), generator=gen) if k else None

    def d_once():
        d_step(G, D, opt_d, real, y, torch.randn(b, cfg.model.z_dim, generator=gen), obj, joint=task.joint)

    def g_once():
        g_step(G, D, opt_g, torch.randn(b, cfg.model.z_dim, generator=gen), y, obj)
        if G_ema is not None:
            ema_update(G_ema, G, cfg.task.ema, 1000)

    def ms(f):
        for _ in range(5):
            f()
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        return (time.perf_counter() - t0) / n * 1e3

    d_ms, g_ms = ms(d_once), ms(g_once)
    critic_updates = sum(cfg.task.critic_steps(s) for s in range(cfg.train.steps))
    total_s = (critic_updates * d_ms + cfg.train.steps * g_ms) / 1e3
    return {"preset": name, "threads": torch.get_num_threads(), "d_ms": round(d_ms, 1), "g_ms": round(g_ms, 1),
            "g_steps": cfg.train.steps, "d_updates": critic_updates, "est_min": round(total_s / 60, 1),
            "load_avg": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    from ganforge.presets import PRESETS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", help="preset name (repeatable); default: every GAN preset")
    p.add_argument("--steps", type=int, help="override every preset's train.steps")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--runs-dir", default="/tmp/ganforge-bench/runs", help="where the runs go (not the repo)")
    p.add_argument("--folder", help="image folder for folder-dcgan, or 'demo' for colourised MNIST at 64 px")
    p.add_argument("--docs", action="store_true", help="copy final grids to docs/img/preset_<name>.png")
    p.add_argument("--json", help="append each result row to this JSON-lines file")
    p.add_argument("--resume", action="store_true", help="continue the preset's last run recorded in --json up to "
                                                           "--steps (wall time adds the earlier segment)")
    p.add_argument("--eval", type=int, metavar="N", help="after training, FID/KID/classifier score of N samples (MNIST presets)")
    p.add_argument("--from-json", metavar="FILE", help="no training: print the table of rows saved with --json "
                                                        "(the last row per preset), evaluating them if --eval is given")
    p.add_argument("--time-steps", type=int, metavar="N", help="no training: time N D and N G updates per preset "
                                                                "and estimate the default length's wall time")
    args = p.parse_args(argv)
    # The GAN presets by default; the VAE baselines (kind="vae") only when named with --only.
    gan_presets = [n for n in PRESETS.names() if getattr(PRESETS.get(n).config, "kind", "gan") == "gan"]

    if args.time_steps:
        names = args.only or gan_presets
        print("| preset | threads | ms / D update | ms / G update | G steps | D updates | est. default length (min) | load avg |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in names:
            r = time_default_length(name, args.time_steps, args.threads)
            print(f"| `{name}` | {r['threads']} | {r['d_ms']} | {r['g_ms']} | {r['g_steps']:,} | {r['d_updates']:,} "
                  f"| {r['est_min']} | {r['load_avg']} |", flush=True)
        return 0

    if args.from_json:
        saved = {}
        for line in Path(args.from_json).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                saved[row["preset"]] = row
        rows = [saved[n] for n in (args.only or saved)]
        if args.eval:
            for i, r in enumerate(rows):
                if r["preset"].startswith("mnist-") and "eval" not in r:
                    rows[i] = add_eval(r, args.eval)
                    with open(args.from_json, "a") as f:  # later tables reuse the numbers
                        f.write(json.dumps(rows[i]) + "\n")
        print(markdown(rows, "img" if args.docs else None))
        return 0

    names = args.only or gan_presets
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
        previous = None
        if args.resume:
            saved = [json.loads(x) for x in Path(args.json).read_text().splitlines() if x.strip()]
            previous = [r for r in saved if r["preset"] == name][-1]
        row = run_preset(name, args.steps, args.threads, runs_dir, dataset, previous)
        if args.eval and name.startswith("mnist-"):
            row = add_eval(row, args.eval)
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
