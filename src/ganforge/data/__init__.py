"""Datasets: MNIST (fetched, verified, cached), image folders, .npz/.npy arrays,
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

    @property
    def num_classes(self) -> int:
        return 0 if self.labels is None else int(self.labels.max()) + 1

    @property
    def chw(self) -> tuple[int, int, int]:
        if self.images.ndim == 3:
            return (1, *self.images.shape[1:])
        n, h, w, c = self.images.shape
        return (c, h, w)


DATASET_NAMES = ("mnist", "mnist-test", "digits")


def load_images(dataset: str, *, image_size: int = 64, channels: int | None = None) -> ImageSet:
    """Resolve a dataset name or path to an :class:`ImageSet`.

    ``dataset``: "mnist" (60k train), "mnist-test", "digits" (sklearn 8×8), a path to an
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
