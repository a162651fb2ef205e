"""The VAE's objective, the negative ELBO, as pure functions (Kingma & Welling 2014).

-ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I)), per image in nats; both terms
are summed over pixels / latent dimensions and averaged over the batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample = ½ Σ (mu² + σ² - log σ² - 1)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per sample, pixels x in [-1,1] read as intensities (x+1)/2 in [0,1]."""
    target = (x + 1) / 2
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """-log N(x; mean, sigma² I) per sample (including the normalising constant)."""
    d = x[0].numel()
    return 0.5 * ((x - mean) / sigma).pow(2).flatten(1).sum(1) + d * (math.log(sigma) + 0.5 * math.log(2 * math.pi))


def negative_elbo(recon_nll: torch.Tensor, kl: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Batch mean of recon + beta * KL (beta = 1: the negative ELBO)."""
    return (recon_nll + beta * kl).mean()
