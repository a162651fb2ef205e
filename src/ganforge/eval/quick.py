"""``quick_fid(G)``: the cheap FID for ``--eval-every`` during training."""

from __future__ import annotations

import numpy as np

from ganforge.errors import DataError
from ganforge.eval import metrics as M
from ganforge.eval.features import _extractor_applies, reference_features
from ganforge.eval.sources import sampler_images, load_reference

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


def quick_fid(sampler, n: int = 2000, seed: int = 0, ref: str = "mnist-test", batch_size: int = 500) -> float:
    """Cheap FID of a :class:`~ganforge.sampler.Sampler`'s samples against the cached reference statistics.

    For ``--eval-every`` during training: ~2-4 s on 2 CPU cores for n=2000 (28x28).
    Deterministic for a given ``seed`` (same z every call, so successive values compare
    checkpoints, not noise). FID is biased upward at small n, so compare values taken
    with the same n only; use :func:`~ganforge.eval.evaluate` for reported numbers. The
    sampler's train/eval mode is restored afterwards.
    """
    from ganforge.eval.extractor import extract, load_extractor

    images, _ = sampler_images(sampler, n, seed, batch_size)
    if not _extractor_applies(images):
        raise DataError(f"quick_fid needs 28x28 grayscale images, got {images.shape[1:]}; it uses the MNIST extractor.")
    mu, sigma = reference_statistics(ref)
    f, _ = extract(images, load_extractor())
    return M.frechet_distance(*M.feature_statistics(f), mu, sigma)
