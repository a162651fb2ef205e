"""Progressive growing of GANs (Karras, Aila, Laine & Lehtinen, ICLR 2018, "Progressive
Growing of GANs for Improved Quality, Stability, and Variation"; the official code is
tkarras/progressive_growing_of_gans, ``networks.py``).

G and D are built **once**, for the final resolution, and take a *level of detail*:
level 0 works at 4×4, level ``l`` at ``4·2^l``. A network at level ``l`` uses only the
blocks up to ``l``; while level ``l`` fades in (§3, Fig. 2), its output is blended with
the previous level's output, upsampled (G) or its input downsampled (D), with weight
``α`` rising from 0 to 1. The parameter names never change with the level, so one
checkpoint layout serves the whole run.

The paper's three ingredients, each an option (default = the paper):

- **equalised learning rate** (§4.1): weights drawn N(0, 1) and multiplied at run time by
  the He constant ``gain / sqrt(fan_in)``, so Adam's per-parameter step is the same for
  every layer;
- **pixelwise feature normalisation** in G (§4.2): each pixel's feature vector scaled to
  unit mean square after every 3×3 convolution;
- **minibatch standard deviation** in D (§3): one extra feature map at 4×4 holding the
  average standard deviation of D's features over a group of samples, so D can see a
  lack of variation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: The leaky ReLU slope of the paper (§A.1: "leaky ReLU with leakiness 0.2").
LEAK = 0.2


def num_levels(resolution: int) -> int:
    """Levels of detail from 4×4 to ``resolution`` (a power of two >= 4): 4 -> 1, 32 -> 4."""
    if resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"the final resolution must be a power of two >= 4, got {resolution}")
    return int(math.log2(resolution)) - 1


def resolution_of(level: int) -> int:
    """The side length of level ``level``: 4·2^level."""
    return 4 * 2 ** level


def feature_maps(level: int, fmap_base: int, fmap_max: int) -> int:
    """Channels of level ``level``'s block: ``min(fmap_base / 2^(level+1), fmap_max)``, the
    official code's ``nf(res - 1)`` (8192 and 512 in the paper: 512 channels up to 64×64,
    then halving)."""
    return max(1, min(fmap_base // 2 ** (level + 1), fmap_max))


# ----------------------------------------------------------------------------- the ingredients


class PixelNorm(nn.Module):
    """Pixelwise feature vector normalisation (§4.2): ``b = a / sqrt(mean_c a² + 1e-8)``
    over the channels of each pixel, so every pixel's feature vector has unit mean square
    and G's signal magnitudes cannot escalate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """(N,C,H,W) -> (N,C+1,H,W): appends the minibatch standard deviation feature (§3).

    As the official ``minibatch_stddev_layer``: the batch is split into groups of
    ``g = min(group_size, N)`` samples taken with stride ``N/g`` (sample ``n`` is in group
    ``n mod N/g``); per group, the standard deviation (biased, ``sqrt(var + 1e-8)``) of each
    feature at each pixel over the group's samples, averaged over features and pixels,
    is one number, written as a constant extra channel into every sample of the group.
    ``N`` must be a multiple of ``g``."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    if n % g:
        raise ValueError(f"minibatch stddev: batch {n} is not a multiple of the group size {g}")
    y = x.reshape(g, n // g, c, h, w).float()
    y = y - y.mean(dim=0, keepdim=True)
    y = torch.sqrt(y.pow(2).mean(dim=0) + 1e-8)  # (M, C, H, W)
    y = y.mean(dim=(1, 2, 3))  # (M,)
    y = y.repeat(g).reshape(n, 1, 1, 1).expand(n, 1, h, w).to(x.dtype)
    return torch.cat([x, y], dim=1)


class MinibatchStddev(nn.Module):
    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return minibatch_stddev(x, self.group_size)


class EqualizedLayer(nn.Module):
    """A linear map whose weight is used as ``weight · scale``.

    Equalised learning rate (§4.1): ``weight ~ N(0, 1)`` and ``scale = gain / sqrt(fan_in)``
    (He et al. 2015's constant) applied at every forward pass, so the effective weights
    have He's initial scale but Adam, which normalises each parameter's step by its own
    gradient scale, moves every layer at the same relative speed. Without it
    (``equalized=False``) the weight itself is drawn N(0, scale²) and ``scale`` is 1:
    the same initial function, a plain layer.

    torch's ``nn.init.kaiming_normal_`` sets the initial weight but not a run-time scale,
    so it cannot express this; hence the hand-written layer."""

    def __init__(self, weight_shape: tuple[int, ...], fan_in: int, gain: float, equalized: bool):
        super().__init__()
        he = gain / math.sqrt(fan_in)
        self.weight = nn.Parameter(torch.randn(weight_shape) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(weight_shape[0]))
        self.scale = he if equalized else 1.0

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale if self.scale != 1.0 else self.weight


class EqConv2d(EqualizedLayer):
    """A k×k convolution (stride 1, "same" padding) with the equalised learning rate."""

    def __init__(self, c_in: int, c_out: int, kernel: int, gain: float = math.sqrt(2), equalized: bool = True):
        super().__init__((c_out, c_in, kernel, kernel), c_in * kernel * kernel, gain, equalized)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, padding=self.padding)


