"""Named, documented recipes. ``ganforge presets`` lists them; ``ganforge train
--preset NAME`` starts from one. Each preset cites where its hyper-parameters come from."""

from __future__ import annotations

from dataclasses import dataclass

from ganforge.config import Config, DataConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig
from ganforge.registry import Registry


@dataclass(frozen=True)
class Preset:
    summary: str  # one line for `ganforge presets`
    reference: str
    config: Config


PRESETS: Registry = Registry("preset")

PRESETS.add("mnist-mlp", Preset(
    summary="the lecture's classic GAN: fully connected G (100-d Gaussian z -> 784, tanh) and D (sigmoid log-loss)",
    reference="Goodfellow et al. 2014; lecture hacks: [-1,1]+tanh, Gaussian z, non-saturating G loss, dropout in D",
    config=Config(
        name="mnist-mlp",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="mlp", discriminator="mlp", z_dim=100, g_hidden=(256, 512, 1024),
                          d_hidden=(1024, 512, 256), d_dropout=0.3),
        loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
        g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
        d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
        train=TrainConfig(steps=6000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("digits-mlp", Preset(
    summary="a tiny classic GAN on scikit-learn's 8x8 digits: trains in seconds, for tests and first experiments",
    reference="same recipe as mnist-mlp, scaled down",
    config=Config(
        name="digits-mlp",
        data=DataConfig(dataset="digits"),
        model=ModelConfig(z_dim=16, g_hidden=(64, 128), d_hidden=(128, 64), d_dropout=0.2),
        train=TrainConfig(steps=300, batch_size=32, log_every=20, sample_every=100, checkpoint_every=100),
    ),
))


def get_preset(name: str) -> Preset:
    return PRESETS.get(name)


def preset_config(name: str) -> Config:
    return PRESETS.get(name).config
