"""Configuration: frozen dataclasses, one per concern, validated at construction.

A :class:`Config` is built from a preset (``ganforge.presets``), then overridden by a
TOML/JSON file and by ``section.key=value`` pairs. It round-trips through plain dicts
(``to_dict`` / ``from_dict``) so every run directory records exactly what ran.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from ganforge.errors import ConfigError


#: Counts (steps, batch sizes, cadences) above this overflow the int32 sizes torch indexes with.
MAX_COUNT = 2**31 - 1
#: Widths (z_dim, hidden layers, channels) above this would need more memory than any machine has.
MAX_WIDTH = 65536
#: torch.manual_seed takes 64 bits; numpy's generators are seeded from the same value, so keep it signed.
MAX_SEED = 2**63 - 1
# How a conditional sampler draws classes (sample/evaluate --label-shares): the shares of the
# run's training labels, or uniformly (ganforge.sampling.load_sampler).
LABEL_SHARES = ("data", "uniform")
#: train.device: what torch.device accepts and ganforge can run on (availability: ganforge.devices).
DEVICE_PATTERN = re.compile(r"cpu|cuda(:[0-9]+)?|mps")


def _choice(value: Any, name: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not valid; choose one of: {', '.join(map(str, choices))}.")


def _finite(value: float) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _positive(value: float, name: str, allow_zero: bool = False, most: int | float = MAX_COUNT) -> None:
    """A finite number > 0 (or >= 0) and at most ``most``: NaN and inf pass ``value < 0`` unnoticed."""
    what = "an integer" if isinstance(value, int) else "a finite number"
    if not _finite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {what} {'>= 0' if allow_zero else '> 0'}, got {value}.")
    if value > most:
        raise ConfigError(f"{name} must be at most {most}, got {value}.")


def _unit(value: float, name: str, hi: float = 1.0) -> None:
    """A finite number in [0, hi)."""
    if not _finite(value) or not 0 <= value < hi:
        raise ConfigError(f"{name} must be in [0, {hi:g}), got {value}.")


def _widths(value: tuple, name: str) -> None:
    for w in value:
        _positive(w, f"every width in {name}", most=MAX_WIDTH)


def _typecheck(obj, prefix: str) -> None:
    """Refuse a field of the wrong type (the Python API; files and --set are coerced by
    ``_from_dict`` first), so that no comparison below meets a string or None. Lists given
    for tuple fields become tuples."""
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        hint, value = hints[f.name], getattr(obj, f.name)
        if hint is Any or dataclasses.is_dataclass(hint):
            continue
        if typing.get_origin(hint) is tuple:
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(obj, f.name, value)
            args = typing.get_args(hint)
            ok = isinstance(value, tuple)
            if ok and args[-1] is not Ellipsis and len(value) != len(args):
                raise ConfigError(f"config key {prefix + f.name!r} expects exactly {len(args)} numbers, got {value!r}.")
            elem_types = [args[0]] * len(value) if args[-1] is Ellipsis else args
            ok = ok and all(_is(t, v) for t, v in zip(elem_types, value))
        else:
            ok = _is(hint, value)
        if not ok:
            raise ConfigError(f"config key {prefix + f.name!r} expects {_type_name(hint)}, got {value!r}.")


def _is(hint, value) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint) -> str:
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        elem = getattr(args[0], "__name__", str(args[0]))
        return f"a list of {elem}" if args[-1] is Ellipsis else f"a list of {len(args)} {elem}"
    return getattr(hint, "__name__", str(hint))


#: data.pairs (checked here without importing torch; ganforge.data.degrade parses it).
PAIRS_PATTERN = re.compile(r"downsample:[24]|edges|mask|gray|noise:(0?\.[0-9]*[1-9][0-9]*|1(\.0*)?)|A/B|AB")


@dataclass(frozen=True)
class DataConfig:
    """What to learn from. ``dataset``: mnist | digits | path to .npz/.npy | image folder."""

    dataset: str = "mnist"
    image_size: int = 64  # only for image folders (resized square)
    channels: int = 0  # image folders: 0 = keep as found, 1 = grayscale, 3 = RGB
    scaling: str = "tanh"  # "tanh": pixels in [-1,1] + tanh output (lecture hack); "sigmoid": [0,1]
    conditional: bool = False  # feed class labels to G and D (needs labels)
    # Image-to-image tasks (srgan, pix2pix; ganforge.data.paired): where each target's input comes from,
    # a degradation (downsample:K, edges, mask, gray, noise:S) or a folder layout (A/B, AB). "" = unpaired.
    pairs: str = ""

    def __post_init__(self):
        _typecheck(self, "data.")
        if self.pairs and not PAIRS_PATTERN.fullmatch(self.pairs):
            raise ConfigError(f"data.pairs={self.pairs!r} is not valid; use downsample:2, downsample:4, edges, mask, "
                              "gray, noise:S (S in (0,1]), A/B (two folders) or AB (side-by-side images).")
        if not self.dataset.strip():
            raise ConfigError("data.dataset is empty; name a dataset (mnist, digits), an .npz/.npy file or an image folder.")
        _choice(self.scaling, "data.scaling", ("tanh", "sigmoid"))
        _choice(self.channels, "data.channels", (0, 1, 3))
        _positive(self.image_size, "data.image_size", most=4096)


@dataclass(frozen=True)
class ModelConfig:
    """Generator and discriminator. Architectures come from ``ganforge.models`` registries."""

    generator: str = "mlp"
    discriminator: str = "mlp"
    z_dim: int = 100
    noise: str = "gaussian"  # z ~ N(0,I) (lecture: "don't sample from uniform") or U(-1,1)
    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    width: int = 64  # base channel count for convolutional models
    g_width: int = 0  # the convolutional G's base channel count when it differs from D's; 0 = model.width
    g_dropout: float = 0.0  # dropout in G at train time (lecture hack)
    g_dropout_at_sampling: bool = False  # keep G's dropout on when sampling (lecture hack)
    d_dropout: float = 0.3
    # How MLP dropout draws its masks: "torch" (nn.Dropout) or "fast" (the same Bernoulli
    # masks from torch's int64 stream, ganforge.models.layers.FastDropout; other masks per seed).
    dropout_masks: str = "torch"
    # How the MLP networks' fully connected layers multiply on the CPU: "torch" (nn.Linear: MKL's
    # sgemm), "onednn" (the same products by oneDNN, ganforge.models.layers.OneDNNLinear) or
    # "auto" (oneDNN on AMD CPUs, where MKL runs at half speed; torch elsewhere).
    matmul: str = "torch"
    output: str = "auto"  # G's output activation: auto (= data.scaling), tanh, sigmoid, none
    upsample: str = "transpose"  # conv G: "transpose" or "nearest" (nearest + conv, no checkerboard)
    g_batchnorm: bool = True
    d_batchnorm: bool = False
    spectral_norm: bool = False  # spectral normalisation on D's layers
    projection: bool = False  # conditional D: projection discriminator instead of concatenation
    projection_maps: bool = False  # with model.projection: D also sees the label maps at its input (both)
    pack: int = 1  # PacGAN (Lin et al. 2018): the DCGAN D scores m samples at once, stacked along channels
    pack_by_label: bool = False  # conditional PacGAN: sort the batch by label first, so packs hold one class
    g_extra_convs: int = 0  # DCGAN G: 3x3 conv + BN + ReLU blocks at its last hidden resolution (more depth)
    d_extra_convs: int = 0  # DCGAN D: 3x3 conv (+ BN) + LeakyReLU blocks at its last resolution

    def __post_init__(self):
        _typecheck(self, "model.")
        _choice(self.noise, "model.noise", ("gaussian", "uniform"))
        _choice(self.output, "model.output", ("auto", "tanh", "sigmoid", "none"))
        _choice(self.upsample, "model.upsample", ("transpose", "nearest"))
        _choice(self.dropout_masks, "model.dropout_masks", ("torch", "fast"))
        _choice(self.matmul, "model.matmul", ("torch", "onednn", "auto"))
        _positive(self.z_dim, "model.z_dim", most=MAX_WIDTH)
        _positive(self.width, "model.width", most=MAX_WIDTH)
        _positive(self.g_width, "model.g_width", allow_zero=True, most=MAX_WIDTH)
        _positive(self.pack, "model.pack", most=MAX_WIDTH)
        if self.pack > 1 and self.discriminator != "dcgan":
            raise ConfigError(f"model.pack stacks samples along a convolutional D's channels; "
                              f"model.discriminator={self.discriminator!r} has none: use model.discriminator=dcgan "
                              "or model.pack=1.")
        for name, role, net in (("g_extra_convs", "generator", self.generator),
                                ("d_extra_convs", "discriminator", self.discriminator)):
            _positive(getattr(self, name), f"model.{name}", allow_zero=True, most=64)
            if getattr(self, name) and net != "dcgan":
                raise ConfigError(f"model.{name} adds convolutions to a dcgan network; the {role} here is "
                                  f"{net!r}: set model.{role}=dcgan or model.{name}=0.")
        if self.projection_maps and not self.projection:
            raise ConfigError("model.projection_maps keeps the label maps at the input of a projection D; "
                              "set model.projection=true too, or model.projection_maps=false (the maps alone "
                              "are the conditional D's default).")
        if self.pack_by_label and self.pack == 1:
            raise ConfigError("model.pack_by_label sorts the batch by label before D packs it; it needs "
                              "model.pack=2 (or more).")
        _widths(self.g_hidden, "model.g_hidden")
        _widths(self.d_hidden, "model.d_hidden")
        for name in ("g_dropout", "d_dropout"):
            _unit(getattr(self, name), f"model.{name}")


@dataclass(frozen=True)
class LossConfig:
    """The objective. ``d_loss``/``g_loss`` name pure functions in ``ganforge.losses``."""

    d_loss: str = "bce"
    g_loss: str = "nonsaturating"  # "saturating" = the original minimax log(1 - D(G(z)))
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - s (Salimans et al. 2016)
    penalty: str = "none"  # "none", "gp" (WGAN-GP), "r1"
    penalty_weight: float = 10.0
    clip: float = 0.0  # WGAN weight clipping bound c (0 = off)
    # Mode seeking (Mao et al. 2019, MSGAN): G's loss gains λ / (mean|G(z1,y) - G(z2,y)| / mean|z1 - z2| + 1e-5)
    # over the batch's same-label pairs, which penalises two codes giving one image. λ; 0 = off (MSGAN: 1).
    mode_seeking: float = 0.0

    def __post_init__(self):
        _typecheck(self, "task.loss.")
        _unit(self.label_smoothing, "loss.label_smoothing", 0.5)
        _choice(self.penalty, "loss.penalty", ("none", "gp", "r1"))
        _positive(self.penalty_weight, "loss.penalty_weight", allow_zero=True, most=math.inf)
        _positive(self.clip, "loss.clip", allow_zero=True, most=math.inf)
        _positive(self.mode_seeking, "loss.mode_seeking", allow_zero=True, most=math.inf)
        if self.d_loss == "wasserstein" and self.g_loss not in ("wasserstein", "hinge"):
            # A critic's scores are not log-odds, so log-likelihood G losses do not apply to them.
            raise ConfigError(
                f"loss.g_loss={self.g_loss!r} expects D's logits to be log-odds, but the Wasserstein critic outputs "
                "unbounded scores; set loss.g_loss=wasserstein."
            )
        if (self.d_loss == "relativistic") != (self.g_loss == "relativistic"):
            # Each half of RaSGAN is D's loss with the roles of real and fake swapped; one half
            # beside another family's loss is no objective of the paper's.
            raise ConfigError(
                "the relativistic loss is a pair (Jolicoeur-Martineau 2018): set both loss.d_loss=relativistic "
                "and loss.g_loss=relativistic, or neither."
            )
        if self.clip and self.penalty == "gp":
            raise ConfigError(
                "weight clipping and a gradient penalty both enforce the critic's Lipschitz bound; use one: "
                "set loss.clip=0 for WGAN-GP or loss.penalty=none for WGAN with clipping."
            )


@dataclass(frozen=True)
class OptimConfig:
    """One network's optimizer."""

    name: str = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam (DCGAN: beta1 = 0.5)
    momentum: float = 0.0  # SGD / RMSprop

    def __post_init__(self):
        _typecheck(self, "optimizer.")
        _choice(self.name, "optimizer name", ("adam", "sgd", "rmsprop"))
        _positive(self.lr, "an optimizer's lr", most=math.inf)
        for b in self.betas:  # Adam's moment decay rates: 1 never forgets, beyond it diverges
            _unit(b, "each of an optimizer's betas")
        _unit(self.momentum, "an optimizer's momentum")


