"""The MNIST and Fashion-MNIST feature extractors: one small CNN trained on each data set,
shipped with the package.

Why not Inception: no Inception weights can be downloaded here, and ImageNet features are
a poor fit for 28x28 digits anyway. A classifier trained on MNIST itself gives a feature
space (its penultimate layer, 128-d) in which FID/KID/precision-recall are meaningful,
and a softmax that gives the MNIST "Inception score" and mode-collapse histogram.

The weights (``ganforge/assets/mnist_classifier.safetensors``) are written by
``scripts/train_extractor.py``; the sidecar ``mnist_classifier.json`` records their
sha256, the test accuracy and the training protocol. The hash is checked at every load,
so a metric is never silently computed with different weights.

The Fashion-MNIST extractor (``fashion_classifier.safetensors``, same architecture, trained
by ``scripts/train_extractor.py --dataset fashion-mnist`` on ganforge's own Fashion-MNIST
training split) gives the same metrics for clothes. ``load_extractor(dataset=...)`` picks
one; the shipped files' sha256 are also pinned here (:data:`SHIPPED_SHA256`), so replacing
a weights file together with its sidecar is caught too. Digits are never scored in the
clothes space nor clothes in the digit space (:mod:`ganforge.eval.features` refuses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganforge.data.batches import to_model_range
from ganforge.errors import CheckpointError, DataError
from ganforge.eval.features import FASHION_FEATURE_SPACE, MNIST_FEATURE_SPACE
from ganforge.files import sha256_file

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"
WEIGHTS_PATH = ASSET_DIR / "mnist_classifier.safetensors"
META_PATH = ASSET_DIR / "mnist_classifier.json"
FASHION_WEIGHTS_PATH = ASSET_DIR / "fashion_classifier.safetensors"
FASHION_META_PATH = ASSET_DIR / "fashion_classifier.json"
FEATURE_DIM = 128
NUM_CLASSES = 10

#: The shipped extractors, by the data set they were trained on.
EXTRACTOR_NAMES = ("mnist", "fashion-mnist")
SHIPPED_WEIGHTS = {"mnist": WEIGHTS_PATH, "fashion-mnist": FASHION_WEIGHTS_PATH}
#: sha256 of the shipped weights files: rerunning scripts/train_extractor.py must update these.
SHIPPED_SHA256 = {
    "mnist": "8f1758f6cea0ef31c1c4a0bba250fa717a6a96c8633690b55be4af39de498f17",
    "fashion-mnist": "8f48a3763f3b8a201e7f763d3d0bbcacad2f24d43fc238e5fda40a24475994d5",
}
#: The name of each extractor's feature space in a report's protocol.
FEATURE_SPACES = {"mnist": MNIST_FEATURE_SPACE, "fashion-mnist": FASHION_FEATURE_SPACE}
#: What each extractor's classes are, for messages ("digits" vs "clothes").
SUBJECTS = {"mnist": "digits", "fashion-mnist": "clothes"}


def data_kind(name: str | Path | None) -> str | None:
    """Which shipped extractor a dataset *name* belongs to: "mnist" (mnist, mnist-train,
    mnist-test), "fashion-mnist" (fashion-mnist, -train, -test), or None (a path, digits, ...)."""
    name = str(name) if name is not None else ""
    if name in ("mnist", "mnist-train", "mnist-test"):
        return "mnist"
    if name in ("fashion-mnist", "fashion-mnist-train", "fashion-mnist-test"):
        return "fashion-mnist"
    return None


class MnistCNN(nn.Module):
    """Input (N,1,28,28) float32 in [-1,1] -> logits (N,10); ``features`` gives (N,128).

    Four 3x3 conv layers with BatchNorm (28->14->7), global average pooling, then a
    128-unit layer whose ReLU output is the feature space. About 75k parameters (300 KB).
    """

    def __init__(self, width: int = 32, feature_dim: int = FEATURE_DIM, num_classes: int = NUM_CLASSES):
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        w = width
        self.body = nn.Sequential(
            *block(1, w), *block(w, w), nn.MaxPool2d(2),
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.fc = nn.Linear(2 * w, feature_dim)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(self.body(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)


@dataclass(frozen=True)
class Extractor:
    """A loaded, hash-verified extractor. ``sha256`` goes into every report's protocol."""

    model: MnistCNN
    sha256: str
    meta: dict
    dataset: str = "mnist"          # which data it was trained on: a key of EXTRACTOR_NAMES

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def feature_space(self) -> str:
        return FEATURE_SPACES[self.dataset]


