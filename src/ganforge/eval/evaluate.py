"""``evaluate(source)``: every metric of "similar but not the same", with its real floor.

Pipeline: load or generate the samples (:mod:`.sources`) -> features and classifier
outputs (:mod:`.features`: the shipped MNIST extractor for 28x28 grayscale, or
Inception-v3 pool3 from local weights for any images, see ``ganforge.eval.inception``) ->
FID, KID, classifier score (Inception: Inception Score), class histogram,
precision/recall, density/coverage, feature C2ST, 1-NN test (features) -> pixel C2ST
(small CNN) -> memorisation against the training images -> TSTR for labelled samples
(:mod:`.compute`). The *floor* column (:mod:`.floor`) runs the same pipeline with
held-out real images in place of the samples (for MNIST: a seeded subset of the
training set, the same size as the samples, against the test set), because FID & co.
are biased by the sample size and only mean something next to what real data gets.

Reference features and the whole floor are cached under ``$GANFORGE_HOME/eval`` keyed by
the sha256 of the images, the extractor, the sample count, the seed and the metric
version, so the second evaluation against the same reference only pays for the samples.
"""

from __future__ import annotations

import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from ganforge.errors import ConfigError, DataError
from ganforge.eval.compute import METRICS_VERSION, _compute, _feature_c2st, _inception_score
from ganforge.eval.features import (
    INCEPTION_ENV, MNIST_FEATURE_SPACE, _cache_dir, _choose_extractor, _extract, _extractor_applies,
    _extractor_key, _is_inception, reference_features,
)
from ganforge.eval.floor import _floor
from ganforge.eval.options import EvalOptions
from ganforge.eval.quick import _REF_STATS, quick_fid, reference_statistics
from ganforge.eval.report import EvalReport, Protocol, aggregate
from ganforge.eval.sources import (
    MNIST_REFS, ImageData, _check_images, _generator_image_size, _is_checkpoint, _sha, load_reference,
    load_samples,
)

# Names other modules and older code import from here (the pipeline's pieces moved to
# the modules above; ``ganforge.eval.evaluate`` keeps answering for all of them).
__all__ = [
    "evaluate", "EvalOptions", "quick_fid", "reference_statistics", "ImageData", "load_reference", "load_samples",
    "reference_features", "METRICS_VERSION", "MNIST_REFS", "MNIST_FEATURE_SPACE", "INCEPTION_ENV",
    "_REF_STATS", "_cache_dir", "_check_images", "_choose_extractor", "_compute", "_extract", "_extractor_applies",
    "_extractor_key", "_feature_c2st", "_floor", "_generator_image_size", "_inception_score", "_is_checkpoint",
    "_is_inception", "_sha",
]


def evaluate(
    source,
    ref: str = "mnist-test",
    n: int = 10000,
    *,
    train: str | None = None,
    seed: int = 0,
    runs: int = 1,
    labels: np.ndarray | None = None,
    bootstrap: int = 100,
    floor: bool = True,
    pixel_c2st: bool = True,
    memorisation: bool = True,
    copy_threshold: float | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    c2st_per_side: int = 10000,
    c2st_epochs: int = 4,
    closest_pairs: str | Path | None = None,
    extractor_path: str | Path | None = None,
    image_size: int | None = None,
    inception_weights: str | Path | None = None,
    extractor: str | None = None,
    label_shares: str = "data",
    options: EvalOptions | None = None,
) -> EvalReport:
    """Evaluate samples against a reference set; returns an :class:`EvalReport`.

    ``source``: uint8 image array (N,H,W)/(N,H,W,C), an .npz (key ``images``, optional
    ``labels``), an .npy, a folder of images, a checkpoint or a run directory (then ``n``
    samples are generated from ``seed``), or a list of those (aggregated, mean ± sd).
    ``ref``: "mnist-test" or a path; ``train``: the training images for memorisation
    (defaults to MNIST train for the MNIST reference). ``runs``: evaluate a generator
    with seeds ``seed .. seed+runs-1`` and aggregate. ``floor``: compute the
    real-vs-real column (cached).

    ``closest_pairs``: write the memorisation picture (samples beside their nearest
    training images) to this path. With one sample set it is written at exactly that
    path. When several sets are evaluated, each gets its own figure, its tag put before
    the suffix: a list of sources writes ``pairs-0.png``, ``pairs-1.png``, ... (the
    source's index in the list), ``runs > 1`` writes ``pairs-seed3.png``, ... (the
    sampling seed), and both together ``pairs-0-seed3.png``. The report's ``figures``
    lists every one ("closest pairs (source 0, seed 3)"). No figure is written when
    memorisation did not run (disabled, or no training set).

    ``image_size``: side length at which a *folder* reference is decoded (samples from a
    folder are decoded at the reference's size); None = the generator's image size when
    ``source`` is a checkpoint or run directory, else 64. ``inception_weights``: a local file of
    the FID InceptionV3 (pytorch-fid / torch-fidelity state dict, or clean-fid's
    TorchScript, see :mod:`ganforge.eval.inception`); when given, FID, KID,
    precision/recall, density/coverage, 1-NN and the feature C2ST are computed in its
    2048-d pool3 space for any image shape, and the Inception Score replaces the MNIST
    class metrics. Without it, 28x28 grayscale images use the shipped MNIST extractor and
    other images use ``$GANFORGE_INCEPTION_WEIGHTS`` if set, else skip those metrics.
    ``extractor``: "mnist" or "fashion-mnist", the shipped 28x28 extractor; None = the one
    matching ``ref`` or the run's training data (a digits/clothes mismatch is refused).
    ``label_shares``: a conditional generator's classes in the shares of its training labels
    ("data", recorded in checkpoints since this option exists; older ones fall back to
    uniform) or "uniform" (i mod K, the earlier protocol).

    ``options``: every setting above as one :class:`EvalOptions`
    (``evaluate(source, options=EvalOptions(n=2000, seed=1))``); then pass none of the
    individual keywords. The settings are checked before any image is loaded
    (:class:`~ganforge.errors.ConfigError`, e.g. for ``n < 10``).
    """
    given = dict(
        ref=ref, n=n, train=train, seed=seed, runs=runs, labels=labels, bootstrap=bootstrap, floor=floor,
        pixel_c2st=pixel_c2st, memorisation=memorisation, copy_threshold=copy_threshold, kid_subsets=kid_subsets,
        kid_subset_size=kid_subset_size, c2st_per_side=c2st_per_side, c2st_epochs=c2st_epochs,
        closest_pairs=closest_pairs, extractor_path=extractor_path, image_size=image_size,
        inception_weights=inception_weights, extractor=extractor, label_shares=label_shares,
    )
    if options is None:
        options = EvalOptions(**given)
    else:
        if not isinstance(options, EvalOptions):
            raise ConfigError(f"options must be an EvalOptions, got {type(options).__name__}.")
        changed = [f.name for f in fields(EvalOptions) if not _is_default(given[f.name], f.default)]
        if changed:
            raise ConfigError(
                f"evaluate got options= and also {', '.join(changed)}; put every setting in the EvalOptions "
                "(dataclasses.replace(options, ...)) or pass keywords only."
            )
    return _evaluate(source, options)


