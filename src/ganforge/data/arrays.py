"""Image arrays from files the user brings: .npz/.npy arrays and folders of PNG/JPEG,
plus scikit-learn's 8×8 digits for fast tests. Everything returns uint8 images shaped
(N, H, W) for one channel or (N, H, W, C) otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganforge.data import check_labels
from ganforge.data.cache import ganforge_home, save_npz_atomic
from ganforge.errors import DataError
from ganforge.files import sha256_bytes

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def image_files(folder: Path, recursive: bool = True) -> list[Path]:
    """The image files (by suffix) under ``folder`` (or directly in it), sorted: the one
    listing every folder reader uses, so all of them see the same files in the same order."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES)


def check_images(images: np.ndarray, where: str) -> np.ndarray:
    """Validate an image array and return it as uint8 (N,H,W) or (N,H,W,C)."""
    if images.ndim not in (3, 4) or len(images) == 0 or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
        raise DataError(
            f"{where} holds an array of shape {images.shape}; expected images shaped (N,H,W) or (N,H,W,C) with C 1 or 3."
        )
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.number) or not np.isfinite(images).all():
            raise DataError(f"{where} holds non-finite or non-numeric values; save uint8 images in [0,255].")
        lo, hi = float(images.min()), float(images.max())
        if lo >= 0 and hi <= 255 and np.all(np.mod(images, 1) == 0):
            images = images.astype(np.uint8)
        else:
            raise DataError(
                f"{where} holds {images.dtype} values in [{lo:g}, {hi:g}]; save images as uint8 in [0,255]."
            )
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images


def load_array(path: str | Path, key: str = "images") -> tuple[np.ndarray, np.ndarray | None]:
    """Images (and ``labels`` if present) from an .npz (key ``images``) or an .npy file."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; check the path.")
    try:
        if path.suffix == ".npy":
            return check_images(np.load(path, allow_pickle=False), str(path)), None
        with np.load(path, allow_pickle=False) as z:
            if key not in z.files:
                raise DataError(f"{path} has no array named '{key}' (it has {z.files}); save the images under '{key}'.")
            images = check_images(z[key], str(path))
            labels = check_labels(z["labels"], len(images), str(path)) if "labels" in z.files else None
            return images, labels
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read {path} as a numpy array file ({type(exc).__name__}: {exc}).") from None


def load_folder(path: str | Path, size: int = 64, channels: int | None = None) -> np.ndarray:
    """Decode every image under ``path`` once, centre-crop to square, resize to
    ``size``×``size``; cached as uint8 .npz keyed by the file list and options."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path} is not a folder; pass a folder of PNG/JPEG images.")
    files = image_files(path)
    if not files:
        raise DataError(f"{path} contains no PNG/JPEG images; put images in it or pass another folder.")
    key = sha256_bytes(repr([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files] + [size, channels]))[:16]
    cached = ganforge_home() / "folders" / f"{key}.npz"
    if cached.exists():
        with np.load(cached) as z:
            return z["images"]
    if channels is None:
        try:
            with Image.open(files[0]) as im:
                channels = 1 if im.mode in ("L", "1", "I;16", "I") else 3
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"cannot decode image {files[0]} ({exc}); remove or replace that file.") from None
    mode = "L" if channels == 1 else "RGB"
    out = np.empty((len(files), size, size) + (() if channels == 1 else (3,)), np.uint8)
    from tqdm import tqdm

    for i, p in enumerate(tqdm(files, desc=f"decoding {path.name}", unit="img", disable=len(files) < 500)):
        try:
            with Image.open(p) as im:
                im = im.convert(mode)
                w, h = im.size
                s = min(w, h)
                im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
                out[i] = np.asarray(im.resize((size, size), Image.Resampling.LANCZOS))
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"cannot decode image {p} ({exc}); remove or replace that file.") from None
    save_npz_atomic(cached, images=out)
    return out


def load_digits8() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits as uint8 (N,8,8) in [0,255] with labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    # 0..16 integer intensities -> 0..255
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)
    return images, d.target.astype(np.int64)
