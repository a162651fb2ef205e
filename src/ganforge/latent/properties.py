"""Interpretable image properties of a digit, as differentiable torch functions.

Every property is computed from the *ink* image ``a`` in [0, 1] (0 = background,
1 = full ink; MNIST digits are white ink on black), so it applies to uint8 images and
to a generator's output alike, and every one of them is differentiable in the pixels,
so it can also be a steering target ("make the strokes thicker").

With pixel coordinates (column x, row y), ink mass ``m00 = sum a`` and the central
moments ``mu20, mu02, mu11`` of the ink distribution:

- ``ink``: ``m00``, the amount of ink in pixel units (a full 3×4 block has ink 12).
- ``slant``: the shear ``s = -mu11 / mu02``, how many columns the stroke moves right per
  row upward (the deskewing measure of LeCun et al. 1998 / Simard et al.); reported as
  the angle ``atan(s)`` in degrees, positive = leaning right, 0 = upright.
- ``width``: the horizontal extent after removing the slant,
  ``sqrt(12 (mu20 - mu11**2 / mu02) + 1)``: a uniform block w columns wide has
  variance ``(w**2 - 1) / 12`` across its columns, so the formula returns exactly w for
  it, and a sheared block keeps the width of the upright one.
- ``thickness``: the stroke width t of a ribbon with area A and perimeter P:
  a t × L rectangle has ``A = tL`` and ``P = 2(t + L)``, so t is the smaller root of
  ``t**2 - (P/2) t + A = 0``. P is the image's total variation (for a binary image:
  exactly the number of ink/background pixel edges), A is the ink mass. Exact for a
  binary rectangle, close for any long stroke; for blob-like shapes where the root is
  complex it falls back to ``P / 4`` (a square).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from ganforge.data.batches import to_model_range

PROPERTY_UNITS = {"ink": "px", "thickness": "px", "slant": "deg", "width": "px"}
_EPS = 1e-6


def to_ink(x: torch.Tensor | np.ndarray, scaling: str = "tanh") -> torch.Tensor:
    """Images -> ink (N, H, W) float in [0, 1].

    uint8 arrays/tensors (N,H,W) or (N,1,H,W) are divided by 255; float tensors are a
    model's output: in [-1, 1] for ``scaling="tanh"``, in [0, 1] for ``"sigmoid"``.
    Multi-channel images are averaged over channels.
    """
    t = torch.as_tensor(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x
    if t.dtype == torch.uint8:
        t = to_model_range(t, "sigmoid")  # ink is the [0, 1] ("sigmoid") scale
    elif scaling == "tanh":
        # Float to float, not through to_uint8: properties are steering targets, and
        # quantising to uint8 would cut the gradient.
        t = (t.float() + 1.0) / 2.0
    else:
        t = t.float()
    if t.ndim == 4:
        t = t.mean(1)
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3:
        raise ValueError(f"expected images (N,H,W) or (N,C,H,W), got shape {tuple(t.shape)}")
    return t


def _moments(a: torch.Tensor) -> tuple[torch.Tensor, ...]:
    n, h, w = a.shape
    ys = torch.arange(h, dtype=a.dtype, device=a.device)[:, None]
    xs = torch.arange(w, dtype=a.dtype, device=a.device)[None, :]
    m00 = a.sum((1, 2))
    mass = m00.clamp_min(_EPS)
    cx = (a * xs).sum((1, 2)) / mass
    cy = (a * ys).sum((1, 2)) / mass
    dx = xs[None] - cx[:, None, None]
    dy = ys[None] - cy[:, None, None]
    mu20 = (a * dx * dx).sum((1, 2)) / mass
    mu02 = (a * dy * dy).sum((1, 2)) / mass
    mu11 = (a * dx * dy).sum((1, 2)) / mass
    return m00, mu20, mu02, mu11


def ink(a: torch.Tensor) -> torch.Tensor:
    """(N,H,W) ink -> (N,) ink mass in pixel units."""
    return a.sum((1, 2))


def slant(a: torch.Tensor) -> torch.Tensor:
    """(N,H,W) ink -> (N,) slant in degrees, positive = top leans right."""
    _, _, mu02, mu11 = _moments(a)
    # Rows grow downward, so a right-leaning stroke has x decreasing as y grows: -mu11.
    return torch.rad2deg(torch.atan(-mu11 / mu02.clamp_min(_EPS)))


def width(a: torch.Tensor) -> torch.Tensor:
    """(N,H,W) ink -> (N,) deslanted horizontal extent in pixels."""
    _, mu20, mu02, mu11 = _moments(a)
    resid = (mu20 - mu11 * mu11 / mu02.clamp_min(_EPS)).clamp_min(0.0)
    return torch.sqrt(12.0 * resid + 1.0)


def perimeter(a: torch.Tensor) -> torch.Tensor:
    """(N,H,W) ink -> (N,) total variation with a zero border (binary: boundary edge count)."""
    p = torch.nn.functional.pad(a, (1, 1, 1, 1))
    return (p[:, 1:, :] - p[:, :-1, :]).abs().sum((1, 2)) + (p[:, :, 1:] - p[:, :, :-1]).abs().sum((1, 2))


def thickness(a: torch.Tensor) -> torch.Tensor:
    """(N,H,W) ink -> (N,) stroke thickness in pixels (exact for binary rectangles)."""
    area, half_p = ink(a), perimeter(a) / 2.0
    disc = half_p * half_p - 4.0 * area
    root = (half_p - torch.sqrt(disc.clamp_min(_EPS))) / 2.0
    return torch.where(disc > 0, root, half_p / 2.0)


PROPERTIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ink": ink, "thickness": thickness, "slant": slant, "width": width,
}


def property_scorer(name: str, scaling: str = "tanh", sign: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """A differentiable scorer x (N,C,H,W) in the model's range -> (N,) for :func:`steer`.

    ``sign=-1`` steers toward *less* of the property (thinner, less ink, ...)."""
    if name not in PROPERTIES:
        from ganforge.errors import ConfigError

        raise ConfigError(f"unknown property {name!r}; choose one of: {', '.join(PROPERTIES)}.")
    fn = PROPERTIES[name]
    return lambda x: sign * fn(to_ink(x, scaling))


@torch.no_grad()
def measure(images: torch.Tensor | np.ndarray, scaling: str = "tanh", names=None) -> dict[str, np.ndarray]:
    """All properties of a batch: {name: (N,) float64}. uint8 or model-range images."""
    a = to_ink(images, scaling)
    return {k: PROPERTIES[k](a).double().numpy() for k in (names or PROPERTIES)}


def slant_degrees(shear: float) -> float:
    """The angle the ``slant`` property reports for a shear of ``shear`` columns per row."""
    return math.degrees(math.atan(shear))
