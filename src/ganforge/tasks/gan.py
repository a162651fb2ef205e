"""The adversarial task: the lecture's alternating minimisation, and its family
(DCGAN, conditional, Wasserstein with clipping or gradient penalty, hinge + spectral norm,
EMA of G, DiffAugment) -- all chosen by config, none by a new branch in the harness.

One training step = ``task.d_steps`` discriminator steps, then one generator step:

- D step ("freeze G, train D"): G's output is produced without a graph (the equivalent of
  ``.detach()``), so no gradient reaches G.
- G step ("freeze D, train G"): D's parameters get ``requires_grad_(False)`` for the step
  -- Keras' ``trainable = False`` from the lecture -- so the error flows through D to G
  while D's weights and gradients stay untouched; they are restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ganforge.config import Config, GANConfig, LossConfig
from ganforge.data.batches import Feed, to_model_range
from ganforge.errors import ConfigError
from ganforge.losses import D_LOSSES, G_LOSSES, PENALTIES, mode_seeking_term
from ganforge.models import build_discriminator, build_generator, has_batchnorm
from ganforge.models.diffaugment import attach_diffaugment
from ganforge.models.noise import sample_labels, sample_z
from ganforge.optim import make_optimizer
from ganforge.sampler import GeneratorSampler
from ganforge.tasks.base import DataSpec, Task, fast_forwards, load_generator_net


@dataclass(frozen=True)
class Objective:
    """The pure functions one training run uses, resolved from a :class:`LossConfig`."""

    d_loss: Callable
    g_loss: Callable
    penalty: Callable | None = None
    penalty_weight: float = 0.0
    clip: float = 0.0
    probabilities: bool = True  # D's logits are log-odds (report sigmoid) vs critic scores
    mode_seeking: float = 0.0  # λ of MSGAN's diversity term in G's loss
    g_needs_real: bool = False  # G's loss compares its fakes with D's scores of a real batch (RaSGAN)

    @classmethod
    def from_config(cls, cfg: LossConfig) -> "Objective":
        d_loss = D_LOSSES.get(cfg.d_loss)
        if cfg.label_smoothing:
            if cfg.d_loss != "bce":
                raise ConfigError("loss.label_smoothing applies to the bce loss only; set it to 0 or use loss.d_loss=bce.")
            d_loss = functools.partial(d_loss, label_smoothing=cfg.label_smoothing)
        return cls(
            d_loss=d_loss,
            g_loss=G_LOSSES.get(cfg.g_loss),
            penalty=None if cfg.penalty == "none" else PENALTIES.get(cfg.penalty),
            penalty_weight=cfg.penalty_weight,
            clip=cfg.clip,
            probabilities=cfg.d_loss == "bce",
            mode_seeking=cfg.mode_seeking,
            g_needs_real=cfg.g_loss == "relativistic",
        )


def check_compatible(cfg: Config, D: nn.Module) -> None:
    """Refuse wrong combinations instead of silently fixing them (at construction, once)."""
    loss = cfg.task.loss
    if loss.penalty == "gp" and has_batchnorm(D):
        raise ConfigError(
            "the gradient penalty is defined per sample, but BatchNorm in the critic mixes samples; "
            "set model.d_batchnorm=false (WGAN-GP uses layer norm or none)."
        )
    if loss.penalty == "r1" and has_batchnorm(D):
        raise ConfigError(
            "the R1 penalty is a per-sample gradient norm, but BatchNorm in the discriminator mixes samples; "
            "set model.d_batchnorm=false."
        )
    if loss.d_loss == "wasserstein" and not (loss.clip or loss.penalty == "gp" or cfg.model.spectral_norm):
        # Without a Lipschitz bound the critic's scores grow without limit (Arjovsky et al. 2017, §3).
        raise ConfigError(
            "the Wasserstein critic needs a Lipschitz constraint; set loss.clip=0.01 (WGAN), loss.penalty=gp "
            "(WGAN-GP) or model.spectral_norm=true."
        )
    if cfg.model.pack > 1 and cfg.train.batch_size % cfg.model.pack:
        raise ConfigError(f"model.pack={cfg.model.pack} packs the batch into groups of {cfg.model.pack}; set "
                          f"train.batch_size to a multiple of it (it is {cfg.train.batch_size}).")
    if cfg.model.projection:
        if not cfg.data.conditional:
            raise ConfigError("model.projection is a conditional discriminator; set data.conditional=true "
                              "(with a labelled dataset) or model.projection=false.")
        if not getattr(D, "projection", False):
            raise ConfigError(f"model.discriminator={cfg.model.discriminator!r} has no projection head; "
                              "use model.discriminator=dcgan or set model.projection=false.")


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


def _score(logits: torch.Tensor, probabilities: bool) -> torch.Tensor:
    return torch.sigmoid(logits).mean() if probabilities else logits.mean()


def d_step(G, D, opt_d, real, y, z, obj: Objective, autocast=contextlib.nullcontext,
           joint: bool | None = None, sync: Callable | None = None,
           penalty_eps: torch.Tensor | None = None, penalty_D: nn.Module | None = None,
           fake: torch.Tensor | None = None, noise: Callable | None = None) -> dict[str, torch.Tensor]:
    """One discriminator update on a real batch and G(z) (fakes use the real batch's
    labels when conditional). Returns detached statistics (no host sync).

    ``joint``: score [real; fake] in one forward -- identical maths when no layer of D
    mixes samples (no BatchNorm), and one large matmul is faster than two small ones.
    None = decide from D (tasks decide once at construction). ``sync(D)``: called between
    backward and the optimizer step (data parallelism averages D's gradients there).
    ``penalty_eps``: the gradient penalty's interpolation weights, when the caller draws them.
    ``penalty_D``: the eager D for the penalty's double backward when ``D`` is compiled.
    ``fake``: G(z, y) already computed by the caller (``task.reuse_fake``); it is detached here.
    ``noise(x)``: instance noise, applied to the real and the fake batch before D."""
    if joint is None:
        joint = not has_batchnorm(D)
    if fake is None:
        with torch.no_grad(), autocast():
            fake = G(z, y)
    fake = fake.detach().float()
    if noise is not None:
        real, fake = noise(real), noise(fake)
    with autocast():
        if joint:
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
        pD = D if penalty_D is None else penalty_D
        pen = obj.penalty(pD, real, fake, y) if penalty_eps is None else obj.penalty(pD, real, fake, y, eps=penalty_eps)
        loss = loss + obj.penalty_weight * pen
        stats["penalty"] = pen.detach()
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    if sync is not None:
        sync(D)
    opt_d.step()
    if obj.clip:
        clip_weights(D, obj.clip)
    stats.update(d_loss=loss.detach(), d_real=_score(real_logits.detach(), obj.probabilities),
                 d_fake=_score(fake_logits.detach(), obj.probabilities))
    return stats


def g_step(G, D, opt_g, z, y, obj: Objective, autocast=contextlib.nullcontext,
           sync: Callable | None = None, fake: torch.Tensor | None = None,
           noise: Callable | None = None,
           real: tuple[torch.Tensor, torch.Tensor | None] | None = None) -> dict[str, torch.Tensor]:
    """One generator update through a frozen D (D gets no gradient, so nothing of D is synchronised).
    ``fake``: G(z, y) with its graph, when the caller reuses the D step's forward; ``noise``: as in d_step.
    ``real``: (images, labels) scored by the updated D without a graph, for a G loss that needs real
    scores (``obj.g_needs_real``; they do not depend on G)."""
    with frozen(D):
        real_logits = None
        if obj.g_needs_real:
            if real is None:
                raise ValueError("this G loss compares fakes with real data: pass real=(images, labels)")
            images, labels = real
            with torch.no_grad(), autocast():
                real_logits = D(images if noise is None else noise(images), labels).float()
        with autocast():
            if fake is None:
                fake = G(z, y)
            fake_logits = D(fake if noise is None else noise(fake), y)
        loss = obj.g_loss(fake_logits.float(), real_logits)
        stats = {"g_loss": loss.detach()}  # the adversarial part, comparable with and without mode seeking
        if obj.mode_seeking:
            ms = mode_seeking_term(fake.float(), z, y)
            loss = loss + obj.mode_seeking * ms
            stats["mode_seeking"] = ms.detach()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if sync is not None:
            sync(G)
        opt_g.step()
    return stats


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


@torch.no_grad()
def standing_batchnorm_stats(G: nn.Module, batches: int, batch_size: int, z_dim: int, noise: str,
                             num_classes: int, seed: int, device) -> None:
    """Re-estimate G's BatchNorm statistics as the plain average over ``batches`` batches of its own
    forward passes in train mode (BigGAN's standing statistics, Brock et al. 2019), with z and
    uniform labels from a generator seeded by ``seed`` (the global RNG is untouched). For the EMA of
    G, whose statistics are otherwise copied from G: they belong to G's current weights, not to the
    average, and the mismatch shows in pixels (docs/training.md)."""
    bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not bns:
        return
    gen = torch.Generator().manual_seed(seed)
    momenta = [m.momentum for m in bns]
    was = G.training
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # None: a cumulative average over the batches, not an exponential one
    G.train()
    for _ in range(batches):
        z = sample_z(batch_size, z_dim, noise, gen, device)
        G(z, sample_labels(batch_size, num_classes, gen, device))
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum
    G.train(was)


def g_output(cfg: Config, spec: DataSpec) -> str:
    """G's output activation: ``model.output``, where "auto" follows the data's scaling
    (tanh for [-1,1] pixels) and is linear for rows of numbers."""
    if cfg.model.output != "auto":
        return cfg.model.output
    return cfg.data.scaling if spec.is_image else "none"


class GANTask(Task):
    """G, D (and the EMA of G), Adam/SGD/RMSprop for each; checkpoint names G, D, G_ema,
    opt_g, opt_d."""

    progress = {"d_loss": "D", "g_loss": "G", "d_real": "D(x)", "d_fake": "D(G(z))"}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        t: GANConfig = cfg.task
        self.t = t
        self.output = g_output(cfg, spec)
        self.G = build_generator(cfg.model, spec.shape, spec.num_classes, self.output).to(device)
        self.D = attach_diffaugment(build_discriminator(cfg.model, spec.shape, spec.num_classes), t.diffaugment).to(device)
        check_compatible(cfg, self.D)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if t.ema else None
        self.opt_g = make_optimizer(self.G.parameters(), t.g_optim)
        self.opt_d = make_optimizer(self.D.parameters(), t.d_optim)
        self.obj = Objective.from_config(t.loss)
        # One D forward over [real; fake] where no layer mixes samples; a packed D would put the last
        # real and first fake image of a short batch into one group, so it scores them apart.
        self.joint = not has_batchnorm(self.D) and cfg.model.pack == 1
        self.sync = self.dist.average_gradients if self.dist.active else None
        self.channels_last = cfg.train.channels_last and len(spec.shape) == 3
        self.G_fwd, self.D_fwd = fast_forwards(cfg, spec, self.G, self.D)
        self.modules = {"G": self.G, "D": self.D} | ({"G_ema": self.G_ema} if self.G_ema is not None else {})
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        self.d_wins_streak, self.warned = 0, False
        self.standing_at = None  # the step whose EMA statistics were last re-estimated
        # A fixed latent batch (and one row per class when conditional) shows progress on the same z.
        gen = torch.Generator().manual_seed(cfg.train.seed + 2)
        k = spec.num_classes
        self.grid_y = torch.arange(k).repeat_interleave(10).to(device) if k else None
        self.grid_z = sample_z(10 * k if k else 64, cfg.model.z_dim, cfg.model.noise, gen, device)

    @property
    def images_per_step(self) -> int:
        return self.cfg.train.batch_size * self.t.d_steps

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        G, D, noise, scaling = self.G_fwd, self.D_fwd, self.cfg.model.noise, self.cfg.data.scaling
        instance_noise = self._instance_noise(feed, step)
        fake = None
        # 1) freeze G, train D (n_critic times)
        for _ in range(self.t.critic_steps(step)):
            real, y = feed.batch()
            z = feed.z(self.cfg.model.z_dim, noise)
            real = to_model_range(real, scaling)
            if self.channels_last:
                real = real.contiguous(memory_format=torch.channels_last)
            if self.t.reuse_fake:  # one G forward, with its graph, for both updates
                with self.autocast():
                    fake = G(z, y)
            stats = d_step(G, D, self.opt_d, real, y, z, self.obj, self.autocast, self.joint,
                           self.sync, self._penalty_eps(feed), self.D, fake, instance_noise)
        last_real = (real, y)  # the D step's last real batch, for a G loss that compares with it
        # 2) freeze D, train G
        if fake is None:
            z = feed.z(self.cfg.model.z_dim, noise)
            y = feed.labels(self.spec.num_classes)
        stats |= g_step(G, D, self.opt_g, z, y, self.obj, self.autocast, self.sync, fake, instance_noise, last_real)
        if self.G_ema is not None:
            ema_update(self.G_ema, self.G, self.t.ema, step)
        return stats

    def before_snapshot(self, step: int) -> None:
        """With ``task.ema_standing_stats``: the EMA's BatchNorm statistics re-estimated once per step
        reached (ema_update copies G's over them at the next step, so training is unchanged)."""
        n = self.t.ema_standing_stats
        if not n or self.G_ema is None or self.standing_at == step:
            return
        standing_batchnorm_stats(self.G_ema, n, self.cfg.train.batch_size, self.cfg.model.z_dim, self.cfg.model.noise,
                                 self.spec.num_classes, self.cfg.train.seed + 3 + step, self.device)
        self.standing_at = step

    def state(self) -> dict:
        return {"output": self.output}

    def _instance_noise(self, feed: Feed, step: int) -> Callable | None:
        """x -> x + σ(step)·ε with ε from the feed's seeded noise (None when σ is 0)."""
        sd = self.t.instance_noise_sd(step, self.cfg.train.steps)
        if sd <= 0:
            return None
        return lambda x: x + sd * feed.normal(x.shape[1:])[: len(x)].to(x.dtype)  # a small data set's batch may be shorter

    def _penalty_eps(self, feed: Feed) -> torch.Tensor | None:
        """With several ranks, WGAN-GP's interpolation weights are one global draw from the
        (identically seeded) global RNG, sliced by rank, so 2 ranks × b match 1 process × 2b.
        With one process the penalty draws them itself, exactly as before."""
        if not (self.dist.active and self.t.loss.penalty == "gp"):
            return None
        n = feed.batch_size
        eps = torch.rand(n * self.dist.world_size, device=self.device)
        return eps[self.dist.rank * n:(self.dist.rank + 1) * n]

    def train_mode(self) -> None:
        self.G.train()
        self.D.train()  # G_ema stays in eval mode: it is only ever sampled

    def sampler(self) -> GeneratorSampler:
        return _sampler(self.cfg, self.G_ema if self.G_ema is not None else self.G, self.spec.shape,
                        self.spec.num_classes)

    def preview(self) -> tuple[torch.Tensor, int]:
        s = self.sampler()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # grids must not change the training RNG
            was = s.net.training
            imgs = s.eval()(self.grid_z, self.grid_y)
            s.net.train(was)
        return imgs, 10 if self.spec.num_classes else 8

    def health(self, row: dict, step: int) -> list[str]:
        # D(G(z)) ~ 0 for long: D rejects every fake and G's gradient vanishes (saturating loss)
        # or G has collapsed; the lecture's "problem with BCE".
        if not self.obj.probabilities:
            return []
        self.d_wins_streak = self.d_wins_streak + 1 if row.get("d_fake", 1.0) < 0.01 else 0
        if self.d_wins_streak >= self.t.d_wins_patience and not self.warned:
            self.warned = True
            return [f"warning: D(G(z)) < 0.01 for {self.d_wins_streak} log windows up to step {step}: the "
                    "discriminator wins outright; try the non-saturating G loss, label smoothing, a lower D "
                    "learning rate or dropout in D."]
        return []

    @classmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True,
                     device="cpu") -> GeneratorSampler:
        name = "G_ema" if ema and "G_ema" in state.get("modules", []) else "G"
        G = load_generator_net(cfg, state, ckpt, name, device)
        return _sampler(cfg, G, state["img_shape"], state["num_classes"], str(ckpt)).eval()


def _sampler(cfg: Config, net: nn.Module, shape, num_classes: int, checkpoint: str | None = None) -> GeneratorSampler:
    m = cfg.model
    return GeneratorSampler(net, z_dim=m.z_dim, noise=m.noise, dropout_at_sampling=m.g_dropout_at_sampling and m.g_dropout > 0,
                            img_shape=tuple(shape), num_classes=num_classes, scaling=cfg.data.scaling, kind="gan",
                            checkpoint=checkpoint)
