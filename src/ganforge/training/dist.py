"""Where ranks live in the harness. Today every run is one process (rank 0 of 1); the
distributed-training issue fills this in from torchrun's environment (nanoGPT's
``train.py``: ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``; ``master_process`` writes).

The harness already keeps the three rules that make ranks fit without another rewrite:
only ``is_main`` writes files and prints; a stop (signal, early stop) is *agreed* through
:meth:`Dist.agree` before the loop acts on it, so no rank waits on a collective that
another rank skipped; batches and noise are drawn globally and sliced by rank
(:class:`ganforge.data.batches.Feed`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that creates the run directory and writes to it."""
        return self.rank == 0

    def agree(self, flag: bool) -> bool:
        """True when any rank raised ``flag`` (an all-reduce MAX with several processes)."""
        return flag


def single_process() -> Dist:
    return Dist()