@dataclass(frozen=True)
class TrainConfig:
    """The harness: length, batches, seed, device, and the cadence of logs, grids,
    checkpoints and evaluations. Nothing here is specific to a model family."""

    steps: int = 5000  # training steps (a GAN step = task.d_steps D updates + one G update)
    batch_size: int = 64
    seed: int = 0
    device: str = "cpu"
    threads: int = 0  # CPU threads (0 = torch's default)
    log_every: int = 50  # host sync + metrics.jsonl line every k steps
    sample_every: int = 1000  # sample grid every N steps (and at the end)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    bf16: bool = False  # bf16 autocast for forward passes (CPU with AVX-512 bf16, or GPU)
    # GPU options (docs/distributed.md has their measured effect); off by default, the CPU pays nothing.
    channels_last: bool = False  # NHWC memory format for convolutional networks and image batches
    compile: bool = False  # torch.compile of the forward passes (gradient penalties' double backward stays eager)
    eval_every: int = 0  # every N steps: a cheap FID (MNIST extractor) -> metrics.jsonl; keeps checkpoints/best
    eval_samples: int = 2000  # samples per cheap FID
    early_stop: int = 0  # stop after this many evaluations without a better FID (0 = never)
    # Stop (with a checkpoint, grid and plot, as at the last step) once the training loop has run this
    # many minutes, counted from its first step (0 = never): a recipe's time on any machine, fewer
    # steps where the CPU is slower. A resumed run gets the same budget again.
    max_minutes: float = 0.0
    tensorboard: bool = False  # also write the metrics and grids as TensorBoard events (extra ganforge[tensorboard])

    def __post_init__(self):
        _typecheck(self, "train.")
        for name in ("steps", "batch_size", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                     "eval_samples"):
            _positive(getattr(self, name), f"train.{name}")
        for name in ("eval_every", "early_stop"):
            _positive(getattr(self, name), f"train.{name}", allow_zero=True)
        _positive(self.threads, "train.threads (0 = torch's default)", allow_zero=True, most=1024)
        _positive(self.max_minutes, "train.max_minutes (0 = no time limit)", allow_zero=True)
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"train.seed must be in 0..{MAX_SEED} (64-bit), got {self.seed}.")
        if not DEVICE_PATTERN.fullmatch(self.device):
            raise ConfigError(f"train.device={self.device!r} is not a device; use cpu, cuda, cuda:N (N = GPU index) "
                              "or mps.")
        if self.early_stop and not self.eval_every:
            raise ConfigError("train.early_stop needs evaluations to compare; set train.eval_every too.")


