"""A diversity term for G: the mode-seeking regulariser (Mao et al. 2019, MSGAN). Pure."""

from __future__ import annotations

import torch

EPS = 1e-5  # MSGAN's ``eps`` in 1 / (lz + eps)


def same_label_pairs(y: torch.Tensor | None, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint pairs (a[k], b[k]) of batch indices that share a label: within each class the
    samples are paired in batch order (1st with 2nd, 3rd with 4th, ...), an odd one out is left
    unpaired. Unconditional (``y`` None): the first half of the batch with the second.

    MSGAN draws the pairs as two z for one label; pairing the batch's own samples keeps the
    batch (and its label shares) exactly as the D step sees it, so it also works with
    ``task.reuse_fake``."""
    if y is None:
        half = n // 2
        idx = torch.arange(2 * half)
        return idx[:half], idx[half:]
    order = torch.argsort(y, stable=True)
    ys = y[order]
    rank = torch.arange(n, device=y.device) - torch.searchsorted(ys, ys)  # position within its class
    k = torch.nonzero((rank[:-1] % 2 == 0) & (ys[:-1] == ys[1:])).flatten()
    return order[k], order[k + 1]


def mode_seeking_term(fake: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """MSGAN's term for G to minimise: 1 / (mean|G(z1,y) - G(z2,y)| / mean|z1 - z2| + eps) over
    the batch's same-label pairs (the ratio of the two mean absolute differences, as their
    code computes it). Large when two latent codes of one class give the same image, i.e. when
    G drops modes; 0 when the batch holds no pair."""
    a, b = same_label_pairs(y, len(fake))
    if len(a) == 0:
        return fake.new_zeros(())
    images = (fake[a] - fake[b]).abs().mean()
    codes = (z[a] - z[b]).abs().mean().detach()
    return 1.0 / (images / codes + EPS)
