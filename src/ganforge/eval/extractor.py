"""The MNIST feature extractor: a small CNN trained on MNIST, shipped with the package.

Why not Inception: no Inception weights can be downloaded here, and ImageNet features are
a poor fit for 28x28 digits anyway. A classifier trained on MNIST itself gives a feature
space (its penultimate layer, 128-d) in which FID/KID/precision-recall are meaningful,
and a softmax that gives the MNIST "Inception score" and mode-collapse histogram.

The weights (``ganforge/assets/mnist_classifier.safetensors``) are written by
``scripts/train_extractor.py``; the sidecar ``mnist_classifier.json`` records their
sha256, the test accuracy and the training protocol. The hash is checked at every load,
so a metric is never silently computed with different weights.
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
from ganforge.files import sha256_file

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"
WEIGHTS_PATH = ASSET_DIR / "mnist_classifier.safetensors"
META_PATH = ASSET_DIR / "mnist_classifier.json"
FEATURE_DIM = 128
NUM_CLASSES = 10


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

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


_CACHE: dict[str, Extractor] = {}


def load_extractor(path: str | Path | None = None, meta_path: str | Path | None = None) -> Extractor:
    """Load the extractor weights after checking their sha256 against the sidecar JSON.

    ``path`` defaults to the weights shipped in the package; ``meta_path`` defaults to the
    ``.json`` beside ``path``. Raises :class:`CheckpointError` when a file is missing or
    the hash does not match (a tampered or truncated file).
    """
    from safetensors.torch import load_file

    path = Path(path) if path is not None else WEIGHTS_PATH
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
    if digest != expected:
        raise CheckpointError(
            f"the feature-extractor weights {path} have sha256 {digest[:12]}… but {meta_path.name} "
            f"expects {expected[:12]}…; the file was modified or corrupted, reinstall ganforge "
            "or rerun scripts/train_extractor.py"
        )
    key = f"{path}:{digest}"
    if key in _CACHE:
        return _CACHE[key]
    model = MnistCNN(**meta.get("architecture", {}))
    try:
        model.load_state_dict(load_file(str(path)))
    except Exception as exc:  # safetensors raises several types for corrupt files
        raise CheckpointError(f"could not read the extractor weights {path} ({exc}); reinstall ganforge") from exc
    model.eval()
    ext = Extractor(model=model, sha256=digest, meta=meta)
    _CACHE[key] = ext
    return ext


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,28,28) or (N,28,28,1) in [0,255] -> float32 (N,1,28,28) in [-1,1]."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise DataError(
            f"the MNIST extractor needs grayscale 28x28 images, got shape {tuple(np.shape(images))}; "
            "resize/convert the images or use a 28x28 one-channel source"
        )
    if arr.dtype != np.uint8:
        raise DataError(f"images must be uint8 in [0,255], got dtype {arr.dtype}; convert with np.uint8 before evaluating")
    return to_model_range(torch.from_numpy(arr), "tanh").unsqueeze(1)


@torch.no_grad()
def extract(
    images: np.ndarray, extractor: Extractor | None = None, batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N,128) float64 and class probabilities (N,10) float64 of uint8 images."""
    ext = extractor or load_extractor()
    x = to_model_input(images)
    feats, probs = [], []
    for i in range(0, len(x), batch_size):
        f, logits = ext.model.features_and_logits(x[i : i + batch_size])
        feats.append(f.double())
        probs.append(torch.softmax(logits.double(), dim=1))
    if not feats:
        return np.zeros((0, FEATURE_DIM)), np.zeros((0, NUM_CLASSES))
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()