# ----------------------------------------------------------------------------- task sections
# Each model family (``ganforge.tasks``) has its own config section, ``Config.task``, whose
# type depends on ``Config.kind``: an option that a family does not have cannot be set.
# The sections live here, not in the task files, so that reading a config (``ganforge
# presets``, ``--help``) never imports torch.
#
# ``LEGACY`` maps the keys of the release before tasks existed (``loss.penalty``,
# ``train.d_steps``, ``model.ema``, ``vae.beta`` ...) to their place in the task section,
# so old ``config.json`` files, ``--set`` commands and TOML files keep working.


@dataclass(frozen=True)
class GANConfig:
    """The adversarial task: losses, the two optimizers, the critic schedule, EMA of G, DiffAugment."""

    loss: LossConfig = field(default_factory=LossConfig)
    g_optim: OptimConfig = field(default_factory=OptimConfig)
    d_optim: OptimConfig = field(default_factory=OptimConfig)
    d_steps: int = 1  # discriminator (critic) steps per generator step, "n_critic"
    # The WGAN reference code's critic schedule (Arjovsky et al. 2017, main.py): d_steps_boost
    # critic steps instead of d_steps for the first boost_first generator steps and every
    # boost_every-th one, so the critic is near-optimal before G follows it. 0 = off.
    d_steps_boost: int = 0
    boost_first: int = 25
    boost_every: int = 500
    ema: float = 0.0  # exponential moving average of G's weights (0 = off, e.g. 0.999)
    # "Standing statistics" for the EMA of G (BigGAN's accumulate_standing_stats): before each
    # checkpoint, grid and evaluation, its BatchNorm statistics are re-estimated over this many batches
    # of its own outputs instead of copied from G, whose statistics belong to other weights. 0 = copied.
    ema_standing_stats: int = 0
    # DiffAugment (Zhao et al. 2020) on everything D sees while training, e.g. "color,translation,cutout";
    # for small image folders, where D otherwise memorises the real set ("" = off).
    diffaugment: str = ""
    d_wins_patience: int = 20  # warn after this many log windows with D(G(z)) < 0.01
    # Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): N(0, σ²) added to every image D
    # sees, real and fake, with σ falling linearly from instance_noise to 0 over instance_noise_steps
    # G steps (0 = over the whole run), so the two distributions overlap early on. 0 = off.
    instance_noise: float = 0.0
    instance_noise_steps: int = 0
    # One G forward per step, reused by the D update (detached) and the G update, as the PyTorch
    # DCGAN example does; the G update then sees the fakes D was just trained on. Off: the G update
    # draws fresh z (release 0.1's maths, pinned by tests/test_golden.py).
    reuse_fake: bool = False

    LEGACY: ClassVar[dict[str, str]] = {
        "loss": "task.loss", "g_optim": "task.g_optim", "d_optim": "task.d_optim",
        "train.d_steps": "task.d_steps", "train.d_steps_boost": "task.d_steps_boost",
        "train.boost_first": "task.boost_first", "train.boost_every": "task.boost_every",
        "train.d_wins_patience": "task.d_wins_patience", "model.ema": "task.ema",
        "model.diffaugment": "task.diffaugment",
    }

    def __post_init__(self):
        _typecheck(self, "task.")
        _positive(self.d_steps, "task.d_steps")
        _positive(self.d_wins_patience, "task.d_wins_patience")
        for name in ("d_steps_boost", "boost_first", "boost_every"):
            _positive(getattr(self, name), f"task.{name}", allow_zero=True)
        for policy in filter(None, (p.strip() for p in self.diffaugment.split(","))):
            _choice(policy, "task.diffaugment policy", ("color", "translation", "cutout"))
        _unit(self.ema, "task.ema")
        _positive(self.ema_standing_stats, "task.ema_standing_stats", allow_zero=True, most=100_000)
        if self.ema_standing_stats and not self.ema:
            raise ConfigError("task.ema_standing_stats re-estimates the BatchNorm statistics of the EMA of G; "
                              "set task.ema (e.g. 0.999) or task.ema_standing_stats=0.")
        _positive(self.instance_noise, "task.instance_noise", allow_zero=True, most=10.0)
        _positive(self.instance_noise_steps, "task.instance_noise_steps", allow_zero=True)
        if self.reuse_fake and (self.d_steps != 1 or self.d_steps_boost):
            raise ConfigError("task.reuse_fake reuses one G forward for one D and one G update; set task.d_steps=1 "
                              "and task.d_steps_boost=0, or task.reuse_fake=false.")
        if self.loss.clip and self.loss.d_loss != "wasserstein":
            raise ConfigError("weight clipping belongs to the Wasserstein critic; set loss.d_loss=wasserstein or loss.clip=0.")

    def instance_noise_sd(self, step: int, steps: int) -> float:
        """σ of the instance noise at G step ``step`` (0-based) of a ``steps``-step run: linear
        from ``instance_noise`` at step 0 to 0 at ``instance_noise_steps`` (or ``steps``)."""
        span = self.instance_noise_steps or steps
        return self.instance_noise * max(0.0, 1.0 - step / span)

    def critic_steps(self, step: int) -> int:
        """Discriminator steps before generator step ``step`` (0-based)."""
        if self.d_steps_boost and (step < self.boost_first or (self.boost_every and step % self.boost_every == 0)):
            return self.d_steps_boost
        return self.d_steps


