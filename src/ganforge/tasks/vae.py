"""The VAE baseline (Kingma & Welling 2014) as a task: an encoder q(z|x), a decoder p(x|z)
that is one of the generators, one optimizer over both, trained on the negative ELBO.

Its sampler is the decoder behind :class:`~ganforge.models.vae.VAEDecoder`, which keeps
the generator contract, so ``sample``/``evaluate``/the latent walks treat a VAE like a GAN.
Checkpoint names: G (decoder), E (encoder), opt_g.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganforge.config import Config, VAEConfig
from ganforge.data.batches import Feed, to_model_range
from ganforge.errors import ConfigError
from ganforge.losses.vae import bernoulli_nll, gaussian_kl, gaussian_nll, negative_elbo
from ganforge.models import build_generator
from ganforge.models.noise import sample_z
from ganforge.models.vae import VAEDecoder, build_encoder, decoder_output
from ganforge.optim import make_optimizer
from ganforge.sampler import GeneratorSampler
from ganforge.tasks.base import DataSpec, Task, fast_forwards, load_generator_net


def check_vae_config(cfg: Config) -> None:
    """Options of the shared ``model`` section that only a discriminator or a GAN sampler
    reads would be silently ignored by a VAE: refuse them."""
    m = cfg.model
    if m.noise != "gaussian":
        raise ConfigError("a VAE's prior is N(0, I), so it samples Gaussian z; set model.noise=gaussian.")
    for name in ("spectral_norm", "projection"):
        if getattr(m, name):
            raise ConfigError(f"model.{name} belongs to a GAN's discriminator and a VAE has none; "
                              f"set model.{name}=false or kind=gan.")


def vae_step(E, G, opt, x, y, eps: torch.Tensor, vcfg: VAEConfig, autocast, sync=None) -> dict[str, torch.Tensor]:
    """One VAE update on a batch: encode, reparameterise z = mu + sigma * eps (eps drawn
    by the caller so runs stay seeded), decode, minimise the negative ELBO."""
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
    if sync is not None:  # data parallelism: average E's and G's gradients over ranks
        sync(E, G)
    opt.step()
    return {"loss": loss.detach(), "elbo": -(recon + kl).mean().detach(), "recon": recon.mean().detach(),
            "kl": kl.mean().detach()}


class VAETask(Task):
    progress = {"elbo": "ELBO", "kl": "KL"}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        check_vae_config(cfg)
        self.t: VAEConfig = cfg.task
        self.output = decoder_output(self.t.likelihood)
        self.G = build_generator(cfg.model, spec.shape, spec.num_classes, self.output).to(device)
        self.E = build_encoder(self.t, cfg.model.z_dim, cfg.model.width, spec.shape, spec.num_classes).to(device)
        self.opt = make_optimizer([*self.E.parameters(), *self.G.parameters()], self.t.optim)
        self.E_fwd, self.G_fwd = fast_forwards(cfg, spec, self.E, self.G)
        self.channels_last = cfg.train.channels_last and len(spec.shape) == 3
        self.modules = {"G": self.G, "E": self.E}
        self.optimizers = {"opt_g": self.opt}
        # The preview: 64 samples from fixed z, then held-out images and their reconstructions.
        gen = torch.Generator().manual_seed(cfg.train.seed + 2)
        k = spec.num_classes
        self.grid_y = torch.arange(k).repeat_interleave(10).to(device) if k else None
        self.grid_z = sample_z(10 * k if k else 64, cfg.model.z_dim, "gaussian", gen, device)
        self.holdout = None
        if spec.is_image and spec.holdout is not None:
            hx, hy = spec.holdout(10 if k else 8)
            self.holdout = (to_model_range(hx.to(device), cfg.data.scaling), hy.to(device) if k else None)

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        real, y = feed.batch()
        eps = feed.z(self.cfg.model.z_dim, "gaussian")
        x = to_model_range(real, self.cfg.data.scaling)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return vae_step(self.E_fwd, self.G_fwd, self.opt, x, y, eps, self.t,
                        self.autocast, self.dist.average_gradients if self.dist.active else None)

    def state(self) -> dict:
        return {"output": self.output}

    def sampler(self) -> GeneratorSampler:
        return _sampler(self.cfg, self.G, self.spec.shape, self.spec.num_classes)

    def preview(self) -> tuple[torch.Tensor, int]:
        s = self.sampler()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # grids must not change the training RNG
            was = s.net.training
            s.eval()
            imgs = s(self.grid_z, self.grid_y)
            if self.holdout is not None:  # two more rows: held-out images and their reconstructions (posterior means)
                x, y = self.holdout
                self.E.eval()
                mu, _ = self.E(x, y)
                imgs = torch.cat([imgs, x, s(mu, y)])
                self.E.train(was)
            s.net.train(was)
        return imgs, 10 if self.spec.num_classes else 8

    @classmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True,
                     device="cpu") -> GeneratorSampler:
        G = load_generator_net(cfg, state, ckpt, "G", device)
        return _sampler(cfg, G, state["img_shape"], state["num_classes"], str(ckpt)).eval()


def _sampler(cfg: Config, G, shape, num_classes: int, checkpoint: str | None = None) -> GeneratorSampler:
    m = cfg.model
    return GeneratorSampler(VAEDecoder(G, cfg.task.likelihood), z_dim=m.z_dim, noise="gaussian",
                            dropout_at_sampling=m.g_dropout_at_sampling and m.g_dropout > 0, img_shape=tuple(shape),
                            num_classes=num_classes, scaling=cfg.data.scaling, kind="vae", checkpoint=checkpoint)
