"""The GPU path, measured: img/s of the training loop on one CUDA device, eager vs each
fast option, against the textbook loop on the same device; every preset trained a few
steps on CUDA; and the minutes a preset needs to its default length on the GPU.

    python benchmarks/gpu.py --table            # throughput table (markdown)
    python benchmarks/gpu.py --smoke 50         # every preset, 50 steps on cuda
    python benchmarks/gpu.py --default mnist-dcgan --eval 10000

img/s counts real images D sees per second (batch × d_steps per step), read from the
run's own metrics.jsonl windows after the first two (so torch.compile's compilation and
cuDNN's autotuning are not counted); the textbook loop is benchmarks/train_throughput.py's
per-item Dataset + DataLoader, moved to the device batch by batch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = {
    "eager": {},
    "bf16": {"train.bf16": True},
    "channels_last": {"train.channels_last": True},
    "compile": {"train.compile": True},
    "bf16+channels_last+compile": {"train.bf16": True, "train.channels_last": True, "train.compile": True},
}


def loop_img_per_s(cfg, runs: str) -> float:
    from ganforge.training import train

    r = train(cfg, runs_root=runs, quiet=True)
    rows = [json.loads(line) for line in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    rows = [row for row in rows if "img_per_s" in row][2:]
    return sum(row["img_per_s"] for row in rows) / len(rows)


def textbook_img_per_s(batch: int, steps: int, device: str = "cuda") -> float:
    from train_throughput import reference_loop

    from ganforge.data.mnist import load_mnist
    from ganforge.presets import preset_config

    images, _ = load_mnist("train")
    cfg = preset_config("mnist-mlp").override({"train.batch_size": batch})
    return reference_loop(cfg, images, steps, device=device)


def table(steps: int, batches: list[int], folder: str, device: str = "cuda", only=tuple(VARIANTS)) -> None:
    """Every variant at the first batch size; eager and all options together at the others."""
    from ganforge.presets import preset_config

    print(f"| preset | batch | {' | '.join(VARIANTS)} |")
    print("|---|---:|" + "---:|" * len(VARIANTS))
    for name in ("mnist-mlp", "mnist-dcgan", "folder-dcgan"):
        for i, b in enumerate(batches):
            cells = []
            for variant, sets in VARIANTS.items():
                if variant not in only or (i and variant not in ("eager", "bf16+channels_last+compile")):
                    cells.append("")
                    continue
                cfg = preset_config(name).override({
                    "train.device": device, "train.batch_size": b, "train.steps": steps, "train.log_every": steps // 10,
                    "train.sample_every": 10**9, "train.checkpoint_every": 10**9, **sets,
                    **({"data.dataset": folder} if name.startswith("folder") else {})})
                if variant == "channels_last" and cfg.model.generator == "mlp":
                    cells.append("–")
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    try:
                        cells.append(f"{loop_img_per_s(cfg, tmp):,.0f}")
                    except Exception as exc:  # a failing option is a result too
                        cells.append(f"failed: {type(exc).__name__}")
                print(f"  {name} b={b} {variant}: {cells[-1]}", file=sys.stderr, flush=True)
            print(f"| `{name}` | {b} | {' | '.join(cells)} |", flush=True)
    for b in batches:
        print(f"| textbook loop, `mnist-mlp` models | {b} | {textbook_img_per_s(b, steps, device):,.0f} (eager) |",
              flush=True)


def smoke(steps: int, folder: str, device: str = "cuda", only: tuple[str, ...] = ()) -> None:
    from ganforge.errors import GanforgeError
    from ganforge.presets import PRESETS, preset_config
    from ganforge.training import train

    for name in only or PRESETS.names():
        cfg = preset_config(name).override({"train.device": device, "train.steps": steps, "train.log_every": 10,
                                            "train.sample_every": steps, "train.checkpoint_every": steps,
                                            **({"data.dataset": folder} if name.startswith("folder") else {})})
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                r = train(cfg, runs_root=tmp, quiet=True)
            except GanforgeError as exc:  # e.g. a data set this machine cannot fetch
                print(f"| `{name}` | – | – | not run: {exc} |", flush=True)
                continue
            except Exception as exc:  # a family that fails on this device is a result: go on with the others
                print(f"| `{name}` | – | – | **failed**: {type(exc).__name__}: {str(exc)[:200]} |", flush=True)
                continue
            last = [json.loads(line) for line in (r.run_dir / "metrics.jsonl").read_text().splitlines()][-1]
            print(f"| `{name}` | {r.step} | {time.perf_counter() - t0:.1f} s | "
                  f"{ {k: v for k, v in last.items() if k not in ('step', 'time_s')} } |", flush=True)


def default_run(name: str, n_eval: int, sets: dict, device: str = "cuda") -> None:
    from ganforge.eval import evaluate
    from ganforge.presets import preset_config
    from ganforge.training import train

    cfg = preset_config(name).override({"train.device": device, **sets})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r = train(cfg, runs_root=tmp, quiet=True)
        minutes = (time.perf_counter() - t0) / 60
        where = torch.cuda.get_device_name() if device == "cuda" else device
        line = f"`{name}` {r.step} steps on {where} ({sets or 'eager'}): {minutes:.2f} min"
        if n_eval:
            rep = evaluate(str(r.run_dir), n=n_eval, bootstrap=0, pixel_c2st=False)
            m = rep.metrics
            line += (f"; FID {m['fid'].value:.2f} (floor {m['fid'].floor:.2f}), classifier score "
                     f"{m['classifier_score'].value:.2f}, n={n_eval}, 1 seed, no pixel C2ST")
        print(line, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batches", default="64,512")
    ap.add_argument("--smoke", type=int, default=0, help="train every preset this many steps on cuda")
    ap.add_argument("--presets", default="", help="comma-separated presets for --smoke (default: all)")
    ap.add_argument("--default", help="train this preset to its default length on cuda")
    ap.add_argument("--set", action="append", default=[], help="options for --default, e.g. train.bf16=true")
    ap.add_argument("--eval", type=int, default=0, help="evaluate the --default run with this many samples")
    ap.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "gpu-demo-folder"))
    ap.add_argument("--device", default="cuda", help="cpu: a dry run of the script's code paths")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of the table's columns")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: this benchmark measures the GPU path", file=sys.stderr)
        return 2
    from presets import make_demo_folder

    make_demo_folder(Path(args.folder), n=2000)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {os.cpu_count()} CPU cores")
    if args.smoke:
        smoke(args.smoke, args.folder, args.device, tuple(filter(None, args.presets.split(","))))
    if args.table:
        table(args.steps, [int(b) for b in args.batches.split(",")], args.folder, args.device,
              tuple(args.variants.split(",")))
    if args.default:
        sets = dict(s.split("=", 1) for s in args.set)
        default_run(args.default, args.eval, {k: json.loads(v) for k, v in sets.items()}, args.device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