@dataclass(frozen=True)
class VAEConfig:
    """The VAE baseline (Kingma & Welling 2014): encoder q(z|x), decoder p(x|z) = G, one optimizer."""

    encoder: str = "mlp"  # "mlp" or "conv"
    e_hidden: tuple[int, ...] = (512, 256)  # MLP encoder widths (conv encoder uses model.width)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (pixel intensities as probabilities) or "gaussian"
    sigma: float = 0.1  # Gaussian likelihood's fixed std on the [-1,1] pixel scale
    beta: float = 1.0  # weight of the KL term (beta-VAE, Higgins et al. 2017); 1 = the ELBO
    optim: OptimConfig = field(default_factory=OptimConfig)  # over encoder and decoder together

    LEGACY: ClassVar[dict[str, str]] = {"vae": "task", "g_optim": "task.optim"}

    def __post_init__(self):
        _typecheck(self, "task.")
        _choice(self.encoder, "task.encoder", ("mlp", "conv"))
        _choice(self.likelihood, "task.likelihood", ("bernoulli", "gaussian"))
        _widths(self.e_hidden, "task.e_hidden")
        _positive(self.sigma, "task.sigma", most=math.inf)
        _positive(self.beta, "task.beta", allow_zero=True, most=math.inf)


@dataclass(frozen=True)
class Pix2PixConfig:
    """pix2pix (Isola et al. 2017): U-Net G with dropout, PatchGAN D on (input, output), adversarial + λ·L1."""

    width: int = 64  # G's and D's first-layer channels (the paper: 64)
    depth: int = 8  # U-Net levels (the paper: 8 for 256x256); the image side must divide by 2**depth
    dropout: float = 0.5  # in the three innermost decoder levels: G's only noise (§3.2)
    patch: int = 70  # PatchGAN receptive field in pixels: 1, 16, 34, 70 (the paper's default), 142 or 286
    l1_weight: float = 100.0  # λ of Eq. 4
    g_optim: OptimConfig = field(default_factory=OptimConfig)  # Adam 2e-4, betas (0.5, 0.999) (§4)
    d_optim: OptimConfig = field(default_factory=OptimConfig)

    LEGACY: ClassVar[dict[str, str]] = {}

    def __post_init__(self):
        _typecheck(self, "task.")
        _positive(self.width, "task.width", most=MAX_WIDTH)
        _positive(self.depth, "task.depth", most=12)
        _unit(self.dropout, "task.dropout")
        _choice(self.patch, "task.patch", (1, 16, 34, 70, 142, 286))
        _positive(self.l1_weight, "task.l1_weight", allow_zero=True, most=math.inf)


