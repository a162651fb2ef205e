"""DCGAN (Radford, Metz & Chintala 2015) generator and discriminator, with the
conditional variants of Mirza & Osindero (2014) and the projection discriminator of
Miyato & Koyama (2018).

The architecture follows the image size: G starts from an ``s0``×``s0`` map and doubles
it ``k`` times (``s0 * 2**k = size``); D mirrors it with ``k`` stride-2 convolutions.
28 px: 7 -> 14 -> 28; 32 px: 4 -> 8 -> 16 -> 32; 64 px: 4 -> ... -> 64; 8 px: 4 -> 8.
Channels halve as the resolution doubles (``width * 2**(k-1)`` at ``s0`` in G,
``width`` after D's first convolution).

The DCGAN guidelines kept here: strided convolutions instead of pooling, BatchNorm in G
(not on its output layer) and optionally in D (never on D's input layer), ReLU in G,
LeakyReLU(0.2) in D, tanh output, weights drawn from N(0, 0.02).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import ConfigError
from ganforge.models.layers import check_labels, maybe_sn, one_hot, output_layer


def dcgan_geometry(size: int) -> tuple[int, int]:
    """(s0, k): the starting resolution and the number of doublings for ``size`` pixels.

    Halve while the result stays an integer >= 4; at least one doubling is needed."""
    s, k = size, 0
    while s % 2 == 0 and s // 2 >= 4:
        s //= 2
        k += 1
    if k == 0:
        raise ConfigError(
            f"the dcgan models need an even image size of at least 8 pixels (e.g. 8, 28, 32, 64), got {size}; "
            "set data.image_size accordingly or use model.generator=mlp."
        )
    return s, k


def _check_square(img_shape: tuple[int, ...], who: str) -> tuple[int, int]:
    if len(img_shape) != 3 or img_shape[1] != img_shape[2]:
        raise ConfigError(
            f"the dcgan {who} needs square images shaped (C,H,W), got {tuple(img_shape)}; "
            "use model.generator=mlp / model.discriminator=mlp for other data."
        )
    return img_shape[0], img_shape[1]


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init: conv/linear weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _up(cin: int, cout: int, mode: str) -> list[nn.Module]:
    """Double the resolution. "transpose": ConvTranspose2d(4, stride 2) as in DCGAN;
    "nearest": nearest-neighbour upsample + 3×3 conv, which avoids the checkerboard
    artefacts of overlapping transposed kernels (Odena, Dumoulin & Olah 2016)."""
    if mode == "transpose":
        return [nn.ConvTranspose2d(cin, cout, 4, 2, 1)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1)]


class DCGANGenerator(nn.Module):
    """G(z, y=None) -> (N, C, H, W) in the output activation's range.

    z: (N, z_dim); y: (N,) int64 labels when ``num_classes`` > 0 (one-hot, concatenated
    to z as in the conditional GAN of Mirza & Osindero 2014).
    """

    def __init__(self, z_dim: int, img_shape: tuple[int, int, int], width: int = 64, num_classes: int = 0,
                 upsample: str = "transpose", batchnorm: bool = True, dropout: float = 0.0, output: str = "tanh",
                 extra_convs: int = 0):
        super().__init__()
        channels, size = _check_square(img_shape, "generator")
        s0, k = dcgan_geometry(size)
        self.z_dim, self.num_classes, self.img_shape = z_dim, num_classes, tuple(img_shape)
        self.s0 = s0
        ch = width * 2 ** (k - 1)
        self.base_channels = ch
        # The first "deconvolution" from a 1×1 input is a linear map to an s0×s0 map.
        self.project = nn.Linear(z_dim + num_classes, ch * s0 * s0, bias=not batchnorm)
        self.project_bn = nn.BatchNorm1d(ch * s0 * s0) if batchnorm else nn.Identity()
        layers: list[nn.Module] = []
        for _ in range(k - 1):
            layers += _up(ch, ch // 2, upsample)
            if batchnorm:
                layers.append(nn.BatchNorm2d(ch // 2))
            layers.append(nn.ReLU(inplace=True))
            if dropout:
                layers.append(nn.Dropout(dropout))
            ch //= 2
        for _ in range(extra_convs):  # depth at the last hidden resolution, before the output layer
            layers.append(nn.Conv2d(ch, ch, 3, 1, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.ReLU(inplace=True))
        layers += _up(ch, channels, upsample)  # no BatchNorm on G's output layer (DCGAN)
        layers.append(output_layer(output))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(y, self.num_classes, "this generator")
        if self.num_classes:
            z = torch.cat([z, one_hot(y, self.num_classes, z.dtype)], dim=1)
        h = torch.relu(self.project_bn(self.project(z)))
        return self.net(h.view(len(z), self.base_channels, self.s0, self.s0))


def pack_samples(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN's packing (Lin et al. 2018): m consecutive samples (N, C, H, W) stacked along the
    channels into one (N/m, m·C, H, W), so D judges m samples jointly and a G that puts them all
    on one mode is easier to tell from m independent real images."""
    if len(x) % m:
        raise ValueError(f"a packed discriminator (model.pack={m}) needs a batch divisible by {m}, got {len(x)}; "
                         f"set train.batch_size to a multiple of {m}.")
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


