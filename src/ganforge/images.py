"""Image grids and PNG writing (PIL + numpy; no torchvision)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ganforge.files import atomic_path


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 (N,H,W) or (N,H,W,C) -> one uint8 image, ``nrow`` images per row."""
    n = len(images)
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    ncol_rows = math.ceil(n / nrow)
    h, w = images.shape[1:3]
    extra = images.shape[3:]
    grid = np.full((ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad) + extra, pad_value, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return grid


def save_png(image: np.ndarray, path: str | Path, min_size: int = 0) -> Path:
    """Save a uint8 (H,W) or (H,W,3) array; small images are enlarged (nearest) to
    ``min_size`` pixels on their short side so grids of 8×8 digits are visible."""
    from PIL import Image

    im = Image.fromarray(image)
    if min_size and min(im.size) < min_size:
        k = math.ceil(min_size / min(im.size))
        im = im.resize((im.size[0] * k, im.size[1] * k), Image.Resampling.NEAREST)
    with atomic_path(path) as tmp:
        im.save(tmp, format="PNG")
    return Path(path)


def save_grid(images: np.ndarray, path: str | Path, nrow: int | None = None) -> Path:
    return save_png(make_grid(images, nrow), path, min_size=256)
