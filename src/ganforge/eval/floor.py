"""The real-vs-real floor: the same metrics with held-out real images in place of the
samples, because FID & co. are biased by the sample size and only mean something next
to what real data gets. Cached under ``$GANFORGE_HOME/eval`` keyed by the images'
sha256, the extractor, the sample count, the settings and :data:`METRICS_VERSION`.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np

from ganforge.eval.compute import METRICS_VERSION, _compute
from ganforge.eval.features import _cache_dir, _extract, _extractor_key
from ganforge.eval.options import EvalOptions
from ganforge.eval.report import MetricValue, _clean
from ganforge.eval.sources import ImageData
from ganforge.files import sha256_bytes, write_atomic


def _floor(
    ref: ImageData, train: ImageData | None, ref_f, ref_p, n: int, s: EvalOptions, extractor, conditional: bool,
    *, inception: bool,
) -> tuple[dict[str, MetricValue], list[float] | None, str]:
    """Real-vs-real metrics: ``n`` held-out real images vs the reference (cached).

    ``train`` given: a seeded subset of it, ``n`` images, against the whole reference.
    ``train`` None (no separate real set, or the reference *is* the training set): the
    reference split in two seeded halves. ``s`` is resolved as for
    :func:`~ganforge.eval.compute._compute`."""
    if train is not None:
        rng = np.random.default_rng(s.seed)
        idx = np.sort(rng.choice(len(train.images), min(n, len(train.images)), replace=False))
        held = ImageData(train.images[idx], None if train.labels is None else train.labels[idx],
                         f"{train.name}[{len(idx)} random, seed {s.seed}]", "")
        ref_used, ref_f_used, ref_p_used = ref, ref_f, ref_p
        floor_name = held.name
    else:
        # No separate real set: split the reference in two halves (smaller n, noted).
        rng = np.random.default_rng(s.seed)
        perm = rng.permutation(len(ref.images))
        a, b = perm[: len(perm) // 2], perm[len(perm) // 2 :][:n]
        held = ImageData(ref.images[b], None if ref.labels is None else ref.labels[b], f"{ref.name}[half B]", "")
        ref_used = ImageData(ref.images[a], None if ref.labels is None else ref.labels[a], f"{ref.name}[half A]", "")
        ref_f_used = None if ref_f is None else ref_f[a]
        ref_p_used = None if ref_p is None else ref_p[a]
        floor_name = f"reference split in halves ({len(a)} vs {len(b)})"
    if not conditional:
        held.labels = None
    # The key's fields and their order are those of the first cached floors: keep them,
    # or every user's cache is recomputed (bump METRICS_VERSION when a metric changes).
    key = json.dumps({
        "v": METRICS_VERSION, "ref": ref.sha256, "train": None if train is None else train.sha256,
        "n": n, "ext": None if extractor is None else _extractor_key(extractor), "cond": conditional,
        "s": [s.seed, s.bootstrap, s.kid_subsets, s.kid_subset_size, s.pixel_c2st, s.c2st_per_side,
              s.c2st_epochs, s.memorisation, s.copy_threshold],
    }, sort_keys=True)
    path = _cache_dir() / f"floor-{sha256_bytes(key)[:24]}.json"
    if path.exists():
        try:
            d = json.loads(path.read_text())
            return {k: MetricValue(**{**v, "ci": tuple(v["ci"]) if v.get("ci") else None})
                    for k, v in d["metrics"].items()}, d["class_shares"], d["floor_set"]
        except Exception:
            path.unlink(missing_ok=True)
    held_f = held_p = None
    if extractor is not None:
        held_f, held_p = _extract(held.images, extractor)
    extra: dict = {}
    floor_metrics = _compute(held, ref_used, train, ref_f_used, ref_p_used, held_f, held_p, s,
                             inception=inception, floor=True, skipped={}, extra=extra)
    write_atomic(path, json.dumps({
        "metrics": {k: _clean(asdict(v)) for k, v in floor_metrics.items()},
        "class_shares": extra.get("class_shares"), "floor_set": floor_name,
    }))
    return floor_metrics, extra.get("class_shares"), floor_name
