"""``quick_fid(G)``: the cheap FID for ``--eval-every`` during training."""

from __future__ import annotations

import numpy as np

from ganforge.errors import DataError
from ganforge.eval import metrics as M
from ganforge.eval.features import _extractor_applies, reference_features
from ganforge.eval.sources import sampler_images, load_reference

_REF_STATS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def quick_reference(dataset: str | None) -> str:
    """The reference ``quick_fid`` uses for a run trained on ``dataset`` (``cfg.data.dataset``):
    "fashion-mnist-test" for Fashion-MNIST, else "mnist-test"."""
    from ganforge.eval.extractor import data_kind

    return "fashion-mnist-test" if data_kind(dataset) == "fashion-mnist" else "mnist-test"


def reference_statistics(ref: str = "mnist-test", extractor: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of the reference's extractor features, cached on disk and in memory.
    ``extractor``: "mnist" or "fashion-mnist"; None = the one matching ``ref``'s name (else MNIST)."""
    from ganforge.eval.extractor import data_kind, load_extractor

    ext = load_extractor(dataset=extractor or data_kind(ref) or "mnist")
    key = (ref, ext.sha256)
    if key not in _REF_STATS:
        ref_data, _ = load_reference(ref, with_train=False)
        f, _ = reference_features(ref_data, ext)
        _REF_STATS[key] = M.feature_statistics(f)
    return _REF_STATS[key]


def quick_fid(sampler, n: int = 2000, seed: int = 0, ref: str | None = None, batch_size: int = 500,
              dataset: str | None = None) -> float:
    """The FID of :func:`quick_metrics` (same arguments)."""
    return quick_metrics(sampler, n, seed, ref, batch_size, dataset)["fid"]


def quick_metrics(sampler, n: int = 2000, seed: int = 0, ref: str | None = None, batch_size: int = 500,
                  dataset: str | None = None) -> dict[str, float]:
    """Cheap FID and classifier score of a :class:`~ganforge.sampler.Sampler`'s samples against the
    cached reference statistics (the classifier score from the same extractor pass: free).

    ``ref``: "mnist-test", "fashion-mnist-test" or a path, scored with the matching
    extractor; None = :func:`quick_reference` of ``dataset`` (the run's ``data.dataset``),
    so ``quick_fid(G, n, seed)`` keeps MNIST and ``dataset="fashion-mnist"`` scores clothes
    against Fashion-MNIST's test set. A ``ref`` and ``dataset`` of different kinds are refused.

    For ``--eval-every`` during training: ~2-4 s on 2 CPU cores for n=2000 (28x28).
    Deterministic for a given ``seed`` (same z every call, so successive values compare
    checkpoints, not noise). FID is biased upward at small n, so compare values taken
    with the same n only; use :func:`~ganforge.eval.evaluate` for reported numbers. The
    sampler's train/eval mode is restored afterwards.
    """
    from ganforge.eval.extractor import extract, load_extractor
    from ganforge.eval.features import extractor_kind

    if ref is None:
        ref = quick_reference(dataset)
    kind = extractor_kind(ref, dataset)  # clothes are never scored against digits (one-sentence DataError)
    images, _ = sampler_images(sampler, n, seed, batch_size)
    if not _extractor_applies(images):
        raise DataError(f"quick_fid needs 28x28 grayscale images, got {images.shape[1:]}; "
                        "it uses the MNIST or Fashion-MNIST extractor.")
    mu, sigma = reference_statistics(ref, kind)
    f, p = extract(images, load_extractor(dataset=kind))
    return {"fid": M.frechet_distance(*M.feature_statistics(f), mu, sigma),
            "classifier_score": M.classifier_score(p)[0]}
