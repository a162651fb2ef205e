"""The collective operations of data-parallel training, as one small object a task and
the harness both use: average gradients, broadcast buffers, agree on a stop, average a
statistic. With one process every method is a no-op, so single-process code pays nothing.

It lives below the tasks (they call :meth:`Dist.average_gradients` between their own
backward and optimizer step); setting up the process group from torchrun's environment is
the harness's job (``ganforge.training.dist``), where the design is explained.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as tdist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that creates the run directory and writes to it."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def agree(self, flag: bool) -> bool:
        """True when any rank raised ``flag``."""
        return bool(self.agree_max(int(flag)))

    def agree_max(self, code: int) -> int:
        """The largest ``code`` any rank holds (e.g. 0 = go on, 1 = signal, 2 = early stop);
        an all-reduce MAX, so a host sync with several ranks."""
        if not self.active:
            return code
        t = torch.tensor([float(code)], device=_collective_device())
        tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
        return int(t.item())

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """The average of ``x`` over ranks (``x`` itself with one process)."""
        if not self.active:
            return x
        x = x.clone()
        tdist.all_reduce(x)
        return x / self.world_size

    def average_gradients(self, *modules: torch.nn.Module) -> None:
        """Replace every parameter's gradient by its mean over ranks: one flattened all-reduce
        for all of ``modules`` (call between ``backward`` and ``optimizer.step``)."""
        if not self.active:
            return
        def mean_over_ranks(flat: torch.Tensor) -> None:
            tdist.all_reduce(flat)
            flat.div_(self.world_size)

        _flat_collective([p.grad for m in modules for p in m.parameters() if p.grad is not None], mean_over_ranks)

    def broadcast_buffers(self, *modules: torch.nn.Module) -> None:
        """Copy rank 0's floating-point buffers (BatchNorm running statistics, spectral-norm
        vectors) to every rank, in one flattened broadcast. Integer buffers (BatchNorm's
        step counter) advance identically on every rank."""
        if not self.active:
            return
        _flat_collective([b for m in modules for b in m.buffers() if b.is_floating_point()],
                         lambda flat: tdist.broadcast(flat, src=0))

    def broadcast_parameters(self, *modules: torch.nn.Module) -> None:
        """Copy rank 0's parameters to every rank (the same seed already makes them equal; this
        makes it a guarantee whatever the modules' initialisers do)."""
        if not self.active:
            return
        with torch.no_grad():
            _flat_collective([p.data for m in modules for p in m.parameters()],
                             lambda flat: tdist.broadcast(flat, src=0))

    def check_in_step(self, *modules: torch.nn.Module) -> None:
        """Raise when the ranks' parameters or buffers have drifted apart (a cheap checksum
        compared across ranks; run at checkpoints)."""
        if not self.active:
            return
        total = torch.zeros(1, dtype=torch.float64, device=_collective_device())
        for m in modules:
            for t in [*m.parameters(), *m.buffers()]:
                if t.is_floating_point():
                    total += t.detach().double().sum().to(total.device)
        lo, hi = total.clone(), total.clone()
        tdist.all_reduce(lo, op=tdist.ReduceOp.MIN)
        tdist.all_reduce(hi, op=tdist.ReduceOp.MAX)
        if lo.item() != hi.item():
            raise RuntimeError(f"the ranks' weights differ (checksums {lo.item()!r} vs {hi.item()!r}); "
                               "a non-deterministic operation broke data parallelism.")

    def barrier(self) -> None:
        if self.active:
            tdist.barrier()


def _flat_collective(tensors: list[torch.Tensor], op) -> None:
    """Run ``op`` on one flat buffer holding ``tensors`` (one collective instead of one per
    tensor, as stylegan2-ada does), then copy the result back into each tensor."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    op(flat)
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if tdist.get_backend() == "nccl" else torch.device("cpu")
