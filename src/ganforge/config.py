"""Configuration: frozen dataclasses, one per concern, validated at construction.

A :class:`Config` is built from a preset (``ganforge.presets``), then overridden by a
TOML/JSON file and by ``section.key=value`` pairs. It round-trips through plain dicts
(``to_dict`` / ``from_dict``) so every run directory records exactly what ran.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError


def _choice(value: Any, name: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not valid; choose one of: {', '.join(map(str, choices))}.")


def _positive(value: float, name: str, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}.")


@dataclass(frozen=True)
class DataConfig:
    """What to learn from. ``dataset``: mnist | digits | path to .npz/.npy | image folder."""

    dataset: str = "mnist"
    image_size: int = 64  # only for image folders (resized square)
    channels: int = 0  # image folders: 0 = keep as found, 1 = grayscale, 3 = RGB
    scaling: str = "tanh"  # "tanh": pixels in [-1,1] + tanh output (lecture hack); "sigmoid": [0,1]
    conditional: bool = False  # feed class labels to G and D (needs labels)

    def __post_init__(self):
        _choice(self.scaling, "data.scaling", ("tanh", "sigmoid"))
        _choice(self.channels, "data.channels", (0, 1, 3))
        _positive(self.image_size, "data.image_size")


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
    g_dropout: float = 0.0  # dropout in G at train time (lecture hack)
    g_dropout_at_sampling: bool = False  # keep G's dropout on when sampling (lecture hack)
    d_dropout: float = 0.3
    output: str = "auto"  # G's output activation: auto (= data.scaling), tanh, sigmoid, none
    upsample: str = "transpose"  # conv G: "transpose" or "nearest" (nearest + conv, no checkerboard)
    g_batchnorm: bool = True
    d_batchnorm: bool = False
    spectral_norm: bool = False  # spectral normalisation on D's layers
    projection: bool = False  # conditional D: projection discriminator instead of concatenation
    ema: float = 0.0  # exponential moving average of G's weights (0 = off, e.g. 0.999)
    # DiffAugment (Zhao et al. 2020) on everything D sees while training, e.g. "color,translation,cutout";
    # for small image folders, where D otherwise memorises the real set ("" = off).
    diffaugment: str = ""

    def __post_init__(self):
        _choice(self.noise, "model.noise", ("gaussian", "uniform"))
        _choice(self.output, "model.output", ("auto", "tanh", "sigmoid", "none"))
        _choice(self.upsample, "model.upsample", ("transpose", "nearest"))
        _positive(self.z_dim, "model.z_dim")
        for name in ("g_dropout", "d_dropout"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ConfigError(f"model.{name} must be in [0, 1), got {v}.")
        for policy in filter(None, (p.strip() for p in self.diffaugment.split(","))):
            _choice(policy, "model.diffaugment policy", ("color", "translation", "cutout"))
        if not 0 <= self.ema < 1:
            raise ConfigError(f"model.ema must be in [0, 1), got {self.ema}.")


@dataclass(frozen=True)
class LossConfig:
    """The objective. ``d_loss``/``g_loss`` name pure functions in ``ganforge.losses``."""

    d_loss: str = "bce"
    g_loss: str = "nonsaturating"  # "saturating" = the original minimax log(1 - D(G(z)))
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - s (Salimans et al. 2016)
    penalty: str = "none"  # "none", "gp" (WGAN-GP), "r1"
    penalty_weight: float = 10.0
    clip: float = 0.0  # WGAN weight clipping bound c (0 = off)

    def __post_init__(self):
        if not 0 <= self.label_smoothing < 0.5:
            raise ConfigError(f"loss.label_smoothing must be in [0, 0.5), got {self.label_smoothing}.")
        _choice(self.penalty, "loss.penalty", ("none", "gp", "r1"))
        _positive(self.clip, "loss.clip", allow_zero=True)
        if self.d_loss == "wasserstein" and self.g_loss not in ("wasserstein", "hinge"):
            # A critic's scores are not log-odds, so log-likelihood G losses do not apply to them.
            raise ConfigError(
                f"loss.g_loss={self.g_loss!r} expects D's logits to be log-odds, but the Wasserstein critic outputs "
                "unbounded scores; set loss.g_loss=wasserstein."
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
        _choice(self.name, "optimizer name", ("adam", "sgd", "rmsprop"))
        _positive(self.lr, "lr")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 5000  # generator steps
    batch_size: int = 64
    d_steps: int = 1  # discriminator (critic) steps per generator step, "n_critic"
    # The WGAN reference code's critic schedule (Arjovsky et al. 2017, main.py): d_steps_boost
    # critic steps instead of d_steps for the first boost_first generator steps and every
    # boost_every-th one, so the critic is near-optimal before G follows it. 0 = off.
    d_steps_boost: int = 0
    boost_first: int = 25
    boost_every: int = 500
    seed: int = 0
    device: str = "cpu"
    threads: int = 0  # CPU threads (0 = torch's default)
    log_every: int = 50  # host sync + metrics.jsonl line every k steps
    sample_every: int = 1000  # sample grid every N steps (and at the end)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    bf16: bool = False  # bf16 autocast for forward passes (CPU with AVX-512 bf16, or GPU)
    d_wins_patience: int = 20  # warn after this many log windows with D(G(z)) < 0.01
    eval_every: int = 0  # every N steps: a cheap FID (MNIST extractor) -> metrics.jsonl; keeps checkpoints/best
    eval_samples: int = 2000  # samples per cheap FID
    early_stop: int = 0  # stop after this many evaluations without a better FID (0 = never)

    def __post_init__(self):
        for name in ("steps", "batch_size", "d_steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                     "eval_samples"):
            _positive(getattr(self, name), f"train.{name}")
        for name in ("eval_every", "early_stop", "d_steps_boost", "boost_first", "boost_every"):
            _positive(getattr(self, name), f"train.{name}", allow_zero=True)
        if self.early_stop and not self.eval_every:
            raise ConfigError("train.early_stop needs evaluations to compare; set train.eval_every too.")

    def critic_steps(self, step: int) -> int:
        """Discriminator steps before generator step ``step`` (0-based)."""
        if self.d_steps_boost and (step < self.boost_first or (self.boost_every and step % self.boost_every == 0)):
            return self.d_steps_boost
        return self.d_steps


@dataclass(frozen=True)
class VAEConfig:
    """The VAE baseline (Kingma & Welling 2014): encoder q(z|x), decoder p(x|z) = G."""

    encoder: str = "mlp"  # "mlp" or "conv"
    e_hidden: tuple[int, ...] = (512, 256)  # MLP encoder widths (conv encoder uses model.width)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (pixel intensities as probabilities) or "gaussian"
    sigma: float = 0.1  # Gaussian likelihood's fixed std on the [-1,1] pixel scale
    beta: float = 1.0  # weight of the KL term (beta-VAE, Higgins et al. 2017); 1 = the ELBO

    def __post_init__(self):
        _choice(self.encoder, "vae.encoder", ("mlp", "conv"))
        _choice(self.likelihood, "vae.likelihood", ("bernoulli", "gaussian"))
        _positive(self.sigma, "vae.sigma")
        _positive(self.beta, "vae.beta", allow_zero=True)


@dataclass(frozen=True)
class Config:
    name: str = "custom"
    kind: str = "gan"  # "gan" (adversarial) or "vae" (the baseline GANs are compared with)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig())
    d_optim: OptimConfig = field(default_factory=lambda: OptimConfig())
    train: TrainConfig = field(default_factory=TrainConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)

    def __post_init__(self):
        _choice(self.kind, "kind", ("gan", "vae"))
        if self.kind == "vae" and self.data.scaling != "tanh":
            raise ConfigError("the VAE models pixels on the [-1,1] scale; set data.scaling=tanh.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        return _from_dict(cls, d, "")

    def override(self, updates: dict) -> "Config":
        """Nested update, e.g. ``{"train": {"steps": 10}}`` or ``{"train.steps": 10}``."""
        merged = self.to_dict()
        for key, value in updates.items():
            _set_path(merged, key.split("."), value)
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


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        if "," in raw:
            return [_parse_value(p) for p in raw.split(",")]
        return raw


def _set_path(d: dict, path: list[str], value: Any) -> None:
    if len(path) == 1 and isinstance(value, dict) and isinstance(d.get(path[0]), dict):
        for k, v in value.items():
            _set_path(d[path[0]], [k], v)
        return
    if path[0] not in d:
        raise ConfigError(f"unknown config key {'.'.join(path)!r}; valid keys here: {', '.join(d)}.")
    if len(path) == 1:
        d[path[0]] = value
    else:
        if not isinstance(d[path[0]], dict):
            raise ConfigError(f"config key {path[0]!r} has no sub-keys.")
        _set_path(d[path[0]], path[1:], value)


def _from_dict(cls, d: dict, prefix: str):
    if not isinstance(d, dict):
        raise ConfigError(f"config section {prefix or 'root'!r} must be a table/dict.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"unknown config key(s) {sorted(prefix + k for k in unknown)}; valid: {', '.join(sorted(names))}.")
    kwargs = {}
    for f in fields(cls):
        if f.name not in d:
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
            elem = args[0]
            return tuple(elem(v) for v in seq)
        if hint is bool:
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes"):
                    return True
                if value.lower() in ("false", "0", "no"):
                    return False
                raise ValueError(value)
            return bool(value)
        if hint is str and isinstance(value, (list, tuple)):  # `--set k=a,b` parses as a list
            return ",".join(map(str, value))
        if hint is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return hint(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config key {name!r} expects {getattr(hint, '__name__', hint)}, got {value!r}.") from None


def load_config_file(path: str | Path) -> dict:
    """A TOML or JSON file of overrides (same nesting as ``Config.to_dict``)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist.")
    try:
        if path.suffix == ".toml":
            import tomllib

            return tomllib.loads(path.read_text())
        return json.loads(path.read_text())
    except Exception as exc:
        raise ConfigError(f"cannot parse config file {path} ({exc}); use TOML (.toml) or JSON.") from None


__all__ = ["Config", "VAEConfig", "DataConfig", "ModelConfig", "LossConfig", "OptimConfig", "TrainConfig", "replace", "load_config_file"]
