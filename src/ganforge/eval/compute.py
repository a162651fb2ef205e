"""Every metric of one sample set against the reference (the samples' column, or the
floor's when the "samples" are held-out real images).

Order: FID, KID, classifier score / Inception Score, class histogram, label accuracy,
precision/recall, density/coverage, feature C2ST, 1-NN -> pixel C2ST -> memorisation ->
TSTR, every statistic seeded with the options' ``seed``.
"""

from __future__ import annotations

import numpy as np

from ganforge.eval import metrics as M
from ganforge.eval.options import EvalOptions
from ganforge.eval.report import MetricValue
from ganforge.eval.sources import ImageData

#: Bump when a metric's definition changes: cached floors are keyed by it.
METRICS_VERSION = 3


def _feature_c2st(real_f: np.ndarray, fake_f: np.ndarray, seed: int):
    """Feature-space C2ST from ganforge.eval.c2st (another module), or None if absent."""
    try:
        from ganforge.eval.c2st import c2st
    except ImportError:
        return None
    return c2st(real_f.astype(np.float32), fake_f.astype(np.float32), seed=seed)


def _compute(
    fake: ImageData, ref: ImageData, train: ImageData | None, ref_f, ref_p, fake_f, fake_p,
    s: EvalOptions, *, inception: bool, floor: bool, skipped: dict[str, str], extra: dict,
) -> dict[str, MetricValue]:
    """All metrics of ``fake`` vs ``ref`` (no floor column). ``floor=True`` means ``fake``
    are held-out real images: memorisation then uses the reference images instead.
    ``fake_p`` is the classifier output of :func:`~ganforge.eval.features._extract`: MNIST
    probabilities, or (``inception``) Inception logits (ImageNet classes, so no class
    histogram or label accuracy). ``s`` is resolved: ``s.memorisation`` is False when no
    training set is known and ``s.copy_threshold`` is a number."""
    out: dict[str, MetricValue] = {}
    B = s.bootstrap
    rng_seed = s.seed
    feature_label = "Inception pool3" if inception else "extractor features"

    def mv(name, value, label, better, **kw):
        out[name] = MetricValue(name=name, value=float(value), label=label, better=better, **kw)

    if fake_f is not None:
        fid = M.fid_from_features(ref_f, fake_f)
        ci = M.fid_bootstrap_ci(ref_f, fake_f, num=B, seed=rng_seed, estimate=fid) if B else None
        mv("fid", fid, f"FID ({feature_label})", "lower", ci=ci)
        k = M.kid(ref_f, fake_f, num_subsets=s.kid_subsets, subset_size=s.kid_subset_size, seed=rng_seed)
        mv("kid", k.mean, "KID (unbiased)", "lower", sd=k.std, note=f"{k.num_subsets} subsets of {k.subset_size}")
        if inception:
            _inception_score(fake, fake_p, floor, mv, skipped)
        else:
            cs, _ = M.classifier_score(fake_p)
            ci = M.bootstrap_ci(lambda p: M.classifier_score(p)[0], fake_p, num=B, seed=rng_seed, estimate=cs) if B else None
            mv("classifier_score", cs, "classifier score", "higher", ci=ci)
            hist = M.class_histogram(fake_p)
            extra["class_shares"] = hist.shares
            mv("classes_present", hist.classes_present, "classes present (≥1%)", "higher")
            mv("max_class_deviation", 100 * hist.max_deviation, "max class share dev. (pts)", "lower")
            if fake.labels is not None and not floor:
                correct = fake_p.argmax(1) == fake.labels
                ci = M.bootstrap_mean_ci(correct, num=B, seed=rng_seed) if B else None
                mv("label_accuracy", correct.mean(), "label accuracy (cond.)", "higher", ci=ci)
        man = M.manifold_metrics(ref_f, fake_f)
        for name, label, per in (
            ("precision", "precision (k=3)", man.fake_in_real),
            ("recall", "recall (k=3)", man.real_in_fake),
            ("density", "density (k=5)", man.fake_density),
            ("coverage", "coverage (k=5)", man.real_covered),
        ):
            ci = M.bootstrap_mean_ci(per, num=B, seed=rng_seed) if B else None
            mv(name, getattr(man, name), label, "higher", ci=ci)
        c2 = _feature_c2st(ref_f, fake_f, s.seed)
        if c2 is not None:
            acc_sd = getattr(c2, "accuracy_std", None)
            mv("c2st_features", c2.accuracy, "C2ST acc. (features)", "0.5",
               p_value=getattr(c2, "p_value", None), note=f"cv sd {acc_sd:.3g}" if acc_sd is not None else "")
        else:
            skipped["c2st_features"] = "ganforge.eval.c2st is not available in this installation"
        nn1 = M.one_nn_accuracy(ref_f[: len(fake_f)], fake_f)
        ci = M.bootstrap_mean_ci(nn1.correct, num=B, seed=rng_seed) if B else None
        mv("one_nn", nn1.accuracy, "1-NN two-sample acc.", "0.5", ci=ci)

    if s.pixel_c2st:
        from ganforge.eval.c2st_pixels import c2st_pixels

        r = c2st_pixels(ref.images, fake.images, max_per_side=s.c2st_per_side, epochs=s.c2st_epochs, seed=s.seed)
        ci = M.bootstrap_mean_ci(r.correct, num=B, seed=rng_seed) if B else None
        mv("c2st_pixels", r.accuracy, "C2ST acc. (pixels, CNN)", "0.5", ci=ci, p_value=r.p_value,
           note=f"{r.n_train}+{r.n_train} train, {r.n_test}+{r.n_test} held out")

    if s.memorisation and train is not None:
        from ganforge.eval.memorisation import memorisation

        probe = ref.images if floor else fake.images
        mem = memorisation(probe, train.images, threshold=s.copy_threshold)
        extra["memorisation"] = mem
        ci = M.bootstrap_mean_ci(mem.distances < mem.threshold, num=B, seed=rng_seed) if B else None
        mv("copy_rate", 100 * mem.copy_rate, f"copy rate % (d<{s.copy_threshold:g})", "floor",
           ci=None if ci is None else (100 * ci[0], 100 * ci[1]))
        mv("nn_train_distance", mem.median_distance, "median RMS dist. to train", "floor")
    if train is not None and train.labels is not None and ref.labels is not None and fake.labels is not None \
            and ref.images.shape[1:] == fake.images.shape[1:]:
        from ganforge.eval.c2st_pixels import train_synthetic_test_real

        k = int(max(ref.labels.max(), fake.labels.max())) + 1
        t = train_synthetic_test_real(fake.images, fake.labels, ref.images, ref.labels, num_classes=k,
                                      epochs=s.c2st_epochs, seed=s.seed)
        ci = M.bootstrap_mean_ci(t.correct, num=B, seed=rng_seed) if B else None
        mv("tstr", t.accuracy, "TSTR accuracy (cond.)", "higher", ci=ci,
           note="train on samples, test on reference")
    return out


def _inception_score(fake: ImageData, logits, floor: bool, mv, skipped: dict[str, str]) -> None:
    """The Inception Score (torch-fidelity's recipe) in place of the MNIST class metrics."""
    from ganforge.eval.inception import inception_score

    if logits is None:
        skipped["inception_score"] = "these Inception weights give features only (no fc logits)"
    elif len(logits) >= 10:
        mean, sd = inception_score(logits)
        mv("inception_score", mean, "Inception score", "higher", sd=sd, note="10 splits, sd over splits")
    if fake.labels is not None and not floor:
        skipped["label_accuracy"] = "Inception's classes are ImageNet's, not the dataset's labels"