@dataclass(frozen=True)
class SRGANConfig:
    """SRGAN (Ledig et al. 2017): SRResNet G, strided-conv D, MSE pretraining then content + 1e-3 adversarial."""

    width: int = 64  # SRResNet channels (the paper: 64)
    blocks: int = 16  # residual blocks (the paper: 16)
    d_width: int = 64  # D's first-layer channels (the paper: 64, doubling to 512)
    d_stages: int = 4  # D's stride-2 blocks (the paper: 4)
    pretrain_steps: int = 1000  # steps of pixel-MSE training (the SRResNet) before the GAN phase; 0 = skip it
    adv_weight: float = 1e-3  # weight of the adversarial loss in the perceptual loss (Eq. 3)
    # The content loss's fixed network: "auto" (the shipped MNIST classifier for one-channel images, VGG19 for RGB
    # when vgg19_weights is given, else pixel MSE), "mnist", "vgg19" or "pixel".
    content: str = "auto"
    vgg19_weights: str = ""  # a local .safetensors of torchvision's VGG19 "features" (never downloaded)
    vgg19_sha256: str = ""  # its expected sha256 (checked before use)
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 1e-4, (0.9, 0.999)))
    d_optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 1e-4, (0.9, 0.999)))

    LEGACY: ClassVar[dict[str, str]] = {}

    def __post_init__(self):
        _typecheck(self, "task.")
        for name in ("width", "d_width"):
            _positive(getattr(self, name), f"task.{name}", most=MAX_WIDTH)
        _positive(self.blocks, "task.blocks", allow_zero=True, most=256)
        _positive(self.d_stages, "task.d_stages", most=8)
        _positive(self.pretrain_steps, "task.pretrain_steps", allow_zero=True)
        _positive(self.adv_weight, "task.adv_weight", allow_zero=True, most=math.inf)
        _choice(self.content, "task.content", ("auto", "mnist", "vgg19", "pixel"))
        if self.content == "vgg19" and not self.vgg19_weights:
            raise ConfigError("task.content=vgg19 needs a local weights file; set task.vgg19_weights=path/to/"
                              "vgg19.safetensors and task.vgg19_sha256 (docs/image-to-image.md).")

    def phase(self, step: int) -> str:
        """"mse" (SRResNet pretraining) or "gan" at 0-based ``step``: a pure function of the step, so a resume
        continues in the right phase."""
        return "mse" if step < self.pretrain_steps else "gan"


