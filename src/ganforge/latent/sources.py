"""Load what the latent tools work on, with one-sentence errors: a GAN's generator (not
a VAE's decoder), its discriminator, and a classifier (the shipped MNIST classifier of
``ganforge.eval.extractor`` or a classifier checkpoint written by ``ganforge augment``
/ :func:`save_classifier`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganforge import checkpoint
from ganforge.config import Config
from ganforge.errors import CheckpointError, ConfigError


def checkpoint_kind(path: str | Path) -> str:
    """The checkpoint's task ("gan" also for checkpoints written before kinds existed, "vae")
    or "classifier"."""
    return checkpoint.load_state(checkpoint.resolve(path)).get("kind", "gan")


def require_gan(path: str | Path, verb: str) -> None:
    kind = checkpoint_kind(path)
    if kind != "gan":
        raise ConfigError(f"{path} is a {kind} checkpoint, but `ganforge {verb}` needs a GAN with a generator G "
                          "(and discriminator D); pass a run trained from a GAN preset such as mnist-dcgan.")


def load_gan_generator(path: str | Path, verb: str, ema: bool = True) -> nn.Module:
    from ganforge.sampling import load_generator

    require_gan(path, verb)
    G = load_generator(path, ema=ema)
    if len(G.img_shape) != 3:
        raise ConfigError(f"{path} generates rows of numbers, not images; `ganforge {verb}` works on image GANs.")
    return G


@dataclass
class TrainedDiscriminator:
    """A GAN's trained D (eval mode) with the run's config: what a probe needs to read
    images on D's scale and to build a fresh D of the same architecture."""

    D: nn.Module
    config: Config

    @property
    def scaling(self) -> str:
        return self.config.data.scaling


def load_discriminator(path: str | Path, verb: str = "probe") -> TrainedDiscriminator:
    """Trained D in eval mode, rebuilt from the checkpoint's config."""
    from ganforge.models import build_discriminator

    require_gan(path, verb)
    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    try:
        cfg = Config.from_dict(state["config"])
        D = build_discriminator(cfg.model, tuple(state["img_shape"]), state["num_classes"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint state.json lacks {exc}; it was not written by ganforge train.") from None
    checkpoint.load_module_weights(ckpt, "D", D)
    return TrainedDiscriminator(D.eval(), cfg)


@dataclass
class Classifier:
    """A frozen image classifier: ``logits(x)`` for x (N,C,H,W) in [-1, 1]."""

    model: nn.Module
    img_shape: tuple[int, int, int]
    num_classes: int
    name: str

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        return torch.cat([self.logits(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def _freeze(model: nn.Module) -> nn.Module:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def load_classifier(path: str | Path | None = None) -> Classifier:
    """``None``: the shipped MNIST classifier (28×28, 10 classes, hash-checked);
    otherwise a classifier checkpoint folder written by :func:`save_classifier`."""
    if path is None:
        from ganforge.eval.extractor import load_extractor

        ext = load_extractor()
        return Classifier(_freeze(ext.model), (1, 28, 28), 10, f"shipped MNIST classifier {ext.short_hash}")
    from ganforge.eval.extractor import MnistCNN

    if checkpoint_kind(path) != "classifier":
        raise ConfigError(f"{path} is not a classifier checkpoint; pass one written by `ganforge augment "
                          "--save-classifier` or omit --classifier to use the shipped MNIST classifier.")
    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    model = MnistCNN(**state["architecture"])
    checkpoint.load_module_weights(ckpt, "C", model)
    return Classifier(_freeze(model), tuple(state["img_shape"]), int(state["num_classes"]), str(ckpt))


def save_classifier(model: nn.Module, root: str | Path, architecture: dict, img_shape, num_classes: int,
                    note: str = "") -> Path:
    """Write a classifier checkpoint (safetensors + state.json, kind "classifier")."""
    state = {"kind": "classifier", "architecture": architecture, "img_shape": list(img_shape),
             "num_classes": int(num_classes), "note": note}
    return checkpoint.save_checkpoint(root, 0, {"C": model}, state, name="classifier")


def check_classifier_fits(G: nn.Module, clf: Classifier) -> None:
    if tuple(G.img_shape) != tuple(clf.img_shape):
        raise ConfigError(f"the classifier reads images shaped {tuple(clf.img_shape)} but this generator makes "
                          f"{tuple(G.img_shape)}; pass --classifier with a classifier trained on this model's data.")


def to_classifier_range(x: torch.Tensor, scaling: str = "tanh") -> torch.Tensor:
    """A generator's output -> [-1, 1], the range classifiers here read."""
    # Float to float, not data.batches' uint8 <-> model-range pair: steering backpropagates
    # through this, and a round trip through uint8 would quantise and cut the gradient.
    return x if scaling == "tanh" else x * 2.0 - 1.0
