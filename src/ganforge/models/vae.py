"""The VAE baseline: an encoder q(z|x) = N(mu, diag(exp(logvar))) and a decoder that is
one of our generators. The decoder is exposed through :class:`VAEDecoder`, which keeps
the generator contract (``G(z, y=None) -> (N,C,H,W)`` in [-1,1]), so sampling and
evaluation treat a VAE exactly like a GAN."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganforge.models.layers import check_labels, one_hot


class MLPEncoder(nn.Module):
    """x (N, *img_shape) -> (mu, logvar), each (N, z_dim)."""

    def __init__(self, img_shape, z_dim: int, hidden=(512, 256), num_classes: int = 0):
        super().__init__()
        self.num_classes = num_classes
        layers, width = [], math.prod(img_shape) + num_classes
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 2 * z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        check_labels(y, self.num_classes, "this encoder")
        h = x.flatten(1)
        if self.num_classes:
            h = torch.cat([h, one_hot(y, self.num_classes, h.dtype)], 1)
        return self.head(self.body(h)).chunk(2, dim=1)


class ConvEncoder(nn.Module):
    """Strided 4×4 convolutions halving the size down to 4×4 or less, then linear heads."""

    def __init__(self, img_shape, z_dim: int, width: int = 32, num_classes: int = 0):
        super().__init__()
        c, h, _ = img_shape
        self.num_classes = num_classes
        layers, ch, size = [], c + num_classes, h
        out = width
        while size > 4:
            layers += [nn.Conv2d(ch, out, 4, 2, 1), nn.LeakyReLU(0.2)]
            ch, out, size = out, out * 2, size // 2
        self.body = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            n_feat = self.body(torch.zeros(1, c + num_classes, h, img_shape[2])).shape[1]
        self.head = nn.Linear(n_feat, 2 * z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        check_labels(y, self.num_classes, "this encoder")
        if self.num_classes:
            x = torch.cat([x, one_hot(y, self.num_classes, x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])], 1)
        return self.head(self.body(x)).chunk(2, dim=1)


class VAEDecoder(nn.Module):
    """Wraps the decoder network so it obeys the generator contract.

    Bernoulli likelihood: the network outputs logits of pixel intensity in [0,1]; the image
    is the mean, sigmoid(logits), mapped to [-1,1]. Gaussian: the network outputs the mean
    in [-1,1] directly (tanh).
    """

    def __init__(self, net: nn.Module, likelihood: str):
        super().__init__()
        self.net, self.likelihood = net, likelihood
        self.z_dim, self.num_classes, self.img_shape = net.z_dim, net.num_classes, net.img_shape

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        out = self.net(z, y)
        return torch.sigmoid(out) * 2 - 1 if self.likelihood == "bernoulli" else out


def decoder_output(likelihood: str) -> str:
    """The output activation the decoder network needs for a likelihood."""
    return "none" if likelihood == "bernoulli" else "tanh"


def build_encoder(vcfg, z_dim: int, width: int, img_shape, num_classes: int = 0) -> nn.Module:
    if vcfg.encoder == "mlp":
        return MLPEncoder(img_shape, z_dim, vcfg.e_hidden, num_classes)
    if len(img_shape) != 3:
        from ganforge.errors import ConfigError

        raise ConfigError("vae.encoder=conv needs images (C,H,W); use vae.encoder=mlp for other data.")
    return ConvEncoder(img_shape, z_dim, width, num_classes)
