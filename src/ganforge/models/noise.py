"""The generator's input: z ~ N(0, I) by default (the lecture: "sample from a Gaussian,
not a uniform"), or U(-1, 1); and class labels for conditional models."""

from __future__ import annotations

import torch


def sample_z(n: int, z_dim: int, kind: str = "gaussian", generator: torch.Generator | None = None,
             device="cpu") -> torch.Tensor:
    """(n, z_dim) float32 noise drawn with ``generator`` (on the CPU, so a seed gives the
    same z on every device), then moved to ``device``."""
    if kind == "gaussian":
        z = torch.randn(n, z_dim, generator=generator)
    else:
        z = torch.rand(n, z_dim, generator=generator) * 2 - 1
    return z.to(device)


def sample_labels(n: int, num_classes: int, generator: torch.Generator | None = None, device="cpu",
                  prior=None) -> torch.Tensor | None:
    """(n,) int64 class labels drawn with ``generator``: uniformly, or with the probabilities
    ``prior`` (K,) when given; None when ``num_classes`` is 0."""
    if not num_classes:
        return None
    if prior is None:
        return torch.randint(num_classes, (n,), generator=generator).to(device)
    p = torch.as_tensor(prior, dtype=torch.float64)
    return torch.multinomial(p, n, replacement=True, generator=generator).to(device)
