"""``EvalOptions``: every setting of one :func:`ganforge.eval.evaluate` call, checked once.

``evaluate(source, ...)`` builds one from its keywords (or takes ``options=``) and hands
that single object down: the list-of-sources and ``runs`` loops change it with
``dataclasses.replace`` (``seed=seed + i``), so no setting can be dropped on the way.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganforge.config import LABEL_SHARES
from ganforge.errors import ConfigError

#: Fewest samples an evaluation accepts: below that no metric here is a measurement.
MIN_SAMPLES = 10
#: The pixel C2ST refuses fewer than 20 images a side (``ganforge.eval.c2st_pixels``).
MIN_C2ST_PER_SIDE = 20


@dataclass(frozen=True)
class EvalOptions:
    """Settings of an evaluation; the defaults are :func:`~ganforge.eval.evaluate`'s.

    ``ref``: "mnist-test", "fashion-mnist-test" or a path; ``n``: samples (at least 10); ``train``: training
    images for memorisation; ``seed``: sampling, subsets, bootstrap and classifiers;
    ``runs``: generator seeds ``seed .. seed+runs-1``; ``labels``: one int label per
    sample of an array source; ``bootstrap``: resamples for 95 % intervals (0 = none);
    ``copy_threshold``: None = :data:`ganforge.eval.memorisation.DEFAULT_COPY_THRESHOLD`;
    ``image_size``: None = the generator's size for a checkpoint source, else 64.
    ``extractor``: the shipped 28x28 extractor, "mnist" or "fashion-mnist"; None = the one
    matching the reference's name or the run's training data (else MNIST).
    ``label_shares``: how a conditional generator's classes are drawn: "data" (the shares of
    its training labels, recorded in its checkpoint) or "uniform" (i mod K).
    ``labels`` takes no part in ``==`` or ``hash`` (an array has neither)."""

    ref: str | Path = "mnist-test"
    n: int = 10000
    train: str | Path | None = None
    seed: int = 0
    runs: int = 1
    labels: np.ndarray | None = field(default=None, compare=False, repr=False)
    bootstrap: int = 100
    floor: bool = True
    pixel_c2st: bool = True
    memorisation: bool = True
    copy_threshold: float | None = None
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    c2st_per_side: int = 10000
    c2st_epochs: int = 4
    closest_pairs: str | Path | None = None
    extractor_path: str | Path | None = None
    image_size: int | None = None
    inception_weights: str | Path | None = None
    extractor: str | None = None
    label_shares: str = "data"

    def __post_init__(self) -> None:
        if not isinstance(self.ref, (str, Path)) or not str(self.ref):
            raise ConfigError(f"ref must be 'mnist-test', 'fashion-mnist-test' or a path to reference images, "
                              f"got {self.ref!r}.")
        if self.label_shares not in LABEL_SHARES:
            raise ConfigError(f"label_shares (--label-shares) must be one of {', '.join(LABEL_SHARES)}, "
                              f"got {self.label_shares!r}.")
        if self.extractor is not None and self.extractor not in ("mnist", "fashion-mnist"):
            raise ConfigError(f"extractor (--extractor) must be 'mnist' or 'fashion-mnist', got {self.extractor!r}.")
        self._int("n", MIN_SAMPLES, f"n (-n) must be at least {MIN_SAMPLES} samples, got {self.n}; "
                                    "metrics need a sample set.")
        self._int("seed", 0, f"seed must be an integer of 0 or more, got {self.seed!r}.")
        self._int("runs", 1, f"runs (--runs) must be at least 1, got {self.runs!r}.")
        self._int("bootstrap", 0, f"bootstrap (--bootstrap) must be 0 or more resamples, got {self.bootstrap!r}.")
        self._int("kid_subsets", 1, f"kid_subsets must be at least 1, got {self.kid_subsets!r}.")
        self._int("kid_subset_size", 2, f"kid_subset_size must be at least 2 (KID is an unbiased MMD), "
                                        f"got {self.kid_subset_size!r}.")
        self._int("c2st_per_side", MIN_C2ST_PER_SIDE,
                  f"c2st_per_side must be at least {MIN_C2ST_PER_SIDE} images (the pixel C2ST needs that many), "
                  f"got {self.c2st_per_side!r}.")
        self._int("c2st_epochs", 1, f"c2st_epochs must be at least 1, got {self.c2st_epochs!r}.")
        if self.image_size is not None:
            self._int("image_size", 1, f"image_size (--image-size) must be a positive side length in pixels, "
                                       f"got {self.image_size!r}.")
        for name in ("floor", "pixel_c2st", "memorisation"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        t = self.copy_threshold
        if t is not None and (isinstance(t, bool) or not isinstance(t, numbers.Real) or not t > 0):
            raise ConfigError(f"copy_threshold (--copy-threshold) must be a positive RMS pixel distance "
                              f"(pixels in [0,1]), got {t!r}.")
        for name in ("train", "closest_pairs", "extractor_path", "inception_weights"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (str, Path)) or not str(v)):
                raise ConfigError(f"{name} must be a path or None, got {v!r}.")
        if self.labels is not None and np.ndim(self.labels) != 1:
            raise ConfigError(f"labels must be a 1-D array of one int per sample, got shape {np.shape(self.labels)}.")

    def _int(self, name: str, least: int, message: str) -> None:
        """Refuse a non-integer (or bool) or a value below ``least``; store a plain int, so
        that a numpy integer serialises into the floor's cache key like a Python one."""
        v = getattr(self, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < least:
            raise ConfigError(message)
        object.__setattr__(self, name, int(v))
