"""Generators and discriminators, built by name from a :class:`ModelConfig`.

Contracts (see DESIGN.md): ``G(z, y=None) -> (N,C,H,W)`` with attributes ``z_dim``,
``num_classes`` (0 = unconditional) and ``img_shape``; ``D(x, y=None) -> (N,)`` logits.
"""

from __future__ import annotations

from torch import nn

from ganforge.config import ModelConfig
from ganforge.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.models.mlp import MLPDiscriminator, MLPGenerator
from ganforge.registry import Registry

GENERATORS: Registry = Registry("generator")
DISCRIMINATORS: Registry = Registry("discriminator")


@GENERATORS.register("mlp")
def _mlp_g(cfg: ModelConfig, img_shape, num_classes: int, output: str) -> nn.Module:
    return MLPGenerator(cfg.z_dim, img_shape, cfg.g_hidden, num_classes, cfg.g_dropout, cfg.g_batchnorm, output,
                        cfg.dropout_masks, cfg.matmul)


@DISCRIMINATORS.register("mlp")
def _mlp_d(cfg: ModelConfig, img_shape, num_classes: int) -> nn.Module:
    return MLPDiscriminator(img_shape, cfg.d_hidden, num_classes, cfg.d_dropout, cfg.spectral_norm, cfg.d_batchnorm,
                            cfg.dropout_masks, cfg.matmul)


@GENERATORS.register("dcgan")
def _dcgan_g(cfg: ModelConfig, img_shape, num_classes: int, output: str) -> nn.Module:
    return DCGANGenerator(cfg.z_dim, img_shape, cfg.g_width or cfg.width, num_classes, cfg.upsample, cfg.g_batchnorm,
                          cfg.g_dropout, output, cfg.g_extra_convs)


@DISCRIMINATORS.register("dcgan")
def _dcgan_d(cfg: ModelConfig, img_shape, num_classes: int) -> nn.Module:
    return DCGANDiscriminator(img_shape, cfg.width, num_classes, cfg.d_dropout, cfg.spectral_norm, cfg.d_batchnorm,
                              cfg.projection, cfg.pack, cfg.pack_by_label, cfg.d_extra_convs, cfg.projection_maps)


def build_generator(cfg: ModelConfig, img_shape: tuple[int, ...], num_classes: int = 0, output: str = "tanh") -> nn.Module:
    """A generator for images of ``img_shape`` (C,H,W) (or any shape for MLPs)."""
    return GENERATORS.get(cfg.generator)(cfg, tuple(img_shape), num_classes, output)


def build_discriminator(cfg: ModelConfig, img_shape: tuple[int, ...], num_classes: int = 0) -> nn.Module:
    """A discriminator for images of ``img_shape`` (DiffAugment is the GAN task's choice:
    ``ganforge.models.diffaugment.attach_diffaugment``)."""
    return DISCRIMINATORS.get(cfg.discriminator)(cfg, tuple(img_shape), num_classes)


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


__all__ = ["GENERATORS", "DISCRIMINATORS", "build_generator", "build_discriminator", "has_batchnorm",
           "MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator"]
