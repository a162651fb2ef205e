"""``evaluate(source)``: every metric of "similar but not the same", with its real floor.

Pipeline: load or generate the samples -> features and classifier outputs (the shipped
MNIST extractor for 28x28 grayscale, or Inception-v3 pool3 from local weights for any
images, see ``ganforge.eval.inception``) ->
FID, KID, classifier score (Inception: Inception Score), class histogram, precision/recall, density/coverage,
feature C2ST, 1-NN test (features) -> pixel C2ST (small CNN) -> memorisation against the
training images -> TSTR for labelled samples. The *floor* column runs the same pipeline
with held-out real images in place of the samples (for MNIST: a seeded subset of the
training set, the same size as the samples, against the test set), because FID & co.
are biased by the sample size and only mean something next to what real data gets.

Reference features and the whole floor are cached under ``$GANFORGE_HOME/eval`` keyed by
the sha256 of the images, the extractor, the sample count, the seed and the metric
version, so the second evaluation against the same reference only pays for the samples.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.errors import ConfigError, DataError
from ganforge.eval import metrics as M
from ganforge.eval.report import EvalReport, MetricValue, Protocol, aggregate

#: Bump when a metric's definition changes: cached floors are keyed by it.
METRICS_VERSION = 3
MNIST_REFS = ("mnist-test",)


# ----------------------------------------------------------------------------- data
@dataclass
class ImageData:
    images: np.ndarray             # uint8 (N,H,W) or (N,H,W,C)
    labels: np.ndarray | None
    name: str
    sha256: str


def _sha(images: np.ndarray) -> str:
    from ganforge.data.cache import sha256_bytes

    return sha256_bytes(np.ascontiguousarray(images))


def _cache_dir() -> Path:
    from ganforge.data.cache import ganforge_home

    return ganforge_home() / "eval"


def _check_images(images: np.ndarray, where: str) -> np.ndarray:
    from ganforge.data.arrays import check_images

    images = np.asarray(images)
    if images.size == 0:
        raise DataError(f"{where} holds no images; pass a non-empty array of uint8 images.")
    return check_images(images, where)


def load_reference(
    ref: str, train: str | None = None, *, with_train: bool = True, image_size: int = 64,
) -> tuple[ImageData, ImageData | None]:
    """The reference images and, when known, the training images (for memorisation).

    ``ref``: "mnist-test" (training set: MNIST train) or an .npz/.npy/folder; ``train``
    overrides the training set ("mnist-train" or a path). A folder reference is decoded
    at ``image_size`` (square); array files keep their size."""
    from ganforge.data import load_images

    if ref in MNIST_REFS:
        from ganforge.data.mnist import load_mnist

        x, y = load_mnist("test")
        ref_data = ImageData(x, y, ref, _sha(x))
        train = train or "mnist-train"
    else:
        s = load_images(ref, image_size=image_size)
        ref_data = ImageData(_check_images(s.images, ref), s.labels, str(ref), "")
        ref_data.sha256 = _sha(ref_data.images)
    train_data = None
    if train and with_train:
        if train in ("mnist", "mnist-train"):
            from ganforge.data.mnist import load_mnist

            x, y = load_mnist("train")
            train_data = ImageData(x, y, "mnist-train", _sha(x))
        else:
            s = load_images(train, image_size=ref_data.images.shape[1])
            imgs = _check_images(s.images, train)
            train_data = ImageData(imgs, s.labels, str(train), _sha(imgs))
    return ref_data, train_data


def _is_checkpoint(path: Path) -> bool:
    return path.is_dir() and any(
        (path / p).exists() for p in ("state.json", "checkpoints", "LATEST", "config.json")
    )


def _generator_image_size(source) -> int | None:
    """The side length a checkpoint/run directory generates, or None for other sources."""
    if isinstance(source, np.ndarray) or not _is_checkpoint(Path(source)):
        return None
    from ganforge import checkpoint

    return int(checkpoint.load_state(source)["img_shape"][-1])


def load_samples(
    source, n: int, *, seed: int = 0, labels: np.ndarray | None = None, image_shape: tuple | None = None,
    batch_size: int = 500,
) -> ImageData:
    """Samples from an array, an .npz/.npy, a folder of images, or a checkpoint/run dir.

    Files and folders: the first ``n`` images (all of them if fewer). Generators: ``n``
    images from ``seed``; conditional generators get balanced labels (i mod K)."""
    if isinstance(source, np.ndarray):
        imgs = _check_images(source, "the sample array")
        lab = None if labels is None else np.asarray(labels, dtype=np.int64)
        name = "array"
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(f"{path} does not exist; pass an .npz, a folder of images, a checkpoint or a run directory.")
        if _is_checkpoint(path):
            from ganforge.sampling import generate, load_generator

            G = load_generator(path)
            lab = np.arange(n, dtype=np.int64) % G.num_classes if G.num_classes else None
            imgs, lab = generate(G, n, seed=seed, batch_size=batch_size, labels=lab)
            return ImageData(imgs, lab, f"{path} (seed {seed})", _sha(imgs))
        if path.is_dir():
            from ganforge.data.arrays import load_folder

            size = image_shape[0] if image_shape else 28
            channels = (1 if len(image_shape) == 2 else image_shape[2]) if image_shape else None
            imgs, lab = load_folder(path, size, channels), None
        elif path.suffix in (".npz", ".npy"):
            from ganforge.data.arrays import load_array

            if path.stat().st_size == 0:
                raise DataError(f"{path} is empty (0 bytes); write the samples again with `ganforge sample`.")
            imgs, lab = load_array(path)
        else:
            raise DataError(
                f"{path} is not an .npz/.npy file, a folder of images, or a checkpoint; pass one of those."
            )
        name = str(path)
    if lab is not None and len(lab) != len(imgs):
        raise DataError(f"{name} has {len(imgs)} images but {len(lab)} labels; save one label per image.")
    if len(imgs) > n:
        imgs = imgs[:n]
        lab = None if lab is None else lab[:n]
    return ImageData(imgs, lab, name, _sha(imgs))


# ----------------------------------------------------------------------------- features
#: The MNIST extractor's name in the protocol (Inception names its own, with the recipe).
MNIST_FEATURE_SPACE = "ganforge-mnist-cnn"
#: Where ``evaluate`` looks for Inception weights when a reference is not MNIST-shaped
#: and no ``inception_weights`` was passed (a path; see docs/evaluation.md).
INCEPTION_ENV = "GANFORGE_INCEPTION_WEIGHTS"


def _is_inception(extractor) -> bool:
    from ganforge.eval.inception import InceptionExtractor

    return isinstance(extractor, InceptionExtractor)


def _extractor_key(extractor) -> str:
    """What cached features and floors are keyed by: the weights' hash, plus (Inception)
    the preprocessing recipe and its version."""
    return getattr(extractor, "cache_key", extractor.sha256)


def _extract(images: np.ndarray, extractor) -> tuple[np.ndarray, np.ndarray | None]:
    """(features, classifier output) for either feature space. The classifier output is
    the MNIST class probabilities (N,10), or Inception's bias-free logits (N,1008) that
    the Inception Score needs (``None`` when the weights have no ``fc``)."""
    if _is_inception(extractor):
        from ganforge.eval.inception import inception_features

        return inception_features(images, extractor)
    from ganforge.eval.extractor import extract

    return extract(images, extractor)


def reference_features(ref: ImageData, extractor) -> tuple[np.ndarray, np.ndarray | None]:
    """Features and classifier output of the reference, cached by image + extractor hash.

    Inception: only the (float32) features are cached and the output is ``None``: the
    reference's logits are never used (the Inception Score is a property of the samples),
    and 1008 floats per image would add half again to the 2048 of the features."""
    from ganforge.data.cache import save_npz_atomic

    key = _extractor_key(extractor)
    if key != extractor.sha256:
        import hashlib

        key = hashlib.sha256(key.encode()).hexdigest()
    path = _cache_dir() / f"features-{ref.sha256[:16]}-{key[:16]}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                return z["features"], (z["probs"] if "probs" in z.files else None)
        except Exception:  # a corrupt cache entry is recomputed, never trusted
            path.unlink(missing_ok=True)
    f, p = _extract(ref.images, extractor)
    if _is_inception(extractor):
        p = None
    save_npz_atomic(path, features=f, **({} if p is None else {"probs": p}))
    return f, p


def _extractor_applies(images: np.ndarray) -> bool:
    return images.ndim == 3 and images.shape[1:] == (28, 28)


def _choose_extractor(ref_images: np.ndarray, inception_weights, extractor_path, skipped: dict[str, str]):
    """The feature space: Inception when weights are given (any image shape), else the
    MNIST extractor for 28x28 grayscale, else Inception from ``$GANFORGE_INCEPTION_WEIGHTS``,
    else none, with the reason (and what to pass) recorded in ``skipped``."""
    import os

    from ganforge.eval.inception import CLEAN_FID_FILE, PYTORCH_FID_FILE, PYTORCH_FID_URL, load_inception

    if inception_weights:
        return load_inception(inception_weights)
    if _extractor_applies(ref_images):
        from ganforge.eval.extractor import load_extractor

        return load_extractor(extractor_path)
    if os.environ.get(INCEPTION_ENV):
        return load_inception(os.environ[INCEPTION_ENV])
    skipped["fid, kid, inception score, precision/recall, density/coverage, feature C2ST, 1-NN"] = (
        "the shipped feature extractor is an MNIST classifier (28x28 grayscale) and these images are "
        f"{ref_images.shape[1:]}; for Inception FID pass --inception-weights PATH (Python: inception_weights=PATH, "
        f"or set {INCEPTION_ENV}) with {PYTORCH_FID_FILE} from {PYTORCH_FID_URL} "
        f"(or clean-fid's {CLEAN_FID_FILE}), downloaded on a connected machine"
    )
    return None


# ----------------------------------------------------------------------------- metrics
@dataclass
class _Settings:
    seed: int
    bootstrap: int
    kid_subsets: int
    kid_subset_size: int
    pixel_c2st: bool
    c2st_per_side: int
    c2st_epochs: int
    memorisation: bool
    copy_threshold: float
    inception: bool = False      # Inception features: Inception Score instead of the class metrics
    feature_label: str = "extractor features"


def _feature_c2st(real_f: np.ndarray, fake_f: np.ndarray, seed: int):
    """Feature-space C2ST from ganforge.eval.c2st (another module), or None if absent."""
    try:
        from ganforge.eval.c2st import c2st
    except ImportError:
        return None
    return c2st(real_f.astype(np.float32), fake_f.astype(np.float32), seed=seed)


def _compute(
    fake: ImageData, ref: ImageData, train: ImageData | None, ref_f, ref_p, fake_f, fake_p,
    s: _Settings, *, floor: bool, skipped: dict[str, str], extra: dict,
) -> dict[str, MetricValue]:
    """All metrics of ``fake`` vs ``ref`` (no floor column). ``floor=True`` means ``fake``
    are held-out real images: memorisation then uses the reference images instead.
    ``fake_p`` is the classifier output of :func:`_extract`: MNIST probabilities, or
    Inception logits (ImageNet classes, so no class histogram or label accuracy)."""
    out: dict[str, MetricValue] = {}
    B = s.bootstrap
    rng_seed = s.seed

    def mv(name, value, label, better, **kw):
        out[name] = MetricValue(name=name, value=float(value), label=label, better=better, **kw)

    if fake_f is not None:
        fid = M.fid_from_features(ref_f, fake_f)
        ci = M.fid_bootstrap_ci(ref_f, fake_f, num=B, seed=rng_seed, estimate=fid) if B else None
        mv("fid", fid, f"FID ({s.feature_label})", "lower", ci=ci)
        k = M.kid(ref_f, fake_f, num_subsets=s.kid_subsets, subset_size=s.kid_subset_size, seed=rng_seed)
        mv("kid", k.mean, "KID (unbiased)", "lower", sd=k.std, note=f"{k.num_subsets} subsets of {k.subset_size}")
        if s.inception:
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


def _floor(
    ref: ImageData, train: ImageData | None, ref_f, ref_p, n: int, s: _Settings, extractor, conditional: bool,
) -> tuple[dict[str, MetricValue], list[float] | None, str]:
    """Real-vs-real metrics: ``n`` held-out real images vs the reference (cached)."""
    if train is not None:
        rng = np.random.default_rng(s.seed)
        idx = np.sort(rng.choice(len(train.images), min(n, len(train.images)), replace=False))
        held = ImageData(train.images[idx], None if train.labels is None else train.labels[idx],
                         f"{train.name}[{len(idx)} random, seed {s.seed}]", "")
        ref_used, ref_f_used, ref_p_used = ref, ref_f, ref_p
        floor_name = held.name
    else:
        # No separate real set: split the reference in two halves (smaller n, noted).
        rng = np.random.default_rng(s.seed)
        perm = rng.permutation(len(ref.images))
        a, b = perm[: len(perm) // 2], perm[len(perm) // 2 :][:n]
        held = ImageData(ref.images[b], None if ref.labels is None else ref.labels[b], f"{ref.name}[half B]", "")
        ref_used = ImageData(ref.images[a], None if ref.labels is None else ref.labels[a], f"{ref.name}[half A]", "")
        ref_f_used = None if ref_f is None else ref_f[a]
        ref_p_used = None if ref_p is None else ref_p[a]
        floor_name = f"reference split in halves ({len(a)} vs {len(b)})"
    if not conditional:
        held.labels = None
    key = json.dumps({
        "v": METRICS_VERSION, "ref": ref.sha256, "train": None if train is None else train.sha256,
        "n": n, "ext": None if extractor is None else _extractor_key(extractor), "cond": conditional,
        "s": [s.seed, s.bootstrap, s.kid_subsets, s.kid_subset_size, s.pixel_c2st, s.c2st_per_side,
              s.c2st_epochs, s.memorisation, s.copy_threshold],
    }, sort_keys=True)
    import hashlib

    path = _cache_dir() / f"floor-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    if path.exists():
        try:
            d = json.loads(path.read_text())
            return {k: MetricValue(**{**v, "ci": tuple(v["ci"]) if v.get("ci") else None})
                    for k, v in d["metrics"].items()}, d["class_shares"], d["floor_set"]
        except Exception:
            path.unlink(missing_ok=True)
    held_f = held_p = None
    if extractor is not None:
        held_f, held_p = _extract(held.images, extractor)
    extra: dict = {}
    floor_metrics = _compute(held, ref_used, train, ref_f_used, ref_p_used, held_f, held_p, s,
                             floor=True, skipped={}, extra=extra)
    from dataclasses import asdict

    from ganforge.eval.report import _atomic_write, _clean

    _atomic_write(path, json.dumps({
        "metrics": {k: _clean(asdict(v)) for k, v in floor_metrics.items()},
        "class_shares": extra.get("class_shares"), "floor_set": floor_name,
    }))
    return floor_metrics, extra.get("class_shares"), floor_name


# ----------------------------------------------------------------------------- public
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
) -> EvalReport:
    """Evaluate samples against a reference set; returns an :class:`EvalReport`.

    ``source``: uint8 image array (N,H,W)/(N,H,W,C), an .npz (key ``images``, optional
    ``labels``), an .npy, a folder of images, a checkpoint or a run directory (then ``n``
    samples are generated from ``seed``), or a list of those (aggregated, mean ± sd).
    ``ref``: "mnist-test" or a path; ``train``: the training images for memorisation
    (defaults to MNIST train for the MNIST reference). ``runs``: evaluate a generator
    with seeds ``seed .. seed+runs-1`` and aggregate. ``floor``: compute the
    real-vs-real column (cached). ``closest_pairs``: write the memorisation picture.
    ``image_size``: side length at which a *folder* reference is decoded (samples from a
    folder are decoded at the reference's size); None = the generator's image size when
    ``source`` is a checkpoint or run directory, else 64. ``inception_weights``: a local file of
    the FID InceptionV3 (pytorch-fid / torch-fidelity state dict, or clean-fid's
    TorchScript, see :mod:`ganforge.eval.inception`); when given, FID, KID,
    precision/recall, density/coverage, 1-NN and the feature C2ST are computed in its
    2048-d pool3 space for any image shape, and the Inception Score replaces the MNIST
    class metrics. Without it, 28x28 grayscale images use the shipped MNIST extractor and
    other images use ``$GANFORGE_INCEPTION_WEIGHTS`` if set, else skip those metrics.
    """
    if isinstance(source, (list, tuple)):
        if len(source) == 0:
            raise ConfigError("evaluate got an empty list of sources; pass at least one .npz, folder or run.")
        reports = [evaluate(s, ref, n, train=train, seed=seed, runs=runs, labels=labels, bootstrap=bootstrap,
                            floor=floor, pixel_c2st=pixel_c2st, memorisation=memorisation,
                            copy_threshold=copy_threshold, kid_subsets=kid_subsets,
                            kid_subset_size=kid_subset_size, c2st_per_side=c2st_per_side,
                            c2st_epochs=c2st_epochs, extractor_path=extractor_path, image_size=image_size,
                            inception_weights=inception_weights)
                   for s in source]
        if len(reports) == 1:
            return reports[0]
        flat = []
        for r in reports:
            flat.append(r)
        return aggregate(flat)
    if runs > 1:
        if isinstance(source, np.ndarray) or not _is_checkpoint(Path(source)):
            raise ConfigError("--runs needs a checkpoint or run directory (it samples with several seeds); "
                              "to aggregate sample files, pass several of them instead.")
        reports = [evaluate(source, ref, n, train=train, seed=seed + i, runs=1, labels=labels, bootstrap=bootstrap,
                            floor=floor, pixel_c2st=pixel_c2st, memorisation=memorisation,
                            copy_threshold=copy_threshold, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size,
                            c2st_per_side=c2st_per_side, c2st_epochs=c2st_epochs, extractor_path=extractor_path,
                            image_size=image_size, inception_weights=inception_weights)
                   for i in range(runs)]
        return aggregate(reports, source=f"{source} (seeds {seed}..{seed + runs - 1})")
    if n < 10:
        raise ConfigError(f"-n must be at least 10 samples, got {n}; metrics need a sample set.")
    from threadpoolctl import threadpool_limits

    # numpy/scipy work here is many small matrices (KID subsets, 128x128 covariances,
    # L-BFGS steps): one BLAS thread is faster than a team that spins waiting for each
    # other, markedly so on a busy machine. torch (distances, CNNs) keeps its threads.
    with threadpool_limits(limits=1, user_api="blas"):
        return _evaluate_one(
            source, ref, n, train=train, seed=seed, labels=labels, bootstrap=bootstrap, floor=floor,
            pixel_c2st=pixel_c2st, memorisation=memorisation, copy_threshold=copy_threshold,
            kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, c2st_per_side=c2st_per_side,
            c2st_epochs=c2st_epochs, closest_pairs=closest_pairs, extractor_path=extractor_path,
            image_size=image_size, inception_weights=inception_weights,
        )


def _evaluate_one(
    source, ref, n, *, train, seed, labels, bootstrap, floor, pixel_c2st, memorisation, copy_threshold,
    kid_subsets, kid_subset_size, c2st_per_side, c2st_epochs, closest_pairs, extractor_path, image_size,
    inception_weights,
) -> EvalReport:

    from ganforge import __version__
    from ganforge.eval.memorisation import DEFAULT_COPY_THRESHOLD, closest_pairs_figure

    t0 = time.perf_counter()
    if image_size is None:
        image_size = _generator_image_size(source) or 64
    ref_data, train_data = load_reference(ref, train, image_size=image_size)
    fake = load_samples(source, n, seed=seed, labels=labels, image_shape=ref_data.images.shape[1:])
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
    if not memorisation:
        skipped["memorisation"] = "disabled"
    elif train_data is None:
        skipped["memorisation"] = "no training set known for this reference; pass --train PATH"
    if not pixel_c2st:
        skipped["c2st_pixels"] = "disabled"

    ref_f = ref_p = fake_f = fake_p = None
    extractor = _choose_extractor(ref_data.images, inception_weights, extractor_path, skipped)
    inception = extractor is not None and _is_inception(extractor)
    if extractor is not None:
        ref_f, ref_p = reference_features(ref_data, extractor)
        fake_f, fake_p = _extract(fake.images, extractor)
    settings = _Settings(
        seed=seed, bootstrap=bootstrap, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size,
        pixel_c2st=pixel_c2st, c2st_per_side=c2st_per_side, c2st_epochs=c2st_epochs,
        memorisation=memorisation and train_data is not None,
        copy_threshold=DEFAULT_COPY_THRESHOLD if copy_threshold is None else copy_threshold,
        inception=inception, feature_label="Inception pool3" if inception else "extractor features",
    )
    extra: dict = {}
    if fake.labels is not None and ref_data.labels is None:
        skipped["tstr"] = "the reference has no labels"
    metrics = _compute(fake, ref_data, train_data, ref_f, ref_p, fake_f, fake_p, settings,
                       floor=False, skipped=skipped, extra=extra)
    floor_shares, floor_name = None, None
    if floor:
        # When the reference *is* the training set (a small folder evaluated against itself),
        # no real image is held out from training: the memorisation floor would be 100 % copies
        # by construction. Then the floor splits the reference in halves and has no copy rate.
        same = train_data is not None and train_data.sha256 == ref_data.sha256
        fl, floor_shares, floor_name = _floor(ref_data, None if same else train_data, ref_f, ref_p, n_used,
                                              settings, extractor, conditional=fake.labels is not None)
        if same and settings.memorisation:
            skipped["memorisation floor"] = ("the reference is the training set, so no real image is held out "
                                             "from training; pass a held-out folder as --ref for one")
        from dataclasses import replace

        for name, m in metrics.items():
            if name in fl:
                metrics[name] = replace(m, floor=fl[name].value)
            elif name == "label_accuracy" and ref_p is not None and ref_data.labels is not None:
                metrics[name] = replace(m, floor=float((ref_p.argmax(1) == ref_data.labels).mean()))
    figures = {}
    if closest_pairs is not None and "memorisation" in extra:
        figures["closest pairs"] = str(closest_pairs_figure(fake.images, train_data.images, extra["memorisation"], closest_pairs))
    protocol = Protocol(
        source=fake.name, num_samples=n_used, reference=ref_data.name, reference_sha256=ref_data.sha256,
        reference_size=len(ref_data.images), train_set=None if train_data is None else train_data.name,
        train_sha256=None if train_data is None else train_data.sha256, floor_set=floor_name,
        extractor_sha256=None if extractor is None else extractor.sha256, ganforge_version=__version__,
        seed=seed, bootstrap=bootstrap, kid_subsets=kid_subsets, kid_subset_size=min(kid_subset_size, n_used, len(ref_data.images)),
        copy_threshold=settings.copy_threshold if settings.memorisation else None,
        c2st_pixels_per_side=min(c2st_per_side, n_used, len(ref_data.images)) if pixel_c2st else None,
        run_seeds=[seed], seconds=time.perf_counter() - t0,
        feature_space=None if extractor is None else (extractor.feature_space if inception else MNIST_FEATURE_SPACE),
    )
    return EvalReport(protocol, metrics, extra.get("class_shares"), floor_shares, skipped, figures)


# ----------------------------------------------------------------------------- during training
_REF_STATS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def reference_statistics(ref: str = "mnist-test") -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of the reference's extractor features, cached on disk and in memory."""
    from ganforge.eval.extractor import load_extractor

    ext = load_extractor()
    key = (ref, ext.sha256)
    if key not in _REF_STATS:
        ref_data, _ = load_reference(ref, with_train=False)
        f, _ = reference_features(ref_data, ext)
        _REF_STATS[key] = M.feature_statistics(f)
    return _REF_STATS[key]


def quick_fid(generator, n: int = 2000, seed: int = 0, ref: str = "mnist-test", batch_size: int = 500) -> float:
    """Cheap FID of a generator's samples against the cached reference statistics.

    For ``--eval-every`` during training: ~2-4 s on 2 CPU cores for n=2000 (28x28).
    Deterministic for a given ``seed`` (same z every call, so successive values compare
    checkpoints, not noise). FID is biased upward at small n, so compare values taken
    with the same n only; use :func:`evaluate` for reported numbers. The generator's
    train/eval mode is restored afterwards.
    """
    import torch

    from ganforge.eval.extractor import extract, load_extractor
    from ganforge.sampling import sample_outputs, to_uint8_images

    was_training = generator.training
    generator.eval()
    try:
        labels = None
        if getattr(generator, "num_classes", 0):
            labels = torch.arange(n) % generator.num_classes
        x, _ = sample_outputs(generator, n, seed=seed, batch_size=batch_size, labels=labels)
    finally:
        generator.train(was_training)
    images = to_uint8_images(x, getattr(generator, "scaling", "tanh"))
    if not _extractor_applies(images):
        raise DataError(f"quick_fid needs 28x28 grayscale images, got {images.shape[1:]}; it uses the MNIST extractor.")
    mu, sigma = reference_statistics(ref)
    f, _ = extract(images, load_extractor())
    return M.frechet_distance(*M.feature_statistics(f), mu, sigma)