def _is_default(value, default) -> bool:
    if value is None or default is None or isinstance(value, np.ndarray):
        return value is default
    return type(value) is type(default) and value == default


def _evaluate(source, opts: EvalOptions) -> EvalReport:
    """One report for ``source``: a list is evaluated source by source and aggregated, a
    generator with ``runs > 1`` seed by seed; every part gets ``opts``, changed only in
    ``seed``/``runs`` and in where its closest-pairs figure goes."""
    if isinstance(source, (list, tuple)):
        if len(source) == 0:
            raise ConfigError("evaluate got an empty list of sources; pass at least one .npz, folder or run.")
        if len(source) == 1:
            return _evaluate(source[0], opts)
        parts = [f"source {i}" for i in range(len(source))]
        reports = [_evaluate(s, replace(opts, closest_pairs=_tagged(opts.closest_pairs, f"-{i}")))
                   for i, s in enumerate(source)]
        return _with_figures(aggregate(reports), reports, parts)
    if opts.runs > 1:
        if isinstance(source, np.ndarray) or not _is_checkpoint(Path(source)):
            raise ConfigError("--runs needs a checkpoint or run directory (it samples with several seeds); "
                              "to aggregate sample files, pass several of them instead.")
        seeds = [opts.seed + i for i in range(opts.runs)]
        reports = [_evaluate(source, replace(opts, seed=s, runs=1,
                                             closest_pairs=_tagged(opts.closest_pairs, f"-seed{s}")))
                   for s in seeds]
        report = aggregate(reports, source=f"{source} (seeds {seeds[0]}..{seeds[-1]})")
        return _with_figures(report, reports, [f"seed {s}" for s in seeds])
    from threadpoolctl import threadpool_limits

    # numpy/scipy work here is many small matrices (KID subsets, 128x128 covariances,
    # L-BFGS steps): one BLAS thread is faster than a team that spins waiting for each
    # other, markedly so on a busy machine. torch (distances, CNNs) keeps its threads.
    with threadpool_limits(limits=1, user_api="blas"):
        return _evaluate_one(source, opts)


def _tagged(path: str | Path | None, tag: str) -> Path | None:
    """``pairs.png`` -> ``pairs{tag}.png``: one closest-pairs figure per sample set."""
    if path is None:
        return None
    p = Path(path)
    return p.with_name(f"{p.stem}{tag}{p.suffix}")


def _with_figures(report: EvalReport, parts: list[EvalReport], labels: list[str]) -> EvalReport:
    """``aggregate`` keeps no figures: carry each part's over, its key naming the part
    ("closest pairs" of source 1 -> "closest pairs (source 1)")."""
    figures = {}
    for part, label in zip(parts, labels):
        for key, path in part.figures.items():
            name, paren, rest = key.partition(" (")
            figures[f"{name} ({label}, {rest}" if paren else f"{name} ({label})"] = path
    return replace(report, figures=figures) if figures else report


