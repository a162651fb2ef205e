"""Checksums of saved weights, and which kind of CPU they are bit-exact on.

``cpu_kind()``: which kind of CPU this is, as far as bit-for-bit float results go.

PyTorch picks its CPU kernels (its own vectorised ones, oneDNN's, MKL's) by the instruction
sets the CPU has and, for MKL and oneDNN, by its vendor, so two machines with the same
torch.backends.cpu.get_cpu_capability() can differ in the last bit. Measured: an AVX-512 AMD
EPYC (Zen 4) and an AVX-512 Intel Xeon (family 6, model 207) train the same seeded 20-step
runs to weights that agree to 1e-6 in sum but not bit for bit, while sampling agrees bitwise.
The golden checksums are therefore kept per kind: the instruction-set level, the vendor and
the optional extensions oneDNN dispatches on.
"""

import hashlib
from pathlib import Path

import torch

EXTENSIONS = ("avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")


def cpu_kind() -> str:
    vendor, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id":
                    vendor = value.strip()
                elif key == "flags":
                    flags = set(value.split())
                    break  # the first processor says it for all
    except OSError:  # not Linux: the vendor and extensions stay unknown
        pass
    extra = ",".join(f for f in EXTENSIONS if f in flags)
    return "/".join(p for p in (torch.backends.cpu.get_cpu_capability(), vendor, extra) if p)


def tensors_sha256(tensors: dict) -> str:
    """sha256 over the names and raw bytes of a state dict, in name order."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(tensors[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def weights_sha256(ckpt: str | Path) -> str:
    """The checksum of a checkpoint's model.safetensors."""
    from safetensors.torch import load_file

    return tensors_sha256(load_file(str(Path(ckpt) / "model.safetensors")))
