"""Sample-quality metrics on feature vectors and class probabilities.

All functions are pure: numpy arrays in, floats (or small dataclasses) out. Features are
(N, D) float arrays (the extractor's 128-d penultimate layer); probabilities are (N, K)
rows summing to one (its softmax). Distances are Euclidean, computed in chunks with
torch so 10k x 10k fits in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganforge.errors import DataError


# ----------------------------------------------------------------------------- helpers
def _check_features(name: str, x: np.ndarray, min_rows: int = 2) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DataError(f"{name} must be a 2-d (N, D) feature array, got shape {x.shape}")
    if x.shape[0] < min_rows:
        raise DataError(f"{name} needs at least {min_rows} rows, got {x.shape[0]}; evaluate more samples")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name} contains NaN or Inf values; check the generator output")
    return x


def pairwise_distances(a: np.ndarray, b: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) as float32, computed chunk by chunk."""
    import torch

    ta = torch.as_tensor(np.asarray(a, dtype=np.float32))
    tb = torch.as_tensor(np.asarray(b, dtype=np.float32))
    out = torch.empty(len(ta), len(tb))
    for i in range(0, len(ta), chunk):
        out[i : i + chunk] = torch.cdist(ta[i : i + chunk], tb)
    return out.numpy()


def kth_nn_distance(x: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest *other* row of ``x``."""
    import torch

    if len(x) <= k:
        raise DataError(f"need more than k={k} points for k-nearest-neighbour radii, got {len(x)}")
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    out = torch.empty(len(t))
    for i in range(0, len(t), chunk):
        d = torch.cdist(t[i : i + chunk], t)
        # k+1 smallest: the smallest is the point itself (distance 0).
        out[i : i + chunk] = d.topk(k + 1, dim=1, largest=False).values[:, k]
    return out.numpy()


def nearest_neighbour(a: np.ndarray, b: np.ndarray, chunk: int = 512, block: int = 4096,
                      matmul: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: (distance to its nearest row of ``b``, index of that row).

    Uses ||a||^2 + ||b||^2 - 2ab with float32 matrix products, so it scales to 10k x 60k x 784
    (the memorisation check against all MNIST training images). Tiles of ``chunk`` rows of
    ``a`` by ``block`` rows of ``b``: one ``addmm`` writes ||b||^2 - 2ab into one reused
    buffer and ||a||^2 is added after the minimum (it is the same along a row), so no tile
    allocates or passes over the 10k x 60k distances again. Hand-written because scikit-learn's
    brute-force ``NearestNeighbors`` takes 9.8 s for that check (float64 distances) against 4.8 s
    here, and the previous one-pass version of this function, which built each 512 x 60k tile
    of distances through four temporaries, 6.8 s against 3.6 s (2 threads, quiet 2-core Xeon;
    same indices, distances within 2e-5) (docs/evaluation.md, "Speed"). ``matmul``: the library
    of the products, as the MLP's layers choose it (``ganforge.models.layers.resolve_matmul``:
    ``"auto"`` is oneDNN on AMD CPUs, where MKL's sgemm runs a slow path: the 10k × 60k check
    took 7.8–8.6 s with MKL and 5.5 s with oneDNN on a 2-core Zen 4 EPYC, same indices).
    """
    import torch

    from ganforge.models.layers import onednn_linear, resolve_matmul

    onednn = resolve_matmul(matmul) == "onednn"
    ta = torch.as_tensor(np.asarray(a, dtype=np.float32))
    tb = torch.as_tensor(np.asarray(b, dtype=np.float32))
    na, nb = (ta * ta).sum(1), (tb * tb).sum(1)
    best = torch.full((len(ta),), float("inf"))
    idx = torch.zeros(len(ta), dtype=torch.int64)
    buf = None if onednn else torch.empty(min(chunk, len(ta)) * min(block, len(tb)))  # addmm's output tiles
    for i in range(0, len(ta), chunk):
        q = ta[i : i + chunk]
        q2 = q * -2.0 if onednn else None  # exact (a power of two): (-2q)·k = -2(q·k)
        for j in range(0, len(tb), block):
            k = tb[j : j + block]
            if onednn:  # oneDNN's fully connected product: ||b||^2 + (-2q) b^T in one call
                part = onednn_linear(q2, k.contiguous(), nb[j : j + block].contiguous())
            else:
                part = torch.addmm(nb[j : j + block], q, k.T, beta=1, alpha=-2,
                                   out=buf[: len(q) * len(k)].view(len(q), len(k)))
            v, jj = part.min(dim=1)
            better = v < best[i : i + chunk]  # strict: the first of equal distances keeps its index
            best[i : i + chunk] = torch.where(better, v, best[i : i + chunk])
            idx[i : i + chunk] = torch.where(better, jj + j, idx[i : i + chunk])
    dist = (na.double() + best.double()).clamp_min(0).sqrt()
    return dist.numpy(), idx.numpy()


# ----------------------------------------------------------------------------- FID
def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, N-1) of (N, D) features."""
    f = _check_features("features", features)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2):

    ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})    (Heusel et al. 2017)
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise DataError(f"feature statistics have different shapes: {mu1.shape} vs {mu2.shape}")
    diff = mu1 - mu2
    # Tr((s1 s2)^{1/2}) = sum of square roots of the eigenvalues of s1 s2, which equal those
    # of the symmetric PSD matrix R s2 R with R = s1^{1/2}. Two symmetric eigendecompositions
    # are ~4x faster than one general one at 2048-d (Inception) and, unlike sqrtm, stay
    # finite for singular covariances (dead ReLU units).
    w1, v1 = np.linalg.eigh(sigma1)
    root = (v1 * np.sqrt(np.clip(w1, 0.0, None))) @ v1.T
    eig = np.linalg.eigvalsh(root @ sigma2 @ root)
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)
    return max(value, 0.0)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def fid_bootstrap_ci(
    ref: np.ndarray, fake: np.ndarray, num: int = 100, level: float = 0.95, seed: int = 0,
    estimate: float | None = None,
) -> tuple[float, float]:
    """Bias-shifted percentile bootstrap interval of FID over resampled *fake* rows.

    Fast form of ``bootstrap_ci(fid, fake)``: the reference square root R = sigma_r^{1/2}
    is computed once, and Tr((sigma_r sigma_f)^{1/2}) = sum sqrt(eig(R sigma_f R)) uses a
    symmetric eigen-solver; a resample is a vector of multiplicities, so its covariance
    is one weighted product. ~20 ms per resample for 10k x 128 features.
    """
    import torch

    mu_r, sig_r = feature_statistics(ref)
    w_r, v_r = np.linalg.eigh(sig_r)
    root = (v_r * np.sqrt(np.clip(w_r, 0, None))) @ v_r.T
    f = torch.as_tensor(np.asarray(fake, dtype=np.float64))
    n = len(f)
    est = fid_from_features(ref, fake) if estimate is None else estimate
    rng = np.random.default_rng(seed)
    vals = np.empty(num)
    for b in range(num):
        w = torch.as_tensor(np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64))
        mu = (w @ f) / n
        cov = ((f * w[:, None]).T @ f - n * torch.outer(mu, mu)) / (n - 1)
        cov = cov.numpy()
        eig = np.linalg.eigvalsh(root @ cov @ root)
        tr = float(np.sqrt(np.clip(eig, 0, None)).sum())
        diff = mu.numpy() - mu_r
        vals[b] = diff @ diff + np.trace(sig_r) + np.trace(cov) - 2 * tr
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    bias = vals.mean() - est
    return float(max(lo - bias, 0.0)), float(max(hi - bias, 0.0))


# ----------------------------------------------------------------------------- KID
def polynomial_kernel(x, y):
    """k(x, y) = (x.y / d + 1)^3, the kernel of Bińkowski et al. 2018, as a float64 tensor.

    In torch: its products use torch's threads (evaluate() keeps numpy's BLAS at one thread)
    and the cube is taken in place, 2.1x faster than numpy for KID's 100 subsets of 1,000
    (3.57 -> 1.69 s, equal to 2e-14; docs/evaluation.md, "Speed")."""
    import torch

    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    return (x @ y.T).div_(x.shape[1]).add_(1.0).pow_(3)


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (diagonal terms excluded)."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return float(
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2.0 * kxy.mean()
    )


@dataclass(frozen=True)
class KIDResult:
    mean: float
    std: float
    num_subsets: int
    subset_size: int


def kid(
    real: np.ndarray, fake: np.ndarray, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> KIDResult:
    """Kernel Inception Distance: unbiased MMD^2 averaged over random subsets (mean, sd)."""
    real = _check_features("real features", real)
    fake = _check_features("fake features", fake)
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    vals = np.empty(num_subsets)
    for s in range(num_subsets):
        r = real[rng.choice(len(real), size, replace=False)]
        f = fake[rng.choice(len(fake), size, replace=False)]
        vals[s] = mmd2_unbiased(r, f)
    return KIDResult(float(vals.mean()), float(vals.std(ddof=1)) if num_subsets > 1 else 0.0, num_subsets, size)


# ----------------------------------------------------------------------------- classifier score
def _check_probs(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise DataError(f"class probabilities must be a non-empty (N, K) array, got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise DataError("class probabilities must be non-negative rows summing to 1; pass a softmax output")
    return p


def classifier_score(probs: np.ndarray, splits: int = 1, eps: float = 1e-12) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) (the "Inception score" with our MNIST classifier).

    Ranges from 1 (every sample gets the same prediction, or predictions are uncertain)
    to K (confident predictions spread uniformly over K classes). Returns (mean, sd) over
    ``splits`` disjoint splits, as in Salimans et al. 2016.
    """
    p = _check_probs(probs)
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + eps) - np.log(py + eps))).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if splits > 1 else 0.0


