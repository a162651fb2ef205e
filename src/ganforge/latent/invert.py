"""GAN inversion: find z such that G(z) matches a given image, by optimisation.

G has no encoder, so the only way back from an image to the latent space is to search:
minimise the pixel error ``mean (G(z) - x)**2`` over z (Zhu et al. 2016, "Generative
Visual Manipulation on the Natural Image Manifold"), from several random starts because
the problem is not convex, plus a small ``prior_weight * |z|**2 / (2 d)`` that keeps z
where N(0, I) puts its mass. The reported reconstruction error says how well G can
reproduce the image at all: a real digit G cannot draw stays far away.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganforge.optim import optimize_latents


@dataclass
class Inversion:
    z: torch.Tensor  # (N, z_dim) best code per image
    reconstruction: torch.Tensor  # (N, C, H, W) G(z), in the model's range
    mse: torch.Tensor  # (N,) mean squared pixel error in the model's range ([-1,1] for tanh)


def invert(G: nn.Module, images: torch.Tensor, y: torch.Tensor | None = None, steps: int = 300, lr: float = 0.05,
           restarts: int = 4, prior_weight: float = 1e-3, seed: int = 0) -> Inversion:
    """Invert (N, C, H, W) images in G's output range; ``y`` (N,) labels for conditional G.

    Runs ``restarts`` independent searches per image (one batch) and keeps the best."""
    G.eval()
    dev = next(G.parameters()).device
    x = images.to(dev).float()
    n, d = len(x), G.z_dim
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn(restarts * n, d, generator=gen).to(dev)
    xr = x.repeat(restarts, *([1] * (x.ndim - 1)))
    yr = None if y is None else torch.as_tensor(y, dtype=torch.int64).to(dev).repeat(restarts)
    saved = [(p, p.requires_grad) for p in G.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)  # only z is searched; G stays frozen

    def loss_fn(z: torch.Tensor) -> torch.Tensor:
        out = G(z, yr)
        return (out - xr).pow(2).flatten(1).mean(1) + prior_weight * z.pow(2).sum(1) / (2 * d)

    try:
        z, _ = optimize_latents(z0, loss_fn, steps, lr)
        with torch.no_grad():
            rec = G(z, yr)
            mse = (rec - xr).pow(2).flatten(1).mean(1)
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)
    best = mse.view(restarts, n).argmin(0)
    idx = best * n + torch.arange(n, device=dev)
    return Inversion(z[idx].cpu(), rec[idx].float().cpu(), mse[idx].cpu())
