"""Verbs: fit, compare (the simple problem: a column of numbers)."""

from __future__ import annotations

import argparse
import json
import sys

from ganforge.cli import seed_int

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit", help="fit distribution families to a column of numbers", formatter_class=RAW,
        description="Fit candidate families by maximum likelihood (95% CIs), rank them by BIC or AIC, test each with "
                    "parametric-bootstrap KS and Anderson-Darling, optionally draw D' and plot.",
        epilog="examples:\n"
               "  ganforge fit --dataset student-heights\n"
               "  ganforge fit --dataset student-heights --by sex --plots plots/\n"
               "  ganforge fit heights.csv --column height --families normal,logistic,mixture2\n"
               "  ganforge fit data.npy --sample 1000 -o dprime.csv --seed 1\n"
               "  ganforge fit --dataset student-heights --method gan --sample 1050 -o gan.csv\n"
               "  ganforge fit --dataset student-heights --by sex --report fit.html   # one self-contained page")
    p.add_argument("data", nargs="?", help="CSV/TSV/text/.npy file (or dataset:student-heights)")
    p.add_argument("--dataset", choices=["student-heights"], help="built-in data (needs: pip install 'ganforge[datasets]')")
    p.add_argument("-c", "--column", help="column name or 0-based index (default: the only numeric column)")
    p.add_argument("--by", metavar="COLUMN", help="fit each group of this column separately (e.g. sex)")
    p.add_argument("--dropna", action="store_true", help="drop missing/NaN/inf values instead of failing")
    p.add_argument("--families", help="comma-separated subset of: normal, uniform, lognormal, gamma, weibull, "
                                      "exponential, logistic, student-t, gumbel, mixture2 (default: all)")
    p.add_argument("--rank-by", choices=["bic", "aic"], default="bic", help="ranking criterion (default bic)")
    p.add_argument("--n-mc", type=int, default=99,
                   help="bootstrap refits per family for the KS/AD p-values (default 99, p-values to 0.01; "
                        "999 for a report; 0 = skip)")
    p.add_argument("--no-rounding", action="store_true",
                   help="treat the values as continuous even if most are rounded to a grid (tests and D')")
    p.add_argument("--method", choices=["mle", "gan"], default="mle",
                   help="mle: parametric families (default); gan: also train a 1-D GAN and compare it")
    p.add_argument("--gan-steps", type=int, default=3000, help="--method gan: generator steps (default 3000)")
    p.add_argument("--family", help="family used for --sample and the QQ plot (default: the best ranked)")
    p.add_argument("--sample", type=int, metavar="N",
                   help="draw N values of D' from the fitted model (with --by: split in the groups' proportions)")
    p.add_argument("-o", "--output", help="where --sample writes D' (.csv, .tsv, .txt or .npy)")
    p.add_argument("--plots", metavar="DIR", help="write QQ / histogram / CDF plots (PNG) into DIR")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    p.add_argument("--report", metavar="FILE.html",
                   help="also write a self-contained HTML page: family table, QQ/density/CDF plots, verdict")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "compare", help="measure how similar two columns D and D' are", formatter_class=RAW,
        description="Two-sample KS, Wasserstein-1, energy distance, KL and JS (bits) with a permutation null, and "
                    "the model-based similarity test (classifier two-sample test, held-out accuracy; 0.5 = similar).",
        epilog="examples:\n"
               "  ganforge compare dataset:student-heights dprime.csv --column height\n"
               "  ganforge compare a.npy b.npy --classifier logistic --n-perm 500\n"
               "  ganforge compare a.csv b.csv --estimator kde --plot compare.png --json\n"
               "  ganforge compare dataset:student-heights dprime.csv -c height --report compare.html")
    p.add_argument("a", help="D: CSV/TSV/text/.npy file or dataset:student-heights")
    p.add_argument("b", help="D': CSV/TSV/text/.npy file")
    p.add_argument("-c", "--column", help="column of A (and of B unless --column-b)")
    p.add_argument("--column-b", help="column of B")
    p.add_argument("--dropna", action="store_true", help="drop missing/NaN/inf values instead of failing")
    p.add_argument("--estimator", choices=["hist", "kde"], default="hist",
                   help="density estimator for KL/JS (default hist: shared bins)")
    p.add_argument("--bins", type=int, help="number of shared bins for --estimator hist (default Freedman-Diaconis)")
    p.add_argument("--n-perm", type=int, default=200, help="permutations for the null of each distance (default 200)")
    p.add_argument("--classifier", choices=["knn", "logistic", "mlp", "gbdt", "none"], default="knn",
                   help="C2ST classifier (default knn; logistic sees only location shifts in 1-D)")
    p.add_argument("--c2st-perm", type=int, default=0, metavar="N",
                   help="C2ST p-value from N label permutations (default 0: binomial approximation)")
    p.add_argument("--plot", metavar="PNG", help="write histograms / ECDFs / QQ of D vs D' to this PNG")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    p.add_argument("--report", metavar="FILE.html",
                   help="also write a self-contained HTML page: distances with their nulls, C2ST, plots, verdict")
    p.set_defaults(func=cmd_compare)