@dataclass(frozen=True)
class ClassHistogram:
    shares: list[float]         # fraction of samples per predicted class, sums to 1
    classes_present: int        # classes with at least ``min_share`` of the samples
    max_deviation: float        # largest |share - 1/K|, in fraction (0.05 = 5 points)
    min_share: float
    collapsed: bool             # fewer than K classes present (mode collapse)


def class_histogram(probs: np.ndarray, min_share: float | None = None) -> ClassHistogram:
    """Per-class share of argmax predictions: the mode-collapse check.

    A class counts as present when it holds at least ``min_share`` of the samples
    (default 1/(10K): a tenth of its uniform share, 1 % for MNIST).
    """
    p = _check_probs(probs)
    k = p.shape[1]
    min_share = 1.0 / (10 * k) if min_share is None else min_share
    counts = np.bincount(p.argmax(1), minlength=k)
    shares = counts / counts.sum()
    present = int((shares >= min_share).sum())
    return ClassHistogram(
        shares=[float(s) for s in shares],
        classes_present=present,
        max_deviation=float(np.abs(shares - 1.0 / k).max()),
        min_share=float(min_share),
        collapsed=present < k,
    )


# ----------------------------------------------------------------------------- manifold metrics
@dataclass(frozen=True)
class ManifoldResult:
    precision: float
    recall: float
    density: float
    coverage: float
    # Per-sample contributions, kept for bootstrap intervals (not serialised).
    fake_in_real: np.ndarray      # (M,) bool: fake j inside some real k=3 ball  -> precision
    real_in_fake: np.ndarray      # (N,) bool: real i inside some fake k=3 ball  -> recall
    fake_density: np.ndarray      # (M,) float: #real k=5 balls containing fake j / k -> density
    real_covered: np.ndarray      # (N,) bool: real i's k=5 ball contains a fake -> coverage


