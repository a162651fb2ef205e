"""Latent walks: linear and spherical interpolation between latent codes, between
classes of a conditional generator, and animated GIFs of the walk.

Why spherical: z ~ N(0, I) in 100 dimensions lives on a thin shell of radius ~ sqrt(100);
the straight line between two samples cuts through the inside of that shell, where the
midpoint has norm ``r cos(omega / 2)`` and G has rarely seen such short codes. Spherical
interpolation (slerp, Shoemake 1985; recommended for GANs by White 2016, "Sampling
Generative Networks") moves along the great circle and keeps the norm of equal-norm
endpoints constant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.files import atomic_path

METHODS = ("linear", "spherical")


def _weights(steps: int | torch.Tensor) -> torch.Tensor:
    if isinstance(steps, int):
        if steps < 2:
            raise ConfigError(f"an interpolation needs at least 2 steps (its two ends), got {steps}.")
        return torch.linspace(0.0, 1.0, steps)
    return torch.as_tensor(steps, dtype=torch.float32)


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int | torch.Tensor) -> torch.Tensor:
    """(d,) and (d,) -> (T, d): ``(1-t) z0 + t z1``. The ends are z0 and z1 bit for bit
    (``1*z0 + 0*z1``), which the form ``z0 + t (z1 - z0)`` would not guarantee."""
    t = _weights(steps).to(z0)[:, None]
    return (1.0 - t) * z0[None] + t * z1[None]


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int | torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """(d,) and (d,) -> (T, d) along the great circle (White 2016):
    ``sin((1-t) w)/sin w * z0 + sin(t w)/sin w * z1`` with w the angle between z0 and z1.

    For ``|z0| = |z1| = r`` every point has norm r and the angle to z0 grows linearly in t;
    the ends are exact. Falls back to :func:`lerp` for (anti)parallel codes, where the
    great circle is undefined."""
    t = _weights(steps).to(z0)[:, None]
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    so = torch.sin(omega)
    if so.abs() < 1e-4:
        return lerp(z0, z1, steps)
    return (torch.sin((1.0 - t) * omega) / so) * z0[None] + (torch.sin(t * omega) / so) * z1[None]


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int | torch.Tensor, method: str = "spherical") -> torch.Tensor:
    if method not in METHODS:
        raise ConfigError(f"unknown interpolation {method!r}; choose one of: {', '.join(METHODS)}.")
    return (lerp if method == "linear" else slerp)(z0, z1, steps)


def check_class(G: nn.Module, label: int, what: str = "--class") -> int:
    """A class index valid for conditional G, or a one-sentence error."""
    if not G.num_classes:
        raise ConfigError(f"this generator is unconditional, so it has no classes; drop {what}.")
    if not 0 <= int(label) < G.num_classes:
        raise ConfigError(f"{what} {label} is outside this model's classes 0..{G.num_classes - 1}; pick one of those.")
    return int(label)


def _label_layer(G: nn.Module) -> nn.Linear:
    """The first linear layer reading ``[z; one_hot(y)]`` (MLP and DCGAN generators)."""
    for m in G.modules():
        if isinstance(m, nn.Linear) and m.in_features == G.z_dim + G.num_classes:
            return m
    raise ConfigError("class interpolation needs a conditional generator whose label enters as a one-hot "
                      "vector beside z (the mlp and dcgan generators do); this one does not.")


def forward_soft_labels(G: nn.Module, z: torch.Tensor, y_soft: torch.Tensor) -> torch.Tensor:
    """G(z, y) for *soft* labels y_soft (N, num_classes) (rows of a simplex).

    The conditional G of Mirza & Osindero feeds ``[z; one_hot(y)]`` to its first linear
    layer; this swaps the one-hot part of that input for ``y_soft``, so a walk from
    one-hot(a) to one-hot(b) morphs class a into class b with z fixed. At a one-hot
    ``y_soft`` the result equals ``G(z, y)`` exactly."""
    layer = _label_layer(G)
    k = G.num_classes

    def hook(module, args):
        inp = args[0]
        return (torch.cat([inp[:, :-k], y_soft.to(inp)], dim=1),)

    handle = layer.register_forward_pre_hook(hook)
    try:
        return G(z, y_soft.argmax(1))
    finally:
        handle.remove()


@torch.no_grad()
def latent_walk(G: nn.Module, n_pairs: int = 4, steps: int = 9, method: str = "spherical", seed: int = 0,
                label: int | None = None) -> torch.Tensor:
    """(n_pairs * steps, C, H, W): each row walks from a random z0 to a random z1.
    Conditional G: all rows use class ``label`` (default: row i uses class i mod K)."""
    if label is not None:
        check_class(G, label)
    gen = torch.Generator().manual_seed(seed)
    dev = next(G.parameters()).device
    z = torch.randn(n_pairs, 2, G.z_dim, generator=gen)
    rows = []
    for i in range(n_pairs):
        zs = interpolate(z[i, 0], z[i, 1], steps, method).to(dev)
        if G.num_classes:
            c = check_class(G, label) if label is not None else i % G.num_classes
            rows.append(G(zs, torch.full((steps,), c, dtype=torch.int64, device=dev)))
        else:
            rows.append(G(zs))
    return torch.cat(rows).float().cpu()


@torch.no_grad()
def class_walk(G: nn.Module, pairs: list[tuple[int, int]], steps: int = 9, seed: int = 0) -> torch.Tensor:
    """(len(pairs) * steps, C, H, W): z fixed per row, the label blends from a to b."""
    gen = torch.Generator().manual_seed(seed)
    dev = next(G.parameters()).device
    rows = []
    for a, b in pairs:
        a, b = check_class(G, a), check_class(G, b)
        z = torch.randn(1, G.z_dim, generator=gen).expand(steps, -1).to(dev)
        t = torch.linspace(0, 1, steps, device=dev)[:, None]
        ea = torch.nn.functional.one_hot(torch.tensor(a), G.num_classes).float().to(dev)
        eb = torch.nn.functional.one_hot(torch.tensor(b), G.num_classes).float().to(dev)
        rows.append(forward_soft_labels(G, z, (1 - t) * ea + t * eb))
    return torch.cat(rows).float().cpu()


def write_gif(frames: np.ndarray, path: str | Path, duration_ms: int = 80, min_size: int = 112,
              bounce: bool = True) -> Path:
    """uint8 frames (T,H,W) or (T,H,W,3) -> an animated, looping GIF (PIL).

    Small digits are enlarged (nearest) to ``min_size`` pixels; ``bounce`` plays the walk
    forward then backward so the loop has no jump."""
    from PIL import Image

    frames = np.asarray(frames)
    if frames.ndim not in (3, 4) or frames.dtype != np.uint8 or len(frames) < 1:
        raise ConfigError(f"a GIF needs uint8 frames (T,H,W) or (T,H,W,3), got {frames.dtype} {frames.shape}.")
    seq = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    h, w = frames.shape[1:3]
    k = max(1, -(-min_size // min(h, w)))
    ims = [Image.fromarray(f).resize((w * k, h * k), Image.Resampling.NEAREST) for f in seq]
    with atomic_path(path) as tmp:
        ims[0].save(tmp, format="GIF", save_all=True, append_images=ims[1:], duration=duration_ms, loop=0)
    return Path(path)


def walk_frames(images: np.ndarray, steps: int, nrow: int | None = None) -> np.ndarray:
    """Grid frames of a walk: images laid out as (rows, steps) -> (steps, gridH, gridW[, C]),
    frame t shows step t of every row side by side."""
    from ganforge.images import make_grid

    rows = len(images) // steps
    per = images.reshape(rows, steps, *images.shape[1:])
    return np.stack([make_grid(per[:, t], nrow or min(rows, 8)) for t in range(steps)])