def _check_outputs(args, outputs) -> None:
    """Refuse unwritable output paths before reading or fitting anything (nothing half-written)."""
    from ganforge.files import check_output_dir, check_output_file

    for flag, path, kind in outputs:
        if path is None:
            continue
        if kind == "dir":
            check_output_dir(path, flag)
        else:
            check_output_file(path, flag, suffixes=(kind,) if kind.startswith(".") else ())


def _source(args) -> str:
    from ganforge.errors import ConfigError

    if args.data and args.dataset:
        raise ConfigError("give either a DATA file or --dataset, not both.")
    if args.dataset:
        return f"dataset:{args.dataset}"
    if not args.data:
        raise ConfigError("no data given; pass a CSV/TSV/text/.npy file or --dataset student-heights.")
    return args.data


def cmd_fit(args) -> int:
    from ganforge.errors import ConfigError

    if (args.sample is None) != (args.output is None):
        raise ConfigError("--sample N and -o FILE go together; give both to write D', or neither.")
    if args.sample is not None and args.sample < 1:
        raise ConfigError(f"--sample must be a positive number of values (got {args.sample}).")
    if args.n_mc < 0:
        raise ConfigError(f"--n-mc must be >= 0 (got {args.n_mc}); 99 is the default.")
    if args.gan_steps < 1:
        raise ConfigError(f"--gan-steps must be positive (got {args.gan_steps}); 3000 is the default.")
    _check_outputs(args, [("-o", args.output, "file"), ("--plots", args.plots, "dir"),
                          ("--report", getattr(args, "report", None), "file")])
    if args.output is not None and args.by is not None and str(args.output).lower().endswith(".npy"):
        raise ConfigError(f"-o {args.output} would lose the --by group labels; write the grouped sample to a .csv file.")
    import numpy as np

    from ganforge.onedim import fit as F
    from ganforge.onedim.io import read_column, write_values
    from ganforge.onedim.report import format_fit

    families = [s for s in args.families.split(",") if s.strip()] if args.families is not None else None
    if families == []:
        raise ConfigError(f"--families {args.families!r} names no family; give a comma-separated list such as "
                          "normal,lognormal, or drop --families for all of them.")
    F.get_families(families)  # fail fast on a typo
    if args.family:
        F.get_families([args.family])
    col = read_column(_source(args), args.column, by=args.by, dropna=args.dropna)
    out: dict = {"source": col.source, "column": col.name, "by": col.by, "groups": [], "files": []}
    samples, sample_groups, texts, roundings, pages = [], [], [], [], []
    for note in col.notes:
        texts.append(f"note: {note}")
    groups = col.split()
    alloc = _allocate(args.sample, [len(v) for v in groups.values()]) if args.sample is not None else None
    for gi, (label, x) in enumerate(groups.items()):
        name = col.name if col.groups is None else f"{col.name} [{col.by} = {label}]"
        rep = F.fit(x, families, name=name, rank_by=args.rank_by, n_mc=args.n_mc, seed=args.seed + gi,
                    rounding=None if args.no_rounding else "auto")
        chosen = rep.get(args.family.lower()) if args.family else rep.best
        if chosen is None:
            raise ConfigError(f"--family {args.family} was skipped for {name}; pick one of "
                              f"{', '.join(f.key for f in rep.fits)}.")
        entry = rep.to_dict()
        roundings.append(rep.rounding)
        texts.append(format_fit(rep))
        gan_samples = None
        if args.method == "gan":
            from ganforge.onedim.gan import fit_gan

            gan = fit_gan(x, steps=args.gan_steps, seed=args.seed + gi)
            gan_samples = gan.sample(max(len(x), 1000), seed=args.seed + gi, rounding=rep.rounding)
            cmp_gan = _quick_compare(x, gan_samples, "D", "GAN", args.seed)
            cmp_fit = _quick_compare(x, chosen.sample(len(gan_samples), seed=args.seed + gi, rounding=rep.rounding), "D",
                                     chosen.family.label, args.seed)
            entry["gan"] = {**gan.to_dict(), "compare": cmp_gan.to_dict(), "compare_fitted": cmp_fit.to_dict()}
            texts.append(_gan_table(gan, cmp_fit, cmp_gan, chosen.family.label))
        if args.report:
            from ganforge.report.onedim import FitGroup

            pages.append(FitGroup(rep, chosen.key, {"GAN": gan_samples} if gan_samples is not None else None,
                                  entry.get("gan")))
        if args.plots:
            from pathlib import Path

            from ganforge.onedim.plots import plot_fit

            slug = "".join(ch if ch.isalnum() else "_" for ch in (label if col.groups is not None else col.name))
            path = plot_fit(rep, Path(args.plots) / f"fit_{slug}.png", family=chosen.key,
                            extra={"GAN": gan_samples} if gan_samples is not None else None)
            out["files"].append(str(path))
            texts.append(f"wrote {path}")
        if args.sample is not None:
            m = alloc[gi]
            if args.method == "gan":
                s = gan.sample(m, seed=args.seed + 7919 + gi, rounding=rep.rounding) if m else np.empty(0)
            else:
                s = chosen.sample(m, seed=args.seed + 7919 + gi, rounding=rep.rounding) if m else np.empty(0)
            samples.append(s)
            sample_groups += [label] * len(s)
            entry["sampled_from"] = "gan" if args.method == "gan" else chosen.key
        out["groups"].append(entry)
    if args.sample is not None:
        path = write_values(args.output, np.concatenate(samples), name=col.name,
                            groups=np.asarray(sample_groups) if col.groups is not None else None, by=col.by)
        out["files"].append(str(path))
        what = "the GAN" if args.method == "gan" else "the fitted model"
        if any(r is not None for r in roundings):
            what += ", rounded like the data (--no-rounding to keep them continuous)"
        split = ""
        if col.groups is not None:
            split = " (" + ", ".join(f"{g}: {m}" for g, m in zip(groups, alloc)) + ", in the data's group proportions)"
        texts.append(f"wrote {path}: {args.sample} values{split} from {what}, seed {args.seed}")
    if args.report:
        from ganforge.report.onedim import write_fit_report

        page = write_fit_report(pages, args.report, source=col.source, column=col.name, notes=list(col.notes))
        out["files"].append(str(page))
        texts.append(f"wrote {page} (open it in a browser)")
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=_json_default)
        print()
    else:
        print("\n\n".join(texts))
    return 0


