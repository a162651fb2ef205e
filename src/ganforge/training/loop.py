"""One readable training loop for every model family: ``train(config)``.

The loop owns the run (directory, ``config.json``, resume), the cadence of logs, grids,
checkpoints and evaluations, the signals, the NaN stop and the early stop. What one step
*does* belongs to the model family's task (``ganforge.tasks``): the loop never names a
family. Its shape follows nanoGPT's ``train.py`` (set up, then one loop you can read top
to bottom) and stylegan2-ada's ``training_loop.py`` (the loop never knows the loss maths).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ganforge.config import Config
from ganforge.data import ImageSet
from ganforge.data.batches import DeviceBatcher, Feed
from ganforge.data.training import training_data
from ganforge.errors import ConfigError
from ganforge.tasks import get_task
from ganforge.training.dist import single_process
from ganforge.training.monitor import Monitor, plot_losses
from ganforge.training.run import Run, StopSignals


@dataclass
class RunResult:
    run_dir: Path
    checkpoint: Path
    grid: Path | None
    loss_curve: Path | None
    step: int
    interrupted: bool = False
    early_stopped: bool = False


def train(cfg: Config, *, runs_root: str | Path = "runs", resume: str | Path | None = None,
          data: ImageSet | torch.Tensor | None = None, quiet: bool = False) -> RunResult:
    """Train the model family ``cfg.kind`` as configured; return where the run, grid and
    checkpoint are.

    ``resume``: a run directory; training continues bit-exactly from its latest
    checkpoint (same device and thread count) up to ``cfg.train.steps``.
    ``data``: in-memory data instead of ``cfg.data.dataset`` (an ImageSet, or a float
    tensor (N, d) of rows, e.g. a standardised 1-D column).
    """
    t = cfg.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = torch.device(t.device)
    dist = single_process()
    torch.manual_seed(t.seed)

    # --- data on the device, the family's networks; every user error is raised before the run directory exists ---
    x, y, spec = training_data(cfg, data)
    if t.eval_every and not (spec.is_image and spec.shape == (1, 28, 28)):
        raise ConfigError("train.eval_every uses the MNIST feature extractor, which needs 28x28 grayscale images; "
                          "set train.eval_every=0 for this dataset.")
    feed = Feed(DeviceBatcher(x, y, t.batch_size, seed=t.seed, device=device), t.batch_size, t.seed + 1, device,
                dist.rank, dist.world_size)
    task = get_task(cfg.kind)(cfg, spec, device)
    run = Run.reopen(resume, cfg) if resume is not None else Run.create(runs_root, cfg)
    start = run.restore(task, feed) if resume is not None else 0

    monitor = Monitor(run.dir, t.steps, start, task.images_per_step, task.progress, quiet or not dist.is_main)
    if t.bf16 and device.type == "cpu" and not cpu_has_native_bf16():
        monitor.write("warning: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 autocast is emulated: "
                      "measured 10-25x slower than float32 on an AVX2 EPYC. Train without --bf16 here.")
    best = BestTracker(t.early_stop)
    step, stop_reason = start, None
    task.train_mode()
    try:
        with StopSignals() as signals:
            while step < t.steps:
                stats = task.step(feed, step)
                step += 1
                monitor.add(stats)
                if step % t.log_every == 0:
                    log(monitor, task, run, step)
                if step % t.sample_every == 0:
                    run.write_grid(task, step)
                if step % t.checkpoint_every == 0:
                    log(monitor, task, run, step)  # never checkpoint weights that went non-finite
                    run.save(task, feed, step)
                if t.eval_every and step % t.eval_every == 0:
                    log(monitor, task, run, step)
                    if best.update(quick_fid(task, t, monitor, step)):
                        run.save(task, feed, step, name="best")
                    if best.stop:
                        monitor.write(f"early stop at step {step}: no better FID in {t.early_stop} evaluations "
                                      f"(best {best.fid:.2f}, kept in checkpoints/best).")
                        stop_reason = "early stop"
                if dist.agree(signals.requested or stop_reason is not None):
                    stop_reason = stop_reason or "signal"
                    break
        log(monitor, task, run, step)
        if stop_reason == "signal":
            monitor.write(f"stopped by signal at step {step}; writing a checkpoint.")
        if run.last_good is None or not run.last_good.name.endswith(f"{step:07d}"):
            run.save(task, feed, step)
        grid = run.write_grid(task, step)
    finally:
        monitor.close()
    curve = plot_losses(run.dir / "metrics.jsonl", run.dir / "loss_curve.png") if (run.dir / "metrics.jsonl").exists() else None
    return RunResult(run.dir, run.last_good, grid, curve, step, interrupted=stop_reason == "signal",
                     early_stopped=stop_reason == "early stop")


def log(monitor: Monitor, task, run: Run, step: int) -> None:
    """One host sync: a metrics.jsonl line, the progress bar, and the family's health warnings."""
    row = monitor.flush(step, run.last_good)
    for warning in task.health(row, step) if row else []:
        monitor.write(warning)


class BestTracker:
    """The lowest FID so far and how many evaluations since it improved (for early stop)."""

    def __init__(self, patience: int):
        self.patience, self.fid, self.since = patience, float("inf"), 0

    def update(self, fid: float) -> bool:
        """Record an evaluation; True when it is the best so far."""
        if fid < self.fid:
            self.fid, self.since = fid, 0
            return True
        self.since += 1
        return False

    @property
    def stop(self) -> bool:
        return bool(self.patience) and self.since >= self.patience


def quick_fid(task, t, monitor: Monitor, step: int) -> float:
    """The cheap FID of the task's sampler (MNIST extractor), recorded in metrics.jsonl."""
    from ganforge.eval import quick_fid as fid_of

    fid = fid_of(task.sampler(), n=t.eval_samples, seed=t.seed)
    monitor.record({"step": step, "fid": round(fid, 4), "eval_samples": t.eval_samples})
    return fid


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX-512 BF16 / AMX); elsewhere it emulates it slowly."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
