"""Where a conditional MNIST run's FID comes from: the Fréchet distance split into its mean term
‖μ − μ′‖² and its covariance term, FID per class, each class's feature variance against the real
digits', and the total variance split into within-class and between-class parts (issue 20).

    python benchmarks/fid_by_class.py runs/001-mnist-best [more runs ...]

Protocol: 10,000 samples of sampling seed 0 per run, classes in the run's training labels' shares
(as ``ganforge evaluate`` draws them), against the 10,000 MNIST test images in ganforge's extractor
space; the first row is 10,000 MNIST training images (a seeded subset), the real floor. A variance
ratio is trace(covariance of the samples) / trace(covariance of the test images); 1.0 is the real
spread, below it the samples are less varied than the digits they model.
"""

from __future__ import annotations

import argparse

import numpy as np

from ganforge.eval.extractor import extract, load_extractor
from ganforge.eval.features import reference_features
from ganforge.eval.metrics import feature_statistics, frechet_distance
from ganforge.eval.sources import load_reference, load_samples

N = 10_000


def fid_parts(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(FID, mean term, variance ratio) of features ``a`` against ``b``."""
    (mu1, s1), (mu2, s2) = feature_statistics(a), feature_statistics(b)
    return frechet_distance(mu1, s1, mu2, s2), float((mu1 - mu2) @ (mu1 - mu2)), float(np.trace(s1) / np.trace(s2))


def variance_split(f: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float]:
    """Mean squared distance to the own class's mean (within) and of the class means to the overall
    mean, weighted by class size (between); the two add up to the total variance."""
    mu = f.mean(0)
    within = sum(((f[y == c] - f[y == c].mean(0)) ** 2).sum() for c in range(k)) / len(f)
    between = sum((y == c).sum() * ((f[y == c].mean(0) - mu) ** 2).sum() for c in range(k)) / len(f)
    return within, between


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="conditional MNIST run directories or checkpoints")
    args = ap.parse_args(argv)
    ref, train = load_reference("mnist-test", None, image_size=28)
    extractor = load_extractor(dataset="mnist")
    ref_f, _ = reference_features(ref, extractor)
    k = int(ref.labels.max()) + 1
    w0, b0 = variance_split(ref_f, ref.labels, k)
    idx = np.random.default_rng(0).choice(len(train.images), N, replace=False)
    sources = [("MNIST train (floor)", train.images[idx], train.labels[idx])]
    for run in args.runs:
        s = load_samples(run, N, seed=0, image_shape=ref.images.shape[1:])
        if s.labels is None:
            raise SystemExit(f"{run} is not a conditional generator: per-class numbers need its labels.")
        sources.append((run, s.images, s.labels))
    print(f"{'samples':40s} {'FID':>6s} {'mean':>6s} {'cov':>6s} {'within':>7s} {'between':>8s}  "
          "per-class FID 0-9 | per-class variance ratio 0-9")
    for name, images, labels in sources:
        f, _ = extract(images, extractor)
        fid, mean, _ = fid_parts(f, ref_f)
        per = [fid_parts(f[labels == c], ref_f[ref.labels == c]) for c in range(k)]
        w, b = variance_split(f, labels, k)
        print(f"{name[-40:]:40s} {fid:6.3f} {mean:6.3f} {fid - mean:6.3f} {w / w0:7.3f} {b / b0:8.3f}  "
              f"{' '.join(f'{p[0]:.2f}' for p in per)} | {' '.join(f'{p[2]:.2f}' for p in per)}")


if __name__ == "__main__":
    main()
