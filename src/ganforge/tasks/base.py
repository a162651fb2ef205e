"""The contract between the training harness and a model family.

A :class:`Task` is one model family (GAN, VAE, ...). Constructing it *is* the build step:
it makes its modules and optimizers from its own config section and the data's shape.
The harness then only ever calls :meth:`Task.step`, :meth:`Task.preview`,
:meth:`Task.sampler` and :meth:`Task.health`, and saves ``modules`` and ``optimizers`` in
checkpoints. It never looks inside: a new family is one new file (docs/architecture.md).

Rules every task keeps (DESIGN.md):
- ``step`` is the only code that steps the task's optimizers; it returns *detached*
  device tensors (no ``.item()``: that is a host sync, done once per log window);
- every random draw in ``step`` comes from the :class:`~ganforge.data.batches.Feed` or
  the global torch RNG (seeded by the harness), so a resume is bit-exact;
- schedules (learning rate, stage, α) are pure functions of ``step``;
- modules keep the names they are checkpointed under, so checkpoints stay loadable.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from ganforge.config import Config
from ganforge.data.batches import Feed
from ganforge.data.training import DataSpec
from ganforge.ranks import Dist
from ganforge.sampler import Sampler


class Task(ABC):
    """One model family, built for one run. Subclasses set ``modules`` and ``optimizers``
    in ``__init__`` (exactly what a checkpoint saves, under these names)."""

    #: metrics.jsonl key -> progress-bar label, for the statistics this family reports.
    progress: ClassVar[dict[str, str]] = {}
    #: True: at the end the harness also writes ``samples/progress.gif``, the run's progress
    #: grids (``samples/step-*.png``) in order, e.g. to watch a progressive GAN grow.
    animate: ClassVar[bool] = False

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist: Dist | None = None):
        self.cfg, self.spec, self.device = cfg, spec, device
        self.dist = dist if dist is not None else Dist()  # average each network's gradients before its step
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        bf16 = cfg.train.bf16
        self.autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def update(self, opt: torch.optim.Optimizer, loss: torch.Tensor, *modules: nn.Module) -> None:
        """One optimizer step on ``loss``: fresh gradients, averaged over ranks for ``modules``
        (nothing to do on one process), then the step. Called only from a task's ``step``."""
        opt.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(*modules)
        opt.step()

    @abstractmethod
    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        """One training step (0-based ``step``): draw what it needs from ``feed``, update the
        networks, return detached statistics keyed as in metrics.jsonl."""

    @property
    def images_per_step(self) -> int:
        """Real images one step consumes (for img/s)."""
        return self.cfg.train.batch_size

    @abstractmethod
    def preview(self) -> tuple[torch.Tensor, int]:
        """(images (N,C,H,W) in the model's range, images per row) for the progress grid,
        from inputs fixed when the task was built, so successive grids show learning.
        Must not change any training RNG."""

    @abstractmethod
    def sampler(self) -> Sampler:
        """The model as a :class:`~ganforge.sampler.Sampler` (shares the live weights)."""

    def state(self) -> dict:
        """JSON-able facts a checkpoint's ``state.json`` records for rebuilding the sampler."""
        return {}

    def before_snapshot(self, step: int) -> None:
        """Called by the harness before it saves a checkpoint, writes a grid or evaluates after
        ``step`` steps: bring state derived from the weights up to date (the GAN's EMA BatchNorm
        statistics); nothing by default. Must not change any training RNG or anything the next
        step reads."""

    def extra_grids(self, step: int) -> list[str]:
        """Names of extra progress grids to keep after ``step`` steps, as ``samples/<name>.png``
        (e.g. the end of a progressive stage); none by default."""
        return []

    def health(self, row: dict, step: int) -> list[str]:
        """Warnings this family raises from one metrics row (e.g. "D wins"); none by default."""
        return []

    def train_mode(self) -> None:
        """Put every module in the mode training starts in."""
        for module in self.modules.values():
            module.train()

    @classmethod
    @abstractmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True,
                     device: str | torch.device = "cpu") -> Sampler:
        """Rebuild the sampler from a checkpoint written by this task (``state.json`` and
        ``model.safetensors`` in ``ckpt``), in eval mode on ``device``."""


def state_fields(state: dict, **convert) -> list:
    """``convert(state[key])`` for each ``key=convert``, in order: the ``state.json`` entries a
    sampler is rebuilt from. A missing or malformed one is refused in one sentence."""
    from ganforge.errors import CheckpointError

    try:
        return [f(state[k]) for k, f in convert.items()]
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint state.json lacks {exc}; it was not written by ganforge train.") from None


def load_generator_net(cfg: Config, state: dict, ckpt: Path, name: str, device) -> nn.Module:
    """The generator network ``name`` ("G", "G_ema") of a checkpoint, built from its config
    and ``state.json`` (image shape, classes, output activation) and loaded strictly."""
    from ganforge import checkpoint
    from ganforge.errors import CheckpointError
    from ganforge.models import build_generator

    try:
        G = build_generator(cfg.model, tuple(state["img_shape"]), state["num_classes"], state["output"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint state.json lacks {exc}; it was not written by ganforge train.") from None
    checkpoint.load_module_weights(ckpt, name, G)
    return G.to(device)


def fast_forwards(cfg: Config, spec: DataSpec, *nets: nn.Module) -> list[nn.Module]:
    """The GPU options of ``train``: channels_last memory format for convolutional networks
    (in place), and ``torch.compile``d forwards that share the networks' parameters (the
    eager networks stay for checkpoints, the EMA and the penalty's double backward)."""
    if cfg.train.channels_last and len(spec.shape) == 3:
        for net in nets:
            net.to(memory_format=torch.channels_last)
    return [torch.compile(net) if cfg.train.compile else net for net in nets]
