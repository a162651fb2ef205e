"""Named degradations that turn a target image into the input of an image-to-image model.

A pair is (input, target). When a data set has only targets (MNIST, the 8×8 digits, a
folder, an .npz), the input is made from the target by one of these functions, batched on
the device. Every random choice (where the hole is, the noise) comes from ``draws``, a
tensor the caller takes from a seeded generator -- the training step from its
:class:`~ganforge.data.batches.Feed`, the test split from a fixed seed -- so the training
and the test degradation are *the same function* and a seed gives the same inputs.

Names (``data.pairs``):

- ``downsample:K`` (K = 2 or 4): antialiased bicubic downsampling by K, the degradation of
  SRGAN's training set (Ledig et al. 2017, §3: "bicubic kernel with downsampling factor r");
- ``edges``: a morphological edge map, dilation minus image (3×3), pix2pix's edges→photo;
- ``mask``: a random square hole of half the image side filled with mid-grey (0), for
  inpainting (Pathak et al. 2016, Context Encoders; pix2pix §4);
- ``gray``: RGB → luminance (ITU-R BT.601 weights), for colourisation (pix2pix §4);
- ``noise:S``: additive Gaussian noise of standard deviation S on the [0,1] intensity scale.

Images are float (N,C,H,W) in [-1,1]; outputs are rounded to the 256 levels of a uint8
image, so an input saved as a PNG and read back is exactly what the model saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganforge.errors import ConfigError, DataError

DEGRADATIONS = ("downsample:K", "edges", "mask", "gray", "noise:S")
#: BT.601 luma weights (the ones PIL's convert("L") uses), so "gray" matches a grayscale PNG.
LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class Degradation:
    """A parsed ``data.pairs`` degradation: ``name`` and its parameter (``factor`` K or ``sd`` S)."""

    name: str
    factor: int = 1
    sd: float = 0.0

    def __str__(self) -> str:
        return {"downsample": f"downsample:{self.factor}", "noise": f"noise:{self.sd:g}"}.get(self.name, self.name)

    def input_shape(self, target_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(C,H,W) of the input made from a target of ``target_shape``; a one-sentence
        :class:`DataError` when the target cannot be degraded this way."""
        c, h, w = target_shape
        if self.name == "downsample":
            if h % self.factor or w % self.factor:
                raise DataError(f"downsample:{self.factor} needs images whose sides divide by {self.factor}, got "
                                f"{h}x{w}; pick another factor or resize the images (data.image_size).")
            return c, h // self.factor, w // self.factor
        if self.name == "gray":
            if c != 3:
                raise DataError(f"gray (colourisation) needs RGB targets, but these images have {c} channel; "
                                "use a colour folder with data.channels=3.")
            return 1, h, w
        if self.name == "mask" and min(h, w) < 2:
            raise DataError(f"mask needs images of at least 2x2 pixels, got {h}x{w}.")
        return c, h, w

    def draws(self, shape: tuple[int, int, int]) -> tuple[int, str]:
        """(values per image, "uniform"|"gaussian") this degradation draws, (0, ...) if none."""
        if self.name == "mask":
            return 2, "uniform"
        if self.name == "noise":
            return shape[0] * shape[1] * shape[2], "gaussian"
        return 0, "uniform"


def parse_degradation(text: str) -> Degradation:
    """``"downsample:4"`` -> Degradation("downsample", factor=4); a one-sentence
    :class:`ConfigError` for anything else than the names in :data:`DEGRADATIONS`."""
    name, _, arg = text.strip().partition(":")
    if name == "downsample":
        if arg not in ("2", "4"):
            raise ConfigError(f"data.pairs={text!r}: the downsampling factor must be 2 or 4, e.g. downsample:4.")
        return Degradation("downsample", factor=int(arg))
    if name == "noise":
        try:
            sd = float(arg)
        except ValueError:
            sd = -1.0
        if not 0 < sd <= 1:
            raise ConfigError(f"data.pairs={text!r}: give the noise's standard deviation in (0, 1] on the [0,1] "
                              "intensity scale, e.g. noise:0.2.")
        return Degradation("noise", sd=sd)
    if name in ("edges", "mask", "gray") and not arg:
        return Degradation(name)
    raise ConfigError(f"data.pairs={text!r} is not a degradation or pair layout; use one of "
                      f"{', '.join(DEGRADATIONS)}, or A/B (two folders) or AB (side-by-side images).")


def quantise(x: torch.Tensor) -> torch.Tensor:
    """Round [-1,1] floats to the 256 levels of uint8 (what a saved PNG holds), clamped."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


def degrade(x: torch.Tensor, d: Degradation, draws: torch.Tensor | None = None) -> torch.Tensor:
    """The input made from targets ``x`` (N,C,H,W) in [-1,1] by ``d``.

    ``draws``: (N, k) values from a seeded generator, k and distribution as
    :meth:`Degradation.draws` says (uniform in [-1,1) for ``mask``, standard normal for
    ``noise``); ignored by the deterministic degradations."""
    if d.name == "downsample":
        # antialias=True low-passes before subsampling (PIL's/MATLAB's imresize behaviour);
        # without it bicubic decimation aliases, which is not the SRGAN training degradation.
        h, w = x.shape[-2] // d.factor, x.shape[-1] // d.factor
        out = F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
    elif d.name == "edges":
        p = (x + 1) / 2  # on [0,1], so the edge map is >= 0
        edge = F.max_pool2d(p, 3, stride=1, padding=1) - p  # grey dilation minus the image
        out = edge * 2 - 1
    elif d.name == "gray":
        wts = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        out = (x * wts).sum(1, keepdim=True)  # luma of [-1,1] values is in [-1,1] (the weights sum to 1)
    elif d.name == "mask":
        n, _, h, w = x.shape
        s = max(1, min(h, w) // 2)
        u = (draws[:n, :2].to(x.device) + 1) / 2  # [0,1)
        top = (u[:, 0] * (h - s + 1)).floor().long().clamp_(0, h - s)
        left = (u[:, 1] * (w - s + 1)).floor().long().clamp_(0, w - s)
        rows = torch.arange(h, device=x.device).view(1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w)
        hole = ((rows >= top.view(n, 1, 1)) & (rows < (top + s).view(n, 1, 1))
                & (cols >= left.view(n, 1, 1)) & (cols < (left + s).view(n, 1, 1)))
        out = x.masked_fill(hole.unsqueeze(1), 0.0)  # mid-grey: unlike black, it differs from MNIST's background
    elif d.name == "noise":
        n = x.shape[0]
        eps = draws[:n].to(x.device).view_as(x)
        out = x + 2 * d.sd * eps  # sd S on [0,1] is 2S on [-1,1]
    else:  # parse_degradation admits no other name
        raise ConfigError(f"unknown degradation {d.name!r}.")
    return quantise(out)


def degrade_seeded(x: torch.Tensor, d: Degradation, seed: int) -> torch.Tensor:
    """:func:`degrade` with its draws taken from ``torch.Generator().manual_seed(seed)``,
    in the order the training :class:`~ganforge.data.batches.Feed` takes them (one (N, k)
    block): the test split's inputs."""
    k, kind = d.draws(tuple(x.shape[1:]))
    draws = None
    if k:
        from ganforge.models.noise import sample_z

        draws = sample_z(len(x), k, kind, torch.Generator().manual_seed(seed))
    return degrade(x, d, draws)
