"""The only code that touches optimizers: one discriminator step and one generator
step of the lecture's alternating minimisation.

- D step ("freeze G, train D"): G's output is produced without a graph (the
  equivalent of ``.detach()``), so no gradient reaches G.
- G step ("freeze D, train G"): D's parameters get ``requires_grad_(False)`` for the
  step -- Keras' ``trainable = False`` from the lecture -- so the error flows through D
  to G while D's weights and gradients stay untouched; they are restored afterwards.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ganforge.config import LossConfig, OptimConfig
from ganforge.losses import D_LOSSES, G_LOSSES, PENALTIES
from ganforge.optim import make_optimizer  # noqa: F401  (re-exported for callers of the old path)


@dataclass(frozen=True)
class Objective:
    """The pure functions one training run uses, resolved from a :class:`LossConfig`."""

    d_loss: Callable
    g_loss: Callable
    penalty: Callable | None = None
    penalty_weight: float = 0.0
    clip: float = 0.0
    probabilities: bool = True  # D's logits are log-odds (report sigmoid) vs critic scores

    @classmethod
    def from_config(cls, cfg: LossConfig) -> "Objective":
        d_loss = D_LOSSES.get(cfg.d_loss)
        if cfg.label_smoothing:
            if cfg.d_loss != "bce":
                from ganforge.errors import ConfigError

                raise ConfigError("loss.label_smoothing applies to the bce loss only; set it to 0 or use loss.d_loss=bce.")
            d_loss = functools.partial(d_loss, label_smoothing=cfg.label_smoothing)
        return cls(
            d_loss=d_loss,
            g_loss=G_LOSSES.get(cfg.g_loss),
            penalty=None if cfg.penalty == "none" else PENALTIES.get(cfg.penalty),
            penalty_weight=cfg.penalty_weight,
            clip=cfg.clip,
            probabilities=cfg.d_loss == "bce",
        )


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Temporarily set ``requires_grad=False`` on every parameter of ``module``."""
    saved = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


def joint_batch_ok(D: nn.Module) -> bool:
    """True when D treats every sample independently (no batch-statistics layers)."""
    if not hasattr(D, "_ganforge_joint_ok"):
        D._ganforge_joint_ok = not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    return D._ganforge_joint_ok


def _score(logits: torch.Tensor, probabilities: bool) -> torch.Tensor:
    return torch.sigmoid(logits).mean() if probabilities else logits.mean()


def d_step(G, D, opt_d, real, y, z, obj: Objective, autocast=contextlib.nullcontext) -> dict[str, torch.Tensor]:
    """One discriminator update on a real batch and G(z) (fakes use the real batch's
    labels when conditional). Returns detached statistics (no host sync)."""
    with torch.no_grad(), autocast():
        fake = G(z, y)
    fake = fake.float()
    with autocast():
        if joint_batch_ok(D):
            # One forward over [real; fake]: identical maths when no layer mixes samples
            # (no BatchNorm), and one large matmul is faster than two small ones.
            both = torch.cat([real, fake])
            logits = D(both, None if y is None else torch.cat([y, y]))
            real_logits, fake_logits = logits[: len(real)], logits[len(real):]
        else:
            real_logits = D(real, y)
            fake_logits = D(fake, y)
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    loss = obj.d_loss(real_logits, fake_logits)
    stats = {}
    if obj.penalty is not None:
        # Double backward stays eager and in fp32.
        pen = obj.penalty(D, real, fake, y)
        loss = loss + obj.penalty_weight * pen
        stats["penalty"] = pen.detach()
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    if obj.clip:
        clip_weights(D, obj.clip)
    stats.update(d_loss=loss.detach(), d_real=_score(real_logits.detach(), obj.probabilities),
                 d_fake=_score(fake_logits.detach(), obj.probabilities))
    return stats


def g_step(G, D, opt_g, z, y, obj: Objective, autocast=contextlib.nullcontext) -> dict[str, torch.Tensor]:
    """One generator update through a frozen D."""
    with frozen(D):
        with autocast():
            fake = G(z, y)
            fake_logits = D(fake, y)
        loss = obj.g_loss(fake_logits.float())
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    return {"g_loss": loss.detach()}


@torch.no_grad()
def clip_weights(D: nn.Module, c: float) -> None:
    """WGAN weight clipping (Arjovsky et al. 2017): every critic parameter into [-c, c]."""
    for p in D.parameters():
        p.clamp_(-c, c)


def ema_decay(decay: float, step: int) -> float:
    """The decay used after ``step`` generator updates (0-based): ``min(decay, (1+step)/(10+step))``.

    Without this warm-up the average is still ~60 % the random initial G after 500
    steps at decay 0.999 (0.999^500), and its samples are grey noise (seen in a WGAN-GP
    run); TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` uses the same ramp."""
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def ema_update(G_ema: nn.Module, G: nn.Module, decay: float, step: int | None = None) -> None:
    """G_ema <- d * G_ema + (1 - d) * G with d = ``ema_decay(decay, step)`` (plain ``decay``
    when ``step`` is None); buffers (BatchNorm stats) are copied."""
    d = decay if step is None else ema_decay(decay, step)
    for pe, p in zip(G_ema.parameters(), G.parameters()):
        pe.lerp_(p, 1.0 - d)
    for be, b in zip(G_ema.buffers(), G.buffers()):
        be.copy_(b)


def vae_step(E, G, opt, x, y, eps: torch.Tensor, vcfg, autocast=contextlib.nullcontext) -> dict[str, torch.Tensor]:
    """One VAE update on a batch: encode, reparameterise z = mu + sigma * eps (eps drawn
    by the caller so runs stay seeded), decode, minimise the negative ELBO."""
    from ganforge.losses.vae import bernoulli_nll, gaussian_kl, gaussian_nll, negative_elbo

    with autocast():
        mu, logvar = E(x, y)
    mu, logvar = mu.float(), logvar.float()
    z = mu + torch.exp(0.5 * logvar) * eps
    with autocast():
        out = G(z, y)
    out = out.float()
    recon = bernoulli_nll(out, x) if vcfg.likelihood == "bernoulli" else gaussian_nll(out, x, vcfg.sigma)
    kl = gaussian_kl(mu, logvar)
    loss = negative_elbo(recon, kl, vcfg.beta)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": loss.detach(), "elbo": -(recon + kl).mean().detach(), "recon": recon.mean().detach(),
            "kl": kl.mean().detach()}
