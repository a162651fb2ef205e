"""Verbs: interpolate, steer, probe, augment (beyond sampling: latent walks, steering,
the discriminator as a feature extractor, augmentation with a conditional GAN)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganforge.cli import nonneg_float, nonneg_int, positive_float, positive_int, seed_int
from ganforge.files import write_atomic

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="latent walks: grids and a GIF of interpolations", formatter_class=RAW,
                       description="Walk the latent space of a GAN: linear and spherical interpolation between random "
                                   "z, between classes of a conditional model (z fixed, label blended), and between "
                                   "two real images found by inversion (optimising z so G(z) matches them).",
                       epilog="examples:\n  ganforge interpolate runs/001-mnist-dcgan\n"
                              "  ganforge interpolate runs/002-mnist-cgan --classes 1 7 3 8 -o walks/\n"
                              "  ganforge interpolate runs/001-mnist-dcgan --real-index 0 1 --invert-steps 500")
    p.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("-o", "--out", help="output folder (default: RUN/latent)")
    p.add_argument("--pairs", type=positive_int, default=6, help="random (z0, z1) pairs, one grid row each (default 6)")
    p.add_argument("--steps", type=positive_int, default=10, help="images per walk, ends included (default 10)")
    p.add_argument("--method", choices=["linear", "spherical", "both"], default="both")
    p.add_argument("--classes", type=int, nargs="+", metavar="A B",
                   help="conditional models: class pairs to morph, e.g. 1 7 3 8 (default: 0 1, 2 3, ...)")
    p.add_argument("--real-index", type=int, nargs=2, metavar=("I", "J"),
                   help="invert test images I and J of the run's dataset (mnist or digits) and walk between them")
    p.add_argument("--invert-steps", type=positive_int, default=300, help="optimisation steps per inversion (default 300)")
    p.add_argument("--class", dest="label", type=int, help="conditional models: the class of the random walks "
                   "(default: row i uses class i)")
    p.add_argument("--no-gif", action="store_true", help="skip the animated GIF")
    p.add_argument("--seed", type=seed_int, default=0)
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("steer", help="steer z toward a class or an image property", formatter_class=RAW,
                       description="Move z by gradient ascent on log p(CLASS | G(z)) under a classifier (default: "
                                   "the shipped MNIST classifier), or on an image property, with a term that keeps z "
                                   "plausible under N(0, I). Writes a before/after grid and prints the success rate, "
                                   "the distance moved in z, the image change and what else changed (entanglement).",
                       epilog="examples:\n  ganforge steer runs/001-mnist-dcgan --to 3\n"
                              "  ganforge steer runs/001-mnist-dcgan --property thickness -n 32\n"
                              "  ganforge steer runs/001-mnist-dcgan --to 8 --prior-weight 0.5 --directions\n"
                              "  ganforge steer runs/004-digits-mlp --to 3 --classifier runs/clf/classifier")
    p.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--to", type=int, metavar="CLASS", help="steer toward this class")
    what.add_argument("--property", choices=["ink", "thickness", "slant", "width"], help="steer toward more of this")
    what.add_argument("--all-properties", action="store_true",
                      help="steer each property in turn and print the property-by-property change table")
    p.add_argument("--less", action="store_true", help="with --property: toward less of it")
    p.add_argument("-n", type=positive_int, default=16, help="samples to steer (default 16)")
    p.add_argument("--steps", type=nonneg_int, default=100, help="gradient steps (default 100)")
    p.add_argument("--lr", type=positive_float, default=0.05, help="step size on z (default 0.05)")
    p.add_argument("--prior-weight", type=nonneg_float, default=0.1,
                   help="weight of the log-prior term that keeps z plausible under N(0,I) (default 0.1)")
    p.add_argument("--prior", choices=["shell", "gaussian"], default="shell",
                   help="shell: log-density of |z| (keeps z on the sqrt(d) shell, default); gaussian: -|z|^2/2")
    p.add_argument("--class", dest="label", type=int, help="conditional models: the label G is given (default: random)")
    p.add_argument("--classifier", metavar="CHECKPOINT",
                   help="classifier checkpoint (from `ganforge augment --save-classifier`); default: shipped MNIST one")
    p.add_argument("--directions", action="store_true",
                   help="also find property directions by regressing properties on z, and their separability")
    p.add_argument("-o", "--out", help="before/after grid .png (default: RUN/latent/steer-....png)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.set_defaults(func=cmd_steer)

    p = sub.add_parser("probe", help="the discriminator as a feature extractor (linear probe)", formatter_class=RAW,
                       description="Freeze D, fit a logistic regression on its penultimate features with 100, 1,000 "
                                   "and all labelled training images, and report test accuracy next to the same probe "
                                   "on a randomly initialised D of the same architecture and on raw pixels.",
                       epilog="examples:\n  ganforge probe runs/001-mnist-dcgan\n"
                              "  ganforge probe runs/001-mnist-dcgan --sizes 100 1000 10000 --max-test 5000")
    p.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--sizes", nargs="+", default=["100", "1000", "all"],
                   help="labelled training images per probe; 'all' = the whole training set (default 100 1000 all)")
    p.add_argument("--data", choices=["mnist", "digits"], help="labelled split (default: the run's dataset)")
    p.add_argument("--max-all", type=positive_int, help="cap 'all' at this many random images (bounds the time)")
    p.add_argument("--max-test", type=positive_int, help="score on this many random test images (default: all)")
    p.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    p.add_argument("--seed", type=seed_int, default=0)
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("augment", help="does conditional-GAN data help a classifier with few labels?",
                       formatter_class=RAW,
                       description="Train a small CNN on n real images per class: alone, with classic augmentation "
                                   "(shifts, small rotations), with synthetic images from a conditional GAN trained on "
                                   "the same few images, and from one trained on the full set; mean ± sd of real "
                                   "test accuracy over seeds. The defaults are the full experiment (hours on a CPU); "
                                   "shrink it with --gan-steps, --clf-steps, --synth-per-class, --max-test.",
                       epilog="examples:\n  ganforge augment\n"
                              "  ganforge augment --n 10 --seeds 0 --gan-steps 500 --clf-steps 300 --max-test 2000\n"
                              "  ganforge augment --gan-full-run runs/002-mnist-cgan --arms real classic gan-full\n"
                              "  ganforge augment --data digits --save-classifier runs/digits-classifier")
    p.add_argument("--data", choices=["mnist", "digits"], default="mnist")
    p.add_argument("--n", type=positive_int, nargs="+", default=[10, 100], help="real images per class (default 10 100)")
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2])
    p.add_argument("--arms", nargs="+", default=["real", "classic", "gan-few", "gan-full"],
                   choices=["real", "classic", "gan-few", "gan-full"])
    p.add_argument("--gan-preset", default="mnist-cgan", help="conditional GAN recipe (default mnist-cgan)")
    p.add_argument("--gan-steps", type=positive_int, default=3000, help="cGAN steps on the few images (default 3000)")
    p.add_argument("--gan-full-steps", type=positive_int, default=3000, help="cGAN steps on the full set (default 3000)")
    p.add_argument("--gan-full-run", metavar="RUN_DIR", help="reuse a conditional GAN trained on the full set")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override the cGAN config, e.g. --set model.width=16 (repeatable)")
    p.add_argument("--synth-per-class", type=positive_int, default=1000, help="synthetic images per class (default 1000)")
    p.add_argument("--real-fraction", type=positive_float, default=0.5, help="share of real images per batch (default 0.5)")
    p.add_argument("--clf-steps", type=positive_int, default=1000, help="classifier steps (default 1000)")
    p.add_argument("--clf-width", type=positive_int, default=16)
    p.add_argument("--max-test", type=positive_int, help="score on this many random test images (default: all)")
    p.add_argument("--runs-dir", default="runs/augment", help="where the cGAN runs go (default runs/augment)")
    p.add_argument("--threads", type=nonneg_int, default=0, help="CPU threads (0 = torch default)")
    p.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    p.add_argument("--save-classifier", metavar="DIR",
                   help="instead: train the CNN on the whole training split and save it for `steer --classifier`")
    p.set_defaults(func=cmd_augment)


def _out_dir(args) -> Path:
    from ganforge import checkpoint

    if args.out:
        return Path(args.out)
    ckpt = checkpoint.resolve(args.source)
    run = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt
    return run / "latent"


def cmd_interpolate(args) -> int:
    import numpy as np
    import torch

    from ganforge.files import check_output_dir
    from ganforge.errors import ConfigError
    from ganforge.images import save_grid
    from ganforge.latent import interpolate as itp
    from ganforge.latent.sources import load_gan_generator
    from ganforge.sampling import to_uint8_images

    if args.steps < 2:
        raise ConfigError(f"--steps must be at least 2 (a walk's two ends), got {args.steps}.")
    if args.classes and len(args.classes) % 2:
        raise ConfigError("--classes takes pairs of classes (A B [C D ...]); give an even number.")
    G = load_gan_generator(args.source, "interpolate")
    if args.classes:
        for c in args.classes:
            itp.check_class(G, c, "--classes")
    if args.label is not None:
        itp.check_class(G, args.label, "--class")
    out = check_output_dir(_out_dir(args), "-o")
    real = _real_pair(args, G) if args.real_index else None  # refused here, before any file is written
    scaling = G.scaling
    u8 = lambda x: to_uint8_images(x, scaling)  # noqa: E731
    methods = ["linear", "spherical"] if args.method == "both" else [args.method]
    for m in methods:
        imgs = u8(itp.latent_walk(G, args.pairs, args.steps, m, args.seed, args.label))
        path = save_grid(imgs, out / f"walk-{m}.png", nrow=args.steps)
        print(f"{m} interpolation ({args.pairs} pairs x {args.steps} steps): {path}")
        if not args.no_gif and m == methods[-1]:
            gif = itp.write_gif(itp.walk_frames(imgs, args.steps), out / f"walk-{m}.gif")
            print(f"animated GIF: {gif}")
    if G.num_classes:
        cls = args.classes or [c for i in range(0, min(G.num_classes, 10) - 1, 2) for c in (i, i + 1)]
        pairs = list(zip(cls[::2], cls[1::2]))
        imgs = u8(itp.class_walk(G, pairs, args.steps, args.seed))
        path = save_grid(imgs, out / "walk-classes.png", nrow=args.steps)
        print(f"class interpolation {', '.join(f'{a}->{b}' for a, b in pairs)}: {path}")
        if not args.no_gif:
            print(f"animated GIF: {itp.write_gif(itp.walk_frames(imgs, args.steps), out / 'walk-classes.gif')}")
    elif args.classes:
        itp.check_class(G, args.classes[0], "--classes")
    if real is not None:
        from ganforge.latent.invert import invert
        from ganforge.latent.splits import to_model_images

        xte, yte = real
        i, j = args.real_index
        x = to_model_images(xte[[i, j]], scaling)
        y = torch.from_numpy(yte[[i, j]]) if G.num_classes else None
        inv = invert(G, x, y, steps=args.invert_steps, seed=args.seed)
        with torch.no_grad():
            if G.num_classes:
                zs = itp.slerp(inv.z[0], inv.z[1], args.steps)
                t = torch.linspace(0, 1, args.steps)[:, None]
                e = torch.nn.functional.one_hot(y, G.num_classes).float()
                walk = itp.forward_soft_labels(G, zs, (1 - t) * e[0] + t * e[1])
            else:
                walk = G(itp.slerp(inv.z[0], inv.z[1], args.steps))
        row = torch.cat([x[:1], walk.float(), x[1:]])
        path = save_grid(u8(row), out / "walk-real.png", nrow=args.steps + 2)
        rmse = inv.mse.sqrt() / 2  # as a fraction of the pixel range
        print(f"inversion of test images {i} and {j}: reconstruction RMSE {100 * rmse[0]:.1f}% and "
              f"{100 * rmse[1]:.1f}% of the pixel range (MSE {inv.mse[0]:.4f}, {inv.mse[1]:.4f} in [-1,1])")
        print(f"walk between the real images (real, G(z0) ... G(z1), real): {path}")
        np.save(out / "inverted_z.npy", inv.z.numpy())
    return 0


def _real_pair(args, G):
    """The run's labelled test images for ``--real-index I J``, after checking I, J and the shape."""
    from ganforge.errors import ConfigError
    from ganforge.latent.splits import labelled_split

    data = _run_dataset(args.source)
    _, _, xte, yte = labelled_split(data)
    for k in args.real_index:
        if not 0 <= k < len(xte):
            raise ConfigError(f"--real-index {k} is outside the {len(xte)} test images of {data}; pick 0..{len(xte) - 1}.")
    if (1, *xte.shape[1:]) != tuple(G.img_shape):
        raise ConfigError(f"{data} images are {xte.shape[1:]} but G makes {tuple(G.img_shape)}; use a GAN trained on {data}.")
    return xte, yte


