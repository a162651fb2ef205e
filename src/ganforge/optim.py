"""Everything that owns a ``torch.optim`` optimizer outside a task's step: the optimizer
factory the tasks use, the small fit loop of the internal classifiers, and latent-code
optimisation (GAN inversion). It sits below the tasks and the harness (DESIGN.md), so
eval and latent tools can fit a classifier without importing training code."""

from __future__ import annotations

import torch

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
