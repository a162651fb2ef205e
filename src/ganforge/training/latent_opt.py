"""Optimise latent codes (not network weights) with Adam: GAN inversion.

Lives in ``training/`` because it is the only kind of code allowed to hold a
``torch.optim`` optimizer (DESIGN.md). The networks stay frozen: only ``z`` is a leaf
with a gradient.
"""

from __future__ import annotations

from typing import Callable

import torch


def optimize_latents(z0: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], steps: int = 300,
                     lr: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise ``loss_fn(z) -> (M,)`` per-sample losses over z, starting from ``z0`` (M, d).

    Adam is elementwise, so optimising the *sum* moves every row of z exactly as if it
    were optimised on its own (the networks must treat samples independently: eval mode).
    Returns (z at the lowest loss seen per row, that loss), both detached.
    """
    z = z0.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    best_z = z.detach().clone()
    best = torch.full((len(z),), float("inf"), device=z.device)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(z)
        with torch.no_grad():
            better = loss < best
            best = torch.where(better, loss.detach(), best)
            best_z[better] = z.detach()[better]
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        loss = loss_fn(z)
        better = loss < best
        best = torch.where(better, loss, best)
        best_z[better] = z.detach()[better]
    return best_z, best
