"""Train a small image classifier (for the augmentation experiment and for steering
toward classes on data the shipped MNIST classifier does not read).

Lives in ``training/`` because it holds an optimizer (DESIGN.md). The whole training set
is one tensor; batches are index-selects from seeded draws. With ``extra`` (e.g.
synthetic images from a conditional GAN), every batch takes ``real_fraction`` of its
items from the real set and the rest from ``extra``, so a few real images are not
drowned by thousands of synthetic ones.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def fit_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 500, batch_size: int = 64,
                   lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0, augment: Augment | None = None,
                   extra: tuple[torch.Tensor, torch.Tensor] | None = None, real_fraction: float = 0.5) -> nn.Module:
    """Train ``model`` (x (N,C,H,W) float in [-1,1], y (N,) int64) with Adam and a cosine
    learning-rate decay; returns the model in eval mode.

    ``augment(batch, generator)``: applied to the real part of every batch.
    ``extra``: (x_extra, y_extra) mixed into every batch (see module docstring)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout draws
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        n_real = batch_size if extra is None else max(1, round(real_fraction * batch_size))
        model.train()
        for _ in range(steps):
            i = torch.randint(len(x), (n_real,), generator=gen)
            xb, yb = x[i], y[i]
            if augment is not None:
                xb = augment(xb, gen)
            if extra is not None and batch_size > n_real:
                j = torch.randint(len(extra[0]), (batch_size - n_real,), generator=gen)
                xb, yb = torch.cat([xb, extra[0][j]]), torch.cat([yb, extra[1][j]])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
    return correct / len(x)
