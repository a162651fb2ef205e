"""Paired data for image-to-image models: (input, target) pairs, a training split and a
test split that never enters training.

``data.pairs`` says where the inputs come from:

- a degradation name (``downsample:4``, ``edges``, ``mask``, ``gray``, ``noise:0.2``,
  :mod:`ganforge.data.degrade`): any image set ganforge reads gives the targets, and the
  input is computed from each target on the device, seeded;
- ``A/B``: ``data.dataset`` is a folder with sub-folders ``A/`` (inputs) and ``B/``
  (targets) whose files match by name (B may be 2 or 4 times A's size, for super-resolution);
- ``AB``: a folder of side-by-side images, input left and target right (the layout of the
  pix2pix data sets, Isola et al. 2017, ``datasets/combine_A_and_B.py``).

The test split: MNIST's and Fashion-MNIST's own test sets; for every other source the last
10 % (at least one) of a permutation seeded with :data:`SPLIT_SEED`, independent of the
training seed, so one data set always has the same test pairs. The test inputs of a
degradation are made by the same function with draws from :data:`TEST_SEED`.

On the device a batch stays one uint8 tensor (the harness's batcher knows nothing of pairs):
targets alone for a degradation, or the target and the input stacked along channels for
folder pairs (a smaller input repeated to the target's size, which slicing undoes exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganforge.data.batches import images_to_nchw, to_model_range
from ganforge.data.degrade import Degradation, degrade, degrade_seeded, parse_degradation
from ganforge.errors import ConfigError, DataError

LAYOUTS = ("A/B", "AB")
SPLIT_SEED = 1234
TEST_SEED = 4321
TEST_FRACTION = 0.1
#: data sets with an official test split: training name -> test name
OFFICIAL_TEST = {"mnist": "mnist-test", "mnist-train": "mnist-test",
                 "fashion-mnist": "fashion-mnist-test", "fashion-mnist-train": "fashion-mnist-test"}


@dataclass(eq=False)
class PairInfo:
    """What an image-to-image task needs to know about its pairs.

    ``layout``: "degrade", "A/B" or "AB"; ``degradation`` (layout "degrade" only);
    ``input_shape``/``target_shape``: (C,H,W); ``test_inputs``/``test_targets``: uint8
    (N,C,H,W) of the test split (inputs at their own size); ``test_labels``: (N,) or None."""

    layout: str
    degradation: Degradation | None
    input_shape: tuple[int, int, int]
    target_shape: tuple[int, int, int]
    test_inputs: torch.Tensor = field(repr=False)
    test_targets: torch.Tensor = field(repr=False)
    test_labels: torch.Tensor | None = field(repr=False, default=None)

    @property
    def scale(self) -> int:
        """Target side / input side (1 for translation, K for super-resolution)."""
        return self.target_shape[1] // self.input_shape[1]

    def split(self, batch: torch.Tensor, draws: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(input, target) in [-1,1] from one uint8 training batch (N,C,H,W) on the device;
        ``draws`` as :func:`~ganforge.data.degrade.degrade` takes them."""
        c = self.target_shape[0]
        target = to_model_range(batch[:, :c])
        if self.layout == "degrade":
            return degrade(target, self.degradation, draws), target
        k = self.scale
        return to_model_range(batch[:, c:, ::k, ::k]), target

    def test(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The first ``n`` test pairs (all when None): inputs and targets float in [-1,1], labels."""
        n = len(self.test_targets) if n is None else min(n, len(self.test_targets))
        labels = None if self.test_labels is None else self.test_labels[:n]
        return to_model_range(self.test_inputs[:n]), to_model_range(self.test_targets[:n]), labels


def parse_pairs(text: str) -> Degradation | str:
    """``data.pairs`` -> a :class:`Degradation` or one of :data:`LAYOUTS`."""
    text = text.strip()
    return text if text in LAYOUTS else parse_degradation(text)


def split_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices of ``n`` items: the test split is the last 10 % (>= 1) of a
    permutation seeded with :data:`SPLIT_SEED`; a single image cannot be split."""
    if n < 2:
        raise DataError(f"paired data needs at least 2 images (one to train on, one to test), got {n}.")
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    k = max(1, int(round(n * TEST_FRACTION)))
    return np.sort(perm[:-k]), np.sort(perm[-k:])


def _read_image(path: Path, mode: str | None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if mode is None:
                mode = "L" if im.mode in ("L", "1", "I;16", "I") else "RGB"
            return np.asarray(im.convert(mode))
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot decode image {path} ({exc}); remove or replace that file.") from None


def _stack(arrays: list[np.ndarray], names: list[str], where: str) -> np.ndarray:
    first = arrays[0].shape
    for name, a in zip(names, arrays):
        if a.shape != first:
            raise DataError(f"the images in {where} differ in size ({names[0]} is {first[1]}x{first[0]}, {name} is "
                            f"{a.shape[1]}x{a.shape[0]}); resize them all to one size.")
    return np.stack(arrays)


def _mode(channels: int) -> str | None:
    return {0: None, 1: "L", 3: "RGB"}[channels]


def load_folder_pairs(root: str | Path, channels: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(inputs, targets, names) from ``root/A`` and ``root/B``, files matched by name;
    uint8 (N,H,W) or (N,H,W,3). Targets may be 1, 2 or 4 times the inputs' size."""
    from ganforge.data.arrays import image_files

    root = Path(root)
    a_dir, b_dir = root / "A", root / "B"
    if not a_dir.is_dir() or not b_dir.is_dir():
        raise DataError(f"data.pairs=A/B needs the folders {a_dir} and {b_dir}; create them or use data.pairs=AB.")
    a = {p.name: p for p in image_files(a_dir, recursive=False)}
    b = {p.name: p for p in image_files(b_dir, recursive=False)}
    if not a or not b:
        raise DataError(f"{a_dir if not a else b_dir} contains no PNG/JPEG images; put the pairs' images in it.")
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        name, there, missing = (only_a[0], "A", "B") if only_a else (only_b[0], "B", "A")
        raise DataError(f"{name} is in {there}/ but has no file of the same name in {missing}/ "
                        f"({len(only_a) + len(only_b)} unpaired); every input needs its target under the same name.")
    names = sorted(a)
    mode = _mode(channels)
    xa = _stack([_read_image(a[n], mode) for n in names], names, str(a_dir))
    xb = _stack([_read_image(b[n], mode) for n in names], names, str(b_dir))
    _check_scale(xa.shape[1:3], xb.shape[1:3], names[0])
    return xa, xb, names


def _check_scale(a_hw, b_hw, name: str) -> None:
    k = b_hw[0] // a_hw[0] if a_hw[0] else 0
    if k not in (1, 2, 4) or (a_hw[0] * k, a_hw[1] * k) != tuple(b_hw):
        raise DataError(f"the pair {name} has an input of {a_hw[1]}x{a_hw[0]} and a target of {b_hw[1]}x{b_hw[0]}; "
                        "a target must be the input's size (translation) or 2 or 4 times it (super-resolution).")


def load_ab_folder(root: str | Path, channels: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(inputs, targets, names) from a folder of side-by-side images (input left, target right)."""
    from ganforge.data.arrays import image_files

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data.pairs=AB needs a folder of side-by-side images, but {root} is not a folder.")
    files = image_files(root)
    if not files:
        raise DataError(f"{root} contains no PNG/JPEG images; put the side-by-side AB images in it.")
    names = [str(p.relative_to(root)) for p in files]
    ab = _stack([_read_image(p, _mode(channels)) for p in files], names, str(root))
    h, w = ab.shape[1:3]
    if w != 2 * h:
        raise DataError(f"the AB images in {root} are {w}x{h}; side-by-side pairs must be twice as wide as high "
                        "(input left, target right), or use data.pairs=A/B with two folders.")
    return ab[:, :, :h], ab[:, :, h:], names


def _pack(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """uint8 targets (N,Cb,H,W) and inputs (N,Ca,h,w) -> (N,Cb+Ca,H,W), inputs repeated K times."""
    k = b.shape[-1] // a.shape[-1]
    return torch.cat([b, a.repeat_interleave(k, 2).repeat_interleave(k, 3)], 1)


def load_paired(data_cfg, data=None) -> tuple[torch.Tensor, PairInfo]:
    """(training tensor uint8 (N,C,H,W) as :meth:`PairInfo.split` reads it, PairInfo with the
    test split) for a ``DataConfig`` whose ``pairs`` is set; ``data``: an in-memory
    ImageSet of targets (degradations only)."""
    from ganforge.data import ImageSet, load_images

    kind = parse_pairs(data_cfg.pairs)
    if isinstance(kind, Degradation):
        if data is not None and not isinstance(data, ImageSet):
            raise DataError("image-to-image models learn from images, not rows; pass an image data set.")
        full = data if data is not None else load_images(data_cfg.dataset, image_size=data_cfg.image_size,
                                                         channels=data_cfg.channels or None)
        x = images_to_nchw(full.images)
        y = None if full.labels is None else torch.from_numpy(full.labels)
        if data is None and data_cfg.dataset in OFFICIAL_TEST:
            test = load_images(OFFICIAL_TEST[data_cfg.dataset])
            xt, yt = images_to_nchw(test.images), None if test.labels is None else torch.from_numpy(test.labels)
        else:
            tr, te = split_indices(len(x))
            xt, yt = x[te], None if y is None else y[te]
            x = x[tr]
        target_shape = tuple(x.shape[1:])
        input_shape = kind.input_shape(target_shape)
        inputs = degrade_seeded(to_model_range(xt), kind, TEST_SEED)
        test_inputs = ((inputs + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return x, PairInfo("degrade", kind, input_shape, target_shape, test_inputs, xt, yt)
    if data is not None:
        raise DataError(f"data.pairs={kind} reads its pairs from data.dataset; in-memory data are targets for a "
                        "degradation (e.g. data.pairs=edges).")
    a, b, _ = (load_folder_pairs if kind == "A/B" else load_ab_folder)(data_cfg.dataset, data_cfg.channels)
    a, b = images_to_nchw(a), images_to_nchw(b)
    tr, te = split_indices(len(a))
    info = PairInfo(kind, None, tuple(a.shape[1:]), tuple(b.shape[1:]), a[te], b[te], None)
    return _pack(a[tr], b[tr]), info


def paired_training_data(cfg, data=None):
    """(x, y, DataSpec) for ``data/training.py``: the training tensor, no labels (pix2pix and
    SRGAN are not class-conditional), and a spec whose ``shape`` is the *target's* and whose
    ``paired`` is the :class:`PairInfo`."""
    from ganforge.data.training import DataSpec

    if cfg.data.conditional:
        raise ConfigError("the image-to-image models are conditioned on their input image, not on a class; "
                          "set data.conditional=false.")
    x, info = load_paired(cfg.data, data)

    def holdout(n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        return info.test_targets[:n], None if info.test_labels is None else info.test_labels[:n]

    return x, None, DataSpec(info.target_shape, 0, True, holdout, paired=info)


def check_channels(info: PairInfo, want: int, what: str) -> None:
    """A one-sentence :class:`DataError` when a model built for ``want`` target channels meets other data."""
    if info.target_shape[0] != want:
        kind = "RGB" if want == 3 else "grayscale"
        raise DataError(f"{what} expects {kind} images ({want} channel(s)), got {info.target_shape[0]}; "
                        f"use {kind} data (data.channels={want}).")
