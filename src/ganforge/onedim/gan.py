"""A 1-D GAN on the same column: tiny MLP G and D trained by the *same* loop as the
image GAN (:func:`ganforge.training.train` with in-memory data), so the fitted
distribution and the GAN can be judged side by side with the same metrics.

The column is standardised before training ((x - mean) / sd, so the default learning
rates and LeakyReLU scales fit) and G's samples are mapped back. G's output activation
is "none": a tanh would cap the samples at mean ± 1 sd.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class GanFit:
    """A trained 1-D generator. ``sample(n, seed)`` returns D′ in the data's units."""

    G: object
    mean: float
    sd: float
    steps: int
    seconds: float
    run_dir: str | None

    def sample(self, n: int, seed: int = 0, rounding=None) -> np.ndarray:
        """``n`` seeded values; with ``rounding`` (a :class:`~ganforge.onedim.fit.Rounding`)
        recorded like the data, as the fitted model's D′ is."""
        from ganforge.sampling import sample_outputs

        out, _ = sample_outputs(self.G, int(n), seed=seed)
        s = out.numpy().reshape(-1).astype(np.float64) * self.sd + self.mean
        if rounding is not None:
            s = rounding.apply(s, np.random.default_rng(seed))
        return s

    def to_dict(self) -> dict:
        return {"steps": self.steps, "seconds": self.seconds, "run_dir": self.run_dir, "standardised_by": {
            "mean": self.mean, "sd": self.sd}}


def gan_config(steps: int = 3000, seed: int = 0, batch_size: int = 128, z_dim: int = 8, hidden: int = 32):
    """The 1-D recipe: G z(8-d Gaussian) → 32 → 32 → 1 (no output activation), D 1 → 32 → 32
    → logit, BCE with the non-saturating G loss, Adam (lr 1e-3, β1 0.5) for both."""
    from ganforge.config import Config, DataConfig, GANConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig

    opt = OptimConfig(name="adam", lr=1e-3, betas=(0.5, 0.999))
    return Config(
        name="onedim-gan",
        data=DataConfig(dataset="in-memory column"),
        model=ModelConfig(z_dim=z_dim, g_hidden=(hidden, hidden), d_hidden=(hidden, hidden), d_dropout=0.0, g_batchnorm=False,
                          output="none"),
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"), g_optim=opt, d_optim=opt),
        train=TrainConfig(steps=steps, batch_size=batch_size, seed=seed, threads=1, log_every=max(1, steps // 20),
                          sample_every=steps, checkpoint_every=steps, keep_checkpoints=1),
    )


def fit_gan(x: np.ndarray, *, steps: int = 3000, seed: int = 0, runs_root: str | Path | None = None,
            quiet: bool = True) -> GanFit:
    """Train the 1-D GAN on ``x`` (float (n,)). ``runs_root``: keep the run directory
    (config, metrics.jsonl, checkpoint) there; default: a temporary one, removed after."""
    import torch

    from ganforge.config import Config
    from ganforge.errors import ConfigError
    from ganforge.sampling import load_generator
    from ganforge.training import train

    if steps < 1:
        raise ConfigError(f"--gan-steps must be positive (got {steps}).")
    x = np.asarray(x, dtype=np.float64)
    mean, sd = float(x.mean()), float(x.std())
    data = torch.from_numpy(((x - mean) / sd).astype(np.float32))[:, None]
    cfg: Config = gan_config(steps=steps, seed=seed, batch_size=min(128, len(x)))
    t0 = time.perf_counter()
    if runs_root is None:
        with tempfile.TemporaryDirectory() as tmp:
            res = train(cfg, runs_root=tmp, data=data, quiet=quiet)
            G = load_generator(res.run_dir)
            run_dir = None
    else:
        res = train(cfg, runs_root=runs_root, data=data, quiet=quiet)
        G = load_generator(res.run_dir)
        run_dir = str(res.run_dir)
    return GanFit(G, mean, sd, res.step, time.perf_counter() - t0, run_dir)
