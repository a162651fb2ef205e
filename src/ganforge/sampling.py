"""Load a trained model from a run or checkpoint as a :class:`~ganforge.sampler.Sampler`
and write what it makes: a grid (.png), an array file (.npz with ``images`` uint8 and
``labels``), or a folder of PNGs. Imports the checkpoint reader and the task registry
(each family knows how to rebuild its sampler), never the training harness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge import checkpoint
from ganforge.config import LABEL_SHARES, MAX_SEED, Config
from ganforge.errors import CheckpointError, ConfigError
from ganforge.images import save_grid, save_png
from ganforge.sampler import GeneratorSampler, Sampler, to_uint8_images

__all__ = ["load_sampler", "load_generator", "sample_outputs", "generate", "to_uint8_images", "class_grid_labels",
           "write_samples", "check_sample_output", "check_counts", "Sampler", "GeneratorSampler"]


def load_sampler(path: str | Path, *, ema: bool = True, device: str | torch.device = "cpu",
                 label_shares: str = "data") -> Sampler:
    """The sampler of a run directory or checkpoint folder, in eval mode on ``device``.

    Uses the exponential-moving-average weights when the run kept them (``ema=True``).
    ``label_shares`` (conditional models): "data" draws classes with the shares of the run's
    training labels, kept in the checkpoint (uniform for checkpoints older than that field);
    "uniform" draws every class equally often.
    Checkpoints of release 0.1 (before tasks) load too: their config is migrated."""
    from ganforge.tasks import get_task

    if label_shares not in LABEL_SHARES:
        raise ConfigError(f"label shares must be one of {', '.join(LABEL_SHARES)}, got {label_shares!r}.")
    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    try:
        cfg = Config.from_dict(state["config"])
    except KeyError:
        raise CheckpointError(f"{ckpt}/state.json has no config; it was not written by ganforge train.") from None
    sampler = get_task(state.get("kind", cfg.kind)).load_sampler(cfg, state, ckpt, ema=ema, device=device)
    return sampler.use_class_counts(state.get("class_counts") if label_shares == "data" else None)


def load_generator(path: str | Path, *, ema: bool = True, device: str | torch.device = "cpu") -> GeneratorSampler:
    """:func:`load_sampler` for a latent-variable model (GAN, VAE): ``G(z, y)`` with the fields
    ``z_dim``, ``num_classes``, ``img_shape``, ``scaling`` and ``noise``."""
    sampler = load_sampler(path, ema=ema, device=device)
    if not isinstance(sampler, GeneratorSampler):
        raise ConfigError(f"{path} holds a {sampler.kind} model, which has no latent z; "
                          "use `ganforge sample` on it instead.")
    return sampler


def sample_outputs(G: Sampler, n: int, seed: int = 0, batch_size: int = 500, labels=None,
                   device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Raw outputs (n, *img_shape) as float32 on the CPU, in batches, seeded."""
    return G.sample(n, seed, labels, batch_size, device)


def check_counts(n: int, batch_size: int, seed: int) -> None:
    """One-sentence errors for a sample count, batch size or seed that cannot work."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of samples (-n) must be a positive integer, got {n!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"the batch size (--batch-size) must be a positive integer, got {batch_size!r}; "
                          "500 is the default.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"the seed (--seed) must be an integer in 0..{MAX_SEED}, got {seed!r}.")


def check_sample_output(out: str | Path) -> Path:
    """Where :func:`write_samples` would write, checked before anything is generated: a
    ``.png`` or ``.npz`` file, or a folder (a name without a suffix)."""
    from ganforge.files import check_output_dir, check_output_file

    out = Path(out)
    if out.suffix in (".png", ".npz"):
        return check_output_file(out, "-o")
    if out.suffix:
        raise ConfigError(f"cannot write samples to {out.name}: use a .png (grid), an .npz, or a folder name.")
    return check_output_dir(out, "-o")


def generate(G: Sampler, n: int, seed: int = 0, batch_size: int = 500, labels=None) -> tuple[np.ndarray, np.ndarray | None]:
    """n images as uint8 (N,H,W) / (N,H,W,C), plus labels for conditional models."""
    check_counts(n, batch_size, seed)
    x, y = G.sample(n, seed, labels, batch_size)
    if x.ndim != 4:
        raise ConfigError("this generator does not make images; use `ganforge fit --method gan` tools for 1-D data.")
    return to_uint8_images(x, G.scaling), None if y is None else y.numpy()


def class_grid_labels(num_classes: int, per_class: int) -> np.ndarray:
    """Labels for a grid with one row per class."""
    return np.repeat(np.arange(num_classes), per_class)


def write_samples(images: np.ndarray, out: str | Path, labels: np.ndarray | None = None,
                  nrow: int | None = None) -> Path:
    """.png -> one grid; .npz -> ``images`` (+ ``labels``); otherwise a folder of PNGs."""
    out = check_sample_output(out)
    for stale in out.parent.glob(f".tmp-*{out.suffix}") if out.suffix else ():
        stale.unlink(missing_ok=True)  # a killed earlier write of a grid or .npz beside it
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
    for stale in out.glob(".tmp-*"):  # left by a killed earlier write into this folder (ganforge.files)
        stale.unlink(missing_ok=True)
    width = len(str(len(images) - 1))
    for i, img in enumerate(images):
        tag = f"_class{labels[i]}" if labels is not None else ""
        save_png(img, out / f"{i:0{width}d}{tag}.png")
    return out
