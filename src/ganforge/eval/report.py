"""The typed result of an evaluation: metric values with their real-vs-real floor,
confidence intervals, and the protocol needed to reproduce or compare them.

A number without its protocol cannot be compared (stylegan2-ada habit): every report
records the sample count, the reference set and its sha256, the feature space and the
sha256 of its weights, the ganforge version and the seed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ganforge.files import write_atomic


@dataclass(frozen=True)
class MetricValue:
    """One metric. ``floor`` is the same metric for held-out real images against the
    reference (what a perfect generator would get); ``ci`` a 95 % bootstrap interval;
    ``sd`` a standard deviation (KID: over subsets; aggregated reports: over runs)."""

    name: str
    value: float
    label: str                      # human name for tables
    better: str                     # "lower", "higher", "0.5" (closer to one half), "floor"
    floor: float | None = None
    ci: tuple[float, float] | None = None
    sd: float | None = None
    p_value: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Protocol:
    source: str
    num_samples: int
    reference: str
    reference_sha256: str
    reference_size: int
    train_set: str | None
    train_sha256: str | None
    floor_set: str | None           # held-out real images used for the floor column
    extractor_sha256: str | None     # the weights of the feature space (MNIST extractor or Inception file)
    ganforge_version: str
    seed: int
    bootstrap: int
    kid_subsets: int
    kid_subset_size: int
    copy_threshold: float | None
    c2st_pixels_per_side: int | None
    runs: int = 1
    run_seeds: list[int] = field(default_factory=list)
    seconds: float = 0.0
    # "ganforge-mnist-cnn", "inception-v3-pool3 (pytorch-fid)", "inception-v3-pool3 (clean-fid)",
    # or None when no feature metric was computed. FIDs compare only within one space.
    feature_space: str | None = None
    # a conditional generator's samples: how their classes were drawn ("uniform" or "the
    # training data's class shares"); None for other sources
    label_shares: str | None = None


@dataclass
class EvalReport:
    protocol: Protocol
    metrics: dict[str, MetricValue]
    class_shares: list[float] | None = None
    floor_class_shares: list[float] | None = None
    skipped: dict[str, str] = field(default_factory=dict)   # metric -> why it was not computed
    figures: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> MetricValue:
        return self.metrics[name]

    def value(self, name: str) -> float:
        return self.metrics[name].value

    # -------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        return {
            "protocol": asdict(self.protocol),
            "metrics": {k: _clean(asdict(v)) for k, v in self.metrics.items()},
            "class_shares": self.class_shares,
            "floor_class_shares": self.floor_class_shares,
            "skipped": self.skipped,
            "figures": self.figures,
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        if path is not None:
            write_atomic(path, text)
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "EvalReport":
        metrics = {}
        for k, v in d["metrics"].items():
            v = dict(v)
            if v.get("ci") is not None:
                v["ci"] = tuple(v["ci"])
            metrics[k] = MetricValue(**v)
        return cls(
            protocol=Protocol(**d["protocol"]), metrics=metrics, class_shares=d.get("class_shares"),
            floor_class_shares=d.get("floor_class_shares"), skipped=d.get("skipped", {}),
            figures=d.get("figures", {}),
        )

    # -------------------------------------------------------------- table
    def table(self, class_names: list[str] | None = None) -> str:
        """The report as text. ``class_names``: one name per class for the class shares line
        (default: Fashion-MNIST's names in its feature space, else the class numbers)."""
        p = self.protocol
        runs = f", {p.runs} runs (mean ± sd)" if p.runs > 1 else ""
        lines = [
            f"{p.source}: {p.num_samples} samples vs {p.reference} ({p.reference_size} images, "
            f"sha256 {p.reference_sha256[:12]}){runs}",
        ]
        if p.feature_space is not None:
            lines.append(f"feature space: {p.feature_space}, weights sha256 {str(p.extractor_sha256)[:12]}")
        lines.append(f"{'metric':<28}{'value':>16}  {'95% CI':<20}{'real floor':>11}  better")
        for m in self.metrics.values():
            val = _fmt(m.value)
            if m.sd is not None:
                val = f"{_fmt(m.value)} ± {_fmt(m.sd)}"
            ci = f"[{_fmt(m.ci[0])}, {_fmt(m.ci[1])}]" if m.ci else ""
            floor = _fmt(m.floor) if m.floor is not None else "-"
            better = {"0.5": "≈0.5", "floor": "≈floor"}.get(m.better, m.better)
            extra = ""
            if m.p_value is not None:
                extra = f"  p={m.p_value:.2g}" if m.p_value > 0 else "  p<1e-300"
            lines.append(f"{m.label:<28}{val:>16}  {ci:<20}{floor:>11}  {better}{extra}")
        if self.class_shares is not None:
            if class_names is None and p.feature_space == "ganforge-fashion-mnist-cnn":
                from ganforge.data.fashion import FASHION_CLASSES as class_names
            if class_names is not None and len(class_names) == len(self.class_shares):
                shares = ", ".join(f"{name} {100 * s:.1f}" for name, s in zip(class_names, self.class_shares))
            else:
                shares = " ".join(f"{100 * s:4.1f}" for s in self.class_shares)
            lines.append(f"class shares (%): {shares}")
        if p.label_shares is not None:
            lines.append(f"labels drawn: {p.label_shares}")
        for name, why in self.skipped.items():
            lines.append(f"not computed: {name}: {why}")
        for name, path in self.figures.items():
            lines.append(f"{name}: {path}")
        lines.append(
            f"protocol: seed {p.seed}, extractor {str(p.extractor_sha256)[:12]}, ganforge {p.ganforge_version}, "
            f"{p.seconds:.1f}s"
        )
        return "\n".join(lines)


def aggregate(reports: list[EvalReport], source: str | None = None) -> EvalReport:
    """Mean ± sd (ddof=1) of every metric over several runs or seeds; floors are shared."""
    if not reports:
        raise ValueError("aggregate needs at least one report")
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    metrics = {}
    for name, m in first.metrics.items():
        vals = [r.metrics[name].value for r in reports if name in r.metrics]
        if len(vals) != len(reports):
            continue
        metrics[name] = replace(
            m, value=float(np.mean(vals)), sd=float(np.std(vals, ddof=1)), ci=None, p_value=None,
            note=f"mean ± sd over {len(vals)} runs",
        )
    shares = None
    if all(r.class_shares is not None for r in reports):
        shares = [float(x) for x in np.mean([r.class_shares for r in reports], axis=0)]
    seeds = [r.protocol.seed for r in reports]
    protocol = replace(
        first.protocol, source=source or " + ".join(r.protocol.source for r in reports), runs=len(reports),
        run_seeds=seeds, seconds=float(sum(r.protocol.seconds for r in reports)),
    )
    return EvalReport(protocol, metrics, shares, first.floor_class_shares, dict(first.skipped), {})


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return str(x)
    a = abs(x)
    if a == 0:
        return "0"
    if float(x).is_integer() and a < 1e6:
        return str(int(x))
    if a >= 100:
        return f"{x:.1f}"
    if a >= 0.01:
        return f"{x:.4f}".rstrip("0").rstrip(".") if a < 10 else f"{x:.3f}"
    return f"{x:.2e}"


def _clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out

