"""A run on disk: its numbered directory, ``config.json``, checkpoints (with everything a
bit-exact resume needs), the progress grids, and the signals that stop it cleanly.

Knows nothing about model families: it saves a task's ``modules`` and ``optimizers`` under
their own names, and the :class:`~ganforge.data.batches.Feed`'s position and RNG states.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import threading
from pathlib import Path

import torch

from ganforge import checkpoint
from ganforge.config import Config
from ganforge.data.batches import Feed
from ganforge.errors import CheckpointError, ConfigError
from ganforge.files import write_atomic
from ganforge.images import save_grid
from ganforge.sampler import to_uint8_images
from ganforge.tasks.base import Task

#: state.json "format": 2 = the config has a task section (release 0.2); absent = release 0.1,
#: whose config is migrated by Config.from_dict.
STATE_FORMAT = 2


def new_run_dir(root: str | Path, name: str) -> Path:
    """``root/NNN-name``, numbered after the highest existing run."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"--runs-dir {root} is a file; pass a directory (it is created if missing).")
    root.mkdir(parents=True, exist_ok=True)
    nums = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d+)-", p.name))]
    run = root / f"{max(nums, default=0) + 1:03d}-{name}"
    run.mkdir()
    return run


def read_config(path: Path) -> Config:
    """A run's config.json, or one sentence naming the file when it is damaged."""
    try:
        return Config.from_dict(json.loads(path.read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc}); restore it from the checkpoint's state.json "
                              "(its \"config\" entry) or start a new run.") from None


def resumable(cfg: Config) -> Config:
    """The part of the config that must match on resume: everything but the length and
    whether TensorBoard events are written (neither changes a step's maths)."""
    return cfg.override({"train.steps": 1, "train.tensorboard": False})


