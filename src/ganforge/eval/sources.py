"""Where evaluated images come from: the reference and training sets, and the samples
(an array, an .npz/.npy, a folder, or a generator checkpoint / run directory).

The only module of ``ganforge.eval`` that draws samples from a generator
(:func:`load_samples` for checkpoints, :func:`sampler_images` for a live Sampler).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.errors import DataError
from ganforge.files import sha256_bytes

MNIST_REFS = ("mnist-test",)
#: Fashion-MNIST's test set of ganforge's own split (or the IDX files' when those were given).
FASHION_REFS = ("fashion-mnist-test",)


@dataclass
class ImageData:
    images: np.ndarray             # uint8 (N,H,W) or (N,H,W,C)
    labels: np.ndarray | None
    name: str
    sha256: str
    dataset: str | None = None     # samples of a run: the data set it was trained on (config.json)
    label_shares: str | None = None  # samples of a conditional run: how their classes were drawn


def _sha(images: np.ndarray) -> str:
    return sha256_bytes(np.ascontiguousarray(images))


def _check_images(images: np.ndarray, where: str) -> np.ndarray:
    from ganforge.data.arrays import check_images

    images = np.asarray(images)
    if images.size == 0:
        raise DataError(f"{where} holds no images; pass a non-empty array of uint8 images.")
    return check_images(images, where)


def load_reference(
    ref: str, train: str | None = None, *, with_train: bool = True, image_size: int = 64,
) -> tuple[ImageData, ImageData | None]:
    """The reference images and, when known, the training images (for memorisation).

    ``ref``: "mnist-test" (training set: MNIST train), "fashion-mnist-test" (training set:
    Fashion-MNIST train) or an .npz/.npy/folder; ``train`` overrides the training set
    ("mnist-train", "fashion-mnist-train" or a path). A folder reference is decoded at
    ``image_size`` (square); array files keep their size."""
    from ganforge.data import load_images

    if ref in MNIST_REFS:
        from ganforge.data.mnist import load_mnist

        x, y = load_mnist("test")
        ref_data = ImageData(x, y, ref, _sha(x))
        train = train or "mnist-train"
    elif ref in FASHION_REFS:
        from ganforge.data.fashion import load_fashion_mnist

        x, y = load_fashion_mnist("test")
        ref_data = ImageData(x, y, ref, _sha(x))
        train = train or "fashion-mnist-train"
    else:
        s = load_images(ref, image_size=image_size)
        ref_data = ImageData(_check_images(s.images, ref), s.labels, str(ref), "")
        ref_data.sha256 = _sha(ref_data.images)
    train_data = None
    if train and with_train:
        if train in ("mnist", "mnist-train"):
            from ganforge.data.mnist import load_mnist

            x, y = load_mnist("train")
            train_data = ImageData(x, y, "mnist-train", _sha(x))
        elif train in ("fashion-mnist", "fashion-mnist-train"):
            from ganforge.data.fashion import load_fashion_mnist

            x, y = load_fashion_mnist("train")
            train_data = ImageData(x, y, "fashion-mnist-train", _sha(x))
        else:
            s = load_images(train, image_size=ref_data.images.shape[1])
            imgs = _check_images(s.images, train)
            train_data = ImageData(imgs, s.labels, str(train), _sha(imgs))
    return ref_data, train_data


def _is_checkpoint(path: Path) -> bool:
    return path.is_dir() and any(
        (path / p).exists() for p in ("state.json", "checkpoints", "LATEST", "config.json")
    )


def _generator_image_size(source) -> int | None:
    """The side length a checkpoint/run directory generates, or None for other sources."""
    if isinstance(source, np.ndarray) or not _is_checkpoint(Path(source)):
        return None
    from ganforge import checkpoint

    return int(checkpoint.load_state(source)["img_shape"][-1])


def _trained_on(path: Path) -> str | None:
    """The ``data.dataset`` a run or checkpoint was trained on (its saved config), or None."""
    from ganforge import checkpoint

    try:
        dataset = checkpoint.load_state(path).get("config", {}).get("data", {}).get("dataset")
    except Exception:  # an unreadable state.json is reported by load_sampler, not here
        return None
    return dataset if isinstance(dataset, str) else None


def load_samples(
    source, n: int, *, seed: int = 0, labels: np.ndarray | None = None, image_shape: tuple | None = None,
    batch_size: int = 500, label_shares: str = "data",
) -> ImageData:
    """Samples from an array, an .npz/.npy, a folder of images, or a checkpoint/run dir.

    Files and folders: the first ``n`` images (all of them if fewer). Generators: ``n``
    images from ``seed``; conditional generators get labels in fixed numbers per class
    (:meth:`~ganforge.sampler.Sampler.balanced_labels`): the shares of the run's training
    labels (``label_shares="data"``, when the checkpoint records them), else i mod K."""
    if isinstance(source, np.ndarray):
        imgs = _check_images(source, "the sample array")
        lab = None if labels is None else np.asarray(labels, dtype=np.int64)
        name = "array"
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(f"{path} does not exist; pass an .npz, a folder of images, a checkpoint or a run directory.")
        if _is_checkpoint(path):
            from ganforge.sampling import load_sampler

            sampler = load_sampler(path, label_shares=label_shares)
            imgs, lab = sampler_images(sampler, n, seed, batch_size)
            return ImageData(imgs, lab, f"{path} (seed {seed})", _sha(imgs), dataset=_trained_on(path),
                             label_shares=sampler.label_shares)
        if path.is_dir():
            from ganforge.data.arrays import load_folder

            size = image_shape[0] if image_shape else 28
            channels = (1 if len(image_shape) == 2 else image_shape[2]) if image_shape else None
            imgs, lab = load_folder(path, size, channels), None
        elif path.suffix in (".npz", ".npy"):
            from ganforge.data.arrays import load_array

            if path.stat().st_size == 0:
                raise DataError(f"{path} is empty (0 bytes); write the samples again with `ganforge sample`.")
            imgs, lab = load_array(path)
        else:
            raise DataError(
                f"{path} is not an .npz/.npy file, a folder of images, or a checkpoint; pass one of those."
            )
        name = str(path)
    if lab is not None and len(lab) != len(imgs):
        raise DataError(f"{name} has {len(imgs)} images but {len(lab)} labels; save one label per image.")
    if len(imgs) > n:
        imgs = imgs[:n]
        lab = None if lab is None else lab[:n]
    return ImageData(imgs, lab, name, _sha(imgs))


def sampler_images(sampler, n: int, seed: int, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` uint8 images from a :class:`~ganforge.sampler.Sampler` (when it is conditional, a
    fixed number per class: :meth:`~ganforge.sampler.Sampler.balanced_labels`), drawn in eval
    mode; its train/eval mode is restored afterwards."""
    from ganforge.errors import ConfigError
    from ganforge.sampler import to_uint8_images

    labels = sampler.balanced_labels(n)
    was_training = sampler.training
    sampler.eval()
    try:
        x, y = sampler.sample(n, seed, labels, batch_size)
    finally:
        sampler.train(was_training)
    if x.ndim != 4:
        raise ConfigError("this model does not make images; evaluate works on image models.")
    return to_uint8_images(x, sampler.scaling), None if y is None else y.numpy()