def _run_dataset(source) -> str:
    from ganforge import checkpoint

    return checkpoint.load_state(checkpoint.resolve(source))["config"]["data"]["dataset"]


def cmd_steer(args) -> int:
    import torch

    from ganforge.files import check_output_dir, check_output_file
    from ganforge.errors import ConfigError
    from ganforge.images import save_grid
    from ganforge.latent import entangle, properties, steer as st
    from ganforge.latent.interpolate import check_class
    from ganforge.latent.sources import check_classifier_fits, load_classifier, load_gan_generator, to_classifier_range
    from ganforge.sampling import to_uint8_images

    if args.less and not args.property:
        raise ConfigError("--less goes with --property (steer toward less of one property); drop it or add --property.")
    if args.out:
        check_output_file(args.out, "-o", suffixes=(".png",))
    G = load_gan_generator(args.source, "steer")
    if args.label is not None:
        check_class(G, args.label, "--class")
    if not args.out and not args.all_properties:
        check_output_dir(_out_dir(args), "the default output folder")
    scaling = G.scaling
    clf = None
    if args.to is not None or args.classifier:
        try:
            if args.classifier is None and tuple(G.img_shape) != (1, 28, 28):
                raise ConfigError(f"this generator makes {tuple(G.img_shape)} images, which the shipped MNIST "
                                  "classifier cannot read, so there is no classifier to steer toward a label; pass "
                                  "--classifier (train one with `ganforge augment --data ... --save-classifier DIR`).")
            clf = load_classifier(args.classifier)
            check_classifier_fits(G, clf)
        except ConfigError:
            if args.to is not None:
                raise
            clf = None
    elif tuple(G.img_shape) == (1, 28, 28):
        from ganforge.errors import GanforgeError

        try:
            clf = load_classifier(None)  # only for the "class kept" column: optional
        except GanforgeError:
            clf = None
    if args.to is not None and not 0 <= args.to < clf.num_classes:
        raise ConfigError(f"--to {args.to} is outside the classifier's classes 0..{clf.num_classes - 1}; pick one of those.")

    gen = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, G.z_dim, generator=gen)
    y = None
    if G.num_classes:
        y = (torch.full((args.n,), args.label, dtype=torch.int64) if args.label is not None
             else torch.randint(G.num_classes, (args.n,), generator=gen))
    out_dir = _out_dir(args)

    if args.all_properties:
        table = entangle.steer_property_table(G, n=args.n, seed=args.seed, steps=args.steps, lr=args.lr,
                                              prior_weight=args.prior_weight, classifier=clf)
        print("steering each property up; change of every property in sd units of unsteered samples:")
        print(table.markdown())
    else:
        if args.to is not None:
            scorer, what = st.class_log_prob(clf, args.to, scaling), f"class{args.to}"
        else:
            sign = -1.0 if args.less else 1.0
            base = properties.property_scorer(args.property, scaling, sign)
            with torch.no_grad():
                x0 = G(z, y)
            sd = float(properties.measure(x0, scaling, [args.property])[args.property].std()) or 1.0
            scorer, what = (lambda x: base(x) / sd), f"{'less' if args.less else 'more'}-{args.property}"
        res = st.steer(G, scorer, z, y, steps=args.steps, lr=args.lr, prior_weight=args.prior_weight, prior=args.prior)
        grid = torch.cat([torch.cat([res.x0[i:i + 8], res.x[i:i + 8]]) for i in range(0, args.n, 8)])
        path = save_grid(to_uint8_images(grid, scaling), Path(args.out) if args.out else out_dir / f"steer-{what}.png",
                         nrow=min(8, args.n))
        print(f"before/after grid (rows alternate: before, after): {path}")
        if args.to is not None:
            for line in st.steer_report(res, clf, args.to, scaling).lines():
                print(line)
        else:
            print(f"mean distance moved in z: {float(res.distance.mean()):.2f}; mean image change: "
                  f"{100 * float(res.image_change.mean()):.1f}% of the pixel range per pixel")
        before, after = properties.measure(res.x0, scaling), properties.measure(res.x, scaling)
        print("\n| property | before | after | change |\n|---|---:|---:|---:|")
        for k in before:
            u = properties.PROPERTY_UNITS[k]
            print(f"| {k} ({u}) | {before[k].mean():.2f} | {after[k].mean():.2f} | {after[k].mean() - before[k].mean():+.2f} |")
        if clf is not None and args.to is None:
            p0 = clf.predict(to_classifier_range(res.x0, scaling))
            p1 = clf.predict(to_classifier_range(res.x, scaling))
            print(f"| predicted class unchanged | | | {100 * float((p0 == p1).float().mean()):.0f}% |")
    if args.directions:
        dirs = entangle.latent_directions(G, n=2000, seed=args.seed)
        print("\nlatent directions (ridge regression of each property on z, 2000 samples):")
        print(dirs.markdown())
        print("\nmoving 2 units along each direction; change of every property in sd units:")
        print(entangle.direction_table(G, dirs, 2.0, n=args.n, seed=args.seed + 1, classifier=clf).markdown())
    return 0


