"""Load a trained generator from a run or checkpoint and write what it makes:
a grid (.png), an array file (.npz with ``images`` uint8 and ``labels``), or a folder
of PNGs. Imports only the checkpoint reader and the models, never training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganforge import checkpoint
from ganforge.config import Config
from ganforge.errors import CheckpointError, ConfigError
from ganforge.images import save_grid, save_png
from ganforge.models import build_generator
from ganforge.models.noise import sample_labels, sample_z


def generator_from_state(state: dict) -> nn.Module:
    """Build (untrained) G from a checkpoint's state.json."""
    try:
        cfg = Config.from_dict(state["config"])
        G = build_generator(cfg.model, tuple(state["img_shape"]), state["num_classes"], state["output"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint state.json lacks {exc}; it was not written by ganforge train.") from None
    G.kind = state.get("kind", "gan")
    G.scaling = cfg.data.scaling
    G.noise = cfg.model.noise
    G.output = state["output"]
    return G


def load_generator(path: str | Path, *, ema: bool = True, device: str | torch.device = "cpu") -> nn.Module:
    """G in eval mode from a run directory or checkpoint folder.

    Uses the exponential-moving-average weights when the run kept them (``ema=True``).
    G has the attributes ``z_dim``, ``num_classes``, ``img_shape``, ``scaling`` and ``noise``.
    """
    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    G = generator_from_state(state)
    name = "G_ema" if ema and "G_ema" in state.get("modules", []) else "G"
    checkpoint.load_module_weights(ckpt, name, G)
    if G.kind == "vae":  # the decoder, wrapped to map its likelihood's output to [-1,1] images
        from ganforge.models.vae import VAEDecoder

        G = _copy_attrs(G, VAEDecoder(G, Config.from_dict(state["config"]).vae.likelihood))
    G.checkpoint = str(ckpt)
    return prepare_for_sampling(G.to(device))


def _copy_attrs(src: nn.Module, dst: nn.Module) -> nn.Module:
    for attr in ("scaling", "noise", "output", "kind", "sampling_dropout"):
        setattr(dst, attr, getattr(src, attr, None))
    return dst


def prepare_for_sampling(G: nn.Module) -> nn.Module:
    """eval() mode; with ``sampling_dropout`` (the lecture's "dropout in G at test time")
    the dropout layers stay active so samples keep that extra randomness."""
    G.eval()
    if getattr(G, "sampling_dropout", False):
        for m in G.modules():
            if isinstance(m, nn.Dropout):
                m.train()
    return G


def _labels_for(G, n: int, labels, gen: torch.Generator) -> torch.Tensor | None:
    if labels is None:
        return sample_labels(n, G.num_classes, gen)
    if not G.num_classes:
        raise ConfigError("this generator is unconditional; drop --class (it makes no labelled samples).")
    labels = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)
    if labels.numel() == 1:
        labels = labels.expand(n)
    if ((labels < 0) | (labels >= G.num_classes)).any():
        raise ConfigError(f"class labels must be in 0..{G.num_classes - 1} for this generator.")
    if len(labels) != n:
        raise ConfigError(f"got {len(labels)} labels for {n} samples; pass one label or one per sample.")
    return labels


@torch.no_grad()
def sample_outputs(G: nn.Module, n: int, seed: int = 0, batch_size: int = 500, labels=None,
                   device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Raw generator outputs (n, *img_shape) as float32 on the CPU, in batches, seeded."""
    if n <= 0:
        raise ConfigError(f"the number of samples must be positive, got {n}.")
    device = device or next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    y = _labels_for(G, n, labels, gen)
    z = sample_z(n, G.z_dim, getattr(G, "noise", "gaussian"), gen)
    out = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # sampling-time dropout draws from the global RNG
        for i in range(0, n, batch_size):
            zb = z[i:i + batch_size].to(device)
            yb = None if y is None else y[i:i + batch_size].to(device)
            out.append(G(zb, yb).float().cpu())
    return torch.cat(out), y


def to_uint8_images(x: torch.Tensor, scaling: str = "tanh") -> np.ndarray:
    """float (N,C,H,W) in the model's range -> uint8 (N,H,W) or (N,H,W,C)."""
    from ganforge.data.batches import to_uint8

    u = to_uint8(x, scaling).numpy()
    return u[:, 0] if u.shape[1] == 1 else u.transpose(0, 2, 3, 1)


def generate(G: nn.Module, n: int, seed: int = 0, batch_size: int = 500, labels=None) -> tuple[np.ndarray, np.ndarray | None]:
    """n images as uint8 (N,H,W) / (N,H,W,C), plus labels for conditional models."""
    x, y = sample_outputs(G, n, seed, batch_size, labels)
    if x.ndim != 4:
        raise ConfigError("this generator does not make images; use `ganforge fit --method gan` tools for 1-D data.")
    return to_uint8_images(x, getattr(G, "scaling", "tanh")), None if y is None else y.numpy()


def class_grid_labels(num_classes: int, per_class: int) -> np.ndarray:
    """Labels for a grid with one row per class."""
    return np.repeat(np.arange(num_classes), per_class)


def write_samples(images: np.ndarray, out: str | Path, labels: np.ndarray | None = None,
                  nrow: int | None = None) -> Path:
    """.png -> one grid; .npz -> ``images`` (+ ``labels``); otherwise a folder of PNGs."""
    out = Path(out)
    if out.suffix == ".png":
        return save_grid(images, out, nrow)
    if out.suffix == ".npz":
        from ganforge.data.cache import save_npz_atomic

        arrays = {"images": images}
        if labels is not None:
            arrays["labels"] = labels.astype(np.int64)
        return save_npz_atomic(out, **arrays)
    if out.suffix:
        raise ConfigError(f"cannot write samples to {out.name}: use a .png (grid), an .npz, or a folder name.")
    out.mkdir(parents=True, exist_ok=True)
    width = len(str(len(images) - 1))
    for i, img in enumerate(images):
        tag = f"_class{labels[i]}" if labels is not None else ""
        save_png(img, out / f"{i:0{width}d}{tag}.png")
    return out
