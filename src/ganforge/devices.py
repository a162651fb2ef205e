"""Which device a run or a command may use: the one check of ``train.device`` / ``--device``
against this machine.

``ganforge.config`` checks the spelling (``cpu``, ``cuda``, ``cuda:N``, ``mps``) without
importing torch; this module checks that the device exists here, before any data is moved,
any network is built or any file is written, so that ``--device cuda`` on a machine without
a GPU is one sentence instead of a traceback from deep inside torch.
"""

from __future__ import annotations

import torch

from ganforge.config import DEVICE_PATTERN
from ganforge.errors import ConfigError

__all__ = ["require_device"]


def require_device(spec: str | torch.device, what: str = "train.device") -> torch.device:
    """``spec`` as a :class:`torch.device` that this machine has, or a one-sentence
    :class:`~ganforge.errors.ConfigError` (``what`` names the setting in the message).

    Accepts ``cpu``, ``cuda``, ``cuda:N`` with N below the number of GPUs, and ``mps`` where
    the Metal backend is available."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    if not isinstance(spec, str) or not DEVICE_PATTERN.fullmatch(spec):
        raise ConfigError(f"{what}={spec!r} is not a device; use cpu, cuda, cuda:N (N = GPU index) or mps.")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{what}={spec!r} asks for a GPU, but torch sees no CUDA device on this machine "
                              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); use cpu.")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(f"{what}={spec!r} names GPU {device.index}, but this machine has {count} "
                              f"(cuda:0..cuda:{count - 1}); pick one of those.")
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError(f"{what}={spec!r} asks for Apple's Metal backend, which this machine's torch does not "
                              "have; use cpu.")
    return device