def manifold_metrics(real: np.ndarray, fake: np.ndarray, k_pr: int = 3, k_dc: int = 5) -> ManifoldResult:
    """Improved precision/recall (Kynkäänniemi et al. 2019, k=3) and density/coverage
    (Naeem et al. 2020, k=5) between real and fake feature sets.

    Precision: share of fakes inside the real manifold (union of balls reaching each real
    point's k-th neighbour); recall: share of reals inside the fake manifold. Density
    counts how many real balls hold each fake (1 for matching distributions, robust to
    outliers); coverage: share of real balls holding at least one fake.
    """
    real = _check_features("real features", real, min_rows=max(k_pr, k_dc) + 1)
    fake = _check_features("fake features", fake, min_rows=max(k_pr, k_dc) + 1)
    import torch

    r_pr, r_dc = (torch.as_tensor(r) for r in _two_radii(real, k_pr, k_dc))
    f_pr = torch.as_tensor(kth_nn_distance(fake, k_pr))
    tr = torch.as_tensor(real.astype(np.float32))
    tf = torch.as_tensor(fake.astype(np.float32))
    fake_in_real = torch.zeros(len(tf), dtype=torch.bool)
    fake_count = torch.zeros(len(tf), dtype=torch.int64)
    real_in_fake = torch.empty(len(tr), dtype=torch.bool)
    real_covered = torch.empty(len(tr), dtype=torch.bool)
    chunk = 1024  # rows of the (N, M) distance matrix at a time: 10k x 10k never in memory
    for i in range(0, len(tr), chunk):
        d = torch.cdist(tr[i : i + chunk], tf)
        fake_in_real |= (d <= r_pr[i : i + chunk, None]).any(dim=0)
        real_in_fake[i : i + chunk] = (d <= f_pr[None, :]).any(dim=1)
        inside = d <= r_dc[i : i + chunk, None]
        fake_count += inside.sum(dim=0)
        real_covered[i : i + chunk] = inside.any(dim=1)
    fake_in_real, real_in_fake, real_covered = fake_in_real.numpy(), real_in_fake.numpy(), real_covered.numpy()
    fake_density = fake_count.numpy() / k_dc
    return ManifoldResult(
        precision=float(fake_in_real.mean()),
        recall=float(real_in_fake.mean()),
        density=float(fake_density.mean()),
        coverage=float(real_covered.mean()),
        fake_in_real=fake_in_real,
        real_in_fake=real_in_fake,
        fake_density=fake_density,
        real_covered=real_covered,
    )