def cmd_probe(args) -> int:
    from ganforge.files import check_output_file
    from ganforge.errors import ConfigError
    from ganforge.latent.probe import probe_run

    sizes = []
    for s in args.sizes:
        if s == "all":
            sizes.append(None)
        elif s.isdigit() and int(s) > 0:
            sizes.append(int(s))
        else:
            raise ConfigError(f"--sizes takes positive integers or 'all', got {s!r}; e.g. --sizes 100 1000 all.")
    if args.json:
        check_output_file(args.json, "--json")
    res = probe_run(args.source, sizes, args.data, args.seed, args.max_all, args.max_test)
    print(f"linear probe, test accuracy on {res.n_test} test images:")
    print(res.markdown())
    for note in res.notes:
        print(note)
    print(f"wall time {res.seconds:.0f} s")
    if args.json:
        write_atomic(args.json, json.dumps({"sizes": res.sizes, "accuracy": res.accuracy, "n_test": res.n_test,
                                            "feature_dims": res.feature_dims, "seconds": res.seconds}, indent=1))
    return 0


def cmd_augment(args) -> int:
    from ganforge.files import check_output_dir, check_output_file
    from ganforge.errors import ConfigError
    from ganforge.experiments.augment import AugmentConfig, run_augment, train_reference_classifier

    # Paths and the recipe first: the experiment runs for minutes to hours before it writes them.
    if args.json:
        check_output_file(args.json, "--json")
    if args.save_classifier:
        check_output_dir(args.save_classifier, "--save-classifier")
    else:
        check_output_dir(args.runs_dir, "--runs-dir")
    if not args.real_fraction <= 1:
        raise ConfigError(f"--real-fraction must be in (0, 1], got {args.real_fraction:g}.")
    from ganforge.presets import preset_config

    kind = preset_config(args.gan_preset).kind  # an unknown name is refused here, listing the presets
    if kind != "gan":
        raise ConfigError(f"--gan-preset {args.gan_preset} is a {kind} recipe; the GAN arms need a "
                          "(conditional) GAN preset such as mnist-cgan or digits-mlp.")
    if args.save_classifier:
        path, acc = train_reference_classifier(args.data, args.save_classifier, steps=args.clf_steps,
                                               width=args.clf_width)
        print(f"classifier checkpoint: {path} (test accuracy {100 * acc:.2f}%)")
        print(f"next: ganforge steer RUN --to 3 --classifier {path}")
        return 0
    overrides = {}
    if args.set:
        from ganforge.presets import preset_config

        checked = preset_config(args.gan_preset).with_sets(args.set).to_dict()  # validates keys and values
        for pair in args.set:
            key = pair.split("=", 1)[0].strip()
            value = checked
            for part in key.split("."):
                value = value[part]
            overrides[key] = value
    cfg = AugmentConfig(data=args.data, n_per_class=tuple(args.n), seeds=tuple(args.seeds), arms=tuple(args.arms),
                        gan_preset=args.gan_preset, gan_overrides=overrides, gan_steps=args.gan_steps,
                        gan_full_steps=args.gan_full_steps, gan_full_run=args.gan_full_run,
                        synth_per_class=args.synth_per_class, real_fraction=args.real_fraction,
                        clf_steps=args.clf_steps, clf_width=args.clf_width, max_test=args.max_test,
                        runs_root=args.runs_dir, threads=args.threads)
    if cfg.gan_full_run is not None and "gan-full" in cfg.arms:
        from ganforge.latent.sources import require_gan

        require_gan(cfg.gan_full_run, "augment")
    res = run_augment(cfg)
    print(f"\ntest accuracy (%) on {res.n_test} real test images, mean ± sd over seeds {list(cfg.seeds)}:")
    print(res.markdown())
    print("wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in res.seconds.items()))
    if args.json:
        write_atomic(args.json, json.dumps({"config": {k: v for k, v in vars(cfg).items()},
                                            "accuracy": {f"{n}/{a}": v for (n, a), v in res.accuracy.items()},
                                            "agreement": {f"{n}/{a}": v for (n, a), v in res.agreement.items()},
                                            "seconds": res.seconds, "n_test": res.n_test, "grids": res.grids},
                                              indent=1, default=list))
    return 0
