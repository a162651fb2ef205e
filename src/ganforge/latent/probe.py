"""The discriminator as a feature extractor (Radford et al. 2015, §5.1: DCGAN's D
features + a linear classifier rival supervised features on few labels).

Freeze D, take its penultimate activations (the input of its final logit layer), and
fit a multinomial logistic regression (scikit-learn) on 100, 1,000 and all labelled
training images; report test accuracy. Two baselines with the same probe:
a *randomly initialised* D of the same architecture (how much is the architecture alone
worth?) and the raw pixels.

For a conditional D the features depend on the label it is given; the probe must not
see the true label, so it uses the mean of D's features over all possible labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ganforge.latent.splits import balanced_subset, labelled_split, to_model_images


def _feature_layer(D: nn.Module) -> nn.Module:
    head = getattr(D, "head", None)
    if isinstance(head, nn.Module):
        return head
    linears = [m for m in D.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("cannot find D's final linear layer to read its penultimate features")
    return linears[-1]


@torch.no_grad()
def penultimate_features(D: nn.Module, x: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """(N, C, H, W) images in D's range -> (N, F) float32 features (input of D's last layer)."""
    D.eval()
    layer = _feature_layer(D)
    box: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda m, args, out: box.append(args[0].flatten(1)))
    k = getattr(D, "num_classes", 0)
    out = []
    try:
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            if k:
                acc = 0
                for c in range(k):
                    box.clear()
                    D(xb, torch.full((len(xb),), c, dtype=torch.int64))
                    acc = acc + box[-1]
                out.append((acc / k).float().numpy())
            else:
                box.clear()
                D(xb)
                out.append(box[-1].float().numpy())
    finally:
        handle.remove()
    return np.concatenate(out)


def linear_probe(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray,
                 C: float = 1.0, max_iter: int = 500) -> float:
    """Standardise on the training features, fit logistic regression, return test accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(f_train)
    clf = LogisticRegression(C=C, max_iter=max_iter)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter: accuracy is what we report
        clf.fit(scaler.transform(f_train), y_train)
    return float((clf.predict(scaler.transform(f_test)) == y_test).mean())


@dataclass
class ProbeResult:
    sizes: list[int]  # labelled training images per row
    accuracy: dict[str, list[float]]  # feature source -> test accuracy per size
    n_test: int
    feature_dims: dict[str, int]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        cols = list(self.accuracy)
        lines = ["| labelled images | " + " | ".join(f"{c} ({self.feature_dims[c]}-d)" for c in cols) + " |",
                 "|---:|" + "---:|" * len(cols)]
        for i, n in enumerate(self.sizes):
            lines.append(f"| {n} | " + " | ".join(f"{100 * self.accuracy[c][i]:.1f}%" for c in cols) + " |")
        return "\n".join(lines)


def probe(D: nn.Module, D_random: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
          y_test: np.ndarray, sizes=(100, 1000, None), scaling: str = "tanh", seed: int = 0,
          max_all: int | None = None) -> ProbeResult:
    """Probe accuracies of trained D, random D and raw pixels on uint8 images.

    ``sizes``: labelled training images per row, balanced over classes; ``None`` = all
    (capped at ``max_all`` random images when given, to bound the time)."""
    t0 = time.perf_counter()
    k = int(y_train.max()) + 1
    rows, idx_list = [], []
    for s in sizes:
        if s is None or s >= len(y_train):
            idx = np.arange(len(y_train))
            if max_all is not None and max_all < len(idx):
                idx = np.sort(np.random.default_rng(seed).choice(idx, max_all, replace=False))
        else:
            idx = balanced_subset(y_train, max(1, s // k), seed)
        rows.append(len(idx))
        idx_list.append(idx)
    used = np.unique(np.concatenate(idx_list))
    xtr = to_model_images(x_train[used], scaling)
    xte = to_model_images(x_test, scaling)
    pos = {j: i for i, j in enumerate(used)}
    sources = {
        "trained D": lambda x: penultimate_features(D, x),
        "random D": lambda x: penultimate_features(D_random, x),
        "pixels": lambda x: x.flatten(1).numpy(),
    }
    acc: dict[str, list[float]] = {}
    dims: dict[str, int] = {}
    for name, fn in sources.items():
        ftr, fte = fn(xtr), fn(xte)
        dims[name] = ftr.shape[1]
        acc[name] = [linear_probe(ftr[[pos[j] for j in idx]], y_train[idx], fte, y_test) for idx in idx_list]
    return ProbeResult(rows, acc, len(y_test), dims, time.perf_counter() - t0)


def random_like(trained, seed: int = 0) -> nn.Module:
    """A freshly initialised discriminator of a :class:`~ganforge.latent.sources.TrainedDiscriminator`'s
    architecture (from its run config)."""
    from ganforge.models import build_discriminator

    D = trained.D
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        R = build_discriminator(trained.config.model, tuple(D.img_shape), D.num_classes)
    return R.eval()


def probe_run(path, sizes=(100, 1000, None), data: str | None = None, seed: int = 0, max_all: int | None = None,
              max_test: int | None = None) -> ProbeResult:
    """Probe the D of a GAN run on its dataset's labelled split (``data``: mnist | digits)."""
    from ganforge.latent.sources import load_discriminator

    trained = load_discriminator(path, "probe")
    D = trained.D
    data = data or trained.config.data.dataset
    xtr, ytr, xte, yte = labelled_split(data)
    if tuple(D.img_shape) != (1, *xtr.shape[1:]):
        from ganforge.errors import ConfigError

        raise ConfigError(f"this discriminator reads images shaped {tuple(D.img_shape)} but {data!r} has "
                          f"{(1, *xtr.shape[1:])}; pass --data with the dataset the GAN was trained on.")
    if max_test is not None and max_test < len(yte):
        keep = np.sort(np.random.default_rng(seed).choice(len(yte), max_test, replace=False))
        xte, yte = xte[keep], yte[keep]
    res = probe(D, random_like(trained, seed), xtr, ytr, xte, yte, sizes, trained.scaling, seed, max_all)
    res.notes.append(f"data {data}: {len(ytr)} train / {len(yte)} test images; features standardised; "
                     "LogisticRegression(C=1, lbfgs, max_iter=500)")
    return res