def _allocate(n: int, sizes: list[int]) -> list[int]:
    """Split n draws across groups in proportion to their sizes (largest remainder), so a
    grouped D′ has the same group mix as D."""
    import numpy as np

    share = np.asarray(sizes, dtype=float) / sum(sizes) * n
    out = np.floor(share).astype(int)
    out[np.argsort(-(share - out))[: n - out.sum()]] += 1
    return out.tolist()


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def _quick_compare(a, b, na, nb, seed):
    from ganforge.onedim.compare import compare

    return compare(a, b, name_a=na, name_b=nb, n_perm=100, seed=seed)


def _gan_table(gan, cmp_fit, cmp_gan, label) -> str:
    rows = [f"1-D GAN ({gan.steps} steps, {gan.seconds:.1f} s) vs the fitted {label}, each against D "
            f"(n_perm = {cmp_gan.n_perm}):",
            f"  {'metric':<18}{label[:14]:>14}{'GAN':>14}"]
    for m_fit, m_gan in zip(cmp_fit.metrics, cmp_gan.metrics):
        name = m_fit.name.replace("D'", "D′").replace(label, "D′")
        rows.append(f"  {name[:18]:<18}{m_fit.value:>14.4g}{m_gan.value:>14.4g}")
    rows.append(f"  {'C2ST accuracy':<18}{cmp_fit.c2st.accuracy:>14.3f}{cmp_gan.c2st.accuracy:>14.3f}")
    rows.append(f"  {'C2ST p':<18}{cmp_fit.c2st.p_value:>14.3g}{cmp_gan.c2st.p_value:>14.3g}")
    return "\n".join(rows)


def cmd_compare(args) -> int:
    from ganforge.errors import ConfigError

    if args.n_perm < 0 or args.c2st_perm < 0:
        raise ConfigError("--n-perm and --c2st-perm must be >= 0.")
    if args.bins is not None and args.bins < 2:
        raise ConfigError(f"--bins must be at least 2 (got {args.bins}).")
    _check_outputs(args, [("--plot", args.plot, ".png"), ("--report", getattr(args, "report", None), "file")])
    from ganforge.onedim.compare import compare
    from ganforge.onedim.io import read_column
    from ganforge.onedim.report import format_compare

    ca = read_column(args.a, args.column, dropna=args.dropna)
    cb = read_column(args.b, args.column_b if args.column_b is not None else args.column, dropna=args.dropna)
    r = compare(ca.values, cb.values, name_a="D", name_b="D'", estimator=args.estimator, bins=args.bins,
                n_perm=args.n_perm, classifier=None if args.classifier == "none" else args.classifier,
                c2st_p="permutation" if args.c2st_perm else "binomial", c2st_perm=args.c2st_perm, seed=args.seed)
    r.notes += ca.notes + cb.notes
    files = []
    if args.plot:
        from ganforge.onedim.plots import plot_compare

        files.append(str(plot_compare(ca.values, cb.values, args.plot)))
    if args.report:
        from ganforge.report.onedim import write_compare_report

        files.append(str(write_compare_report(r, ca.values, cb.values, args.report,
                                              label_a=f"{ca.source} : {ca.name}", label_b=f"{cb.source} : {cb.name}")))
    if args.json:
        d = r.to_dict()
        d.update(a=f"{ca.source}:{ca.name}", b=f"{cb.source}:{cb.name}", files=files)
        json.dump(d, sys.stdout, indent=2, default=_json_default)
        print()
    else:
        print(f"D = {ca.source} : {ca.name}    D' = {cb.source} : {cb.name}")
        print(format_compare(r))
        for f in files:
            print(f"wrote {f}")
    return 0
