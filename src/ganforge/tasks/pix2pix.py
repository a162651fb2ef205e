"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks") as a task: a U-Net generator with dropout, a PatchGAN discriminator that judges
the (input, output) pair patch by patch, and the loss

    G* = arg min_G max_D  L_cGAN(G, D) + λ · L_L1(G)          (Eq. 4, λ = 100)

One step = one D update on a real and a fake pair (D's objective halved, §3.3: "we divide the
objective by 2 while optimizing D"), then one G update with the non-saturating adversarial
loss (§3.3, after Goodfellow et al. 2014) plus λ times the L1 distance to the target.

Checkpoint names: G, D, opt_g, opt_d. The sampler runs G in eval mode (dropout off,
BatchNorm's running statistics): see :mod:`ganforge.translate`.
"""

from __future__ import annotations

import torch

from ganforge.config import Config, Pix2PixConfig
from ganforge.data.batches import Feed
from ganforge.errors import ConfigError
from ganforge.losses.adversarial import bce_d_loss, nonsaturating_g_loss
from ganforge.models.image2image import PatchGAN, UNet
from ganforge.optim import make_optimizer
from ganforge.tasks.base import DataSpec
from ganforge.tasks.image2image import ImageToImageTask


def pix2pix_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's log-loss on patch maps (every cell a real/fake decision), halved as in §3.3."""
    return 0.5 * bce_d_loss(real_logits, fake_logits)


def pix2pix_g_loss(fake_logits: torch.Tensor, fake: torch.Tensor, target: torch.Tensor,
                   l1_weight: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, adversarial, L1): -log D(x, G(x)) + λ·|y - G(x)|₁ (Eq. 3-4; L1 "encourages less blurring" than L2)."""
    adv = nonsaturating_g_loss(fake_logits)
    l1 = (fake - target).abs().mean()
    return adv + l1_weight * l1, adv, l1


class Pix2PixTask(ImageToImageTask):
    title = "pix2pix"
    progress = {"l1": "L1", "d_loss": "D"}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        self.t: Pix2PixConfig = cfg.task
        if self.info.input_shape[1:] != self.info.target_shape[1:]:
            raise ConfigError(f"pix2pix translates between images of one size, but data.pairs={cfg.data.pairs} makes "
                              f"{self.info.input_shape[2]}x{self.info.input_shape[1]} inputs for "
                              f"{self.info.target_shape[2]}x{self.info.target_shape[1]} targets; use kind=srgan.")
        side = 2 ** self.t.depth
        h, w = self.info.target_shape[1:]
        if h % side or w % side:
            raise ConfigError(f"a U-Net of depth {self.t.depth} halves the image {self.t.depth} times, so the sides "
                              f"must divide by {side}, got {w}x{h}; lower task.depth.")
        cin, cout = self.info.input_shape[0], self.info.target_shape[0]
        self.G = self.build_generator(cfg, self.info.input_shape, self.info.target_shape).to(device)
        self.D = PatchGAN(cin + cout, self.t.width, self.t.patch).to(device)
        self.opt_g = make_optimizer(self.G.parameters(), self.t.g_optim)
        self.opt_d = make_optimizer(self.D.parameters(), self.t.d_optim)
        self.modules = {"G": self.G, "D": self.D}
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}

    @classmethod
    def build_generator(cls, cfg: Config, in_shape, out_shape) -> UNet:
        t = cfg.task
        return UNet(in_shape[0], out_shape[0], t.width, t.depth, t.dropout)

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        x, y = self.pair(feed)
        with self.autocast():
            fake = self.G(x)
        fake = fake.float()
        # D: real pairs (x, y) against fake pairs (x, G(x)); G's output detached.
        self.D.requires_grad_(True)
        with self.autocast():
            real_logits = self.D(torch.cat([x, y], 1))
            fake_logits = self.D(torch.cat([x, fake.detach()], 1))
        d_loss = pix2pix_d_loss(real_logits.float(), fake_logits.float())
        self.update(self.opt_d, d_loss, self.D)
        # G: fool the updated D and stay near the target in L1; D frozen (the lecture's "trainable = False").
        self.D.requires_grad_(False)
        with self.autocast():
            g_logits = self.D(torch.cat([x, fake], 1))
        g_loss, adv, l1 = pix2pix_g_loss(g_logits.float(), fake, y, self.t.l1_weight)
        self.update(self.opt_g, g_loss, self.G)
        self.D.requires_grad_(True)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "g_adv": adv.detach(), "l1": l1.detach(),
                "d_real": torch.sigmoid(real_logits.detach().float()).mean(),
                "d_fake": torch.sigmoid(fake_logits.detach().float()).mean()}
