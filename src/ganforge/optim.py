"""Everything that owns a ``torch.optim`` optimizer outside a task's step: the optimizer
factory the tasks use, the small fit loop of the internal classifiers, and latent-code
optimisation (GAN inversion). It sits below the tasks and the harness (DESIGN.md), so
eval and latent tools can fit a classifier without importing training code."""

from __future__ import annotations

from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.config import OptimConfig


def make_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Adam and SGD use the fused kernels (one kernel for all parameters; measured 3x faster
    than ``foreach`` for Adam on the 2-core CPU, docs/training.md); RMSprop has no fused
    kernel and uses ``foreach``."""
    params = list(params)
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), fused=True)
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, fused=True)
    return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, foreach=True)


Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def fit_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 500, batch_size: int = 64,
                   lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0, augment: Augment | None = None,
                   extra: tuple[torch.Tensor, torch.Tensor] | None = None, real_fraction: float = 0.5,
                   epochs: int | None = None, schedule: str = "cosine") -> nn.Module:
    """Train ``model`` (x (N,C,H,W) float in [-1,1], y (N,) int64) with Adam; returns the
    model in eval mode. The loss is cross-entropy, or the logistic loss when the model has
    a single output column (a two-sample test's real-vs-generated logit, y in {0, 1}).

    Batches: by default ``steps`` batches of seeded draws with replacement from the whole
    set, the cheapest way to serve a few real images many times. With ``epochs``, instead
    ``epochs`` passes over a fresh seeded permutation each (the last batch may be
    smaller), so every image is seen equally often, as a metric's classifier wants.

    ``schedule``: "cosine" (decay to 0) or "onecycle" (Smith & Topin, "Super-Convergence":
    warm up, then anneal; converges in a few epochs). ``augment(batch, generator)``: applied to the real
    part of every batch. ``extra``: (x_extra, y_extra) mixed into every batch: each batch
    takes ``real_fraction`` of its items from (x, y) and the rest from ``extra``, so a few
    real images are not drowned by thousands of synthetic ones (draws only).

    All randomness is seeded by ``seed`` (batches, augmentation, dropout); the global RNG
    is left as it was."""
    if schedule not in ("cosine", "onecycle"):
        raise ValueError(f"schedule must be 'cosine' or 'onecycle', got {schedule!r}")
    if epochs is not None and extra is not None:
        raise ValueError("extra (mixed batches) needs random draws; leave epochs unset")
    gen = torch.Generator().manual_seed(seed)
    if epochs is None:
        total = steps
    else:
        total = max(1, epochs * -(-len(x) // batch_size))  # OneCycleLR refuses 0 steps
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout draws
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        if schedule == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
        else:
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total)
        n_real = batch_size if extra is None else max(1, round(real_fraction * batch_size))
        model.train()
        for i in _batch_indices(len(x), n_real, gen, steps, epochs):
            xb, yb = x[i], y[i]
            if augment is not None:
                xb = augment(xb, gen)
            if extra is not None and batch_size > n_real:
                j = torch.randint(len(extra[0]), (batch_size - n_real,), generator=gen)
                xb, yb = torch.cat([xb, extra[0][j]]), torch.cat([yb, extra[1][j]])
            out = model(xb)
            if out.shape[1] == 1:
                loss = F.binary_cross_entropy_with_logits(out[:, 0], yb.float())
            else:
                loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def _batch_indices(n: int, batch_size: int, gen: torch.Generator, steps: int,
                   epochs: int | None) -> Iterator[torch.Tensor]:
    # Lazy, so the draws interleave with augment's and extra's on the one generator in
    # batch order: a permutation is drawn when its epoch's first batch is asked for.
    if epochs is None:
        for _ in range(steps):
            yield torch.randint(n, (batch_size,), generator=gen)
        return
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            yield perm[start:start + batch_size]


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of argmax predictions equal to ``y``; leaves the model in eval mode."""
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
    return correct / len(x)


def optimize_latents(z0: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], steps: int = 300,
                     lr: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise ``loss_fn(z) -> (M,)`` per-sample losses over z, starting from ``z0`` (M, d):
    GAN inversion. The networks stay frozen; only ``z`` is a leaf with a gradient.

    Adam is elementwise, so optimising the *sum* moves every row of z exactly as if it
    were optimised on its own (the networks must treat samples independently: eval mode).
    Returns (z at the lowest loss seen per row, that loss), both detached.
    """
    z = z0.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    best_z = z.detach().clone()
    best = torch.full((len(z),), float("inf"), device=z.device)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(z)
        with torch.no_grad():
            better = loss < best
            best = torch.where(better, loss.detach(), best)
            best_z[better] = z.detach()[better]
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        loss = loss_fn(z)
        better = loss < best
        best = torch.where(better, loss, best)
        best_z[better] = z.detach()[better]
    return best_z, best