_CACHE: dict[str, Extractor] = {}


def load_extractor(
    path: str | Path | None = None, meta_path: str | Path | None = None, *, dataset: str = "mnist",
) -> Extractor:
    """Load the extractor weights after checking their sha256 against the sidecar JSON.

    ``dataset``: "mnist" (digits) or "fashion-mnist" (clothes), which shipped extractor;
    ``path`` defaults to its weights in the package (then the hash must also equal
    :data:`SHIPPED_SHA256`); ``meta_path`` defaults to the ``.json`` beside ``path``.
    Raises :class:`CheckpointError` when a file is missing or the hash does not match (a
    tampered or truncated file).
    """
    from safetensors.torch import load_file

    from ganforge.errors import ConfigError

    if dataset not in EXTRACTOR_NAMES:
        raise ConfigError(f"unknown extractor {dataset!r}; use one of {', '.join(EXTRACTOR_NAMES)}.")
    shipped = path is None
    path = Path(path) if path is not None else SHIPPED_WEIGHTS[dataset]
    meta_path = Path(meta_path) if meta_path is not None else path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise CheckpointError(
            f"the feature-extractor weights {path} (or its {meta_path.name}) are missing; "
            "reinstall ganforge or run scripts/train_extractor.py to recreate them"
        )
    try:
        meta = json.loads(meta_path.read_text())
        expected = meta["sha256"]
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{meta_path} is not a valid extractor description ({exc}); reinstall ganforge") from exc
    digest = sha256_file(path)
    if shipped and expected != SHIPPED_SHA256[dataset]:
        raise CheckpointError(
            f"{meta_path.name} records sha256 {expected[:12]}… but this ganforge ships {dataset} extractor weights "
            f"{SHIPPED_SHA256[dataset][:12]}…; the files were replaced, reinstall ganforge"
        )
    if digest != expected:
        raise CheckpointError(
            f"the feature-extractor weights {path} have sha256 {digest[:12]}… but {meta_path.name} "
            f"expects {expected[:12]}…; the file was modified or corrupted, reinstall ganforge "
            "or rerun scripts/train_extractor.py"
        )
    key = f"{path}:{digest}:{dataset}"
    if key in _CACHE:
        return _CACHE[key]
    model = MnistCNN(**meta.get("architecture", {}))
    try:
        model.load_state_dict(load_file(str(path)))
    except Exception as exc:  # safetensors raises several types for corrupt files
        raise CheckpointError(f"could not read the extractor weights {path} ({exc}); reinstall ganforge") from exc
    # Channels-last: oneDNN's convolutions read and write NHWC without reordering, 1.4x faster
    # for the extraction of 10k digits (the same features within 2e-6; docs/evaluation.md, "Speed").
    model.eval().to(memory_format=torch.channels_last)
    ext = Extractor(model=model, sha256=digest, meta=meta, dataset=dataset)
    _CACHE[key] = ext
    return ext


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,28,28) or (N,28,28,1) in [0,255] -> float32 (N,1,28,28) in [-1,1]."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise DataError(
            f"the MNIST and Fashion-MNIST extractors need grayscale 28x28 images, got shape {tuple(np.shape(images))}; "
            "resize/convert the images or use a 28x28 one-channel source"
        )
    if arr.dtype != np.uint8:
        raise DataError(f"images must be uint8 in [0,255], got dtype {arr.dtype}; convert with np.uint8 before evaluating")
    return to_model_range(torch.from_numpy(arr), "tanh").unsqueeze(1)


@torch.no_grad()
def extract(
    images: np.ndarray, extractor: Extractor | None = None, batch_size: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N,128) float64 and class probabilities (N,10) float64 of uint8 images.

    Batches of 128: a batch's activations (128 x 32 x 28 x 28 floats, 13 MB) stay in cache,
    where batches of 1,000 (100 MB per layer) made every BatchNorm, ReLU and pooling pass go to
    memory: 10k digits in 2.2 s instead of 6.2 s on 2 threads (docs/evaluation.md, "Speed")."""
    ext = extractor or load_extractor()
    x = to_model_input(images)
    feats, probs = [], []
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size].contiguous(memory_format=torch.channels_last)
        f, logits = ext.model.features_and_logits(batch)
        feats.append(f.double())
        probs.append(torch.softmax(logits.double(), dim=1))
    if not feats:
        return np.zeros((0, FEATURE_DIM)), np.zeros((0, NUM_CLASSES))
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()
