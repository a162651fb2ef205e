"""Data augmentation with a conditional GAN: does synthetic data help a classifier that
has only a few real labelled images?

The experiment (the lecture's motivation for conditional GANs): for n real labelled
images per class (n = 10 and 100), train the same small CNN

- ``real``:     on the n·K real images alone;
- ``classic``:  on them with classic augmentation (random shifts of up to 2 px and
                rotations of up to 10 degrees, drawn per batch);
- ``gan-few``:  on them plus synthetic images from a conditional GAN trained on those
                same n·K images (the honest setting: no extra information enters);
- ``gan-full``: on them plus synthetic images from a conditional GAN trained on the whole
                training set (an upper bound: the GAN has seen labels the classifier
                has not, so this arm leaks information from the full set).

Each batch mixes real and synthetic images half and half (``real_fraction``). Every
cell is the mean ± sd of the test accuracy over seeds (the seed picks the real subset,
the GAN's and the classifier's initialisation); accuracy is measured on the real test
set (MNIST: the 10,000 official test images).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganforge.errors import ConfigError

ARMS = ("real", "classic", "gan-few", "gan-full")


@dataclass(frozen=True)
class AugmentConfig:
    data: str = "mnist"  # labelled split: mnist | digits
    n_per_class: tuple[int, ...] = (10, 100)
    seeds: tuple[int, ...] = (0, 1, 2)
    arms: tuple[str, ...] = ARMS
    gan_preset: str = "mnist-cgan"  # conditional GAN recipe for both GAN arms
    gan_overrides: dict = field(default_factory=dict)  # e.g. {"model.width": 16}
    gan_steps: int = 3000  # cGAN steps on the few images
    gan_full_steps: int = 3000  # cGAN steps on the full set (trained once, seed 0)
    gan_full_run: str | None = None  # reuse a conditional GAN run trained on the full set
    synth_per_class: int = 1000
    real_fraction: float = 0.5
    clf_steps: int = 1000
    clf_batch: int = 64
    clf_width: int = 16
    clf_lr: float = 2e-3
    max_test: int | None = None  # evaluate on a seeded subset of the test set (None = all)
    runs_root: str = "runs/augment"
    threads: int = 0

    def __post_init__(self):
        bad = [a for a in self.arms if a not in ARMS]
        if bad:
            raise ConfigError(f"unknown augment arm(s) {', '.join(bad)}; choose from: {', '.join(ARMS)}.")
        if not self.n_per_class or min(self.n_per_class) < 1:
            raise ConfigError("n per class must be positive integers, e.g. --n 10 100.")
        if not self.seeds:
            raise ConfigError("give at least one seed, e.g. --seeds 0 1 2.")
        if not 0 < self.real_fraction <= 1:
            raise ConfigError(f"real_fraction must be in (0, 1], got {self.real_fraction}.")


def shift_rotate(x: torch.Tensor, gen: torch.Generator, max_shift: float | None = None,
                 max_degrees: float = 10.0) -> torch.Tensor:
    """Classic augmentation on a batch (N,C,H,W) in [-1,1]: a random rotation of up to
    ``max_degrees`` and a shift of up to ``max_shift`` pixels per image (default: 2 px
    at 28×28, scaled with the image size), bilinear, background (-1) filled in."""
    n, _, h, w = x.shape
    if max_shift is None:
        max_shift = 2.0 * h / 28.0
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * max_shift
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    theta[:, 0, 2] = shift[:, 0] * 2 / w  # affine_grid works in [-1,1] coordinates
    theta[:, 1, 2] = shift[:, 1] * 2 / h
    grid = torch.nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def make_classifier(width: int, num_classes: int):
    from ganforge.eval.extractor import MnistCNN

    return MnistCNN(width=width, feature_dim=4 * width, num_classes=num_classes)


def train_cgan(cfg: AugmentConfig, images: np.ndarray, labels: np.ndarray, steps: int, seed: int, name: str):
    """Train the conditional GAN of ``cfg.gan_preset`` on (images, labels); return its run dir."""
    from ganforge.data import ImageSet
    from ganforge.presets import preset_config
    from ganforge.training.loop import train

    gcfg = preset_config(cfg.gan_preset).override(
        {"name": name, "data.conditional": True, "train.steps": steps, "train.seed": seed,
         "train.checkpoint_every": steps, "train.sample_every": steps, "train.threads": cfg.threads,
         **cfg.gan_overrides})
    return train(gcfg, runs_root=cfg.runs_root, data=ImageSet(images, labels, name), quiet=True).run_dir


def synthetic_set(run_dir, per_class: int, num_classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """per_class images of every class from a conditional GAN, in [-1,1]."""
    from ganforge.latent.sources import load_gan_generator, to_classifier_range
    from ganforge.sampling import class_grid_labels, sample_outputs

    G = load_gan_generator(run_dir, "augment")
    if G.num_classes != num_classes:
        raise ConfigError(f"{run_dir} is conditional on {G.num_classes} classes but the data has {num_classes}; "
                          "pass a conditional GAN trained on this dataset.")
    x, y = sample_outputs(G, per_class * num_classes, seed=seed, labels=class_grid_labels(num_classes, per_class))
    return to_classifier_range(x, G.scaling).clamp(-1, 1), y


@torch.no_grad()
def label_agreement(x: torch.Tensor, y: torch.Tensor) -> float | None:
    """Share of synthetic images (in [-1,1]) that the shipped MNIST classifier assigns to
    the label they were generated for: a conditional GAN that ignores its label makes
    wrongly labelled training data. None for images the classifier cannot read."""
    if tuple(x.shape[1:]) != (1, 28, 28):
        return None
    from ganforge.errors import GanforgeError
    from ganforge.latent.sources import load_classifier

    try:
        clf = load_classifier(None)
    except GanforgeError:
        return None
    return float((clf.predict(x) == y).float().mean())


@dataclass
class AugmentResult:
    config: AugmentConfig
    accuracy: dict[tuple[int, str], list[float]]  # (n, arm) -> accuracy per seed
    seconds: dict[str, float]
    n_test: int
    grids: dict[str, str] = field(default_factory=dict)  # arm/n -> sample grid of the synthetic set
    agreement: dict[tuple[int, str], list[float]] = field(default_factory=dict)  # synthetic label agreement

    def cell(self, n: int, arm: str) -> str:
        a = np.asarray(self.accuracy.get((n, arm), []), dtype=float) * 100
        if not len(a):
            return "—"
        return f"{a.mean():.1f} ± {a.std(ddof=1):.1f}" if len(a) > 1 else f"{a[0]:.1f}"

    def markdown(self) -> str:
        arms = list(self.config.arms)
        lines = ["| real per class | " + " | ".join(arms) + " |", "|---:|" + "---:|" * len(arms)]
        for n in self.config.n_per_class:
            lines.append(f"| {n} | " + " | ".join(self.cell(n, a) for a in arms) + " |")
        gan = [a for a in arms if a.startswith("gan")]
        if self.agreement and gan:
            lines += ["", "synthetic images the shipped classifier assigns to their conditioning label (mean over seeds):",
                      "", "| real per class | " + " | ".join(gan) + " |", "|---:|" + "---:|" * len(gan)]
            for n in self.config.n_per_class:
                cells = [f"{100 * np.mean(self.agreement[(n, a)]):.1f}%" if (n, a) in self.agreement else "—" for a in gan]
                lines.append(f"| {n} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def run_augment(cfg: AugmentConfig, log=print) -> AugmentResult:
    """Run every (n, arm, seed) cell; see the module docstring for the arms."""
    from ganforge.latent.splits import balanced_subset, labelled_split, to_model_images
    from ganforge.optim import accuracy, fit_classifier

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t_all = time.perf_counter()
    xtr, ytr, xte, yte = labelled_split(cfg.data)
    if cfg.max_test is not None and cfg.max_test < len(yte):
        keep = np.sort(np.random.default_rng(0).choice(len(yte), cfg.max_test, replace=False))
        xte, yte = xte[keep], yte[keep]
    k = int(ytr.max()) + 1
    x_test, y_test = to_model_images(xte), torch.from_numpy(yte)
    secs = {"gan": 0.0, "classifier": 0.0}
    acc: dict[tuple[int, str], list[float]] = {}
    grids: dict[str, str] = {}
    agree: dict[tuple[int, str], list[float]] = {}

    full_synth: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    full_run = cfg.gan_full_run
    if "gan-full" in cfg.arms and full_run is None:
        t = time.perf_counter()
        log(f"training the full-set conditional GAN ({cfg.gan_preset}, {cfg.gan_full_steps} steps on {len(ytr)} images)")
        full_run = train_cgan(cfg, xtr, ytr, cfg.gan_full_steps, 0, "augment-full")
        secs["gan"] += time.perf_counter() - t

    for n in cfg.n_per_class:
        for seed in cfg.seeds:
            idx = balanced_subset(ytr, n, seed)
            x_real, y_real = to_model_images(xtr[idx]), torch.from_numpy(ytr[idx])
            extras: dict[str, tuple[torch.Tensor, torch.Tensor] | None] = {"real": None, "classic": None}
            if "gan-few" in cfg.arms:
                t = time.perf_counter()
                run = train_cgan(cfg, xtr[idx], ytr[idx], cfg.gan_steps, seed, f"augment-n{n}-s{seed}")
                extras["gan-few"] = synthetic_set(run, cfg.synth_per_class, k, seed)
                grids.setdefault(f"gan-few n={n}", str(Path(run) / "samples" / "latest.png"))
                secs["gan"] += time.perf_counter() - t
            if "gan-full" in cfg.arms:
                if seed not in full_synth:
                    full_synth[seed] = synthetic_set(full_run, cfg.synth_per_class, k, seed)
                extras["gan-full"] = full_synth[seed]
                grids.setdefault("gan-full", str(Path(full_run) / "samples" / "latest.png"))
            for arm in ("gan-few", "gan-full"):
                if extras.get(arm) is not None and (a := label_agreement(*extras[arm])) is not None:
                    agree.setdefault((n, arm), []).append(a)
            for arm in cfg.arms:
                t = time.perf_counter()
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    model = make_classifier(cfg.clf_width, k)
                fit_classifier(model, x_real, y_real, steps=cfg.clf_steps, batch_size=cfg.clf_batch, lr=cfg.clf_lr,
                               seed=seed, augment=shift_rotate if arm == "classic" else None,
                               extra=extras.get(arm), real_fraction=cfg.real_fraction)
                a = accuracy(model, x_test, y_test)
                secs["classifier"] += time.perf_counter() - t
                acc.setdefault((n, arm), []).append(a)
                log(f"n={n:>4} seed={seed} {arm:>8}: test accuracy {100 * a:.2f}%")
    secs["total"] = time.perf_counter() - t_all
    return AugmentResult(cfg, acc, secs, len(yte), grids, agree)


def train_reference_classifier(data: str, out: str | Path, steps: int = 1500, width: int = 16, seed: int = 0,
                               batch_size: int = 64) -> tuple[Path, float]:
    """Train the augment CNN on the whole training split and save it as a classifier
    checkpoint (for ``ganforge steer --classifier`` on data the shipped one does not read).
    Returns (checkpoint folder, test accuracy)."""
    from ganforge.latent.sources import save_classifier
    from ganforge.latent.splits import labelled_split, to_model_images
    from ganforge.optim import accuracy, fit_classifier

    xtr, ytr, xte, yte = labelled_split(data)
    k = int(ytr.max()) + 1
    torch.manual_seed(seed)
    model = make_classifier(width, k)
    fit_classifier(model, to_model_images(xtr), torch.from_numpy(ytr), steps=steps, batch_size=batch_size, seed=seed,
                   lr=2e-3, augment=shift_rotate)
    acc = accuracy(model, to_model_images(xte), torch.from_numpy(yte))
    arch = {"width": width, "feature_dim": 4 * width, "num_classes": k}
    path = save_classifier(model, out, arch, (1, *xtr.shape[1:]), k,
                           note=f"augment CNN on {data} train, {steps} steps, test accuracy {acc:.4f}")
    return path, acc

