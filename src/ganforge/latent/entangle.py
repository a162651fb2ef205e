"""Entanglement: when you steer one property, what else changes?

Two measurements (the lecture's "z-space is entangled"):

1. **Change table** (:func:`steer_property_table`): steer z toward more of one
   property (ink, thickness, slant, width) and measure the change in *every* property,
   in units of that property's standard deviation over unsteered samples, plus the share
   of samples whose predicted class survived. A disentangled space would give a
   diagonal table.
2. **Latent directions** (:func:`latent_directions`): regress each property on z
   (ridge regression on n samples, R² on held-out samples says how linearly a
   property is encoded), take the normalised coefficient vectors as directions, and
   report their pairwise cosines: |cos| near 0 = separable directions, near 1 = the
   same direction in z moves both properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ganforge.latent.properties import PROPERTIES, PROPERTY_UNITS, measure, property_scorer
from ganforge.latent.sources import Classifier, to_classifier_range
from ganforge.latent.steer import steer


def _sample(G: nn.Module, n: int, seed: int, label: int | None = None):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=gen)
    y = None
    if G.num_classes:
        y = torch.full((n,), label, dtype=torch.int64) if label is not None else torch.randint(G.num_classes, (n,), generator=gen)
    return z, y


@dataclass
class ChangeTable:
    """rows: steered property -> {measured property: change in sd units}, plus class kept."""

    columns: list[str]
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    class_kept: dict[str, float] = field(default_factory=dict)
    sd: dict[str, float] = field(default_factory=dict)

    def markdown(self) -> str:
        head = "| steered ↑ | " + " | ".join(f"Δ {c} (sd)" for c in self.columns)
        head += " | class kept |" if self.class_kept else " |"
        sep = "|---|" + "---:|" * (len(self.columns) + bool(self.class_kept))
        lines = [head, sep]
        for r, vals in self.rows.items():
            cells = [f"**{vals[c]:+.2f}**" if c == r else f"{vals[c]:+.2f}" for c in self.columns]
            kept = f" {100 * self.class_kept[r]:.0f}% |" if self.class_kept else ""
            lines.append(f"| {r} | " + " | ".join(cells) + " |" + kept)
        sds = ", ".join(f"{c} {self.sd[c]:.2f} {PROPERTY_UNITS.get(c, '')}" for c in self.columns)
        lines.append("")
        lines.append(f"1 sd = {sds}.")
        return "\n".join(lines)


@torch.no_grad()
def _predict(classifier: Classifier | None, x: torch.Tensor, scaling: str):
    return None if classifier is None else classifier.predict(to_classifier_range(x, scaling))


def change_row(x0: torch.Tensor, x: torch.Tensor, scaling: str, sd: dict[str, float]) -> dict[str, float]:
    """Mean change of every property from x0 to x, in sd units."""
    before, after = measure(x0, scaling), measure(x, scaling)
    return {k: float((after[k] - before[k]).mean() / max(sd[k], 1e-12)) for k in before}


def steer_property_table(G: nn.Module, n: int = 64, seed: int = 0, steps: int = 40, lr: float = 0.05,
                         prior_weight: float = 0.1, classifier: Classifier | None = None,
                         properties: tuple[str, ...] = tuple(PROPERTIES)) -> ChangeTable:
    """Steer each property upward on the same n codes; tabulate all properties' changes.

    Each property's score is divided by its sd first, so the same ``lr`` means a
    comparable push for every row."""
    scaling = G.scaling
    z, y = _sample(G, n, seed)
    with torch.no_grad():
        x0 = G(z, y)
    base = measure(x0, scaling)
    sd = {k: float(v.std()) for k, v in base.items()}
    pred0 = _predict(classifier, x0, scaling)
    table = ChangeTable(columns=list(PROPERTIES), sd=sd)
    for p in properties:
        raw = property_scorer(p, scaling)
        scale = 1.0 / max(sd[p], 1e-6)
        res = steer(G, lambda x, raw=raw, scale=scale: raw(x) * scale, z, y, steps=steps, lr=lr, prior_weight=prior_weight)
        table.rows[p] = change_row(res.x0, res.x, scaling, sd)
        if classifier is not None:
            table.class_kept[p] = float((_predict(classifier, res.x, scaling) == pred0).float().mean())
    return table


@dataclass
class Directions:
    names: list[str]
    directions: np.ndarray  # (P, z_dim) unit vectors
    r2: dict[str, float]  # held-out R² of the linear fit property ~ z
    cosine: np.ndarray  # (P, P) cosines between directions

    def markdown(self) -> str:
        lines = ["| property | held-out R² | " + " | ".join(f"cos vs {n}" for n in self.names) + " |",
                 "|---|---:|" + "---:|" * len(self.names)]
        for i, n in enumerate(self.names):
            lines.append(f"| {n} | {self.r2[n]:.2f} | " + " | ".join(f"{self.cosine[i, j]:+.2f}" for j in range(len(self.names))) + " |")
        return "\n".join(lines)


@torch.no_grad()
def latent_directions(G: nn.Module, n: int = 2000, seed: int = 0, alpha: float = 1.0, label: int | None = None,
                      batch_size: int = 500) -> Directions:
    """Ridge-regress every property on z over n samples (80 % fit, 20 % held out)."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    scaling = G.scaling
    z, y = _sample(G, n, seed, label)
    props: dict[str, list[np.ndarray]] = {k: [] for k in PROPERTIES}
    for i in range(0, n, batch_size):
        yb = None if y is None else y[i:i + batch_size]
        x = G(z[i:i + batch_size], yb)
        for k, v in measure(x, scaling).items():
            props[k].append(v)
    Z = z.double().numpy()
    cut = int(0.8 * n)
    names, dirs, r2 = list(PROPERTIES), [], {}
    for k in names:
        v = np.concatenate(props[k])
        m = Ridge(alpha=alpha).fit(Z[:cut], v[:cut])
        r2[k] = float(r2_score(v[cut:], m.predict(Z[cut:])))
        dirs.append(m.coef_ / max(np.linalg.norm(m.coef_), 1e-12))
    D = np.stack(dirs)
    return Directions(names, D, r2, D @ D.T)


@torch.no_grad()
def direction_table(G: nn.Module, dirs: Directions, step: float = 2.0, n: int = 64, seed: int = 1,
                    classifier: Classifier | None = None) -> ChangeTable:
    """Move every code ``step`` units along each found direction; tabulate all changes."""
    scaling = G.scaling
    z, y = _sample(G, n, seed)
    x0 = G(z, y)
    sd = {k: float(v.std()) for k, v in measure(x0, scaling).items()}
    pred0 = _predict(classifier, x0, scaling)
    table = ChangeTable(columns=list(PROPERTIES), sd=sd)
    for i, name in enumerate(dirs.names):
        z1 = z + step * torch.from_numpy(dirs.directions[i]).float()[None]
        x1 = G(z1, y)
        table.rows[name] = change_row(x0, x1, scaling, sd)
        if classifier is not None:
            table.class_kept[name] = float((_predict(classifier, x1, scaling) == pred0).float().mean())
    return table
