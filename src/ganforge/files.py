"""The one atomic file writer and the one sha256 helper.

A crash (or ``kill -9``) while writing must leave either the old file or the new one,
never half of one: every file ganforge writes goes to a temporary name in the same
directory first and is renamed into place (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on
    any error it is removed. ``suffix`` (default: ``path``'s) keeps writers that choose a
    format by extension (PIL, matplotlib, ``np.savez``) working.

    >>> with atomic_path("out.png") as tmp:
    ...     image.save(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(path, path.suffix if suffix is None else suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(path: Path, suffix: str) -> Path:
    """Create an empty, uniquely named file in ``path``'s directory.

    Not ``tempfile.mkstemp``: it creates mode 0600 (right for a shared /tmp), and the
    rename would carry that onto every PNG, report and cache file. Mode 0666 under the
    umask gives the file the permissions a plain ``open(path, "w")`` would."""
    for _ in range(100):
        tmp = path.with_name(f".tmp-{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return path


def sha256_bytes(data: bytes | str | memoryview | np.ndarray) -> str:
    """Hex sha256 of bytes, a string (UTF-8) or an array's contiguous memory."""
    if isinstance(data, str):
        data = data.encode()
    elif isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).data
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Output paths are checked before a command computes anything, so that a refused command writes
# nothing (DESIGN.md, "Errors"): a name that is a folder where a file goes, or a file where a
# folder goes, or a folder that cannot be created because a file stands in its path.


def _creatable(path: Path, what: str) -> None:
    """The nearest existing ancestor of ``path`` must be a writable folder."""
    from ganforge.errors import ConfigError

    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise ConfigError(f"{what} {path} cannot be created: {parent} is a file, not a folder; choose another path.")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path} cannot be written: no write permission in {parent}; choose another path.")


def check_output_file(path: str | os.PathLike, what: str = "output file", suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as a file that can be written (replacing a file there), or a one-sentence
    :class:`~ganforge.errors.ConfigError`; ``suffixes`` (e.g. ``(".png",)``) limits its type."""
    from ganforge.errors import ConfigError

    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{what} {path} must end in {' or '.join(suffixes)}.")
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder; give a file name (or remove the folder).")
    _creatable(path, what)
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{what} {path} exists and is not writable; choose another path.")
    return path


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` as a folder that exists or can be created, or a one-sentence ConfigError."""
    from ganforge.errors import ConfigError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file, not a folder; give a folder name.")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path} is not writable; choose another folder.")
    else:
        _creatable(path, what)
    return path
