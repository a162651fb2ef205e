"""Verb: evaluate (similarity, diversity, mode collapse, memorisation of samples)."""

from __future__ import annotations

import argparse

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="measure how similar (and how new) generated samples are", formatter_class=RAW,
        description="Evaluate samples against a reference set: FID/KID in an MNIST classifier's feature space, "
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
               "  ganforge evaluate samples/ --ref real_folder/ --inception-weights pt_inception-2015-12-05-6726825d.pth\n"
               "\n"
               "RGB folders (or any images): FID & co. in Inception-v3 pool3 space need the FID Inception\n"
               "weights as a local file (nothing is downloaded): pytorch-fid's pt_inception-2015-12-05-6726825d.pth,\n"
               "torch-fidelity's weights-inception-2015-12-05-6726825d.pth or clean-fid's inception-2015-12-05.pt.\n"
               "GANFORGE_INCEPTION_WEIGHTS=PATH is used for images the MNIST extractor cannot read when the\n"
               "flag is not given. See docs/evaluation.md.",
    )
    p.add_argument("source", nargs="+", metavar="SOURCE",
                   help=".npz (key 'images', uint8; optional 'labels'), .npy, folder of images, checkpoint or run dir")
    p.add_argument("--ref", default="mnist-test", help="reference set: mnist-test (default) or an .npz/.npy/folder")
    p.add_argument("--train", help="training images for the memorisation check (default for mnist-test: MNIST train)")
    p.add_argument("-n", type=int, default=10000, help="number of samples (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling, subsets, bootstrap and classifiers")
    p.add_argument("--runs", type=int, default=1,
                   help="checkpoint/run sources: evaluate seeds SEED..SEED+RUNS-1 and report mean ± sd")
    p.add_argument("--json", metavar="FILE", help="write the report (metrics + protocol) as JSON")
    p.add_argument("--closest-pairs", metavar="FILE.png", help="write a picture of the samples closest to training images")
    p.add_argument("--image-size", type=int,
                   help="side length for decoding a folder given as --ref (default: the checkpoint's image size "
                        "when SOURCE is a run, else 64; .npz keeps its size)")
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--copy-threshold", type=float, help="RMS pixel distance (pixels in [0,1]) to the nearest training image below which a "
                        "sample counts as a copy (default 0.05)")
    p.add_argument("--no-floor", action="store_true", help="skip the real-vs-real column (it is cached after the first run)")
    p.add_argument("--no-pixel-c2st", action="store_true", help="skip the pixel-space CNN two-sample test (the slowest part)")
    p.add_argument("--no-memorisation", action="store_true", help="skip the nearest-training-image check")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="FID InceptionV3 weights (pytorch-fid/torch-fidelity .pth state dict or clean-fid .pt "
                        "TorchScript): compute the feature metrics in Inception pool3 space, for any image size")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from ganforge.eval import EvalOptions, evaluate

    # EvalOptions checks every setting (e.g. --runs >= 1, --bootstrap >= 0) before any image is read.
    options = EvalOptions(
        ref=args.ref, n=args.n, train=args.train, seed=args.seed, runs=args.runs, bootstrap=args.bootstrap,
        floor=not args.no_floor, pixel_c2st=not args.no_pixel_c2st, memorisation=not args.no_memorisation,
        copy_threshold=args.copy_threshold, closest_pairs=args.closest_pairs, image_size=args.image_size,
        inception_weights=args.inception_weights,
    )
    source = args.source[0] if len(args.source) == 1 else list(args.source)
    report = evaluate(source, options=options)
    print(report.table())
    if args.json:
        report.to_json(args.json)
        print(f"wrote {args.json}")
    return 0
