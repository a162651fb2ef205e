"""Penalties on the discriminator: ``penalty(D, real, fake, y) -> scalar``. Pure apart
from evaluating D; they build a graph (``create_graph=True``) so the D step can
differentiate through them."""

from __future__ import annotations

import torch


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None,
                     eps: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(‖∇x̂ D(x̂)‖₂ - 1)²] at x̂ = εx + (1-ε)x̃,
    one ε ~ U[0,1] per sample and one norm per sample. ``eps`` (N,): given by data-parallel
    training (this rank's slice of one global draw); drawn here otherwise."""
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    if eps is None:
        eps = torch.rand(shape, device=real.device, dtype=real.dtype)
    eps = eps.reshape(shape).to(real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x_hat, y)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(D, real: torch.Tensor, fake: torch.Tensor | None = None, y: torch.Tensor | None = None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): ½E[‖∇x D(x)‖²] on real data. The ½ is folded in here,
    so the weight is γ."""
    x = real.detach().requires_grad_(True)
    out = D(x, y)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return 0.5 * grad.flatten(1).pow(2).sum(1).mean()
