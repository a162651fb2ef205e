"""Model families as tasks, registered by name: the registry's keys are the values of
``Config.kind`` (``--set kind=...``) and of a preset's ``kind``.

Each family is one file: it builds its networks and optimizers, runs one training step,
renders its preview, and hands out a :class:`~ganforge.sampler.Sampler`. The training
harness (``ganforge.training``) only talks to :class:`~ganforge.tasks.base.Task`.
"""

from __future__ import annotations

from ganforge.registry import Registry
from ganforge.tasks.base import DataSpec, Task
from ganforge.tasks.gan import GANTask
from ganforge.tasks.pixelcnn import PixelCNNTask
from ganforge.tasks.progressive import ProgressiveTask
from ganforge.tasks.vae import VAETask
from ganforge.tasks.pix2pix import Pix2PixTask  # image to image (issue 15)
from ganforge.tasks.srgan import SRGANTask

TASKS: Registry = Registry("task")
TASKS.add("gan", GANTask)
TASKS.add("vae", VAETask)
TASKS.add("pixelcnn", PixelCNNTask)
TASKS.add("progressive", ProgressiveTask)
TASKS.add("pix2pix", Pix2PixTask)
TASKS.add("srgan", SRGANTask)


def get_task(kind: str) -> type[Task]:
    return TASKS.get(kind)


__all__ = ["TASKS", "Task", "DataSpec", "get_task", "GANTask", "VAETask"]
