"""Where ganforge keeps downloaded and decoded data, and how it writes there safely."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def ganforge_home() -> Path:
    """The cache root: ``$GANFORGE_HOME``, else ``~/.cache/ganforge``."""
    return Path(os.environ.get("GANFORGE_HOME") or Path.home() / ".cache" / "ganforge")


def sha256_bytes(data: bytes | memoryview | np.ndarray) -> str:
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).data
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> Path:
    """Write an .npz so that a crash never leaves a half-written file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
