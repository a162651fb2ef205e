"""Progressive growing of GANs (Karras, Aila, Laine & Lehtinen, ICLR 2018) as a task.

G and D (``models/progressive.py``) are built once for the final resolution: the data's
side rounded up to a power of two (MNIST's 28 -> 32: the digits are padded on the device
with a 2-pixel black border, and the sampler crops it off again, so sampled images have
the data's shape and ``sample`` / ``evaluate`` / the quick FID work unchanged).

Training starts at 4×4 and grows one level at a time (§3). A level ``l >= 1`` first
*fades in* over ``fade_images`` real images: α rises linearly in images shown from 0 to
1, G's new block is blended with the previous level's output upsampled, D's new block
with the downsampled input, and the **real images** are downsampled to the level's
resolution and cross-faded the same way (the official ``process_reals``). Then it is
*stabilised* for ``stable_images``; the last level trains until ``train.steps``.

The level and α are pure functions of the step (:class:`Schedule`), so a resume is
bit-exact anywhere, also in the middle of a fade, and the checkpoint's keys never change.

The loss is the paper's (§A.1): WGAN-GP (Gulrajani et al. 2017, λ = 10, one critic step
per G step) plus the drift term ε·E[D(x)²], ε = 0.001; Adam (lr 0.001, β = (0, 0.99));
an exponential moving average of G for sampling; fresh Adam moments when a level starts
(the official ``reset_opt_for_new_lod``).

**Per-level batch size.** The harness's batcher hands out ``train.batch_size`` images per
draw. A level whose batch ``b`` differs draws ``ceil(b / train.batch_size)`` of those
batches and keeps the first ``b`` images (and as much noise), so the data order stays the
harness's seeded, resumable one; the rest of the last draw is skipped. Batch sizes that
divide or are multiples of ``train.batch_size`` waste nothing but the skipped images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.config import Config, ProgressiveConfig
from ganforge.data.batches import Feed, to_model_range
from ganforge.errors import ConfigError
from ganforge.losses.adversarial import wasserstein_d_loss, wasserstein_g_loss
from ganforge.losses.penalties import gradient_penalty
from ganforge.models.noise import sample_z
from ganforge.models.progressive import (ProgressiveDiscriminator, ProgressiveGenerator, downsample, fade,
                                         num_levels, resolution_of, upsample)
from ganforge.optim import make_optimizer
from ganforge.sampler import GeneratorSampler
from ganforge.tasks.base import DataSpec, Task, state_fields
from ganforge.tasks.gan import ema_update, frozen


# ----------------------------------------------------------------------------- the schedule


def canvas_size(shape: tuple[int, ...]) -> int:
    """The final resolution for images of ``shape`` (C,H,W): the smallest power of two >= 4
    holding them (28 -> 32, 32 -> 32, 8 -> 8)."""
    return max(4, 2 ** math.ceil(math.log2(max(shape[1:]))))


@dataclass(frozen=True)
class Schedule:
    """Which level trains, with which α and batch size, at every step -- pure functions of
    the step.

    Level 0 (4×4) trains for ``stable_images``; every later level fades in for
    ``fade_images`` then trains ``stable_images`` more; the last one never ends. A phase
    of ``n`` images at batch size ``b`` lasts ``ceil(n / b)`` steps, and during a fade of
    ``F`` steps α = k / F at its ``k``-th step (0-based): linear in images shown, 0 at the
    first step (the new block is invisible) and 1 after the fade."""

    levels: int
    batch_sizes: tuple[int, ...]  # one per level
    fade_steps: tuple[int, ...]  # per level (0 for level 0)
    stable_steps: tuple[int, ...]

    @classmethod
    def from_config(cls, t: ProgressiveConfig, levels: int, default_batch: int) -> "Schedule":
        given = t.batch_sizes or (default_batch,)
        batches = tuple(given[min(l, len(given) - 1)] for l in range(levels))
        fades = tuple(0 if l == 0 else math.ceil(t.fade_images / b) for l, b in enumerate(batches))
        stables = tuple(math.ceil(t.stable_images / b) for b in batches)
        return cls(levels, batches, fades, stables)

    def start(self, level: int) -> int:
        """The first step of ``level`` (of its fade)."""
        return sum(self.fade_steps[l] + self.stable_steps[l] for l in range(level))

    def end(self, level: int) -> int | None:
        """Steps done when ``level`` ends (its stable phase is over); None for the last level."""
        return None if level == self.levels - 1 else self.start(level + 1)

    def at(self, step: int) -> tuple[int, float]:
        """(level, α) of step ``step`` (0-based)."""
        level = 0
        while level + 1 < self.levels and step >= self.start(level + 1):
            level += 1
        k = step - self.start(level)
        fade_steps = self.fade_steps[level]
        return level, (1.0 if k >= fade_steps else k / fade_steps)

    def batch(self, level: int) -> int:
        return self.batch_sizes[level]

    def total(self) -> int:
        """Steps up to the end of the last level's stable phase (a preset's ``train.steps``)."""
        return self.start(self.levels - 1) + self.fade_steps[-1] + self.stable_steps[-1]


def schedule_of(cfg: Config, shape: tuple[int, ...]) -> Schedule:
    """The schedule of a run on images of ``shape``."""
    return Schedule.from_config(cfg.task, num_levels(canvas_size(shape)), cfg.train.batch_size)


def total_steps(cfg: Config, shape: tuple[int, ...]) -> int:
    """``train.steps`` that trains every level, the last one for ``stable_images`` too:
    ``total_steps(cfg, (1, 28, 28))`` for MNIST."""
    return schedule_of(cfg, shape).total()


# ----------------------------------------------------------------------------- pure pieces


def pad_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """Centre (N,C,H,W) images on a ``size``×``size`` canvas, filling with 0 (black in
    uint8: MNIST's background); a no-op when they already fill it."""
    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x
    top, left = (size - h) // 2, (size - w) // 2
    return F.pad(x, (left, size - w - left, top, size - h - top), value=0)


def crop_to(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """The inverse of :func:`pad_to`: the centre ``shape[1:]`` of a canvas."""
    h, w = shape[1:]
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


def reals_at(x: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
    """Real images (N,C,S,S) at full resolution -> at level ``level``'s resolution, cross-faded
    like G's output: box-downsampled to 4·2^level, and while the level fades in (α < 1)
    blended with their level-1 version upsampled (the official ``process_reals``), so D
    compares reals and fakes made the same way."""
    x = downsample(x, x.shape[-1] // resolution_of(level))
    if level > 0 and alpha < 1.0:
        x = fade(upsample(downsample(x)), x, alpha)
    return x


def drift_penalty(real_scores: torch.Tensor) -> torch.Tensor:
    """The paper's ε_drift term without its weight (§A.1): E[D(x)²] on reals, which keeps the
    critic's output from drifting far from zero (WGAN-GP fixes only its slope)."""
    return real_scores.pow(2).mean()


class GrownGenerator(nn.Module):
    """G frozen at one level and α, as the sampler draws it: output upsampled (nearest) to
    the final resolution, clamped to [-1, 1] (the paper's G is linear; the library's
    images live in [-1, 1]), and cropped to the data's shape (the padding removed)."""

    def __init__(self, G: ProgressiveGenerator, level: int, alpha: float, shape: tuple[int, ...]):
        super().__init__()
        self.G, self.level, self.alpha, self.shape = G, level, alpha, tuple(shape)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = self.G(z, self.level, self.alpha)
        x = upsample(x, self.G.resolution // x.shape[-1]).clamp(-1.0, 1.0)
        return crop_to(x, self.shape)


def check_config(cfg: Config, spec: DataSpec) -> None:
    """Refuse what the progressive family does not model, before anything is built."""
    if not spec.is_image or len(spec.shape) != 3:
        raise ConfigError("kind=progressive grows images; use an image dataset (mnist, digits, a folder).")
    if spec.num_classes:
        raise ConfigError("kind=progressive is unconditional; set data.conditional=false.")
    if cfg.data.scaling != "tanh":
        raise ConfigError("the progressive G is linear around the [-1,1] pixel scale; set data.scaling=tanh.")
    if cfg.train.compile:
        raise ConfigError("kind=progressive changes its networks' shapes with the level, which torch.compile would "
                          "recompile again and again; set train.compile=false.")
    t: ProgressiveConfig = cfg.task
    if not t.batch_sizes and t.mbstd_group and cfg.train.batch_size % min(cfg.train.batch_size, t.mbstd_group):
        raise ConfigError(f"train.batch_size={cfg.train.batch_size} is not a multiple of task.mbstd_group="
                          f"{t.mbstd_group}; change one of them or set task.batch_sizes.")


def build_generator(cfg: Config, shape: tuple[int, ...]) -> ProgressiveGenerator:
    t = cfg.task
    return ProgressiveGenerator(cfg.model.z_dim, shape[0], canvas_size(shape), t.fmap_base, t.fmap_max,
                                t.pixel_norm, t.equalized_lr)


# ----------------------------------------------------------------------------- the task


class ProgressiveTask(Task):
    """G, D (and the EMA of G), one Adam each; checkpoint names G, D, G_ema, opt_g, opt_d."""

    progress = {"d_loss": "D", "g_loss": "G", "resolution": "res", "alpha": "α"}
    animate = True  # the harness writes samples/progress.gif: the fixed latent batch growing over the run

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        check_config(cfg, spec)
        self.t: ProgressiveConfig = cfg.task
        self.canvas = canvas_size(spec.shape)
        self.schedule = schedule_of(cfg, spec.shape)
        self.G = build_generator(cfg, spec.shape).to(device)
        self.D = ProgressiveDiscriminator(spec.shape[0], self.canvas, self.t.fmap_base, self.t.fmap_max,
                                          self.t.mbstd_group, self.t.equalized_lr).to(device)
        self.G_ema = None
        if self.t.ema:
            self.G_ema = build_generator(cfg, spec.shape).to(device).eval().requires_grad_(False)
            self.G_ema.load_state_dict(self.G.state_dict())
        self.opt_g = make_optimizer(self.G.parameters(), self.t.g_optim)
        self.opt_d = make_optimizer(self.D.parameters(), self.t.d_optim)
        self.modules = {"G": self.G, "D": self.D} | ({"G_ema": self.G_ema} if self.G_ema is not None else {})
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        self.now = self.schedule.at(0)  # (level, α) the weights were last trained at: what previews show
        gen = torch.Generator().manual_seed(cfg.train.seed + 2)
        self.grid_z = sample_z(64, cfg.model.z_dim, cfg.model.noise, gen, device)

    @property
    def images_per_step(self) -> int:
        """The last level's batch (the img/s label; earlier levels may use other batch sizes)."""
        return self.schedule.batch(self.schedule.levels - 1)

    # --- drawing a level's batch from the harness's feed (see the module docstring)
    def _draw(self, feed: Feed, n: int) -> torch.Tensor:
        parts, have = [], 0
        while have < n:
            x, _ = feed.batch()
            parts.append(x)
            have += len(x)
        return torch.cat(parts)[:n] if len(parts) > 1 or have > n else parts[0]

    def _noise(self, feed: Feed, n: int) -> torch.Tensor:
        parts = [feed.z(self.cfg.model.z_dim, self.cfg.model.noise) for _ in range(math.ceil(n / feed.batch_size))]
        return torch.cat(parts)[:n] if len(parts) > 1 else parts[0][:n]

    def _penalty_eps(self, n: int) -> torch.Tensor | None:
        """With several ranks, one global draw of WGAN-GP's weights sliced by rank (as the GAN task)."""
        if not self.dist.active:
            return None
        eps = torch.rand(n * self.dist.world_size, device=self.device)
        return eps[self.dist.rank * n:(self.dist.rank + 1) * n]

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        level, alpha = self.schedule.at(step)
        b = self.schedule.batch(level)
        if self.t.reset_optim and level > 0 and step == self.schedule.start(level):
            for opt in (self.opt_g, self.opt_d):  # new layers: forget the old moments (reset_opt_for_new_lod)
                opt.state.clear()
        x = pad_to(self._draw(feed, b), self.canvas)
        real = reals_at(to_model_range(x, self.cfg.data.scaling), level, alpha)

        def G(z):
            return self.G(z, level, alpha)

        def D(img, y=None):
            return self.D(img, level, alpha)

        # 1) freeze G, train D: WGAN-GP + drift. Reals and fakes go through D separately:
        # the minibatch stddev layer must not mix them.
        z = self._noise(feed, b)
        with torch.no_grad(), self.autocast():
            fake = G(z)
        fake = fake.float()
        with self.autocast():
            real_scores, fake_scores = D(real).float(), D(fake).float()
        gp = gradient_penalty(D, real, fake, None, self._penalty_eps(b))  # double backward in fp32
        d_loss = (wasserstein_d_loss(real_scores, fake_scores) + self.t.penalty_weight * gp
                  + self.t.drift * drift_penalty(real_scores))
        self.update(self.opt_d, d_loss, self.D)
        # 2) freeze D, train G
        z = self._noise(feed, b)
        with frozen(self.D):
            with self.autocast():
                g_loss = wasserstein_g_loss(D(G(z)).float())
            self.update(self.opt_g, g_loss, self.G)
        if self.G_ema is not None:
            ema_update(self.G_ema, self.G, self.t.ema, step)
        self.now = self.schedule.at(step + 1)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "penalty": gp.detach(),
                "d_real": real_scores.detach().mean(), "d_fake": fake_scores.detach().mean(),
                "resolution": torch.tensor(float(resolution_of(level))), "alpha": torch.tensor(alpha)}

    def train_mode(self) -> None:
        self.G.train()
        self.D.train()  # G_ema stays in eval mode: it is only ever sampled

    def sampler(self) -> GeneratorSampler:
        G = self.G_ema if self.G_ema is not None else self.G
        return _sampler(self.cfg, G, *self.now, self.spec.shape)

    def preview(self) -> tuple[torch.Tensor, int]:
        s = self.sampler()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # grids must not change the training RNG
            was = s.net.G.training
            imgs = s.eval()(self.grid_z)
            s.net.G.train(was)
        return imgs, 8

    def extra_grids(self, step: int) -> list[str]:
        """``stage-<n>-<res>x<res>``: the grid at the end of every level (the last one at the run's end)."""
        names = [_stage_name(level) for level in range(self.schedule.levels) if self.schedule.end(level) == step]
        if step == self.cfg.train.steps:
            level = self.schedule.at(step - 1)[0] if step else 0
            if self.schedule.end(level) != step:
                names.append(_stage_name(level))
        return names

    @classmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True,
                     device="cpu") -> GeneratorSampler:
        from ganforge import checkpoint

        shape, step = state_fields(state, img_shape=tuple, step=int)
        name = "G_ema" if ema and "G_ema" in state.get("modules", []) else "G"
        G = build_generator(cfg, shape)
        checkpoint.load_module_weights(ckpt, name, G)
        level, alpha = schedule_of(cfg, shape).at(step)  # the level and α the weights were trained at
        return _sampler(cfg, G.to(device), level, alpha, shape, str(ckpt)).eval()


def _stage_name(level: int) -> str:
    r = resolution_of(level)
    return f"stage-{level + 1}-{r}x{r}"


def _sampler(cfg: Config, G: ProgressiveGenerator, level: int, alpha: float, shape,
             checkpoint: str | None = None) -> GeneratorSampler:
    return GeneratorSampler(GrownGenerator(G, level, alpha, shape), z_dim=cfg.model.z_dim, noise=cfg.model.noise,
                            img_shape=tuple(shape), num_classes=0, scaling=cfg.data.scaling, kind="progressive",
                            checkpoint=checkpoint)
