"""Verb: evaluate (similarity, diversity, mode collapse, memorisation of samples)."""

from __future__ import annotations

import argparse

from ganforge.cli import seed_int

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    from ganforge.config import LABEL_SHARES

    p = sub.add_parser(
        "evaluate", help="measure how similar (and how new) generated samples are", formatter_class=RAW,
        description="Evaluate samples against a reference set: FID/KID in the feature space of a classifier trained "
                    "on the data (MNIST digits or Fashion-MNIST clothes), "
                    "classifier score, class shares (mode collapse), precision/recall, density/coverage, "
                    "the classifier two-sample test (features and pixels), 1-NN test, copy rate against "
                    "the training images, and TSTR for labelled samples. Each metric is printed beside its "
                    "real-vs-real floor (held-out real images scored the same way).",
        epilog="examples:\n"
               "  ganforge evaluate samples.npz\n"
               "  ganforge evaluate runs/001-mnist-mlp -n 10000 --json eval.json\n"
               "  ganforge evaluate runs/001-mnist-mlp --runs 3        # seeds 0,1,2: mean ± sd\n"
               "  ganforge evaluate a.npz b.npz c.npz                  # three runs: mean ± sd\n"
               "  ganforge evaluate samples.npz --ref ref.npz --train train.npz -n 2000\n"
               "  ganforge evaluate runs/003-fashion-dcgan --ref fashion-mnist-test --runs 3\n"
               "  ganforge evaluate clothes.npz --ref my_clothes.npz --extractor fashion-mnist\n"
               "  ganforge evaluate samples/ --ref real_folder/ --inception-weights pt_inception-2015-12-05-6726825d.pth\n"
               "  ganforge evaluate runs/001-mnist-mlp --report          # + refresh runs/001-mnist-mlp/report.html\n"
               "\n"
               "A run directory (or a checkpoint inside one) keeps every evaluation: RUN/eval/latest.json, a\n"
               "timestamped copy, and the closest-pairs figure, which `ganforge report` shows.\n"
               "\n"
               "RGB folders (or any images): FID & co. in Inception-v3 pool3 space need the FID Inception\n"
               "weights as a local file (nothing is downloaded): pytorch-fid's pt_inception-2015-12-05-6726825d.pth,\n"
               "torch-fidelity's weights-inception-2015-12-05-6726825d.pth or clean-fid's inception-2015-12-05.pt.\n"
               "GANFORGE_INCEPTION_WEIGHTS=PATH is used for images the MNIST extractor cannot read when the\n"
               "flag is not given. See docs/evaluation.md.",
    )
    p.add_argument("source", nargs="+", metavar="SOURCE",
                   help=".npz (key 'images', uint8; optional 'labels'), .npy, folder of images, checkpoint or run dir")
    p.add_argument("--ref", default="mnist-test",
                   help="reference set: mnist-test (default), fashion-mnist-test or an .npz/.npy/folder")
    p.add_argument("--train", help="training images for the memorisation check (default for mnist-test: MNIST train; "
                                   "for fashion-mnist-test: Fashion-MNIST train)")
    p.add_argument("--extractor", choices=["mnist", "fashion-mnist"],
                   help="shipped 28x28 feature extractor (digits or clothes); default: the one matching --ref or the "
                        "run's training data, else mnist. A digits/clothes mismatch is refused")
    p.add_argument("-n", type=int, default=10000, help="number of samples (default 10000)")
    p.add_argument("--seed", type=seed_int, default=0, help="seed for sampling, subsets, bootstrap and classifiers")
    p.add_argument("--runs", type=int, default=1,
                   help="checkpoint/run sources: evaluate seeds SEED..SEED+RUNS-1 and report mean ± sd")
    p.add_argument("--json", metavar="FILE", help="write the report (metrics + protocol) as JSON")
    p.add_argument("--closest-pairs", metavar="FILE.png",
                   help="write a picture of the samples closest to training images (a run: also kept in RUN/eval/)")
    p.add_argument("--report", action="store_true",
                   help="a run directory or checkpoint: refresh RUN/report.html with this evaluation (ganforge report)")
    p.add_argument("--image-size", type=int,
                   help="side length for decoding a folder given as --ref (default: the checkpoint's image size "
                        "when SOURCE is a run, else 64; .npz keeps its size)")
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--copy-threshold", type=float, help="RMS pixel distance (pixels in [0,1]) to the nearest training image below which a "
                        "sample counts as a copy (default 0.05)")
    p.add_argument("--label-shares", choices=LABEL_SHARES, default="data",
                   help="conditional generators: draw the classes with the shares of the run's training labels "
                        "(default; uniform for checkpoints that did not record them) or uniformly")
    p.add_argument("--no-floor", action="store_true", help="skip the real-vs-real column (it is cached after the first run)")
    p.add_argument("--no-pixel-c2st", action="store_true", help="skip the pixel-space CNN two-sample test (the slowest part)")
    p.add_argument("--no-memorisation", action="store_true", help="skip the nearest-training-image check")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="FID InceptionV3 weights (pytorch-fid/torch-fidelity .pth state dict or clean-fid .pt "
                        "TorchScript): compute the feature metrics in Inception pool3 space, for any image size")
    p.add_argument("--nll", action="store_true",
                   help="instead of the sample metrics: the test-set negative log-likelihood of a run/checkpoint "
                        "(bits/dim on 8-bit pixels, nats/image on binarised ones; exact for a PixelCNN, the IWAE bound "
                        "for a VAE, none for a GAN); --ref defaults to the model's own test split, -n to all of it")
    p.add_argument("--iwae-k", type=int, default=50, metavar="K",
                   help="--nll on a VAE: importance samples of the IWAE bound (default 50; 1 = the ELBO)")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from dataclasses import replace

    from ganforge.errors import ConfigError
    from ganforge.eval import EvalOptions, evaluate

    if args.nll:
        return _cmd_nll(args)
    if len(args.source) == 1:  # an image-to-image run (srgan, pix2pix): the paired table (issue 15)
        from ganforge.eval.paired import evaluate_paired, image_to_image_kind, paired_table

        if image_to_image_kind(args.source[0]):
            if args.json:
                from ganforge.files import check_output_file, write_atomic

                check_output_file(args.json, "--json")
            rep = evaluate_paired(args.source[0], args.n)
            print(paired_table(rep))
            if args.json:
                import json

                write_atomic(args.json, json.dumps(rep, indent=2))
                print(f"wrote {args.json}")
            return 0
    # EvalOptions checks every setting (e.g. --runs >= 1, --bootstrap >= 0) before any image is read.
    options = EvalOptions(
        ref=args.ref, n=args.n, train=args.train, seed=args.seed, runs=args.runs, bootstrap=args.bootstrap,
        floor=not args.no_floor, pixel_c2st=not args.no_pixel_c2st, memorisation=not args.no_memorisation,
        copy_threshold=args.copy_threshold, closest_pairs=args.closest_pairs, image_size=args.image_size,
        inception_weights=args.inception_weights, extractor=args.extractor, label_shares=args.label_shares,
    )
    from ganforge.files import check_output_file

    # Output paths before the (minutes long) evaluation, so a refused command writes nothing.
    if args.json:
        check_output_file(args.json, "--json")
    if args.closest_pairs:
        check_output_file(args.closest_pairs, "--closest-pairs", suffixes=(".png", ".pdf", ".svg", ".jpg", ".jpeg"))
    source = args.source[0] if len(args.source) == 1 else list(args.source)
    from ganforge.report.evaluations import default_closest_pairs, run_dir_of, save_evaluation, stamp_now

    # A run (or a checkpoint inside one) keeps its evaluations and their figures, for `ganforge report`.
    run_dir = run_dir_of(source) if len(args.source) == 1 else None
    if args.report and run_dir is None:
        raise ConfigError("--report needs one run directory (or a checkpoint inside one) as SOURCE; "
                          "for other sources use --json FILE.")
    stamp = stamp_now()
    if run_dir is not None and args.closest_pairs is None:
        options = replace(options, closest_pairs=default_closest_pairs(run_dir, stamp))
    report = evaluate(source, options=options)
    print(report.table())
    if args.json:
        report.to_json(args.json)
        print(f"wrote {args.json}")
    if run_dir is not None:
        print(f"kept in run:  {save_evaluation(report, run_dir, stamp)}")
    if args.report:
        from ganforge.report import write_run_report

        print(f"report:       {write_run_report(run_dir)}")
    return 0


def _cmd_nll(args) -> int:
    """``--nll``: one likelihood table for the given runs (ganforge.eval.likelihood)."""
    from ganforge.eval.likelihood import check_source, nll, table, to_json
    from ganforge.files import check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    for source in args.source:  # every source readable before minutes of scoring
        check_source(source)
    ref = None if args.ref == "mnist-test" else args.ref  # the default: each model's own test split
    results = [r for source in args.source for r in nll(source, ref=ref, n=args.n, k=args.iwae_k, seed=args.seed)]
    print(table(results))
    if args.json:
        to_json(results, args.json)
        print(f"wrote {args.json}")
    return 0
