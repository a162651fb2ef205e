"""What a trained model hands to ``sample``, ``evaluate``, the latent tools and the
training grids: a :class:`Sampler`, with typed fields instead of attributes patched onto
networks.

A task (``ganforge.tasks``) builds one from its modules; ``ganforge.sampling`` builds one
from a checkpoint. A latent-variable model (GAN, VAE) gives a :class:`GeneratorSampler`:
an ``nn.Module`` whose ``forward(z, y)`` is the generator, so the latent tools (walks,
inversion, steering) differentiate through it like through ``G``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.models.noise import sample_labels, sample_z


class Sampler(nn.Module):
    """Draws images from a trained model.

    Fields: ``img_shape`` (C,H,W) or (d,) for rows; ``num_classes`` (0 = unconditional);
    ``scaling`` ("tanh": outputs in [-1,1], "sigmoid": [0,1]); ``kind`` (the task that
    trained it); ``checkpoint`` (where it was loaded from, or None); ``class_prior``: for a
    conditional model, the class shares of its training labels (float64 (K,), summing to 1),
    or None for uniform classes (:meth:`use_class_counts`)."""

    def __init__(self, *, img_shape: tuple[int, ...], num_classes: int, scaling: str, kind: str,
                 checkpoint: str | None = None):
        super().__init__()
        self.img_shape: tuple[int, ...] = tuple(img_shape)
        self.num_classes: int = int(num_classes)
        self.scaling: str = scaling
        self.kind: str = kind
        self.checkpoint: str | None = checkpoint
        self.class_prior: np.ndarray | None = None

    def use_class_counts(self, counts) -> "Sampler":
        """Draw labels with these per-class counts' shares (a run's training labels, kept in
        its checkpoint as ``class_counts``); None restores uniform classes. A conditional G
        models p(x|y); drawing y from the data's p(y) makes the samples model p(x) -- with
        uniform labels MNIST's 11.2 % ones and 9.0 % fives both come out at 10 %, which a
        feature-space FID sees (docs/training.md)."""
        if counts is None or not self.num_classes:
            self.class_prior = None
            return self
        c = np.asarray(counts, dtype=np.float64)
        if c.shape != (self.num_classes,) or (c < 0).any() or c.sum() <= 0:
            raise ConfigError(f"class counts must be {self.num_classes} non-negative numbers, not all 0; got {counts!r}.")
        self.class_prior = c / c.sum()
        return self

    def balanced_labels(self, n: int) -> np.ndarray | None:
        """Labels for an evaluation of ``n`` samples without sampling noise in the class
        shares: ``i mod K`` for uniform classes, else round(n·p_k) of class k (largest
        remainders, so they sum to n), each class spread evenly through the sequence as
        ``i mod K`` spreads them (a consumer that takes the first m gets every class in its
        share). None when unconditional."""
        k = self.num_classes
        if not k:
            return None
        if self.class_prior is None:
            return np.arange(n, dtype=np.int64) % k
        exact = n * self.class_prior
        counts = np.floor(exact).astype(np.int64)
        counts[np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]] += 1
        labels = np.repeat(np.arange(k, dtype=np.int64), counts)
        # the j-th of class k's c_k labels sits at (j + 1/2) / c_k of the way through
        position = np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c])
        return labels[np.argsort(position, kind="stable")]

    @property
    def label_shares(self) -> str | None:
        """How unlabelled requests draw classes, in words (None when unconditional)."""
        if not self.num_classes:
            return None
        return "uniform" if self.class_prior is None else "the training data's class shares"

    def sample(self, n: int, seed: int = 0, cond=None, batch_size: int = 500,
               device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` outputs (n, *img_shape) as float32 on the CPU in the model's range, and their
        labels (None when unconditional); seeded, in batches of ``batch_size``."""
        raise NotImplementedError

    def start(self, n: int, seed: int, cond, batch_size: int, device) -> tuple[torch.Generator, torch.Tensor | None, torch.device]:
        """What every ``sample`` begins with: the request checked, the seeded generator, the
        labels drawn from it (:meth:`labels_for`), and the device (None: the model's)."""
        if n <= 0:
            raise ConfigError(f"the number of samples must be positive, got {n}.")
        if batch_size <= 0:
            raise ConfigError(f"the batch size must be positive, got {batch_size}.")
        gen = torch.Generator().manual_seed(seed)
        return gen, self.labels_for(n, cond, gen), device or next(self.parameters()).device

    def labels_for(self, n: int, cond, gen: torch.Generator) -> torch.Tensor | None:
        """``cond`` (None, one label, or one per sample) -> (n,) int64 labels or None.
        None on a conditional model draws labels from ``gen``: with ``class_prior`` when set,
        else uniformly."""
        if cond is None:
            return sample_labels(n, self.num_classes, gen, prior=self.class_prior)
        if not self.num_classes:
            raise ConfigError("this generator is unconditional; drop --class (it makes no labelled samples).")
        labels = torch.as_tensor(cond, dtype=torch.int64).reshape(-1)
        if labels.numel() == 1:
            labels = labels.expand(n)
        if ((labels < 0) | (labels >= self.num_classes)).any():
            raise ConfigError(f"class labels must be in 0..{self.num_classes - 1} for this generator.")
        if len(labels) != n:
            raise ConfigError(f"got {len(labels)} labels for {n} samples; pass one label or one per sample.")
        return labels


class GeneratorSampler(Sampler):
    """x = net(z, y) with z ~ N(0, I) or U(-1, 1): a GAN's G (or its EMA copy), a VAE's decoder.

    ``dropout_at_sampling``: the lecture's "dropout in G at test time" -- ``eval()`` keeps
    the dropout layers active so samples keep that extra randomness."""

    def __init__(self, net: nn.Module, *, z_dim: int, noise: str = "gaussian", dropout_at_sampling: bool = False,
                 **fields):
        super().__init__(**fields)
        self.net = net
        self.training = net.training  # the wrapper's mode mirrors the network's, so restoring it is a no-op
        self.z_dim: int = int(z_dim)
        self.noise: str = noise
        self.dropout_at_sampling: bool = bool(dropout_at_sampling)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, y)

    def train(self, mode: bool = True) -> "GeneratorSampler":
        super().train(mode)
        if not mode and self.dropout_at_sampling:
            for m in self.modules():
                if isinstance(m, nn.Dropout):
                    m.train()
        return self

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, cond=None, batch_size: int = 500,
               device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        gen, y, device = self.start(n, seed, cond, batch_size, device)
        z = sample_z(n, self.z_dim, self.noise, gen)
        out = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # sampling-time dropout draws from the global RNG
            for i in range(0, n, batch_size):
                zb = z[i:i + batch_size].to(device)
                yb = None if y is None else y[i:i + batch_size].to(device)
                out.append(self(zb, yb).float().cpu())
        return torch.cat(out), y


def to_uint8_images(x: torch.Tensor, scaling: str = "tanh") -> np.ndarray:
    """float (N,C,H,W) in the model's range -> uint8 (N,H,W) or (N,H,W,C), the on-disk layout."""
    from ganforge.data.batches import to_uint8

    u = to_uint8(x, scaling).numpy()
    return u[:, 0] if u.shape[1] == 1 else u.transpose(0, 2, 3, 1)