#: Config.name: the run directory is runs/NNN-name.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,99}")

@dataclass(frozen=True)
class PixelCNNConfig:
    """The gated PixelCNN (van den Oord et al. 2016): an exact-likelihood autoregressive model.

    ``likelihood``: "categorical" (256-way softmax per pixel, 8-bit images) or "bernoulli"
    (binarised images); ``binarize`` says how the 8-bit data become binary for "bernoulli":
    "dynamic" (a fresh Bernoulli(intensity) draw every time an image is seen; the test set
    is binarised once, seed 0) or "threshold" (fixed: pixel >= 128); "none" for "categorical"."""

    layers: int = 5  # gated layers; the first has mask A
    channels: int = 32  # feature maps of each stack
    kernel: int = 3  # gated layers' kernel (odd)
    first_kernel: int = 7  # the mask-A layer's kernel (odd)
    head: int = 64  # the 1x1 output head's hidden channels
    likelihood: str = "categorical"
    binarize: str = "none"
    optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 1e-3, (0.9, 0.999)))

    LEGACY: ClassVar[dict[str, str]] = {}  # a family newer than release 0.1 has no old keys

    def __post_init__(self):
        _typecheck(self, "task.")
        for name in ("layers", "channels", "head"):
            _positive(getattr(self, name), f"task.{name}", most=MAX_WIDTH)
        for name in ("kernel", "first_kernel"):
            k = getattr(self, name)
            if k < 3 or k % 2 == 0 or k > 63:
                raise ConfigError(f"task.{name} must be an odd kernel size from 3 to 63, got {k}.")
        _choice(self.likelihood, "task.likelihood", ("categorical", "bernoulli"))
        _choice(self.binarize, "task.binarize", ("none", "dynamic", "threshold"))
        if self.likelihood == "bernoulli" and self.binarize == "none":
            raise ConfigError("a Bernoulli PixelCNN models binary pixels; set task.binarize=dynamic or threshold.")
        if self.likelihood == "categorical" and self.binarize != "none":
            raise ConfigError("the 256-way softmax models the 8-bit pixels themselves; set task.binarize=none "
                              "or task.likelihood=bernoulli.")


@dataclass(frozen=True)
class ProgressiveConfig:
    """Progressive growing (Karras et al. 2018): G and D grow from 4×4 to the data's size
    (rounded up to a power of two, MNIST 28 -> 32 by padding); each new level fades in over
    ``fade_images`` real images, then trains for ``stable_images``. Defaults are the paper's."""

    fade_images: int = 600_000  # §A.1: each new layer fades in over 600k real images ...
    stable_images: int = 600_000  # ... and then is stabilised for 600k (the last level: until train.steps)
    batch_sizes: tuple[int, ...] = ()  # per level from 4×4 up (the last repeats); () = train.batch_size everywhere
    fmap_base: int = 8192  # channels of a level: min(fmap_base / 2^(level+1), fmap_max) (the official nf())
    fmap_max: int = 512
    pixel_norm: bool = True  # §4.2: pixelwise feature normalisation in G
    equalized_lr: bool = True  # §4.1: weights N(0,1) scaled at run time by the He constant
    mbstd_group: int = 4  # §3: minibatch standard deviation over groups of 4 in D (0 = off)
    penalty_weight: float = 10.0  # WGAN-GP's λ (Gulrajani et al. 2017), the paper's loss (§A.1)
    drift: float = 0.001  # §A.1: ε_drift·E[D(x)²] keeps the critic's scores near 0
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 1e-3, (0.0, 0.99)))  # §A.1
    d_optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 1e-3, (0.0, 0.99)))
    ema: float = 0.999  # §A.1: G's weights averaged with decay 0.999 for sampling (0 = off)
    reset_optim: bool = True  # the official code's reset_opt_for_new_lod: fresh Adam moments when a level starts

    LEGACY: ClassVar[dict[str, str]] = {}  # a family newer than release 0.1 has no old keys

    def __post_init__(self):
        _typecheck(self, "task.")
        _positive(self.fade_images, "task.fade_images", allow_zero=True)
        _positive(self.stable_images, "task.stable_images")
        for b in self.batch_sizes:
            _positive(b, "every entry of task.batch_sizes")
            if self.mbstd_group and b % min(b, self.mbstd_group):
                raise ConfigError(f"task.batch_sizes entry {b} is not a multiple of task.mbstd_group="
                                  f"{self.mbstd_group} (the minibatch stddev layer splits each batch into groups); "
                                  "change one of them.")
        for name in ("fmap_base", "fmap_max"):
            _positive(getattr(self, name), f"task.{name}", most=MAX_WIDTH)
        _positive(self.mbstd_group, "task.mbstd_group", allow_zero=True, most=MAX_WIDTH)
        _positive(self.penalty_weight, "task.penalty_weight", allow_zero=True, most=math.inf)
        _positive(self.drift, "task.drift", allow_zero=True, most=math.inf)
        _unit(self.ema, "task.ema")