class EqLinear(EqualizedLayer):
    """A fully connected layer with the equalised learning rate."""

    def __init__(self, d_in: int, d_out: int, gain: float = math.sqrt(2), equalized: bool = True):
        super().__init__((d_out, d_in), d_in, gain, equalized)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.effective_weight(), self.bias)


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAK)


def upsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Nearest-neighbour upsampling (the official ``upscale2d``)."""
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Box-filter downsampling (the official ``downscale2d``: average pooling)."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def fade(low: torch.Tensor, high: torch.Tensor, alpha: float) -> torch.Tensor:
    """``(1 - α)·low + α·high`` (§3, Fig. 2); the ends return their input exactly."""
    if alpha >= 1.0:
        return high
    if alpha <= 0.0:
        return low
    return torch.lerp(low, high, alpha)


# ----------------------------------------------------------------------------- the networks


class ProgressiveGenerator(nn.Module):
    """G(z, level, α) -> (N, C, 4·2^level, 4·2^level), linear output (as the paper; the
    sampler clamps to [-1, 1]).

    Table 2 of the paper: z (pixel-normalised) -> 4×4 ("dense" = a 4×4 convolution on the
    1×1 latent) -> 3×3 conv; then per level: upsample ×2, two 3×3 convs; leaky ReLU 0.2 and
    pixel norm after every conv; a 1×1 "toRGB" per level."""

    def __init__(self, z_dim: int, channels: int, resolution: int, fmap_base: int = 8192, fmap_max: int = 512,
                 pixel_norm: bool = True, equalized: bool = True):
        super().__init__()
        self.z_dim, self.channels, self.resolution = z_dim, channels, resolution
        self.levels = num_levels(resolution)
        self.img_shape = (channels, resolution, resolution)
        self.num_classes = 0
        nf = [feature_maps(level, fmap_base, fmap_max) for level in range(self.levels)]
        self.norm = PixelNorm() if pixel_norm else nn.Identity()
        # The official code's gain sqrt(2)/4 on the first dense layer (networks.py, G_paper).
        self.dense = EqLinear(z_dim, nf[0] * 16, gain=math.sqrt(2) / 4, equalized=equalized)
        self.blocks = nn.ModuleList([EqConv2d(nf[0], nf[0], 3, equalized=equalized)])
        for level in range(1, self.levels):
            self.blocks.append(nn.ModuleList([EqConv2d(nf[level - 1], nf[level], 3, equalized=equalized),
                                              EqConv2d(nf[level], nf[level], 3, equalized=equalized)]))
        self.to_rgb = nn.ModuleList([EqConv2d(nf[level], channels, 1, gain=1.0, equalized=equalized)
                                     for level in range(self.levels)])
        self.nf = nf

    def _block(self, level: int, h: torch.Tensor) -> torch.Tensor:
        if level == 0:
            return self.norm(_act(self.blocks[0](h)))
        h = upsample(h)
        for conv in self.blocks[level]:
            h = self.norm(_act(conv(h)))
        return h

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        level = self.levels - 1 if level is None else level
        if not 0 <= level < self.levels:
            raise ValueError(f"level must be in 0..{self.levels - 1}, got {level}")
        h = self.norm(_act(self.dense(self.norm(z)).reshape(-1, self.nf[0], 4, 4)))
        h = self._block(0, h)
        for l in range(1, level):
            h = self._block(l, h)
        if level == 0:
            return self.to_rgb[0](h)
        new = self.to_rgb[level](self._block(level, h))
        if alpha >= 1.0:
            return new
        return fade(upsample(self.to_rgb[level - 1](h)), new, alpha)


class ProgressiveDiscriminator(nn.Module):
    """D(x, level, α) -> (N,) critic scores for x (N, C, 4·2^level, 4·2^level).

    Table 2 mirrored: a 1×1 "fromRGB" per level; per level two 3×3 convs then average
    pooling ×2; at 4×4 the minibatch stddev channel, a 3×3 conv, a 4×4 conv (= dense) and
    a linear output. While level ``l`` fades in, its block's output is blended with
    fromRGB of the input downsampled (Fig. 2 (b))."""

    def __init__(self, channels: int, resolution: int, fmap_base: int = 8192, fmap_max: int = 512,
                 mbstd_group: int = 4, equalized: bool = True):
        super().__init__()
        self.channels, self.resolution = channels, resolution
        self.levels = num_levels(resolution)
        self.num_classes = 0
        nf = [feature_maps(level, fmap_base, fmap_max) for level in range(self.levels)]
        top = min(fmap_base, fmap_max)  # the official nf(0): the width of the last dense layer
        self.from_rgb = nn.ModuleList([EqConv2d(channels, nf[level], 1, equalized=equalized)
                                       for level in range(self.levels)])
        self.blocks = nn.ModuleList([nn.Identity()])  # level 0 is the final block below
        for level in range(1, self.levels):
            self.blocks.append(nn.ModuleList([EqConv2d(nf[level], nf[level], 3, equalized=equalized),
                                              EqConv2d(nf[level], nf[level - 1], 3, equalized=equalized)]))
        self.mbstd = MinibatchStddev(mbstd_group) if mbstd_group else nn.Identity()
        self.final_conv = EqConv2d(nf[0] + (1 if mbstd_group else 0), nf[0], 3, equalized=equalized)
        self.final_dense = EqLinear(nf[0] * 16, top, equalized=equalized)
        self.out = EqLinear(top, 1, gain=1.0, equalized=equalized)

    def _block(self, level: int, h: torch.Tensor) -> torch.Tensor:
        for conv in self.blocks[level]:
            h = _act(conv(h))
        return downsample(h)

    def forward(self, x: torch.Tensor, level: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        level = self.levels - 1 if level is None else level
        if not 0 <= level < self.levels:
            raise ValueError(f"level must be in 0..{self.levels - 1}, got {level}")
        if x.shape[-1] != resolution_of(level):
            raise ValueError(f"level {level} expects {resolution_of(level)}x{resolution_of(level)} images, "
                             f"got {tuple(x.shape[-2:])}")
        h = _act(self.from_rgb[level](x))
        if level > 0:
            h = self._block(level, h)
            if alpha < 1.0:
                h = fade(_act(self.from_rgb[level - 1](downsample(x))), h, alpha)
            for l in range(level - 1, 0, -1):
                h = self._block(l, h)
        h = _act(self.final_conv(self.mbstd(h)))
        h = _act(self.final_dense(h.flatten(1)))
        return self.out(h).squeeze(1)