def _two_radii(x: np.ndarray, k1: int, k2: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    import torch

    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    k = max(k1, k2)
    vals = torch.empty(len(t), k + 1)
    for i in range(0, len(t), chunk):
        vals[i : i + chunk] = torch.cdist(t[i : i + chunk], t).topk(k + 1, dim=1, largest=False).values
    return vals[:, k1].numpy(), vals[:, k2].numpy()


# ----------------------------------------------------------------------------- 1-NN two-sample test
@dataclass(frozen=True)
class OneNNResult:
    accuracy: float        # leave-one-out 1-NN accuracy on the pooled set; 0.5 is ideal
    real_accuracy: float   # share of reals whose nearest neighbour is real
    fake_accuracy: float   # share of fakes whose nearest neighbour is fake
    correct: np.ndarray    # (N+M,) bool per point, for bootstrap intervals


def one_nn_accuracy(real: np.ndarray, fake: np.ndarray, chunk: int = 1024) -> OneNNResult:
    """Leave-one-out 1-nearest-neighbour two-sample test (Lopez-Paz & Oquab 2017; Xu et al. 2018).

    Pool both sets, label each point by its nearest *other* point. ~0.5 = the sets are
    indistinguishable; ~1 = separable; well below 0.5 = fakes sit on top of reals (copies).
    """
    import torch

    real = _check_features("real features", real)
    fake = _check_features("fake features", fake)
    pooled = torch.as_tensor(np.concatenate([real, fake]).astype(np.float32))
    labels = np.concatenate([np.zeros(len(real), bool), np.ones(len(fake), bool)])
    nn_idx = np.empty(len(pooled), dtype=np.int64)
    for i in range(0, len(pooled), chunk):
        d = torch.cdist(pooled[i : i + chunk], pooled)
        rows = torch.arange(d.shape[0])
        d[rows, rows + i] = float("inf")  # leave one out
        nn_idx[i : i + chunk] = d.argmin(dim=1).numpy()
    correct = labels[nn_idx] == labels
    return OneNNResult(
        accuracy=float(correct.mean()),
        real_accuracy=float(correct[: len(real)].mean()),
        fake_accuracy=float(correct[len(real) :].mean()),
        correct=correct,
    )


# ----------------------------------------------------------------------------- bootstrap
def bootstrap_mean_ci(values: np.ndarray, num: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-sample values."""
    v = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = np.empty(num)
    for b in range(num):
        means[b] = v[rng.integers(0, len(v), len(v))].mean()
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_ci(
    statistic, data: np.ndarray, num: int = 100, level: float = 0.95, seed: int = 0, estimate: float | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(data[resampled rows])``.

    With ``estimate`` (the statistic on the full data) the interval is shifted by the
    bootstrap estimate of the bias, mean(boot) - estimate. Needed for FID: a resample
    repeats rows, which shrinks the covariance and pushes every bootstrap FID *up*, so the
    plain percentile interval can miss the estimate altogether.
    """
    rng = np.random.default_rng(seed)
    vals = np.empty(num)
    for b in range(num):
        vals[b] = statistic(data[rng.integers(0, len(data), len(data))])
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    if estimate is not None:
        bias = vals.mean() - estimate
        lo, hi = lo - bias, hi - bias
    return float(lo), float(hi)
