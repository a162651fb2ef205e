"""Evaluations kept with their run: ``RUN/eval/latest.json`` and one timestamped copy per
``ganforge evaluate``, with the figures (closest pairs) beside them, so the report can
show the latest evaluation and its pictures from the run directory alone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from ganforge.files import write_atomic
from ganforge.report.rundata import EVAL_DIR, LATEST_EVAL


def run_dir_of(source) -> Path | None:
    """The run directory a source belongs to: the run itself, or the run of a checkpoint
    inside ``RUN/checkpoints/``; None for sample files, folders and stray checkpoints."""
    if not isinstance(source, (str, Path)):
        return None
    p = Path(source)
    if not p.is_dir():
        return None
    if (p / "config.json").is_file() and ((p / "checkpoints").is_dir() or (p / "metrics.jsonl").exists()):
        return p
    if p.parent.name == "checkpoints" and (p.parent.parent / "config.json").is_file():
        return p.parent.parent
    return None


def stamp_now() -> str:
    """A UTC timestamp for file names: ``20261201T001502Z``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def default_closest_pairs(run_dir: Path, stamp: str) -> Path:
    return Path(run_dir) / EVAL_DIR / f"{stamp}-closest-pairs.png"


def save_evaluation(report, run_dir: str | Path, stamp: str | None = None) -> Path:
    """Write ``report`` (an :class:`~ganforge.eval.report.EvalReport`) as
    ``RUN/eval/eval-STAMP.json`` and ``RUN/eval/latest.json``; figures written elsewhere
    are copied into ``RUN/eval/`` and recorded by their name there. Returns the timestamped file."""
    stamp = stamp or stamp_now()
    folder = Path(run_dir) / EVAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    d = report.to_dict()
    figures = {}
    for key, path in (d.get("figures") or {}).items():
        src = Path(path)
        if not src.is_file():
            continue
        if src.resolve().parent != folder.resolve():
            dst = folder / f"{stamp}-{src.name}"
            write_atomic(dst, src.read_bytes())
            src = dst
        figures[key] = src.name
    d["figures"] = figures
    d["evaluated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = json.dumps(d, indent=2, allow_nan=False) + "\n"
    out = folder / f"eval-{stamp}.json"
    i = 1
    while out.exists():  # two evaluations in one second keep both
        out = folder / f"eval-{stamp}-{i}.json"
        i += 1
    write_atomic(out, text)
    write_atomic(folder / LATEST_EVAL, text)
    return out