class DCGANDiscriminator(nn.Module):
    """D(x, y=None) -> (N,) raw logits; x: (N, C, H, W).

    Conditional, by concatenation: the one-hot label enters as ``num_classes`` constant
    feature maps stacked onto the image. With ``projection``: the label enters at the end
    as an inner product with D's features, D(x, y) = ψ(φ(x)) + embed(y)·φ(x)
    (Miyato & Koyama 2018), which conditions more sharply than concatenation. With
    ``projection_maps`` too, both: φ then also sees the label maps, φ(x, y).
    """

    def __init__(self, img_shape: tuple[int, int, int], width: int = 64, num_classes: int = 0,
                 dropout: float = 0.0, spectral_norm: bool = False, batchnorm: bool = False,
                 projection: bool = False, pack: int = 1, pack_by_label: bool = False, extra_convs: int = 0,
                 projection_maps: bool = False):
        super().__init__()
        channels, size = _check_square(img_shape, "discriminator")
        s0, k = dcgan_geometry(size)
        if projection and not num_classes:
            raise ConfigError("model.projection is a conditional discriminator; set data.conditional=true "
                              "(with a labelled dataset) or model.projection=false.")
        if projection and pack > 1:
            raise ConfigError("model.projection scores one image against its label; a packed D (model.pack > 1) "
                              "scores several at once: set model.pack=1 or model.projection=false.")
        if pack_by_label and not (num_classes and pack > 1):
            raise ConfigError("model.pack_by_label packs images of one class together: it needs a conditional D "
                              "(data.conditional=true) and model.pack=2 or more.")
        self.num_classes, self.img_shape, self.projection = num_classes, tuple(img_shape), projection
        self.pack_by_label = pack_by_label
        concat = num_classes if (num_classes and (projection_maps or not projection)) else 0
        self.concat_classes = concat
        self.pack = pack
        layers: list[nn.Module] = []
        cin, cout = pack * (channels + concat), width
        for i in range(k):
            conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=not (batchnorm and i > 0))
            layers.append(conv)
            if batchnorm and i > 0:  # never on D's input layer (DCGAN)
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if dropout:
                layers.append(nn.Dropout(dropout))
            cin, cout = cout, cout * 2
        for _ in range(extra_convs):  # depth at the last resolution, before the linear head
            layers.append(nn.Conv2d(cin, cin, 3, 1, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(cin))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if dropout:
                layers.append(nn.Dropout(dropout))
        self.features = nn.Sequential(*layers)
        feat = cin * s0 * s0
        self.head = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat) if projection else None
        dcgan_init(self)
        # Spectral normalisation wraps the initialised weights (Miyato et al. 2018).
        if spectral_norm:
            for parent in [self, self.features]:
                for name, child in list(parent.named_children()):
                    if isinstance(child, (nn.Conv2d, nn.Linear, nn.Embedding)):
                        setattr(parent, name, maybe_sn(child, True))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(y, self.num_classes, "this discriminator")
        if self.pack_by_label:
            # Packs of one class: D compares two draws of the same digit, so a G whose sevens all
            # look alike is told from real sevens directly (random packs mostly pair two classes).
            # The logits come back in pack order; the losses average over them.
            order = torch.argsort(y, stable=True)
            x, y = x[order], y[order]
        if self.concat_classes:
            h = self.features[1:](self._first_conv_with_label_maps(x, y)).flatten(1)
        else:
            h = self.features(pack_samples(x, self.pack) if self.pack > 1 else x).flatten(1)
        out = self.head(h).squeeze(1)
        if self.embed is not None:
            out = out + (self.embed(y) * h).sum(1)
        return out

    def _first_conv_with_label_maps(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """D's first convolution of the image with its label's one-hot maps stacked on it,
        conv([x; maps(y)]) -- computed as conv(x) + conv(maps(y)). The maps are constant, so
        their part of the sum is one of ``num_classes`` fixed maps, computed once per call from the
        identity and picked by label: the same sum (up to the order of float additions) at a
        fraction of the cost, since the maps are 10 of MNIST's 11 input channels (forward and
        backward of D: 13.7 -> 9.6 ms per batch of 64 on 2 CPU threads). Packed (PacGAN): slot j of
        each pack of m has its own image and label channels, so one such term per slot."""
        conv, m, c, k = self.features[0], self.pack, x.shape[1], self.concat_classes
        w = conv.weight  # read once: a spectral-norm parametrisation runs its power iteration here
        w = w.view(w.shape[0], m, c + k, *w.shape[2:])
        image_w = w[:, :, :c].reshape(w.shape[0], m * c, *w.shape[3:])
        h = F.conv2d(pack_samples(x, m) if m > 1 else x, image_w, conv.bias, conv.stride, conv.padding)
        maps = torch.eye(k, dtype=x.dtype, device=x.device)[:, :, None, None].expand(k, k, *x.shape[2:])
        slots = one_hot(y, k, h.dtype).view(-1, m, k)
        for j in range(m):
            per_class = F.conv2d(maps, w[:, j, c:], None, conv.stride, conv.padding)
            # picked by a product with the one-hot labels: its backward is a product too, where
            # indexing by y would scatter-add (3x slower here)
            h = h + (slots[:, j] @ per_class.flatten(1).to(h.dtype)).view_as(h)
        return h