#: kind -> its task section's type. A new model family adds one line here (docs/architecture.md).
TASK_CONFIGS: dict[str, type] = {"gan": GANConfig, "vae": VAEConfig, "pix2pix": Pix2PixConfig, "srgan": SRGANConfig, "pixelcnn": PixelCNNConfig,
                                 "progressive": ProgressiveConfig}


@dataclass(frozen=True)
class Config:
    name: str = "custom"
    kind: str = "gan"  # the model family (a task in ganforge.tasks): "gan" or "vae"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    task: Any = None  # the family's section: TASK_CONFIGS[kind]; None = its defaults

    def __post_init__(self):
        _typecheck(self, "")
        _choice(self.kind, "kind", tuple(TASK_CONFIGS))
        if not NAME_PATTERN.fullmatch(self.name):
            # the name becomes the run directory runs/NNN-name: no path separators, no hidden or empty names
            raise ConfigError(f"name={self.name!r} cannot name a run directory; use letters, digits, '-', '_' and "
                              "'.' (not first), e.g. --set name=my-run.")
        cls = TASK_CONFIGS[self.kind]
        if self.task is None:
            object.__setattr__(self, "task", cls())
        elif not isinstance(self.task, cls):
            raise ConfigError(f"kind={self.kind!r} needs a task section of type {cls.__name__}, "
                              f"got {type(self.task).__name__}.")
        if self.kind == "vae" and self.data.scaling != "tanh":
            raise ConfigError("the VAE models pixels on the [-1,1] scale; set data.scaling=tanh.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        """From ``to_dict``'s layout, or from a ``config.json`` written before tasks existed."""
        if not isinstance(d, dict):
            raise ConfigError("a config must be a table/dict at the top level.")
        d = dict(d)
        kind = d.get("kind", "gan")
        _choice(kind, "kind", tuple(TASK_CONFIGS))
        task_cls = TASK_CONFIGS[kind]
        if "task" not in d:
            d = _migrate(d, task_cls)
        task = _from_dict(task_cls, d.pop("task") or {}, "task.")
        return _from_dict(cls, {**d, "task": None}, "", task=task)

    def override(self, updates: dict) -> "Config":
        """Nested update, e.g. ``{"train": {"steps": 10}}`` or ``{"train.steps": 10}``.

        Changing ``kind`` starts its task section from that family's defaults. Keys of the
        release before tasks (``loss.penalty``, ``train.d_steps`` ...) are accepted."""
        flat = _flatten(updates)
        merged = self.to_dict()
        kind = flat.pop("kind", merged["kind"])
        if kind != merged["kind"]:
            _choice(kind, "kind", tuple(TASK_CONFIGS))
            merged["kind"], merged["task"] = kind, dataclasses.asdict(TASK_CONFIGS[kind]())
        legacy = TASK_CONFIGS[kind].LEGACY
        for key, value in flat.items():
            _set_path(merged, _translate(key, legacy).split("."), value, kind)
        return Config.from_dict(merged)

    def with_sets(self, pairs: list[str]) -> "Config":
        """Apply ``section.key=value`` strings (values parsed as JSON where possible)."""
        updates = {}
        for pair in pairs:
            if "=" not in pair:
                raise ConfigError(f"--set expects section.key=value, got {pair!r}; e.g. --set train.steps=200.")
            key, raw = pair.split("=", 1)
            updates[key.strip()] = _parse_value(raw.strip())
        return self.override(updates)


def _translate(key: str, legacy: dict[str, str]) -> str:
    """A pre-task key (``loss.penalty``) -> its place in the task section (``task.loss.penalty``)."""
    for old, new in legacy.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old):]
    return key


