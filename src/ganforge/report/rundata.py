"""What a run directory holds, read without importing any model family.

The report is built from files only (``config.json``, ``metrics.jsonl``, ``events.jsonl``,
``samples/step-*.png``, ``checkpoints/``, ``eval/``), so the runs of any family, of an
older release, or of a run killed mid-line, render the same way.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ganforge.errors import DataError

#: Keys of a training row that are not a family's statistics.
HARNESS_KEYS = ("step", "time_s", "img_per_s")
#: Keys of an evaluation row written by ``--eval-every``.
EVAL_ROW_KEYS = ("fid", "classifier_score", "eval_samples")
#: Where ``ganforge evaluate`` keeps its reports inside a run directory.
EVAL_DIR = "eval"
LATEST_EVAL = "latest.json"

_GRID = re.compile(r"step-(\d+)\.png$")


@dataclass
class RunData:
    """Everything the report shows about one run. ``events`` is None for a run written
    before ``events.jsonl`` existed; ``evaluation`` is None until ``ganforge evaluate``."""

    dir: Path
    label: str
    config: dict | None = None
    config_note: str = ""
    preset: dict | None = None          # the preset named by config["name"], same layout
    rows: list[dict] = field(default_factory=list)     # training windows, by step
    evals: list[dict] = field(default_factory=list)    # cheap-FID rows (--eval-every)
    skipped_lines: int = 0              # unparsable metrics/events lines (a kill mid-write)
    events: list[dict] | None = None
    grids: list[tuple[int, Path]] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    latest_checkpoint: str | None = None
    evaluation: dict | None = None
    evaluation_path: Path | None = None
    evaluation_count: int = 0
    tensorboard: bool = False

    @property
    def kind(self) -> str:
        return str((self.config or {}).get("kind", "?"))

    @property
    def name(self) -> str:
        return str((self.config or {}).get("name", self.dir.name))

    @property
    def stat_keys(self) -> list[str]:
        """The family's statistics, in the order the first rows name them (a new family's
        keys appear without a change here)."""
        keys: list[str] = []
        for row in self.rows:
            for k in row:
                if k not in HARNESS_KEYS and k not in keys and _is_number(row[k]):
                    keys.append(k)
        return keys

    @property
    def last_step(self) -> int | None:
        steps = [r["step"] for r in self.rows] + [r["step"] for r in self.evals]
        for e in self.events or []:
            if isinstance(e.get("step"), int):
                steps.append(e["step"])
        return max(steps) if steps else None

    @property
    def train_seconds(self) -> float | None:
        """Wall time spent training, summed over resumes (``time_s`` restarts at 0 on resume)."""
        total, last = 0.0, None
        for r in self.rows:
            t = r.get("time_s")
            if not _is_number(t):
                continue
            if last is not None and t < last:  # a resume: a new segment starts
                total += last
            last = t
        return None if last is None else total + last

    @property
    def status(self) -> str:
        """How the last session of the run ended, from ``events.jsonl``."""
        if self.events is None:
            if self.rows and any(_non_finite(v) for v in self.rows[-1].values()):
                return "diverged (NaN/Inf)"
            return "unknown (no events.jsonl: written before release 0.2)"
        kinds = [e.get("kind") for e in self.events]
        starts = [i for i, k in enumerate(kinds) if k in ("start", "resume")]
        last = kinds[starts[-1]:] if starts else kinds
        if "diverged" in last:
            return "diverged (NaN/Inf)"
        if "finish" in last:
            return next((words for kind, words in ENDINGS.items() if kind in last), "finished")
        return "running, or killed" if last else "unknown"


# How a session that ended before train.steps ended, by the event that stopped it (the kinds
# training/loop.py writes to events.jsonl); `ganforge train` prints the same words.
ENDINGS = {"early_stop": "stopped early", "signal": "stopped by a signal",
           "time_limit": "stopped at the time limit (train.max_minutes)"}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _non_finite(v) -> bool:
    return isinstance(v, float) and not math.isfinite(v)


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    """The JSON objects of a ``.jsonl`` file and how many lines could not be read (a
    killed run leaves at most one partial last line; the report skips it)."""
    rows, bad = [], 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    return rows, bad


def normalised_config(raw: dict) -> tuple[dict, str]:
    """``Config.from_dict(raw).to_dict()`` (so a pre-task ``config.json`` compares with a
    preset key by key); the raw dict and a note when it no longer validates."""
    from ganforge.config import Config

    try:
        return Config.from_dict(raw).to_dict(), ""
    except Exception as exc:  # a family or an option this release does not know: show it as written
        return raw, f"shown as written: this release cannot read it ({exc})"


def preset_dict(name: str) -> dict | None:
    from ganforge.presets import PRESETS

    if name not in PRESETS:
        return None
    return PRESETS.get(name).config.to_dict()


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    """``{"train": {"steps": 1}}`` -> ``{"train.steps": 1}``; lists stay values."""
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + str(k)] = v
    return out


def load_run(path: str | Path, label: str | None = None) -> RunData:
    """Read one run directory (``runs/NNN-name``) into a :class:`RunData`."""
    d = Path(path)
    if not d.is_dir() or not ((d / "config.json").exists() or (d / "metrics.jsonl").exists()):
        raise DataError(f"{d} is not a run directory (no config.json or metrics.jsonl); "
                        "pass a directory made by `ganforge train`, e.g. runs/001-mnist-mlp.")
    run = RunData(dir=d, label=label or d.name)
    if (d / "config.json").exists():
        try:
            raw = json.loads((d / "config.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            run.config_note = f"config.json could not be read ({exc})"
        else:
            if isinstance(raw, dict):
                run.config, run.config_note = normalised_config(raw)
                if isinstance(run.config.get("name"), str):
                    run.preset = preset_dict(run.config["name"])
    else:
        run.config_note = "no config.json in this run directory"

    rows, bad = read_jsonl(d / "metrics.jsonl")
    by_step: dict[int, dict] = {}
    evals: dict[int, dict] = {}
    for r in rows:
        if not isinstance(r.get("step"), int):
            bad += 1
        elif "fid" in r:
            evals[r["step"]] = r
        else:
            by_step[r["step"]] = r  # a resume that repeats steps: the later line wins
    run.rows = [by_step[s] for s in sorted(by_step)]
    run.evals = [evals[s] for s in sorted(evals)]
    run.skipped_lines = bad

    if (d / "events.jsonl").exists():
        events, bad_events = read_jsonl(d / "events.jsonl")
        run.events = events
        run.skipped_lines += bad_events

    samples = d / "samples"
    if samples.is_dir():
        run.grids = sorted((int(m.group(1)), p) for p in samples.iterdir() if (m := _GRID.match(p.name)))
        if not run.grids and (samples / "latest.png").exists():
            run.grids = [(run.last_step or 0, samples / "latest.png")]

    ckpts = d / "checkpoints"
    if ckpts.is_dir():
        run.checkpoints = sorted(p.name for p in ckpts.iterdir() if p.is_dir() and not p.name.startswith("."))
        latest = ckpts / "LATEST"
        if latest.exists():
            run.latest_checkpoint = latest.read_text(encoding="utf-8", errors="replace").strip() or None

    ev = d / EVAL_DIR / LATEST_EVAL
    if ev.exists():
        try:
            data = json.loads(ev.read_text(encoding="utf-8"))
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("metrics"), dict):
            run.evaluation, run.evaluation_path = data, ev
        run.evaluation_count = len(list((d / EVAL_DIR).glob("eval-*.json")))
    run.tensorboard = (d / "tensorboard").is_dir()
    return run


def resolve_figure(run: RunData, path: str) -> Path | None:
    """An evaluation figure's file: as recorded (relative to the run's ``eval/``), or by
    its name in ``eval/`` when the run directory was moved."""
    if run.evaluation_path is None:
        return None
    base = run.evaluation_path.parent
    p = Path(path)
    for candidate in (p if p.is_absolute() else base / p, base / p.name):
        if candidate.is_file():
            return candidate
    return None
