"""Labelled train/test splits for the probe and augmentation experiments.

"mnist": the official 60k/10k split. "digits": scikit-learn's 1,797 8×8 digits, split
by a fixed seeded permutation into 1,297 train / 500 test (tiny, for tests and quick
looks; the numbers are not comparable with MNIST's)."""

from __future__ import annotations

import numpy as np

from ganforge.errors import DataError

SPLIT_NAMES = ("mnist", "digits")


def labelled_split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train uint8 (N,H,W), y_train int64, x_test, y_test)."""
    if name in ("mnist", "mnist-train"):
        from ganforge.data.mnist import load_mnist

        xtr, ytr = load_mnist("train")
        xte, yte = load_mnist("test")
        return xtr, ytr, xte, yte
    if name == "digits":
        from ganforge.data.arrays import load_digits8

        x, y = load_digits8()
        perm = np.random.default_rng(0).permutation(len(x))
        tr, te = perm[:1297], perm[1297:]
        return x[tr], y[tr], x[te], y[te]
    raise DataError(f"the probe and augment experiments need a labelled train/test split; {name!r} has none here: "
                    f"use one of {', '.join(SPLIT_NAMES)} (--data).")


def balanced_subset(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` random examples of every class (seeded), sorted."""
    rng = np.random.default_rng(seed)
    idx = []
    for c in np.unique(y):
        pool = np.flatnonzero(y == c)
        if len(pool) < per_class:
            raise DataError(f"class {c} has only {len(pool)} examples, fewer than the {per_class} asked for; lower n.")
        idx.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(idx))


def to_model_images(images: np.ndarray, scaling: str = "tanh"):
    """uint8 (N,H,W) -> float32 tensor (N,1,H,W) in the model's range."""
    from ganforge.data.batches import images_to_nchw, to_model_range

    return to_model_range(images_to_nchw(images), scaling)
