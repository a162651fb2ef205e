"""Networks that map an image to an image: SRGAN's generator (SRResNet) and discriminator,
pix2pix's U-Net generator and PatchGAN discriminator. Networks only: the losses live in
the tasks (``ganforge.tasks.srgan``, ``ganforge.tasks.pix2pix``).

Images are float (N,C,H,W) in [-1,1]; every generator ends in tanh.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganforge.errors import ConfigError


# ----------------------------------------------------------------------------- SRGAN
class ResidualBlock(nn.Module):
    """conv3-BN-PReLU-conv3-BN plus the identity (Ledig et al. 2017, Fig. 4, after He et al. 2016)."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRGAN's generator (Ledig et al. 2017, Fig. 4): a 9×9 conv, ``blocks`` residual blocks
    with a long skip, then log2(K) sub-pixel upsamplings (conv to 4× channels, PixelShuffle(2),
    Shi et al. 2016) and a 9×9 conv to the output channels.

    (N, in_ch, h, w) in [-1,1] -> (N, out_ch, K·h, K·w) in [-1,1]. The paper's 16 blocks of
    width 64 are the default of the class; the presets use fewer for a 2-core CPU."""

    def __init__(self, in_ch: int, out_ch: int, factor: int, width: int = 64, blocks: int = 16):
        super().__init__()
        if factor not in (1, 2, 4, 8):
            raise ConfigError(f"the SRResNet upsamples by powers of two (2, 4, 8), got a factor of {factor}.")
        self.factor = factor
        self.head = nn.Sequential(nn.Conv2d(in_ch, width, 9, padding=4), nn.PReLU(width))
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.post = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))
        up: list[nn.Module] = []
        for _ in range(int(math.log2(factor))):
            up += [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.up = nn.Sequential(*up)
        self.tail = nn.Conv2d(width, out_ch, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        h = h + self.post(self.blocks(h))  # the long skip connection of Fig. 4
        return torch.tanh(self.tail(self.up(h)))


class SRDiscriminator(nn.Module):
    """SRGAN's discriminator (Ledig et al. 2017, Fig. 4): conv3 blocks alternating stride 1
    and 2 with BatchNorm and LeakyReLU(0.2), doubling the width after each stride-2 block,
    then Dense(1024)-LeakyReLU-Dense(1). ``stages`` stride-2 blocks (the paper: 4, from 64 to
    512 channels). Changed: a global average pool before the dense layers, so one network
    takes any image size (the paper's flatten fixes the input at 96×96).

    (N, C, H, W) in [-1,1] -> (N,) logits."""

    def __init__(self, in_ch: int, width: int = 64, stages: int = 4, hidden: int = 1024):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, width, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Conv2d(width, width, 3, stride=2, padding=1), nn.BatchNorm2d(width),
                                   nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for _ in range(stages - 1):
            layers += [nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2, inplace=True),
                       nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1), nn.BatchNorm2d(2 * c),
                       nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, hidden),
                                  nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


# ----------------------------------------------------------------------------- pix2pix
class UNetBlock(nn.Module):
    """One level of the U-Net: down (conv4 s2), the inner levels, up (convT4 s2), and the skip
    connection that concatenates this level's input to its output (Isola et al. 2017, §3.2.1;
    Ronneberger et al. 2015)."""

    def __init__(self, outer: int, inner: int, sub: nn.Module | None, *, outermost: bool = False,
                 in_ch: int | None = None, out_ch: int | None = None, dropout: float = 0.0):
        super().__init__()
        in_ch = outer if in_ch is None else in_ch
        down = [nn.Conv2d(in_ch, inner, 4, stride=2, padding=1)]
        up_in = inner if sub is None else 2 * inner
        if outermost:
            self.model = nn.Sequential(*down, *([sub] if sub else []), nn.ReLU(True),
                                       nn.ConvTranspose2d(up_in, out_ch, 4, stride=2, padding=1), nn.Tanh())
        else:
            down = [nn.LeakyReLU(0.2, True), *down] + ([nn.BatchNorm2d(inner)] if sub is not None else [])
            up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, outer, 4, stride=2, padding=1), nn.BatchNorm2d(outer)]
            if dropout:
                up.append(nn.Dropout(dropout))
            self.model = nn.Sequential(*down, *([sub] if sub else []), *up)
        self.outermost = outermost

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UNet(nn.Module):
    """pix2pix's generator (Isola et al. 2017, §3.2.1 and appendix 6.1.1): an encoder-decoder
    of ``depth`` stride-2 levels whose level i feeds its features straight to the mirrored
    decoder level (skip connections), so fine input detail reaches the output without
    passing the bottleneck. Dropout 0.5 in the innermost decoder levels (up to three, as the
    paper's "CD512") is the generator's only noise (§3.2: "noise in the form of dropout").

    (N, in_ch, H, W) -> (N, out_ch, H, W) in [-1,1]; H and W must divide by 2**depth. The
    paper: depth 8, width 64 for 256×256 images."""

    def __init__(self, in_ch: int, out_ch: int, width: int = 64, depth: int = 8, dropout: float = 0.5):
        super().__init__()
        if depth < 1:
            raise ConfigError(f"the U-Net needs at least one level, got depth {depth}.")
        self.depth = depth
        widths = [min(width * 2 ** i, width * 8) for i in range(depth)]  # 64, 128, 256, 512, 512, ...
        block = None
        for i in reversed(range(1, depth)):
            drop = dropout if i >= max(1, depth - 3) else 0.0  # the three innermost decoder levels ("CD512")
            block = UNetBlock(widths[i - 1], widths[i], block, dropout=drop)
        self.model = UNetBlock(widths[0], widths[0], block, outermost=True, in_ch=in_ch, out_ch=out_ch) \
            if depth > 1 else UNetBlock(width, width, None, outermost=True, in_ch=in_ch, out_ch=out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 2 ** self.depth or w % 2 ** self.depth:
            raise ConfigError(f"a U-Net of depth {self.depth} needs sides that divide by {2 ** self.depth}, "
                              f"got {h}x{w}; lower task.depth or resize the images.")
        return self.model(x)


#: PatchGAN receptive fields (pixels) -> number of stride-2 layers, for kernel 4 (pix2pix §3.2.2,
#: Table 1 / appendix: 1×1 "PixelGAN", 16×16, 70×70, 286×286; 34 and 142 lie between).
PATCH_LAYERS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}


def patchgan_receptive_field(n_layers: int) -> int:
    """The receptive field of :class:`PatchGAN` with ``n_layers`` stride-2 convolutions,
    computed backwards through its layers: r_in = (r_out - 1)·stride + kernel."""
    if n_layers == 0:
        return 1  # the PixelGAN: 1×1 convolutions only
    layers = [(4, 2)] * n_layers + [(4, 1), (4, 1)]
    r = 1
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


class PatchGAN(nn.Module):
    """pix2pix's discriminator (Isola et al. 2017, §3.2.2): a fully convolutional classifier
    whose every output cell judges one N×N patch of the input (N = its receptive field,
    :data:`PATCH_LAYERS`) as real or fake. It sees the input and the output concatenated
    (the conditional GAN of Eq. 1): ``in_ch`` = input channels + output channels.

    Layers (the reference NLayerDiscriminator): C64 (no norm) - C128 - ... stride 2, then
    one stride-1 conv and a stride-1 conv to 1 channel; BatchNorm, LeakyReLU(0.2).
    (N, in_ch, H, W) -> (N, 1, h, w) raw logits."""

    def __init__(self, in_ch: int, width: int = 64, receptive_field: int = 70):
        super().__init__()
        if receptive_field not in PATCH_LAYERS:
            raise ConfigError(f"the PatchGAN's receptive field must be one of {', '.join(map(str, PATCH_LAYERS))} "
                              f"pixels (kernel-4 layers), got {receptive_field}.")
        n = PATCH_LAYERS[receptive_field]
        self.receptive_field = receptive_field
        if n == 0:  # PixelGAN: 1×1 convolutions, each output sees one pixel
            self.model = nn.Sequential(nn.Conv2d(in_ch, width, 1), nn.LeakyReLU(0.2, True),
                                       nn.Conv2d(width, 2 * width, 1), nn.BatchNorm2d(2 * width),
                                       nn.LeakyReLU(0.2, True), nn.Conv2d(2 * width, 1, 1))
            return
        layers: list[nn.Module] = [nn.Conv2d(in_ch, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        c = width
        for i in range(1, n):
            c2 = min(width * 2 ** i, width * 8)
            layers += [nn.Conv2d(c, c2, 4, stride=2, padding=1), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2, True)]
            c = c2
        c2 = min(width * 2 ** n, width * 8)
        layers += [nn.Conv2d(c, c2, 4, stride=1, padding=1), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(c2, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
