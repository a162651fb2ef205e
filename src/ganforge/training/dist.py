"""Ranks: data-parallel training with torchrun, set up the way nanoGPT's ``train.py`` does
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE`` from torchrun's environment; one process per
device; the main process alone writes).

Why ``torch.distributed`` directly and not ``DistributedDataParallel``: a GAN has two
networks stepped in alternation, a G step that backpropagates *through* a frozen D, and
gradient penalties that need a double backward. DDP wraps one module and synchronises in
backward hooks, which is where its users hit trouble (a G step that leaves D's reducer
waiting, "Expected to mark a variable ready only once" with double backward, BatchNorm
buffers broadcast at every forward of D; see the issue trackers of stylegan2-ada-pytorch
and StudioGAN). Here each task averages each network's gradients explicitly, after its own
backward and before its own optimizer step -- stylegan2-ada's training loop does the same
with a flattened all-reduce -- so the maths is visible and the G step never touches D.

Rules the harness keeps with several ranks:
- every rank seeds the global torch RNG with the same seed, so initial weights and every
  draw from it (dropout, gradient-penalty interpolation) are in step across ranks; real
  batches and noise are drawn *globally* and sliced by rank (``Feed``), so 2 ranks × b see
  exactly what 1 process × 2b sees;
- gradients are averaged per network; buffers (BatchNorm statistics, spectral-norm vectors)
  are broadcast from rank 0 after every step, as DDP's ``broadcast_buffers`` does, so the
  EMA of G and every buffer stay identical on every rank;
- a stop (signal, early stop) goes through :meth:`Dist.agree`, the window's statistics
  through :meth:`Dist.mean` (so a NaN on one rank stops all), before anyone acts on them.
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as tdist

from ganforge.errors import ConfigError
from ganforge.ranks import Dist

#: Optional init method for process groups started without torchrun (tests use a file store).
INIT_ENV = "GANFORGE_DIST_INIT"


def from_environment(device: str) -> tuple[Dist, torch.device, bool]:
    """(ranks, this process's device, whether this call started the process group) from
    torchrun's environment; one process without it.

    ``device`` is the configured ``train.device``: "cuda" becomes ``cuda:LOCAL_RANK`` (one GPU
    per process, NCCL), "cpu" uses gloo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), torch.device(device), False
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device)
    if dev.type == "cuda":
        if torch.cuda.device_count() <= local_rank:
            raise ConfigError(f"rank {rank} wants GPU {local_rank} but this node has {torch.cuda.device_count()}; "
                              "start at most one process per GPU (torchrun --nproc_per_node).")
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    owned = not tdist.is_initialized()
    if owned:
        tdist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo",
                                 init_method=os.environ.get(INIT_ENV, "env://"), rank=rank, world_size=world,
                                 timeout=datetime.timedelta(minutes=int(os.environ.get("GANFORGE_DIST_TIMEOUT_MIN", "10"))))
    return Dist(rank, world, local_rank), dev, owned


def meet_before_exit(dist: Dist, timeout_s: float = 60.0) -> None:
    """On an error every rank raised at the same point (a NaN seen in the averaged statistics),
    wait for the others before tearing the process group down: a gloo rank that destroys its
    connections while its peer still uses them aborts ("terminate called without an active
    exception", seen in CI). A rank whose peers do not come gives up after ``timeout_s``."""
    if not (dist.active and tdist.is_initialized()):
        return
    try:
        if tdist.get_backend() == "gloo":
            tdist.monitored_barrier(timeout=datetime.timedelta(seconds=timeout_s))
        else:
            tdist.barrier()
    except Exception:  # the other ranks failed differently; leave anyway
        pass


def shutdown(dist: Dist) -> None:
    if dist.active and tdist.is_initialized():
        tdist.destroy_process_group()


def single_process() -> Dist:
    return Dist()


__all__ = ["Dist", "from_environment", "meet_before_exit", "shutdown", "single_process", "INIT_ENV"]