def _flatten(d: dict, prefix: str = "") -> dict:
    """``{"train": {"steps": 1}}`` -> ``{"train.steps": 1}`` (no config value is a dict)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _migrate(d: dict, task_cls: type) -> dict:
    """A config dict from before tasks (sections ``loss``, ``g_optim``, ``d_optim``, ``vae``
    at the top, the critic schedule in ``train``, EMA and DiffAugment in ``model``) -> the
    current layout. Keys the family never read (a VAE's ``loss``) are dropped."""
    flat = _flatten(d)
    out: dict = {"task": {}}
    other_legacy = {k for c in TASK_CONFIGS.values() for k in c.LEGACY}
    for key, value in flat.items():
        new = _translate(key, task_cls.LEGACY)
        if new == key and any(key == o or key.startswith(o + ".") for o in other_legacy):
            continue  # another family's option, ignored by this one before tasks existed
        _put(out, new.split("."), value)
    return out


def _put(d: dict, path: list[str], value) -> None:
    for p in path[:-1]:
        d = d.setdefault(p, {})
    d[path[-1]] = value


def _valid_keys(d: dict, prefix: str = "") -> list[str]:
    return [k2 for k, v in d.items() for k2 in (_valid_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k])]


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        if "," in raw:
            return [_parse_value(p) for p in raw.split(",")]
        return raw


def _set_path(d: dict, path: list[str], value: Any, kind: str, prefix: str = "") -> None:
    head = path[0]
    if head not in d or (len(path) == 1 and isinstance(d[head], dict)):
        key = prefix + ".".join(path)
        owners = [k for k, c in TASK_CONFIGS.items() if k != kind and _translate(key, c.LEGACY) != key]
        whose = f" (it is an option of kind={owners[0]!r})" if owners else ""
        if not prefix:  # at the top: say which keys this family has
            task_keys = ", ".join(k for k in _valid_keys(d["task"], "task.")) or "none"
            raise ConfigError(f"unknown config key {key!r} for kind={kind!r}{whose}; set a key of the sections data, "
                              f"model or train, or one of this family's task keys: {task_keys}.")
        raise ConfigError(f"unknown config key {key!r} for kind={kind!r}{whose}; valid keys in {prefix[:-1]}: "
                          f"{', '.join(d)}.")
    if len(path) == 1:
        d[head] = value
    else:
        if not isinstance(d[head], dict):
            raise ConfigError(f"config key {prefix + head!r} has no sub-keys.")
        _set_path(d[head], path[1:], value, kind, f"{prefix}{head}.")


def _from_dict(cls, d: dict, prefix: str, **given):
    if not isinstance(d, dict):
        raise ConfigError(f"config section {prefix or 'root'!r} must be a table/dict.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"unknown config key(s) {sorted(prefix + k for k in unknown)}; valid: {', '.join(sorted(names))}.")
    kwargs = dict(given)
    for f in fields(cls):
        if f.name not in d or f.name in given:
            continue
        hint, value = hints[f.name], d[f.name]
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = _from_dict(hint, value, f"{prefix}{f.name}.")
        else:
            kwargs[f.name] = _coerce(hint, value, prefix + f.name)
    return cls(**kwargs)


def _coerce(hint, value, name: str):
    origin = typing.get_origin(hint)
    try:
        if origin is tuple:
            seq = value if isinstance(value, (list, tuple)) else [value]
            args = typing.get_args(hint)
            if args[-1] is not Ellipsis and len(seq) != len(args):
                raise ConfigError(f"config key {name!r} expects a list of exactly {len(args)} numbers "
                                  f"(e.g. betas=[0.5,0.999]), got {value!r}.")
            return tuple(_coerce(args[0], v, name) for v in seq)
        if isinstance(value, (dict, list, tuple)) and not (hint is str and isinstance(value, (list, tuple))):
            raise TypeError(value)
        if value is None:
            raise TypeError(value)
        if hint is bool:
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes"):
                    return True
                if value.lower() in ("false", "0", "no"):
                    return False
                raise ValueError(value)
            if value in (0, 1) and not isinstance(value, float):
                return bool(value)
            raise ValueError(value)
        if hint is str and isinstance(value, (list, tuple)):  # `--set k=a,b` parses as a list
            if any(isinstance(v, (dict, list, tuple)) for v in value):
                raise TypeError(value)
            return ",".join(map(str, value))
        if hint in (int, float) and isinstance(value, bool):  # JSON true is not the number 1
            raise TypeError(value)
        if hint is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return hint(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf), float(10**400)
        raise ConfigError(f"config key {name!r} expects {_type_name(hint)}, got {value!r}.") from None


def load_config_file(path: str | Path) -> dict:
    """A TOML or JSON file of overrides (same nesting as ``Config.to_dict``)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist.")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; pass a .toml or .json file.")
    try:
        if path.suffix == ".toml":
            import tomllib

            d = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            d = json.loads(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise ConfigError(f"cannot parse config file {path} ({exc}); use TOML (.toml) or JSON.") from None
    if not isinstance(d, dict):
        raise ConfigError(f"config file {path} holds {'null' if d is None else type(d).__name__ + ' ' + repr(d)[:40]} "
                          'at the top level; it must be a table of sections, e.g. {"train": {"steps": 200}}.')
    return d


__all__ = ["Config", "GANConfig", "VAEConfig", "TASK_CONFIGS", "DataConfig", "ModelConfig", "LossConfig", "OptimConfig", "TrainConfig", "replace", "load_config_file"]
