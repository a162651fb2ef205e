"""Differentiable augmentation of D's input (DiffAugment, Zhao et al. 2020).

With a few thousand training images D memorises the real set within a few epochs, wins
(D(x) -> 1, D(G(z)) -> 0) and G collapses: seen here with ``folder-dcgan`` on 3,241
emoji, where every sample was the same checkerboard by step 500. DiffAugment applies the
*same kind* of random, differentiable transformation to every image D sees, real and
fake, in the D step and in the G step, so D cannot memorise the real images and G still
gets gradients through the transformation. (Augmenting only the real images would teach
G to produce augmented images.)

Written here rather than imported: the reference code (mit-han-lab/data-efficient-gans,
``DiffAugment_pytorch.py``) is not a package on PyPI, and kornia would be a large
dependency for three transformations. The policies and magnitudes are the reference's:

- ``color``: brightness + U(-0.5, 0.5); saturation x U(0, 2); contrast x U(0.5, 1.5);
- ``translation``: shift by up to 1/8 of the image size, zero padded;
- ``cutout``: zero a square of half the image size at a random place.

The transformation is attached to D as a forward pre-hook, active only while D is in
training mode: the model's parameters and checkpoint keys do not change, and D used as a
feature extractor or probe (eval mode) sees clean images. Random numbers come from
torch's global generator, which checkpoints save and restore (bit-exact resume).
Images are expected in [-1, 1] (NCHW).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import ConfigError


def rand_color(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by its own integer offset in [-ratio*size, ratio*size], zero padded."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy).clamp(-1, h)  # source row, -1/h = padding
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx).clamp(-1, w)
    padded = F.pad(x, (1, 1, 1, 1))  # index 0 and size+1 of the padded image are zeros
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    # gather per image: padded[b, :, rows+1, cols+1] -> (N, H, W, C) -> NCHW
    return padded.permute(0, 2, 3, 1)[batch, rows + 1, cols + 1].permute(0, 3, 1, 2)


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of side ratio*size per image (its centre anywhere in the image)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((ys - oy + ch // 2) >= 0) & ((ys - oy + ch // 2) < ch) & ((xs - ox + cw // 2) >= 0) & ((xs - ox + cw // 2) < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """"color,translation,cutout" -> ("color", "translation", "cutout"); "" -> ()."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    for p in names:
        if p not in POLICIES:
            raise ConfigError(f"model.diffaugment: unknown policy {p!r}; use a comma-separated list of: "
                              f"{', '.join(POLICIES)} (e.g. color,translation,cutout).")
    return names


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply each transformation of ``policy`` in order; differentiable in ``x``."""
    return _apply(x, parse_policy(policy))


def _apply(x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    for name in names:
        x = POLICIES[name](x)
    return x.contiguous()


def attach_diffaugment(D: nn.Module, policy: str) -> nn.Module:
    """Augment D's image input with ``policy`` whenever D is in training mode."""
    names = parse_policy(policy)  # once here, not on every forward
    if not names:
        return D

    def hook(module, args):
        if not module.training:
            return None
        x, *rest = args
        return (_apply(x, names), *rest)

    D.register_forward_pre_hook(hook)
    return D
