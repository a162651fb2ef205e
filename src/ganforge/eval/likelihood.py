"""One likelihood scale for every model that has one: the test-set negative log-likelihood.

Two data scales, as in the literature (docs/pixelcnn.md has the published anchors):

- **8-bit** images: pixels are the integers 0..255 and a model is a distribution over them;
  reported in **bits per dimension**, -log2 p(x) / (C*H*W), and in nats per image. A model
  that knows nothing (uniform over 256 values) scores exactly 8 bits/dim.
- **binarised** images: pixels are 0/1; reported in **nats per image**, -ln p(x). The test set
  is binarised the way the model was trained: "threshold" (pixel >= 128) or, for dynamic
  binarisation and for the VAE, one Bernoulli(intensity) draw with seed
  :data:`BINARY_TEST_SEED`, the same binary test set for every model.

Per model family (the protocol says which, in every report):

- **PixelCNN**: exact; p(x) is the product of its conditionals.
- **VAE**: the importance-weighted bound of Burda, Grosse & Salakhutdinov 2016 (IWAE),
  log p(x) >= E[log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)], z_i ~ q(z|x), an *upper* bound on
  the NLL that tightens as k grows; k = 1 is the ELBO. p(x|z) must be a distribution over the
  same pixel values as the PixelCNN's: Bernoulli(decoder mean) on binarised pixels, and on
  8-bit pixels a discretised Gaussian around the decoder's mean (the 256 bins of width 2/255
  on [-1,1], the outer two open-ended, as the discretised logistic of Salimans et al. 2017,
  PixelCNN++), whose sigma is the Gaussian VAE's ``task.sigma``, or, for a VAE trained with
  the Bernoulli likelihood (which has no sigma), the best of :data:`SIGMA_GRID` on 1,000
  *training* images (ELBO), never on the test set.
- **GAN**: no likelihood. G(z) puts all its mass on a 100-dimensional surface in 784
  dimensions, so p(x) of a test image is zero (its NLL infinite) and any finite number would
  be an artefact of the estimator (e.g. a Parzen window, Theis et al. 2016). The report says
  so instead of printing one; the sample metrics of ``ganforge evaluate`` are its measure.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganforge.errors import ConfigError, DataError

#: The seed of the one Bernoulli draw that binarises a test set (the same for every model).
BINARY_TEST_SEED = 0
#: Candidate sigmas (on the [-1,1] pixel scale) of the discretised Gaussian for a Bernoulli-trained VAE.
SIGMA_GRID = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
#: Why a GAN gets no number (printed in its row).
NO_LIKELIHOOD = ("a GAN has no likelihood: G(z) spreads its samples over a low-dimensional surface, so p(x) of a "
                 "test image is 0; judge it by its samples (ganforge evaluate without --nll)")


@dataclass
class NLLResult:
    """One model on one data scale. ``nats``: mean NLL per image (None for a GAN);
    ``bits_per_dim``: the same per dimension in bits (None for a GAN)."""

    model: str
    kind: str
    data: str                      # "8-bit" | "binarised" | "-"
    nats: float | None
    bits_per_dim: float | None
    sem_nats: float | None         # standard error of the mean over test images
    estimator: str                 # "exact" | "IWAE bound, k=50" | "ELBO (k=1)" | "none"
    n: int
    wall_s: float
    protocol: dict = field(default_factory=dict)
    note: str = ""

    def row(self) -> str:
        if self.nats is None:
            return f"{self.model:<34} {self.kind:<9} {'-':<10} {'no likelihood':>16}  {self.note}"
        return (f"{self.model:<34} {self.kind:<9} {self.data:<10} {self.nats:>9.2f} ± {self.sem_nats:<5.2f}"
                f"{self.bits_per_dim:>9.4f}  {self.estimator} (n={self.n}, {self.wall_s:.0f} s)")


HEADER = f"{'model':<34} {'kind':<9} {'data':<10} {'nats/image':>16}{'bits/dim':>9}  protocol"


def table(results: list[NLLResult]) -> str:
    """The results as the text table ``ganforge evaluate --nll`` prints."""
    return "\n".join([HEADER, *(r.row() for r in results)])


def to_json(results: list[NLLResult], path: str | Path | None = None) -> str:
    import json

    from ganforge.files import write_atomic

    text = json.dumps({"nll": [asdict(r) for r in results]}, indent=2) + "\n"
    if path is not None:
        write_atomic(path, text)
    return text


# ----------------------------------------------------------------------------- test sets

def test_images(ref: str | None, dataset: str | None, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    """(uint8 (N,C,H,W), labels or None, name) of the test set: ``ref`` ("mnist-test",
    "fashion-mnist-test", an .npz/.npy/folder) or, when None, the test split of the data set
    the model was trained on (``dataset``)."""
    from ganforge.data.batches import images_to_nchw
    from ganforge.eval.sources import load_reference

    if ref is None:
        if dataset in ("mnist", "mnist-train"):
            ref = "mnist-test"
        elif dataset in ("fashion-mnist", "fashion-mnist-train"):
            ref = "fashion-mnist-test"
        else:
            raise ConfigError(f"the model was trained on {dataset!r}, which has no test split ganforge knows; "
                              "pass held-out images with --ref FILE.npz.")
    data, _ = load_reference(ref, with_train=False)
    x = images_to_nchw(data.images)
    y = None if data.labels is None else torch.from_numpy(np.asarray(data.labels)).long()
    if n is not None:
        x, y = x[:n], None if y is None else y[:n]
    return x, y, f"{data.name} ({len(x)} images, sha256 {data.sha256[:12]})"


def binarise_test_set(images: torch.Tensor, how: str) -> torch.Tensor:
    """uint8 test images -> {0,1} int64: "threshold" (>= 128), or "dynamic": one Bernoulli draw
    with :data:`BINARY_TEST_SEED`, fixed, so every model meets the same binary images."""
    from ganforge.models.pixelcnn import binarize

    u = None
    if how == "dynamic":
        u = torch.rand(images.shape, generator=torch.Generator().manual_seed(BINARY_TEST_SEED))
    return binarize(images, how, u)


# ----------------------------------------------------------------------------- the VAE's bound

def discretised_gaussian_log_prob(mean: torch.Tensor, levels: torch.Tensor, sigma: float) -> torch.Tensor:
    """log P(pixel = k) per image, (N,), for 8-bit ``levels`` (N,...) under a Gaussian of ``mean``
    (N,...) on the [-1,1] scale, integrated over the pixel's bin [v-1/255, v+1/255] with
    v = k/127.5 - 1; the bins of 0 and 255 extend to -inf and +inf, so the 256 probabilities sum
    to 1 (Salimans et al. 2017, Eq. 2, with a Gaussian for their logistic)."""
    mean, v = mean.double(), levels.double() / 127.5 - 1.0
    hi, lo = (v + 1 / 255 - mean) / sigma, (v - 1 / 255 - mean) / sigma
    # log(Phi(hi) - Phi(lo)) = log Phi(b) + log(1 - Phi(a)/Phi(b)), taken on the side of the mean where
    # both Phi are small (Phi(-x) = 1 - Phi(x)), so that a bin far in a tail does not round to log 0.
    upper = lo > 0
    a, b = torch.where(upper, -hi, lo), torch.where(upper, -lo, hi)
    log_b = torch.special.log_ndtr(b)
    log_mass = log_b + torch.log1p(-torch.exp(torch.special.log_ndtr(a) - log_b))
    log_mass = torch.where(levels == 0, torch.special.log_ndtr(hi), log_mass)      # (-inf, v0 + 1/255]
    log_mass = torch.where(levels == 255, torch.special.log_ndtr(-lo), log_mass)   # [v255 - 1/255, +inf)
    return log_mass.flatten(1).sum(1)


def bernoulli_log_prob(mean: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """log P(binary pixels) per image, (N,), under Bernoulli(p) with p = (mean + 1) / 2 clipped
    away from 0 and 1 by 1e-6 (a decoder mean of exactly 0 or 1 would give -inf)."""
    p = ((mean.double() + 1) / 2).clamp(1e-6, 1 - 1e-6)
    b = bits.double()
    return (b * p.log() + (1 - b) * (-p).log1p()).flatten(1).sum(1)


def vae_log_likelihood_bound(E, decoder, x_model: torch.Tensor, y: torch.Tensor | None, log_px_given_mean,
                             k: int, gen: torch.Generator) -> torch.Tensor:
    """The IWAE lower bound on log p(x) per image, (N,) float64 (Burda et al. 2016, Eq. 8).

    ``x_model``: the images as the encoder sees them ([-1,1]); ``decoder(z, y)`` -> the mean
    image in [-1,1]; ``log_px_given_mean(mean)`` -> log p(x|z) per row for the images repeated
    k times (rows ordered sample-major: row j*N + i is image i, sample j). k = 1: the ELBO."""
    mu, logvar = (t.double() for t in E(x_model, y))
    n, d = mu.shape
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(k, n, d, generator=gen, dtype=torch.float64).to(mu.device)
    z = mu + std * eps                                              # (k, N, d)
    log_q = (-0.5 * eps.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
    yk = None if y is None else y.repeat(k)
    mean = decoder(z.reshape(k * n, d).to(x_model.dtype), yk)
    log_px = log_px_given_mean(mean).view(k, n)
    log_w = log_px + log_prior - log_q
    return torch.logsumexp(log_w, dim=0) - math.log(k)


def _load_vae(path, device):
    """(cfg, E, decoder) of a VAE checkpoint; the decoder returns its mean image in [-1,1]."""
    from ganforge import checkpoint
    from ganforge.config import Config
    from ganforge.models import build_generator
    from ganforge.models.vae import VAEDecoder, build_encoder

    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    cfg = Config.from_dict(state["config"])
    shape, k = tuple(state["img_shape"]), int(state["num_classes"])
    G = build_generator(cfg.model, shape, k, state["output"])
    checkpoint.load_module_weights(ckpt, "G", G)
    E = build_encoder(cfg.task, cfg.model.z_dim, cfg.model.width, shape, k)
    checkpoint.load_module_weights(ckpt, "E", E)
    return cfg, E.to(device).eval(), VAEDecoder(G, cfg.task.likelihood).to(device).eval()


@torch.no_grad()
def vae_nll(E, decoder, images: torch.Tensor, y: torch.Tensor | None, data: str, k: int, *, sigma: float = 0.1,
            binarize: str = "dynamic", seed: int = 0, batch_size: int = 100, device="cpu") -> torch.Tensor:
    """-log p(x) bounds per image (N,) float64 (the IWAE bound with ``k`` samples) on
    ``data`` = "8-bit" (discretised Gaussian of ``sigma``) or "binarised" (Bernoulli; the test
    binarisation ``binarize``). The encoder sees the 8-bit image scaled to [-1,1] in both
    cases (as in training); a binarised image is scored, not encoded differently."""
    from ganforge.data.batches import to_model_range

    gen = torch.Generator().manual_seed(seed)
    target = binarise_test_set(images, binarize) if data == "binarised" else images.long()
    out = []
    for i in range(0, len(images), batch_size):
        xb = to_model_range(images[i:i + batch_size].to(device), "tanh")
        tb = target[i:i + batch_size].to(device)
        yb = None if y is None else y[i:i + batch_size].to(device)
        reps = (k,) + (1,) * (tb.ndim - 1)
        tk = tb.repeat(*reps)
        if data == "binarised":
            def log_px(mean, tk=tk):
                return bernoulli_log_prob(mean, tk)
        else:
            def log_px(mean, tk=tk):
                return discretised_gaussian_log_prob(mean, tk, sigma)
        out.append(-vae_log_likelihood_bound(E, decoder, xb, yb, log_px, k, gen).cpu())
    return torch.cat(out)


# ----------------------------------------------------------------------------- the entry point

def check_source(path) -> str:
    """The model kind of a run directory or checkpoint; a one-sentence error when it is neither
    (called on every source before any is evaluated, so a typo costs no minutes)."""
    if not Path(path).exists():
        raise DataError(f"{path} does not exist; --nll needs a run directory or a checkpoint.")
    return _kind_of(path)[0]


def _kind_of(path) -> tuple[str, dict]:
    from ganforge import checkpoint

    state = checkpoint.load_state(checkpoint.resolve(path))
    cfg = state.get("config", {})
    return state.get("kind", cfg.get("kind", "gan")), cfg


def _summary(name: str, kind: str, data: str, nll: torch.Tensor, dims: int, estimator: str, t0: float,
             protocol: dict) -> NLLResult:
    nats = float(nll.mean())
    sem = float(nll.std() / math.sqrt(len(nll))) if len(nll) > 1 else 0.0
    return NLLResult(name, kind, data, nats, nats / (dims * math.log(2)), sem, estimator, len(nll),
                     time.perf_counter() - t0, protocol)


def nll(source: str | Path, *, ref: str | None = None, n: int | None = None, k: int = 50, seed: int = 0,
        batch_size: int = 100, device: str | torch.device = "cpu") -> list[NLLResult]:
    """The test-set NLL of the model in a run directory or checkpoint, on every data scale it
    defines: a PixelCNN on its own (8-bit or binarised), a VAE on both (IWAE with ``k``
    samples, drawn from ``seed``), a GAN none (one row saying why). ``ref``: the test images
    (None: the test split of the model's training data); ``n``: the first n of them (None: all)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"the number of importance samples (--iwae-k) must be a positive integer, got {k!r}.")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"the number of test images (-n) must be a positive integer, got {n!r}.")
    check_source(source)
    kind, cfg = _kind_of(source)
    name = str(source)
    if kind not in ("pixelcnn", "vae"):
        return [NLLResult(name, kind, "-", None, None, None, "none", 0, 0.0, {"estimator": "none"},
                          NO_LIKELIHOOD if kind == "gan" else f"a {kind} model defines no likelihood")]
    dataset = cfg.get("data", {}).get("dataset")
    images, labels, test_name = test_images(ref, dataset, n)
    conditional = bool(cfg.get("data", {}).get("conditional"))
    y = labels if conditional else None
    if conditional and y is None:
        raise DataError(f"{test_name} has no labels, but the model is class-conditional; pass labelled test images.")
    dims = int(images[0].numel())
    t0 = time.perf_counter()
    if kind == "pixelcnn":
        from ganforge.sampling import load_sampler

        s = load_sampler(source, device=device)
        if tuple(images.shape[1:]) != tuple(s.img_shape):
            raise DataError(f"the test images are {tuple(images.shape[1:])} but the model makes {s.img_shape}; "
                            "pass test images of the model's shape with --ref.")
        binary = s.likelihood == "bernoulli"
        levels = binarise_test_set(images, s.binarize) if binary else images.long()
        scores = s.nll(levels, y, batch_size=batch_size, device=device)
        how = {"threshold": "fixed: pixel >= 128", "dynamic": f"one Bernoulli(intensity) draw, seed {BINARY_TEST_SEED}"}
        protocol = {"test_set": test_name, "estimator": "exact (product of the conditionals)",
                    "data": "binarised, " + how[s.binarize] if binary else "8-bit values 0..255"}
        return [_summary(name, kind, "binarised" if binary else "8-bit", scores, dims, "exact", t0, protocol)]
    cfg_obj, E, decoder = _load_vae(source, device)
    estimator = "ELBO (k=1)" if k == 1 else f"IWAE bound, k={k}"
    sigma, how_sigma = cfg_obj.task.sigma, "task.sigma (the Gaussian likelihood it was trained with)"
    if cfg_obj.task.likelihood == "bernoulli":
        sigma, how_sigma = _fit_sigma(E, decoder, cfg_obj, ref, dataset, conditional, device)
    results = []
    for data in ("8-bit", "binarised"):
        t0 = time.perf_counter()
        scores = vae_nll(E, decoder, images, y, data, k, sigma=sigma, binarize="dynamic", seed=seed,
                         batch_size=batch_size, device=device)
        protocol = {"test_set": test_name, "estimator": f"{estimator}, samples seeded {seed}; an upper bound on the NLL",
                    "likelihood": (f"discretised Gaussian, sigma {sigma:g} on [-1,1], chosen by {how_sigma}"
                                   if data == "8-bit" else "Bernoulli(decoder mean)"),
                    "data": ("8-bit values 0..255" if data == "8-bit"
                             else f"binarised, one Bernoulli(intensity) draw, seed {BINARY_TEST_SEED}")}
        results.append(_summary(name, kind, data, scores, dims, estimator, t0, protocol))
    return results


def _fit_sigma(E, decoder, cfg, ref, dataset, conditional, device) -> tuple[float, str]:
    """The discretised Gaussian's sigma for a Bernoulli-trained VAE: the best ELBO (k=1) on the
    first 1,000 *training* images over :data:`SIGMA_GRID` (never the test set)."""
    from ganforge.data import load_images
    from ganforge.data.batches import images_to_nchw

    try:
        data = load_images(cfg.data.dataset, image_size=cfg.data.image_size, channels=cfg.data.channels or None)
    except Exception:  # the training data are not here: fall back to the config's sigma, and say so
        return cfg.task.sigma, "task.sigma (training images not available to fit it)"
    x = images_to_nchw(data.images[:1000])
    y = torch.from_numpy(np.asarray(data.labels[:1000])).long() if conditional and data.labels is not None else None
    scores = {s: float(vae_nll(E, decoder, x, y, "8-bit", 1, sigma=s, device=device).mean()) for s in SIGMA_GRID}
    best = min(scores, key=scores.get)
    return best, f"the best ELBO on 1,000 training images over {list(SIGMA_GRID)}"


__all__ = ["nll", "check_source", "NLLResult", "table", "to_json", "vae_nll", "vae_log_likelihood_bound", "discretised_gaussian_log_prob",
           "bernoulli_log_prob", "binarise_test_set", "test_images", "BINARY_TEST_SEED", "SIGMA_GRID", "NO_LIKELIHOOD"]
