"""The classic GAN of the lecture and of Goodfellow et al. (2014): fully connected
networks. G maps z (100-d) to the flattened image through tanh; D maps the image to
one logit (the probability of "real" is its sigmoid)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganforge.models.layers import check_labels, dropout_layer, linear_layer, maybe_sn, one_hot, output_layer


def hidden_stack(width: int, hidden, *, batchnorm: bool, dropout: float,
                 spectral_norm: bool = False, dropout_masks: str = "torch",
                 matmul: str = "torch") -> tuple[list[nn.Module], int]:
    """Linear (+ BatchNorm) + LeakyReLU(0.2) (+ Dropout) per hidden width; returns the layers
    and the last width. ``dropout_masks``: "torch" (``nn.Dropout``) or "fast" (``FastDropout``);
    ``matmul``: "torch" (``nn.Linear``), "onednn" (``OneDNNLinear``) or "auto" (``layers.resolve_matmul``)."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers.append(maybe_sn(linear_layer(width, h, matmul), spectral_norm))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.LeakyReLU(0.2))
        if dropout:
            layers.append(dropout_layer(dropout, dropout_masks))
        width = h
    return layers, width


class MLPGenerator(nn.Module):
    """G(z, y=None) -> (N, *out_shape) in the output activation's range.

    z: (N, z_dim); y: (N,) int64 class labels when ``num_classes`` > 0 (one-hot,
    concatenated to z, as in Mirza & Osindero 2014).
    """

    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden=(256, 512, 1024), num_classes: int = 0,
                 dropout: float = 0.0, batchnorm: bool = False, output: str = "tanh", dropout_masks: str = "torch",
                 matmul: str = "torch"):
        super().__init__()
        self.z_dim, self.num_classes, self.img_shape = z_dim, num_classes, tuple(out_shape)
        layers, width = hidden_stack(z_dim + num_classes, hidden, batchnorm=batchnorm, dropout=dropout,
                                     dropout_masks=dropout_masks, matmul=matmul)
        layers += [linear_layer(width, math.prod(out_shape), matmul), output_layer(output)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(y, self.num_classes, "this generator")
        if self.num_classes:
            z = torch.cat([z, one_hot(y, self.num_classes, z.dtype)], dim=1)
        return self.net(z).view(len(z), *self.img_shape)


class MLPDiscriminator(nn.Module):
    """D(x, y=None) -> (N,) raw logits; x: (N, *in_shape)."""

    def __init__(self, in_shape: tuple[int, ...], hidden=(1024, 512, 256), num_classes: int = 0,
                 dropout: float = 0.3, spectral_norm: bool = False, batchnorm: bool = False,
                 dropout_masks: str = "torch", matmul: str = "torch"):
        super().__init__()
        self.num_classes, self.img_shape = num_classes, tuple(in_shape)
        layers, width = hidden_stack(math.prod(in_shape) + num_classes, hidden, batchnorm=batchnorm,
                                     dropout=dropout, spectral_norm=spectral_norm, dropout_masks=dropout_masks,
                                     matmul=matmul)
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(linear_layer(width, 1, matmul), spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(y, self.num_classes, "this discriminator")
        h = x.flatten(1)
        if self.num_classes:
            h = torch.cat([h, one_hot(y, self.num_classes, h.dtype)], dim=1)
        return self.head(self.features(h)).squeeze(1)
