"""Steering: move z by gradient ascent on any differentiable score of G(z).

    z <- z + lr * grad_z [ score(G(z)) + prior_weight * log_prior(z) ]

The score is anything x (N,C,H,W) -> (N,): the log-probability of a class under a
classifier (the lecture's "use a classifier's gradient to steer generation"), the stroke
thickness of :mod:`ganforge.latent.properties`, or a user's own function. The prior term
keeps z where G was trained (z ~ N(0, I)); without it, ascent can run off to codes of
unusual norm that G renders as garbage which the scorer nevertheless likes (an
adversarial example rather than a better digit). Two priors:

- ``"shell"`` (default): the log-density of |z| under N(0, I), a chi distribution with
  d degrees of freedom, ``(d - 1) log|z| - |z|**2 / 2``. In 100 dimensions N(0, I) puts
  its mass on a thin shell of radius ~ sqrt(d); this term pulls |z| back to that shell
  and leaves the direction free, so it does not shrink z toward the origin (the mode of
  the density, but a code G almost never saw).
- ``"gaussian"``: the plain log-density ``-|z|**2 / 2``, which also pulls toward 0.

Plain gradient steps on z, no optimizer object: each step is clipped to ``max_step`` in
norm per sample, a trust region that stops the first large classifier gradients from
throwing z off the shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ganforge.latent.sources import Classifier, to_classifier_range

Scorer = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Steered:
    z0: torch.Tensor  # (N, d) start codes
    z: torch.Tensor  # (N, d) steered codes
    x0: torch.Tensor  # (N, C, H, W) G(z0), model range
    x: torch.Tensor  # (N, C, H, W) G(z)
    score0: torch.Tensor  # (N,) score before
    score: torch.Tensor  # (N,) score after

    @property
    def distance(self) -> torch.Tensor:
        """(N,) Euclidean distance moved in z."""
        return (self.z - self.z0).norm(dim=1)

    @property
    def image_change(self) -> torch.Tensor:
        """(N,) mean absolute pixel change, as a fraction of the full range."""
        return (self.x - self.x0).abs().flatten(1).mean(1) / 2.0


def _g(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return G(z, y)


PRIORS = ("shell", "gaussian")


def log_prior(z: torch.Tensor, prior: str = "shell") -> torch.Tensor:
    """(N, d) -> (N,) log-density (up to a constant) of |z| ("shell") or of z ("gaussian")."""
    sq = z.pow(2).sum(1)
    if prior == "gaussian":
        return -0.5 * sq
    return 0.5 * (z.shape[1] - 1) * torch.log(sq.clamp_min(1e-12)) - 0.5 * sq


def steer(G: nn.Module, scorer: Scorer, z: torch.Tensor, y: torch.Tensor | None = None, steps: int = 100,
          lr: float = 0.05, prior_weight: float = 0.1, max_step: float | None = 0.5, prior: str = "shell") -> Steered:
    """Steer codes z (N, z_dim) toward a higher ``scorer(G(z, y))``.

    ``y``: labels (N,) for a conditional G (kept fixed). ``prior_weight``: strength of
    the log-prior term (see the module docstring for ``prior``); 0 = pure ascent.
    G's weights are not changed.
    """
    if prior not in PRIORS:
        from ganforge.errors import ConfigError

        raise ConfigError(f"unknown prior {prior!r}; choose one of: {', '.join(PRIORS)}.")
    G.eval()
    dev = next(G.parameters()).device
    z0 = z.detach().to(dev).float()
    y = None if y is None else torch.as_tensor(y, dtype=torch.int64).to(dev)
    saved = [(p, p.requires_grad) for p in G.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            x0 = _g(G, z0, y)
            s0 = scorer(x0)
        zc = z0.clone()
        for _ in range(steps):
            zc.requires_grad_(True)
            objective = scorer(_g(G, zc, y)) + prior_weight * log_prior(zc, prior)
            (grad,) = torch.autograd.grad(objective.sum(), zc)
            with torch.no_grad():
                step = lr * grad
                if max_step is not None:
                    norm = step.norm(dim=1, keepdim=True).clamp_min(1e-12)
                    step = step * (max_step / norm).clamp(max=1.0)
                zc = (zc + step).detach()
        with torch.no_grad():
            x = _g(G, zc, y)
            s = scorer(x)
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)
    return Steered(z0.cpu(), zc.cpu(), x0.float().cpu(), x.float().cpu(), s0.float().cpu(), s.float().cpu())


def class_log_prob(classifier: Classifier | nn.Module, target: int, scaling: str = "tanh") -> Scorer:
    """Scorer ``x -> log p(target | x)`` under a classifier reading [-1, 1] images."""
    fn = classifier.logits if isinstance(classifier, Classifier) else classifier

    def score(x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(fn(to_classifier_range(x, scaling)), dim=1)[:, target]

    return score


@dataclass
class SteerReport:
    target: int
    n: int
    success_before: float  # share classified as target before steering
    success_after: float  # ... after steering (the success rate)
    mean_distance: float  # mean |z - z0|
    mean_norm0: float
    mean_norm: float
    mean_image_change: float  # mean |x - x0| as a fraction of the pixel range
    mean_log_prob_before: float
    mean_log_prob_after: float

    def lines(self) -> list[str]:
        return [
            f"target class {self.target}, {self.n} samples",
            f"success rate: {100 * self.success_after:.1f}% classified as {self.target} "
            f"(before: {100 * self.success_before:.1f}%)",
            f"mean log p({self.target}|x): {self.mean_log_prob_before:.2f} -> {self.mean_log_prob_after:.2f}",
            f"mean distance moved in z: {self.mean_distance:.2f} (|z|: {self.mean_norm0:.2f} -> {self.mean_norm:.2f})",
            f"mean image change: {100 * self.mean_image_change:.1f}% of the pixel range per pixel",
        ]


@torch.no_grad()
def steer_report(result: Steered, classifier: Classifier, target: int, scaling: str = "tanh") -> SteerReport:
    pred0 = classifier.predict(to_classifier_range(result.x0, scaling))
    pred = classifier.predict(to_classifier_range(result.x, scaling))
    return SteerReport(
        target=target, n=len(result.z), success_before=float((pred0 == target).float().mean()),
        success_after=float((pred == target).float().mean()), mean_distance=float(result.distance.mean()),
        mean_norm0=float(result.z0.norm(dim=1).mean()), mean_norm=float(result.z.norm(dim=1).mean()),
        mean_image_change=float(result.image_change.mean()),
        mean_log_prob_before=float(result.score0.mean()), mean_log_prob_after=float(result.score.mean()),
    )
