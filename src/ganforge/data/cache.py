"""Where ganforge keeps downloaded and decoded data, and how it writes there safely."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ganforge.files import atomic_path

__all__ = ["ganforge_home", "save_npz_atomic", "valid_cache"]


def ganforge_home() -> Path:
    """The cache root: ``$GANFORGE_HOME``, else ``~/.cache/ganforge``."""
    return Path(os.environ.get("GANFORGE_HOME") or Path.home() / ".cache" / "ganforge")


def save_npz_atomic(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Write an .npz so that a crash never leaves a half-written file at ``path``."""
    # A file object, not a name: np.savez appends ".npz" to a name that lacks it.
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


def valid_cache(path: Path, load, what: str) -> bool:
    """True when ``path`` holds a cache that ``load`` (a verifying reader) accepts; a corrupt
    one is reported, so that the caller fetches the data again."""
    from ganforge.errors import DataError

    if not path.exists():
        return False
    try:
        load(path)
        return True
    except DataError as exc:
        warnings.warn(f"{what} cache {path} is corrupt ({exc}); fetching it again.", stacklevel=3)
        return False
