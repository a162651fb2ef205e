"""The training set as the harness hands it to a task: uint8 NCHW images (or float rows)
and labels as tensors, and a :class:`DataSpec` describing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ganforge.data import ImageSet, load_images
from ganforge.data.batches import images_to_nchw
from ganforge.errors import DataError


@dataclass(frozen=True)
class DataSpec:
    """What a task needs to know about the data to build its networks.

    ``shape``: (C,H,W) for images, (d,) for rows; ``num_classes``: 0 unless the config asks
    for a conditional model; ``holdout(n)``: n held-out examples (uint8 NCHW on the CPU,
    labels or None) for previews that show reconstructions."""

    shape: tuple[int, ...]
    num_classes: int
    is_image: bool
    holdout: Callable[[int], tuple[torch.Tensor, torch.Tensor | None]] | None = None
    paired: Any = None  # image-to-image data (data.pairs): a ganforge.data.paired.PairInfo
    # a conditional model's training labels counted per class: p(y) of the data, which the
    # sampler draws labels from so that p(y)·p(x|y) models p(x) (ganforge.sampler)
    class_counts: tuple[int, ...] | None = None


def training_data(cfg, data: ImageSet | torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None, DataSpec]:
    """(x, y, spec) for ``cfg.data`` (or in-memory ``data``): x uint8 (N,C,H,W) images or
    float (N,d) rows; y int64 labels only when the config is conditional."""
    if cfg.data.pairs:  # image-to-image: (input, target) pairs and their test split (data/paired.py)
        from ganforge.data.paired import paired_training_data

        return paired_training_data(cfg, data)
    if data is None:
        data = load_images(cfg.data.dataset, image_size=cfg.data.image_size, channels=cfg.data.channels or None)
    if isinstance(data, torch.Tensor):
        x, y = data.float(), None
        if x.ndim == 1:
            x = x[:, None]
    else:
        x = images_to_nchw(data.images)
        y = None if data.labels is None else torch.from_numpy(data.labels).long()
    num_classes = 0
    if cfg.data.conditional:
        if y is None:
            raise DataError(f"dataset {cfg.data.dataset!r} has no labels, so it cannot train a conditional model; "
                            "set data.conditional=false or use a labelled dataset.")
        num_classes = int(y.max()) + 1
    else:
        y = None
    is_image = x.dtype == torch.uint8

    def holdout(n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """MNIST's (Fashion-MNIST's) test split when training on it (truly held out), else
        the last ``n`` training images."""
        if cfg.data.dataset in ("mnist", "mnist-train"):
            from ganforge.data.mnist import load_mnist

            xt, yt = load_mnist("test")
            return images_to_nchw(xt[:n]), torch.from_numpy(yt[:n])
        if cfg.data.dataset in ("fashion-mnist", "fashion-mnist-train"):
            from ganforge.data.fashion import load_fashion_mnist

            xt, yt = load_fashion_mnist("test")
            return images_to_nchw(xt[:n]), torch.from_numpy(yt[:n])
        return x[-n:], None if y is None else y[-n:]

    counts = tuple(torch.bincount(y, minlength=num_classes).tolist()) if num_classes else None
    return x, y, DataSpec(tuple(x.shape[1:]), num_classes, is_image, holdout if is_image else None,
                          class_counts=counts)