class Run:
    """One run directory. ``last_good`` is the newest checkpoint written (None before the first);
    ``state`` is the ``state.json`` of the checkpoint a resume continues from (read once)."""

    def __init__(self, run_dir: Path | None, cfg: Config, last_good: Path | None = None, state: dict | None = None):
        self.dir, self.cfg, self.last_good, self.state = run_dir, cfg, last_good, state
        self.ckpt_root = None if run_dir is None else run_dir / "checkpoints"  # None: a rank that writes nothing

    @property
    def start(self) -> int:
        """The step the run continues from (0 for a new run or one killed before its first checkpoint)."""
        return 0 if self.state is None else int(self.state["step"])

    @classmethod
    def create(cls, root: str | Path, cfg: Config) -> "Run":
        run_dir = new_run_dir(root, cfg.name)
        write_atomic(run_dir / "config.json", json.dumps(cfg.to_dict(), indent=1))
        return cls(run_dir, cfg)

    @classmethod
    def reopen(cls, run_dir: str | Path, cfg: Config, world_size: int = 1) -> "Run":
        """An existing run to continue with ``cfg`` (which may only differ in its length),
        on the same number of processes it was trained on. A run killed before its first
        checkpoint starts again from step 0 in the same directory."""
        run_dir = Path(run_dir)
        if not (run_dir / "config.json").is_file():
            raise CheckpointError(f"{run_dir} is not a run directory (no config.json); pass runs/NNN-name.")
        if not (run_dir / "checkpoints" / checkpoint.LATEST).exists():
            saved = read_config(run_dir / "config.json")
            if saved != cfg.override({"train.steps": saved.train.steps}):
                raise ConfigError(f"{run_dir} was started with a different configuration; resume with the same one "
                                  "(only train.steps may change).")
            return cls(run_dir, cfg)  # killed before its first checkpoint: nothing to load
        ckpt = checkpoint.resolve(run_dir)
        state = checkpoint.load_state(ckpt)
        missing = [k for k in ("config", "step", "data") if k not in state]
        if missing:
            raise CheckpointError(f"{ckpt}/state.json lacks {', '.join(missing)}; the checkpoint is damaged, delete "
                                  f"it (and point {run_dir}/checkpoints/LATEST at an earlier one) to resume from there.")
        saved = Config.from_dict(state["config"])
        if saved != resumable(cfg):
            raise ConfigError(f"{run_dir} was trained with a different configuration; resume with the same one "
                              "(only train.steps may change).")
        trained_on = int(state.get("world_size", 1))
        if trained_on != world_size:
            raise ConfigError(f"{run_dir} was trained on {trained_on} process(es) and this is {world_size}; resume with "
                              f"the same number (torchrun --nproc_per_node={trained_on}), since the data order and "
                              "noise of a step depend on it.")
        start = int(state["step"])
        if start > cfg.train.steps:
            raise ConfigError(f"{run_dir} already has {start} steps; pass --steps {start} (to finish it) or more.")
        return cls(run_dir, cfg, ckpt, state)

    def tidy(self, main: bool = True) -> None:
        """After a kill: remove temporary files a killed process left behind, and cut
        metrics.jsonl / events.jsonl back to the checkpoint's step (rows logged after it
        will be logged again, and a half-written last line is dropped)."""
        if not main or self.dir is None:
            return
        for tmp in sorted(self.dir.rglob(".tmp-*"), reverse=True):
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        step = self.start
        for name in ("metrics.jsonl", "events.jsonl"):
            path = self.dir / name
            if path.exists():
                rows = []
                for line in path.read_text().splitlines():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # the line a kill cut in half
                    if row.get("step", 0) <= step:
                        rows.append(line)
                write_atomic(path, "".join(r + "\n" for r in rows))

    def restore(self, task: Task, feed: Feed) -> int:
        """Load weights, optimizer and RNG states of the latest checkpoint; return its step
        (0, loading nothing, for a run killed before its first checkpoint)."""
        ckpt = self.last_good
        if self.state is None:
            return 0
        for name, module in task.modules.items():
            checkpoint.load_module_weights(ckpt, name, module)
        rng = checkpoint.load_training_state(ckpt, task.optimizers)
        torch.set_rng_state(rng["torch"])
        feed.load_state(self.state["data"], rng)
        return self.start

    def save(self, task: Task, feed: Feed, step: int, name: str | None = None) -> Path:
        """A checkpoint of everything a bit-exact resume needs; ``name`` (e.g. "best") keeps
        a named snapshot beside the step-* ones."""
        task.before_snapshot(step)
        position, rng = feed.state()
        state = {"kind": self.cfg.kind, "format": STATE_FORMAT, "world_size": feed.world_size,
                 "config": resumable(self.cfg).to_dict(),
                 "img_shape": list(task.spec.shape), "num_classes": task.spec.num_classes, **task.state(),
                 **({"class_counts": list(task.spec.class_counts)} if task.spec.class_counts else {}),
                 "data": position}
        path = checkpoint.save_checkpoint(self.ckpt_root, step, task.modules, state, task.optimizers,
                                          {"torch": torch.get_rng_state(), **rng},
                                          keep=self.cfg.train.keep_checkpoints, name=name)
        if name is None:
            self.last_good = path
        return path

    def write_grid(self, task: Task, step: int, name: str | None = None) -> Path | None:
        """``samples/step-NNNNNNN.png`` and ``samples/latest.png`` from the task's preview
        (``samples/<name>.png`` alone when ``name`` is given: a task's extra grid)."""
        if not task.spec.is_image:
            return None
        task.before_snapshot(step)
        imgs, nrow = task.preview()
        u8 = to_uint8_images(imgs.float().cpu(), self.cfg.data.scaling)
        if name is not None:
            return save_grid(u8, self.dir / "samples" / f"{name}.png", nrow=nrow)
        save_grid(u8, self.dir / "samples" / f"step-{step:07d}.png", nrow=nrow)
        return save_grid(u8, self.dir / "samples" / "latest.png", nrow=nrow)

    def write_gif(self) -> Path | None:
        """``samples/progress.gif``: the run's progress grids in step order, 0.2 s a frame and
        the last held 2 s (for tasks with ``animate``)."""
        from PIL import Image

        from ganforge.files import atomic_path

        paths = sorted((self.dir / "samples").glob("step-*.png"))
        if not paths:
            return None
        frames = [Image.open(p).convert("RGB") for p in paths]
        path = self.dir / "samples" / "progress.gif"
        with atomic_path(path) as tmp:
            frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                           duration=[200] * (len(frames) - 1) + [2000])
        return path


class StopSignals:
    """Ctrl-C / SIGTERM set ``requested``: the loop finishes the current step, writes a
    checkpoint and returns. A second Ctrl-C gives up immediately."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        for s, h in (self._previous or {}).items():
            signal.signal(s, h)
