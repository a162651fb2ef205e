"""The gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu
2016, "Conditional Image Generation with PixelCNN Decoders"): an autoregressive model

    p(x) = prod_i p(x_i | x_1 .. x_{i-1})       (pixels i in raster order)

whose every conditional is one output of a single convolutional network, so training is
one forward pass and the likelihood is exact.

Causality comes from the shapes of the convolutions, not from a graph of pixels:

- the **vertical stack** sees the rows strictly above the current one: its kernel is
  (p+1) x (2p+1), padded so that output row r covers input rows r-p .. r, and on the first
  layer (**mask A**) the kernel row aligned with row r is zeroed; later layers (**mask B**)
  may look at row r of the vertical features, which themselves only saw rows above it;
- the **horizontal stack** sees the current row to the left: a 1 x (p+1) kernel covering
  columns c-p .. c, with column c zeroed on the first layer (mask A) only;
- the vertical features enter the horizontal stack through a 1x1 convolution at each
  layer; the opposite direction would leak the future, so it does not exist.

Two stacks remove the plain PixelCNN's **blind spot** (van den Oord et al. 2016, Fig. 1):
a stack of masked 3x3 convolutions never sees the pixels above and to the right of the
receptive field's diagonal; the vertical stack's kernel spans the full width above.

Each layer is gated, ``tanh(W_f * x + V_f h) * sigmoid(W_g * x + V_g h)`` (their Eq. 2 and
4), where ``h`` is an embedding of the class for the conditional model. The horizontal
stack has a residual connection from layer 2 on (mask A's input is the image itself,
whose pixel i must not reach output i).

Colour images: the channels of one pixel are modelled as independent given the earlier
pixels (no R -> G -> B masking inside a pixel), a simplification that keeps the
likelihood exact and normalised.

Output heads (``likelihood``): "categorical", a 256-way softmax per pixel and channel over
the 8-bit values (van den Oord et al. 2016a, "Pixel Recurrent Neural Networks", Sec. 5.3,
found it better than a continuous density); "bernoulli", one logit per pixel for
binarised images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: values a pixel can take under each likelihood.
LEVELS = {"categorical": 256, "bernoulli": 2}


def gate(a: torch.Tensor) -> torch.Tensor:
    """tanh(first half) * sigmoid(second half) over channels (van den Oord et al. 2016, Eq. 2)."""
    f, g = a.chunk(2, dim=1)
    return torch.tanh(f) * torch.sigmoid(g)


class GatedLayer(nn.Module):
    """One gated layer: (vertical, horizontal) feature maps -> (vertical, horizontal).

    ``mask``: "A" (first layer: the current pixel is hidden) or "B" (later layers)."""

    def __init__(self, mask: str, in_ch: int, ch: int, kernel: int, num_classes: int = 0):
        super().__init__()
        if kernel < 3 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd and >= 3, got {kernel}")
        p = kernel // 2
        self.mask_type, self.residual = mask, mask == "B"
        self.v_conv = nn.Conv2d(in_ch, 2 * ch, (p + 1, kernel), padding=(p, p))
        self.h_conv = nn.Conv2d(in_ch, 2 * ch, (1, p + 1), padding=(0, p))
        self.v_to_h = nn.Conv2d(2 * ch, 2 * ch, 1)
        self.h_out = nn.Conv2d(ch, ch, 1)
        self.embed = nn.Embedding(num_classes, 2 * ch) if num_classes else None
        v_mask, h_mask = torch.ones_like(self.v_conv.weight), torch.ones_like(self.h_conv.weight)
        if mask == "A":
            v_mask[:, :, -1] = 0      # the kernel row aligned with the current row
            h_mask[:, :, :, -1] = 0   # the current pixel itself
        # Buffers, not a one-off zeroing of the weights: the optimizer could not bring a masked weight back.
        self.register_buffer("v_mask", v_mask, persistent=False)
        self.register_buffer("h_mask", h_mask, persistent=False)

    def vertical(self, v: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertical stack: (its output, its contribution to the horizontal stack incl. the
        class bias). Row r of both depends on input rows above r only."""
        # Padding p on both sides then cropping keeps output row r on input rows r-p..r (and, in
        # :meth:`horizontal`, column c on columns c-p..c): the causal half of a "same" convolution.
        vf = F.conv2d(v, self.v_conv.weight * self.v_mask, self.v_conv.bias, padding=self.v_conv.padding)
        vf = vf[:, :, :v.shape[-2]]
        cond = 0.0 if self.embed is None else self.embed(y)[:, :, None, None]  # V h: the class as a bias (Eq. 4)
        return gate(vf + cond), self.v_to_h(vf) + cond

    def horizontal(self, h: torch.Tensor, from_v: torch.Tensor) -> torch.Tensor:
        """The horizontal stack, given the vertical stack's contribution ``from_v`` at the same positions."""
        hf = F.conv2d(h, self.h_conv.weight * self.h_mask, self.h_conv.bias, padding=self.h_conv.padding)
        h_new = self.h_out(gate(hf[..., :h.shape[-1]] + from_v))
        return h_new + h if self.residual else h_new

    def forward(self, v: torch.Tensor, h: torch.Tensor, y: torch.Tensor | None = None):
        v_out, from_v = self.vertical(v, y)
        return v_out, self.horizontal(h, from_v)


