"""The feature space of an evaluation and the reference's cached features.

A shipped extractor for 28x28 grayscale images (the MNIST digit classifier, or the
Fashion-MNIST clothes classifier: the one that matches the data), or Inception-v3 pool3
from local weights (``ganforge.eval.inception``) for any images. Reference features are
cached under ``$GANFORGE_HOME/eval`` keyed by the sha256 of the images and of the extractor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganforge.eval.sources import ImageData
from ganforge.files import sha256_bytes

#: The shipped extractors' names in the protocol (Inception names its own, with the recipe).
MNIST_FEATURE_SPACE = "ganforge-mnist-cnn"
FASHION_FEATURE_SPACE = "ganforge-fashion-mnist-cnn"
#: Where ``evaluate`` looks for Inception weights when a reference is not MNIST-shaped
#: and no ``inception_weights`` was passed (a path; see docs/evaluation.md).
INCEPTION_ENV = "GANFORGE_INCEPTION_WEIGHTS"


def _cache_dir() -> Path:
    from ganforge.data.cache import ganforge_home

    return ganforge_home() / "eval"


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
        key = sha256_bytes(key)
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


def extractor_kind(ref_name: str | None, source_dataset: str | None = None, chosen: str | None = None) -> str:
    """Which shipped 28x28 extractor scores these images: "mnist" or "fashion-mnist".

    Known from the reference's name (``mnist-test`` / ``fashion-mnist-test``), the data set
    a run was trained on (its ``config.json``), or ``chosen`` (``--extractor``); MNIST when
    none says. Raises :class:`DataError` (one sentence) when two of them disagree: clothes
    are never scored in digit space, nor digits in clothes space."""
    from ganforge.errors import DataError
    from ganforge.eval.extractor import SUBJECTS, data_kind

    ref_kind, src_kind = data_kind(ref_name), data_kind(source_dataset)
    if chosen and ref_kind and chosen != ref_kind:
        raise DataError(f"--extractor {chosen} scores {SUBJECTS[chosen]} but the reference {ref_name} holds "
                        f"{SUBJECTS[ref_kind]}; drop --extractor or pass --extractor {ref_kind}.")
    if src_kind and ref_kind and src_kind != ref_kind:
        raise DataError(f"these samples come from a model trained on {source_dataset} ({SUBJECTS[src_kind]}) but the "
                        f"reference {ref_name} holds {SUBJECTS[ref_kind]}; evaluate against --ref {src_kind}-test.")
    if chosen and src_kind and chosen != src_kind:
        raise DataError(f"--extractor {chosen} scores {SUBJECTS[chosen]} but these samples come from a model trained "
                        f"on {source_dataset} ({SUBJECTS[src_kind]}); pass --extractor {src_kind}.")
    return chosen or ref_kind or src_kind or "mnist"


def _choose_extractor(ref_images: np.ndarray, inception_weights, extractor_path, skipped: dict[str, str], *,
                      ref_name: str | None = None, source_dataset: str | None = None, extractor: str | None = None):
    """The feature space: Inception when weights are given (any image shape), else the
    shipped extractor that matches the data (:func:`extractor_kind`) for 28x28 grayscale,
    else Inception from ``$GANFORGE_INCEPTION_WEIGHTS``, else none, with the reason (and
    what to pass) recorded in ``skipped``."""
    import os

    from ganforge.errors import ConfigError, DataError
    from ganforge.eval.inception import CLEAN_FID_FILE, PYTORCH_FID_FILE, PYTORCH_FID_URL, load_inception

    if inception_weights:
        if extractor:
            raise ConfigError(f"--extractor {extractor} picks a shipped 28x28 extractor and --inception-weights "
                              "picks Inception; pass one of them.")
        return load_inception(inception_weights)
    kind = extractor_kind(ref_name, source_dataset, extractor)
    if _extractor_applies(ref_images):
        from ganforge.eval.extractor import load_extractor

        return load_extractor(extractor_path, dataset=kind)
    if extractor:
        raise DataError(f"--extractor {extractor} reads 28x28 grayscale images and the reference holds "
                        f"{ref_images.shape[1:]}; drop --extractor (or pass --inception-weights PATH).")
    if os.environ.get(INCEPTION_ENV):
        return load_inception(os.environ[INCEPTION_ENV])
    skipped["fid, kid, inception score, precision/recall, density/coverage, feature C2ST, 1-NN"] = (
        "the shipped feature extractors are MNIST and Fashion-MNIST classifiers (28x28 grayscale) and these images are "
        f"{ref_images.shape[1:]}; for Inception FID pass --inception-weights PATH (Python: inception_weights=PATH, "
        f"or set {INCEPTION_ENV}) with {PYTORCH_FID_FILE} from {PYTORCH_FID_URL} "
        f"(or clean-fid's {CLEAN_FID_FILE}), downloaded on a connected machine"
    )
    return None
