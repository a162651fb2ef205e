"""Memorisation: is a sample new, or a copy of a training image?

"Similar but not the same": a generator that reproduces its training images scores
perfectly on FID yet has learned nothing. For every sample we find the nearest
training image in pixel space, as the root-mean-square pixel difference with pixels
scaled to [0,1] (L2 / sqrt(#pixels): 0 = identical, 1 = black vs white everywhere; the
same scale for any image size), and count as *copies* the samples closer than a
threshold. The same statistic for real held-out images (never trained on) is the
yardstick: a model is memorising when its copy rate exceeds theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.errors import DataError
from ganforge.eval.metrics import nearest_neighbour

#: Default copy threshold (RMS pixel difference, pixels in [0,1]). No MNIST test image
#: is closer than 0.036 to a training image; about 2-3 % of them are closer than 0.05,
#: so "as close to a training image as the closest few percent of unseen real digits"
#: counts as a copy, and real held-out images give the yardstick rate (docs/evaluation.md).
DEFAULT_COPY_THRESHOLD = 0.05


def _flat01(images: np.ndarray) -> np.ndarray:
    a = np.asarray(images)
    if a.dtype != np.uint8:
        raise DataError(f"memorisation check needs uint8 images, got {a.dtype}")
    # [0, 1] whatever the model's scaling: DEFAULT_COPY_THRESHOLD is in these units.
    return a.reshape(len(a), -1).astype(np.float32) / 255.0


def nearest_training(samples: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RMS distance, index) of each sample's nearest training image (pixels in [0,1])."""
    if np.shape(samples)[1:] != np.shape(train)[1:]:
        raise DataError(
            f"samples {np.shape(samples)[1:]} and training images {np.shape(train)[1:]} differ in shape; "
            "compare images of one size"
        )
    if len(train) == 0 or len(samples) == 0:
        raise DataError("the memorisation check needs at least one sample and one training image")
    d, idx = nearest_neighbour(_flat01(samples), _flat01(train))
    return d / np.sqrt(np.prod(np.shape(train)[1:])), idx


@dataclass(frozen=True)
class MemorisationResult:
    copy_rate: float            # share of samples closer than ``threshold`` to a training image
    threshold: float
    median_distance: float      # median nearest-training distance
    p01_distance: float         # 1st percentile of nearest-training distances
    distances: np.ndarray       # (M,) per-sample nearest-training distance
    indices: np.ndarray         # (M,) index of that training image


def memorisation(
    samples: np.ndarray, train: np.ndarray, threshold: float = DEFAULT_COPY_THRESHOLD,
    distances: tuple[np.ndarray, np.ndarray] | None = None,
) -> MemorisationResult:
    """Copy rate and nearest-training-distance summary of ``samples`` against ``train``."""
    d, idx = distances if distances is not None else nearest_training(samples, train)
    return MemorisationResult(
        copy_rate=float((d < threshold).mean()),
        threshold=float(threshold),
        median_distance=float(np.median(d)),
        p01_distance=float(np.quantile(d, 0.01)),
        distances=d,
        indices=idx,
    )


def closest_pairs_figure(
    samples: np.ndarray, train: np.ndarray, result: MemorisationResult, path: str | Path, k: int = 16
) -> Path:
    """Save a picture of the ``k`` samples closest to a training image, each above its
    nearest training image, with the distance printed: the pairs to look at first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(result.distances)[:k]
    k = len(order)
    fig, axes = plt.subplots(2, k, figsize=(1.1 * k, 2.6), squeeze=False)
    cmap = "gray" if samples.ndim == 3 else None
    for col, i in enumerate(order):
        axes[0, col].imshow(samples[i], cmap=cmap, vmin=0, vmax=255)
        axes[0, col].set_title(f"{result.distances[i]:.3f}", fontsize=8)
        axes[1, col].imshow(train[result.indices[i]], cmap=cmap, vmin=0, vmax=255)
        for row in (0, 1):
            axes[row, col].axis("off")
    axes[0, 0].text(-4, 14, "sample", rotation=90, va="center", ha="right", fontsize=8)
    axes[1, 0].text(-4, 14, "train", rotation=90, va="center", ha="right", fontsize=8)
    fig.suptitle(f"closest sample/training pairs, RMS distance (copy threshold {result.threshold:g})", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