class GatedPixelCNN(nn.Module):
    """x (N,C,H,W) in [-1,1] -> logits: (N,256,C,H,W) for "categorical", (N,C,H,W) for
    "bernoulli". Output (c, r, col) depends only on pixels before (r, col) in raster order.

    ``layers`` gated layers (the first with mask A and ``first_kernel``), ``channels`` feature
    maps per stack, a ReLU 1x1 head of ``head`` channels, optional class conditioning."""

    def __init__(self, img_shape: tuple[int, int, int], channels: int = 32, layers: int = 5, kernel: int = 3,
                 first_kernel: int = 7, head: int = 64, num_classes: int = 0, likelihood: str = "categorical"):
        super().__init__()
        if likelihood not in LEVELS:
            raise ValueError(f"likelihood must be one of {sorted(LEVELS)}, got {likelihood!r}")
        self.img_shape, self.num_classes, self.likelihood = tuple(img_shape), num_classes, likelihood
        c = img_shape[0]
        self.levels = LEVELS[likelihood]
        self.layers = nn.ModuleList(
            [GatedLayer("A", c, channels, first_kernel, num_classes)]
            + [GatedLayer("B", channels, channels, kernel, num_classes) for _ in range(layers - 1)])
        # How far the receptive field reaches up, left and right (the first layer p1 = first_kernel // 2,
        # each later one p = kernel // 2 more): output (r, c) sees rows r-reach..r-1 over columns
        # c-reach..c+reach, and row r over columns c-reach..c-1 (tests/tasks/test_pixelcnn.py).
        self.reach = first_kernel // 2 + (layers - 1) * (kernel // 2)
        out = c * (self.levels if likelihood == "categorical" else 1)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, head, 1), nn.ReLU(), nn.Conv2d(head, out, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if bool(self.num_classes) != (y is not None):
            raise ValueError("pass class labels y exactly when the model is conditional")
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, y)
        return self._logits(h)

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        out = self.head(h)
        if self.likelihood == "categorical":
            n, _, height, width = out.shape
            return out.view(n, self.levels, -1, height, width)
        return out

    # Sampling in two halves. Row r of the vertical stack depends on the rows above r only, so it
    # is computed once per row (:meth:`row_context`); each pixel of the row then only needs the
    # horizontal stack over the pixels to its left (:meth:`pixel_logits`). The same numbers as
    # :meth:`forward` (tests/tasks/test_pixelcnn.py), at a fraction of the work.

    def row_context(self, rows: torch.Tensor, y: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``rows``: the input (N,C,h,W) whose last row is the row r to sample (its values are not
        read). -> per layer, the vertical stack's contribution to the horizontal stack at row r,
        (N,2*channels,1,W)."""
        v, context = rows, []
        for layer in self.layers:
            v, from_v = layer.vertical(v, y)
            context.append(from_v[:, :, -1:])
        return context

    def pixel_logits(self, row: torch.Tensor, context: list[torch.Tensor]) -> torch.Tensor:
        """``row``: (N,C,1,w) input pixels of row r ending at the pixel to sample (its value is not
        read); ``context``: :meth:`row_context` cut to the same columns. -> the logits of that
        last pixel, (N,256,C) or (N,C)."""
        h = row
        for layer, from_v in zip(self.layers, context):
            h = layer.horizontal(h, from_v)
        return self._logits(h[..., -1:])[..., 0, 0]


# ----------------------------------------------------------------------------- pixels <-> model

def to_input(levels: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Pixel values (0..255, or 0/1 when binarised) as the network's input in [-1,1]."""
    return levels.float() * (2.0 / (LEVELS[likelihood] - 1)) - 1.0


def binarize(images: torch.Tensor, how: str, uniform: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 images -> {0,1} int64. "threshold": fixed, 1 where the pixel is >= 128 (intensity
    >= 0.5); "dynamic": a fresh Bernoulli(intensity) draw, ``1[u < x/255]`` for the given
    uniforms ``u`` in [0,1) of the same shape (Salakhutdinov & Murray 2008 drew this once
    and kept it fixed; redrawing each time an image is seen is the dynamic binarisation of
    e.g. Burda et al. 2016)."""
    if how == "threshold":
        return (images >= 128).long()
    if how == "dynamic":
        if uniform is None:
            raise ValueError("dynamic binarisation needs uniform draws")
        return (uniform < images.float() / 255.0).long()
    raise ValueError(f"binarize must be 'threshold' or 'dynamic', got {how!r}")


def nll_per_image(logits: torch.Tensor, levels: torch.Tensor, likelihood: str) -> torch.Tensor:
    """-log p(x) in nats per image, (N,): the sum over pixels of the conditionals' negative
    log-probabilities. ``levels``: (N,C,H,W) int64 pixel values; ``logits`` from
    :class:`GatedPixelCNN` on the same images (float64 logits are kept in float64, for
    evaluation; anything else is computed in float32)."""
    logits = logits if logits.dtype == torch.float64 else logits.float()
    if likelihood == "categorical":
        nll = F.cross_entropy(logits, levels, reduction="none")
    else:
        nll = F.binary_cross_entropy_with_logits(logits, levels.to(logits.dtype), reduction="none")
    return nll.flatten(1).sum(1)


def bits_per_dim(nats_per_image: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """nats per image -> bits per dimension (pixel and channel): / (dims * ln 2)."""
    return nats_per_image / (dims * math.log(2))


__all__ = ["GatedPixelCNN", "GatedLayer", "LEVELS", "to_input", "binarize", "nll_per_image", "bits_per_dim", "gate"]
