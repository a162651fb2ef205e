"""Datasets: MNIST and Fashion-MNIST (fetched, verified, cached), image folders, .npz/.npy arrays,
scikit-learn's 8×8 digits, and the on-device batcher used by training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.errors import DataError


@dataclass
class ImageSet:
    """uint8 images (N,H,W) or (N,H,W,C), optional int64 labels, and a name."""

    images: np.ndarray
    labels: np.ndarray | None
    name: str

    def __post_init__(self):
        # Checked here, when a set is made (loading, or in memory), so that a bad label is refused
        # before a run directory exists, not found by an embedding lookup mid-training.
        if self.labels is not None:
            self.labels = check_labels(self.labels, len(self.images), self.name)

    @property
    def num_classes(self) -> int:
        return 0 if self.labels is None else int(self.labels.max()) + 1

    @property
    def chw(self) -> tuple[int, int, int]:
        if self.images.ndim == 3:
            return (1, *self.images.shape[1:])
        n, h, w, c = self.images.shape
        return (c, h, w)


#: Class indices at or above this are refused: a conditional model's one-hot input has one unit per class.
MAX_CLASSES = 65536


def check_labels(labels, n_images: int, where: str) -> np.ndarray:
    """Labels as int64 (N,), or a one-sentence :class:`DataError`: one integer class index
    0..K-1 per image, none negative, not more than :data:`MAX_CLASSES` classes."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"{where} has labels shaped {labels.shape}; save one integer class per image, shaped (N,).")
    if len(labels) != n_images:
        raise DataError(f"{where} has {len(labels)} labels for {n_images} images; save exactly one label per image.")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.number):
        raise DataError(f"{where} has {labels.dtype} labels; save integer class indices 0..K-1.")
    if not np.issubdtype(labels.dtype, np.integer):
        bad = ~np.isfinite(labels) | (np.mod(labels, 1) != 0) if np.issubdtype(labels.dtype, np.floating) else \
            np.ones(labels.shape, bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{where} has a label that is not a whole number ({labels[i]} at index {i}); "
                            "save integer class indices 0..K-1.")
    if len(labels) and labels.min() < 0:
        i = int(np.argmin(labels))
        raise DataError(f"{where} has a negative label ({labels[i]:g} at index {i}); number the classes 0..K-1.")
    if len(labels) and labels.max() >= MAX_CLASSES:
        raise DataError(f"{where} has a label of {labels.max():g}; class indices must be below {MAX_CLASSES} "
                        "(number the classes 0..K-1).")
    return labels.astype(np.int64)


DATASET_NAMES = ("mnist", "mnist-test", "fashion-mnist", "fashion-mnist-test", "digits")


def load_images(dataset: str, *, image_size: int = 64, channels: int | None = None) -> ImageSet:
    """Resolve a dataset name or path to an :class:`ImageSet`.

    ``dataset``: "mnist" (60k train), "mnist-test", "fashion-mnist" (60k train of ganforge's
    own split, see :mod:`ganforge.data.fashion`), "fashion-mnist-test", "digits" (sklearn 8×8), a path to an
    .npz/.npy, or a folder of images (resized to ``image_size``).
    """
    from ganforge.data.arrays import load_array, load_digits8, load_folder

    if dataset.startswith("<") and dataset.endswith(">"):  # a preset's placeholder, e.g. folder-dcgan
        raise DataError(f"this preset trains on your own images but data.dataset is still the placeholder {dataset}; "
                        "pass --dataset path/to/folder (or --set data.dataset=path/to/folder).")
    if dataset in ("mnist", "mnist-train", "mnist-test"):
        from ganforge.data.mnist import load_mnist

        x, y = load_mnist("test" if dataset == "mnist-test" else "train")
        return ImageSet(x, y, dataset)
    if dataset in ("fashion-mnist", "fashion-mnist-train", "fashion-mnist-test"):
        from ganforge.data.fashion import load_fashion_mnist

        x, y = load_fashion_mnist("test" if dataset == "fashion-mnist-test" else "train")
        return ImageSet(x, y, dataset)
    if dataset == "digits":
        x, y = load_digits8()
        return ImageSet(x, y, "digits")
    path = Path(dataset)
    if path.is_dir():
        return ImageSet(load_folder(path, image_size, channels), None, str(path))
    if path.suffix in (".npz", ".npy"):
        x, y = load_array(path)
        return ImageSet(x, y, str(path))
    raise DataError(
        f"unknown dataset {dataset!r}; use one of {', '.join(DATASET_NAMES)}, a folder of images, or an .npz/.npy file."
    )