def _evaluate_one(source, opts: EvalOptions) -> EvalReport:
    """One sample set (an array, a file, a folder, or one seed of a generator)."""
    from ganforge import __version__
    from ganforge.eval.memorisation import DEFAULT_COPY_THRESHOLD, closest_pairs_figure

    t0 = time.perf_counter()
    image_size = opts.image_size
    if image_size is None:
        image_size = _generator_image_size(source) or 64
    ref_data, train_data = load_reference(opts.ref, opts.train, image_size=image_size)
    fake = load_samples(source, opts.n, seed=opts.seed, labels=opts.labels, image_shape=ref_data.images.shape[1:],
                        label_shares=opts.label_shares)
    if fake.images.shape[1:] != ref_data.images.shape[1:]:
        raise DataError(
            f"the samples are {fake.images.shape[1:]} images but the reference {ref_data.name} holds "
            f"{ref_data.images.shape[1:]}; evaluate against a reference of the same size and channels."
        )
    if len(fake.images) < 10:
        raise DataError(f"{fake.name} holds only {len(fake.images)} images; evaluate at least 10.")
    n_used = len(fake.images)
    if train_data is not None and train_data.images.shape[1:] != ref_data.images.shape[1:]:
        raise DataError(f"training images {train_data.images.shape[1:]} and reference {ref_data.images.shape[1:]} differ in shape.")
    skipped: dict[str, str] = {}
    if not opts.memorisation:
        skipped["memorisation"] = "disabled"
    elif train_data is None:
        skipped["memorisation"] = "no training set known for this reference; pass --train PATH"
    if not opts.pixel_c2st:
        skipped["c2st_pixels"] = "disabled"

    ref_f = ref_p = fake_f = fake_p = None
    extractor = _choose_extractor(ref_data.images, opts.inception_weights, opts.extractor_path, skipped,
                                  ref_name=ref_data.name, source_dataset=fake.dataset, extractor=opts.extractor)
    inception = extractor is not None and _is_inception(extractor)
    if extractor is not None:
        ref_f, ref_p = reference_features(ref_data, extractor)
        fake_f, fake_p = _extract(fake.images, extractor)
    # What the metrics run with: memorisation only where a training set is known, and the
    # copy threshold as a number (the floor's cache key holds both).
    s = replace(
        opts, memorisation=opts.memorisation and train_data is not None,
        copy_threshold=DEFAULT_COPY_THRESHOLD if opts.copy_threshold is None else opts.copy_threshold,
    )
    extra: dict = {}
    if fake.labels is not None and ref_data.labels is None:
        skipped["tstr"] = "the reference has no labels"
    metrics = _compute(fake, ref_data, train_data, ref_f, ref_p, fake_f, fake_p, s,
                       inception=inception, floor=False, skipped=skipped, extra=extra)
    floor_shares, floor_name = None, None
    if opts.floor:
        # When the reference *is* the training set (a small folder evaluated against itself),
        # no real image is held out from training: the memorisation floor would be 100 % copies
        # by construction. Then the floor splits the reference in halves and has no copy rate.
        same = train_data is not None and train_data.sha256 == ref_data.sha256
        fl, floor_shares, floor_name = _floor(ref_data, None if same else train_data, ref_f, ref_p, n_used,
                                              s, extractor, conditional=fake.labels is not None, inception=inception)
        if same and s.memorisation:
            skipped["memorisation floor"] = ("the reference is the training set, so no real image is held out "
                                             "from training; pass a held-out folder as --ref for one")
        for name, m in metrics.items():
            if name in fl:
                metrics[name] = replace(m, floor=fl[name].value)
            elif name == "label_accuracy" and ref_p is not None and ref_data.labels is not None:
                metrics[name] = replace(m, floor=float((ref_p.argmax(1) == ref_data.labels).mean()))
    figures = {}
    if opts.closest_pairs is not None and "memorisation" in extra:
        figures["closest pairs"] = str(closest_pairs_figure(fake.images, train_data.images, extra["memorisation"],
                                                            opts.closest_pairs))
    protocol = Protocol(
        source=fake.name, num_samples=n_used, reference=ref_data.name, reference_sha256=ref_data.sha256,
        reference_size=len(ref_data.images), train_set=None if train_data is None else train_data.name,
        train_sha256=None if train_data is None else train_data.sha256, floor_set=floor_name,
        extractor_sha256=None if extractor is None else extractor.sha256, ganforge_version=__version__,
        seed=opts.seed, bootstrap=opts.bootstrap, kid_subsets=opts.kid_subsets,
        kid_subset_size=min(opts.kid_subset_size, n_used, len(ref_data.images)),
        copy_threshold=s.copy_threshold if s.memorisation else None,
        c2st_pixels_per_side=min(opts.c2st_per_side, n_used, len(ref_data.images)) if opts.pixel_c2st else None,
        run_seeds=[opts.seed], seconds=time.perf_counter() - t0,
        feature_space=None if extractor is None else extractor.feature_space, label_shares=fake.label_shares,
    )
    return EvalReport(protocol, metrics, extra.get("class_shares"), floor_shares, skipped, figures)
