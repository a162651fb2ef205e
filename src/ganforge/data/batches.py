"""The training set on the device as one tensor, served in seeded random batches.

Small datasets (MNIST is 47 MB as uint8) fit on any device, so a batch is a single
``index_select`` from a permutation drawn with a private ``torch.Generator``: no
per-item Python, no worker processes, and a position that can be saved and resumed
exactly. Scaling to the model's range happens on the device, batched.
"""

from __future__ import annotations

import numpy as np
import torch


SCALINGS = ("tanh", "sigmoid")


def to_model_range(x: torch.Tensor, scaling: str = "tanh") -> torch.Tensor:
    """uint8 [0,255] -> float32 in [-1,1] ("tanh", the lecture's default) or [0,1]
    ("sigmoid"). Float tensors (e.g. a standardised 1-D column) pass through."""
    if x.dtype != torch.uint8:
        return x.float()
    x = x.float()
    return x / 127.5 - 1.0 if scaling == "tanh" else x / 255.0


def to_uint8(x: torch.Tensor, scaling: str = "tanh") -> torch.Tensor:
    """Inverse of :func:`to_model_range` for images: float -> uint8 [0,255]."""
    x = (x + 1.0) * 127.5 if scaling == "tanh" else x * 255.0
    return x.round().clamp_(0, 255).to(torch.uint8)


def images_to_nchw(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W) or (N,H,W,C) -> uint8 tensor (N,C,H,W)."""
    t = torch.from_numpy(np.ascontiguousarray(images))
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()


class DeviceBatcher:
    """Seeded, resumable batches from tensors that live on ``device``.

    ``x``: (N, ...) uint8 images (N,C,H,W) or float rows; ``y``: (N,) int64 or None.
    Every epoch draws a fresh permutation; the incomplete last batch is dropped so every
    step sees ``batch_size`` items. With ``world_size`` ranks a step consumes one *global*
    batch of ``world_size × batch_size`` items of the permutation and this rank keeps its
    slice, so the ranks together see exactly what one process with the global batch sees.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int, seed: int, device="cpu",
                 rank: int = 0, world_size: int = 1):
        if batch_size * world_size > len(x):
            batch_size = max(1, len(x) // world_size)
        self.x = x.to(device)
        self.y = None if y is None else y.to(device)
        self.batch_size = batch_size
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.gen = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.pos = 0
        self._new_epoch()

    def _new_epoch(self) -> None:
        self._epoch_state = self.gen.get_state()
        self.perm = torch.randperm(len(self.x), generator=self.gen).to(self.device)
        self.pos = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        step = self.batch_size * self.world_size
        if self.pos + step > len(self.x):
            self.epoch += 1
            self._new_epoch()
        start = self.pos + self.rank * self.batch_size
        idx = self.perm[start: start + self.batch_size]
        self.pos += step
        return self.x.index_select(0, idx), None if self.y is None else self.y.index_select(0, idx)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "gen_state": self._epoch_state.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["gen_state"])
        self._new_epoch()
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])


class Feed:
    """What a task's training step draws from: real batches and noise, seeded and resumable.

    Written for data parallelism (DESIGN.md): every rank draws the *global* batch of noise
    (``world_size`` × ``batch_size`` rows) from the same generator and keeps its own slice,
    so the union over ranks is one seeded draw whatever the number of processes. With one
    process (today) the slice is the whole draw, so these are exactly the draws the loop
    made before tasks existed. ``batch_size`` is the per-rank batch of the config (not
    clamped to a small dataset's size, as the real batches are)."""

    def __init__(self, batcher: DeviceBatcher, batch_size: int, noise_seed: int, device="cpu",
                 rank: int = 0, world_size: int = 1):
        self.batcher = batcher
        self.batch_size = batch_size
        self.noise_gen = torch.Generator().manual_seed(noise_seed)
        self.device = torch.device(device)
        self.rank, self.world_size = rank, world_size

    def batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next real batch on the device: uint8 (B,C,H,W) images or float rows, and labels."""
        return self.batcher.next()

    def _mine(self, x: torch.Tensor | None) -> torch.Tensor | None:
        if x is None or self.world_size == 1:
            return x
        return x[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]

    def z(self, z_dim: int, kind: str = "gaussian") -> torch.Tensor:
        """(batch_size, z_dim) noise on the device: this rank's slice of one global draw."""
        from ganforge.models.noise import sample_z

        return self._mine(sample_z(self.batch_size * self.world_size, z_dim, kind, self.noise_gen, self.device))

    def normal(self, shape: tuple[int, ...]) -> torch.Tensor:
        """(batch_size, *shape) standard normal noise on the device (e.g. instance noise),
        this rank's slice of one global draw like :meth:`z`."""
        g = torch.randn(self.batch_size * self.world_size, *shape, generator=self.noise_gen)
        return self._mine(g.to(self.device))

    def labels(self, num_classes: int) -> torch.Tensor | None:
        """(batch_size,) uniform class labels (None when unconditional), sliced like :meth:`z`."""
        from ganforge.models.noise import sample_labels

        return self._mine(sample_labels(self.batch_size * self.world_size, num_classes, self.noise_gen, self.device))

    def state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """(JSON-able position, RNG tensors) for a checkpoint."""
        b = self.batcher.state_dict()
        return {"epoch": b["epoch"], "pos": b["pos"]}, {"noise": self.noise_gen.get_state(), "batcher": b["gen_state"]}

    def load_state(self, position: dict, rng: dict[str, torch.Tensor]) -> None:
        self.noise_gen.set_state(rng["noise"])
        self.batcher.load_state_dict({"epoch": position["epoch"], "pos": position["pos"], "gen_state": rng["batcher"]})
