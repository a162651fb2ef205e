"""Adversarial objectives as pure functions of D's raw logits.

``d_loss(real_logits, fake_logits) -> scalar`` and
``g_loss(fake_logits, real_logits=None) -> scalar``. No ``.backward()``, no optimizer,
no module state: the training step owns all of that.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """The discriminator's log-loss: real -> 1, fake -> 0.

    ``label_smoothing`` s makes the real target 1 - s (one-sided: fake targets stay 0,
    Salimans et al. 2016). Computed from logits for numerical stability.
    """
    real_target = torch.full_like(real_logits, 1.0 - label_smoothing)
    return F.binary_cross_entropy_with_logits(real_logits, real_target) + F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )


def saturating_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The original minimax generator loss: minimise E[log(1 - D(G(z)))] = -softplus(logit).

    Its gradient vanishes when D confidently rejects the fakes (Goodfellow et al. 2014, §3).
    """
    return -F.softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The non-saturating heuristic: minimise -E[log D(G(z))] = softplus(-logit)."""
    return F.softplus(-fake_logits).mean()


def lsgan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN (Mao et al. 2017), a=0, b=1: ½E[(D(x)-1)²] + ½E[D(G(z))²]."""
    return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()


def lsgan_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Least-squares GAN generator loss, c=1: ½E[(D(G(z))-1)²]."""
    return 0.5 * ((fake_logits - 1) ** 2).mean()


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): E[relu(1-D(x))] + E[relu(1+D(G(z)))]."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def wasserstein_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The critic's loss (Arjovsky et al. 2017): minimise E[C(G(z))] - E[C(x)]."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The generator's Wasserstein loss: minimise -E[C(G(z))] (also used with hinge D)."""
    return -fake_logits.mean()


def relativistic_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Relativistic average GAN, RaSGAN (Jolicoeur-Martineau 2018, eq. 9): D estimates how much more
    realistic a real image is than the average fake, and the reverse:
    -E_x[log σ(C(x) - E C(G(z)))] - E_z[log(1 - σ(C(G(z)) - E C(x)))]."""
    return F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(), torch.ones_like(real_logits)) + \
        F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(), torch.zeros_like(fake_logits))


def relativistic_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """RaSGAN's generator loss: D's loss with the roles swapped, so G also gets a gradient from the real
    batch's term (through the average of its fakes' scores):
    -E_z[log σ(C(G(z)) - E C(x))] - E_x[log(1 - σ(C(x) - E C(G(z))))]."""
    if real_logits is None:
        raise ValueError("the relativistic generator loss compares fakes with real data: pass real_logits")
    return relativistic_d_loss(fake_logits, real_logits)
