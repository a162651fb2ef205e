"""Keep freed memory inside the process while training on the CPU (glibc's ``M_TOP_PAD``).

A training step allocates and frees the same activation buffers every step: a conditional
DCGAN at batch 64 frees dozens of 0.2-1.6 MB tensors per step. glibc returns freed memory
at the top of its heap to the kernel once more than the trim threshold is free there, and
the next step's allocations fault the same pages in again, each one zeroed by the kernel.
Measured on a 2-core AMD EPYC virtual machine (`mnist-quick`'s step, 150 steps after 20 of
warm-up, 2 threads; and tests/training/test_memory.py at 1 thread): 3,000-8,200 minor page
faults and 10-22 ms of kernel CPU time per step by default; with ``M_TOP_PAD`` = 64 MB, 2-10
faults and 0.2 ms (docs/training.md, "Speed on the CPU").

Setting ``M_TOP_PAD`` also freezes glibc's mmap threshold where it stands (``mallopt`` turns
off its dynamic growth), and a buffer above it is mapped and unmapped, so faulted in, every
time. The deeper DCGAN pair of ``mnist-quick`` has such a buffer at one thread: 280-1,600
faults per step with the pad alone, 5.5 with the threshold at 32 MB as well (where glibc's own
dynamic threshold stops growing on 64-bit), so both are set.

Written by hand because PyTorch has no caching allocator for CPU memory, and the usual advice
(preloading jemalloc or tcmalloc with ``LD_PRELOAD``) needs a system package and an
environment variable set before Python starts; ``mallopt`` is one call into the C library
that is already loaded. Elsewhere (macOS, Windows, a C library without ``mallopt``) it does
nothing, and a ``MALLOC_TOP_PAD_`` or ``MALLOC_MMAP_THRESHOLD_`` set in the environment is left as the
user set it.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TOP_PAD = -2  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
# glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: where its dynamic threshold stops growing
_MMAP_THRESHOLD_MAX = 32 << 20
_done = False


def keep_freed_memory(pad_mb: int = 64) -> bool:
    """Ask the C library to keep ``pad_mb`` MB of freed heap memory instead of giving it back
    to the kernel (the process's memory can stay that much above its live tensors), and to
    serve buffers up to 32 MB from the heap rather than from fresh mappings. Returns whether the
    pad was applied, now or by an earlier call."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or "MALLOC_TOP_PAD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(_M_TOP_PAD, pad_mb << 20))
    if _done and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    return _done
