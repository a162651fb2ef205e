"""One readable training loop for every model family: ``train(config)``.

The loop owns the run (directory, ``config.json``, resume), the cadence of logs, grids,
checkpoints and evaluations, the signals, the NaN stop, the early stop and the time budget.
What one step *does* belongs to the model family's task (``ganforge.tasks``): the loop never
names a family. Its shape follows nanoGPT's ``train.py`` (set up, then one loop you can read top
to bottom) and stylegan2-ada's ``training_loop.py`` (the loop never knows the loss maths).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ganforge.config import Config
from ganforge.data import ImageSet
from ganforge.data.batches import DeviceBatcher, Feed
from ganforge.data.training import training_data
from ganforge.devices import require_device
from ganforge.errors import ConfigError
from ganforge.memory import keep_freed_memory
from ganforge.models.layers import matmul_record
from ganforge.tasks import get_task
from ganforge.training.dist import Dist, from_environment, meet_before_exit, shutdown
from ganforge.training.monitor import Monitor, plot_losses
from ganforge.training.run import Run, StopSignals


@dataclass
class RunResult:
    run_dir: Path
    checkpoint: Path
    grid: Path | None
    loss_curve: Path | None
    step: int
    # The event that ended the run before train.steps ("signal", "early_stop", "time_limit";
    # ganforge.report.rundata.ENDINGS words each), None when every step ran.
    stopped_by: str | None = None
    main: bool = True  # False on the ranks that write nothing (their paths are None)

    @property
    def interrupted(self) -> bool:
        return self.stopped_by == "signal"

    @property
    def early_stopped(self) -> bool:
        return self.stopped_by == "early_stop"

    @property
    def time_limited(self) -> bool:  # stopped by train.max_minutes before train.steps
        return self.stopped_by == "time_limit"


def train(cfg: Config, *, runs_root: str | Path = "runs", resume: str | Path | None = None,
          data: ImageSet | torch.Tensor | None = None, quiet: bool = False) -> RunResult:
    """Train the model family ``cfg.kind`` as configured; return where the run, grid and
    checkpoint are.

    ``resume``: a run directory; training continues bit-exactly from its latest
    checkpoint (same device, thread count and number of processes) up to ``cfg.train.steps``.
    ``data``: in-memory data instead of ``cfg.data.dataset`` (an ImageSet, or a float
    tensor (N, d) of rows, e.g. a standardised 1-D column).
    Started by torchrun, every process trains its slice of each global batch and only
    rank 0 writes (``ganforge.training.dist``).
    """
    t = cfg.train
    require_device(t.device)  # one sentence, before anything is built or written
    if t.threads:
        torch.set_num_threads(t.threads)
    dist, device, owned = from_environment(t.device)
    if device.type == "cpu":
        keep_freed_memory()  # no page faults for the buffers every step frees and allocates again
    try:
        return _train(cfg, dist, device, runs_root, resume, data, quiet)
    except BaseException:
        if owned:  # ranks that stopped on the same agreed error leave together (see meet_before_exit)
            meet_before_exit(dist)
        raise
    finally:
        if owned:
            shutdown(dist)


def _train(cfg: Config, dist: Dist, device: torch.device, runs_root, resume, data, quiet) -> RunResult:
    t = cfg.train
    torch.manual_seed(t.seed)  # the same seed on every rank: same initial weights, same draws (dist.py)

    # --- data on the device, the family's networks; every user error is raised before the run directory exists ---
    x, y, spec = training_data(cfg, data)
    if t.eval_every and not (spec.is_image and spec.shape == (1, 28, 28)):
        raise ConfigError("train.eval_every uses the MNIST / Fashion-MNIST feature extractors, which need 28x28 "
                          "grayscale images; set train.eval_every=0 for this dataset.")
    batcher = DeviceBatcher(x, y, t.batch_size, seed=t.seed, device=device, rank=dist.rank, world_size=dist.world_size)
    feed = Feed(batcher, t.batch_size, t.seed + 1, device, dist.rank, dist.world_size)
    task = get_task(cfg.kind)(cfg, spec, device, dist)
    dist.broadcast_parameters(*task.modules.values())
    if t.tensorboard:
        from ganforge.report.tensorboard import TensorBoardSink, require_tensorboard

        require_tensorboard()  # a missing package is one sentence before the run directory exists
    run = open_run(cfg, dist, runs_root, resume)
    start = run.restore(task, feed)
    if resume is not None:
        run.tidy(dist.is_main)  # a killed run: stale temporary files, rows logged after the checkpoint

    sink = TensorBoardSink(run.dir) if t.tensorboard and dist.is_main else None
    monitor = Monitor(run.dir, t.steps, start, task.images_per_step, task.progress, quiet, dist, sink)
    products = ""
    if cfg.model.matmul == "auto" and device.type == "cpu":  # which library "auto" picked here, for the record
        products = ", " + matmul_record(*task.modules.values())
    monitor.event(start, "resume" if resume is not None else "start",
                  f"{cfg.name} ({cfg.kind}) on {dist.world_size} process(es), device {device}{products}")
    if t.bf16 and device.type == "cpu" and not cpu_has_native_bf16():
        monitor.warn(start, "warning: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 autocast is emulated: "
                            "measured 10-25x slower than float32 on an AVX2 EPYC. Train without --bf16 here.")
    buffers = [m for m in task.modules.values() if any(b.is_floating_point() for b in m.buffers())]
    best = BestTracker(t.early_stop)
    step, stop = start, NO_STOP
    task.train_mode()
    deadline = clock() + 60 * t.max_minutes if t.max_minutes else None
    try:
        with StopSignals() as signals:
            while step < t.steps:
                stats = task.step(feed, step)
                dist.broadcast_buffers(*buffers)  # BatchNorm statistics: rank 0's, as DDP does
                step += 1
                monitor.add(stats)
                at_log = step % t.log_every == 0
                at_eval = bool(t.eval_every) and step % t.eval_every == 0
                if at_log or at_eval or step % t.checkpoint_every == 0:
                    log(monitor, task, run, step)  # never checkpoint weights that went non-finite
                if step % t.sample_every == 0 and dist.is_main:
                    monitor.grid(step, run.write_grid(task, step))
                for name in task.extra_grids(step) if dist.is_main else ():
                    run.write_grid(task, step, name)
                if step % t.checkpoint_every == 0:
                    dist.check_in_step(*task.modules.values())
                    if dist.is_main:
                        run.save(task, feed, step)
                if at_eval and dist.is_main:  # once, not once per rank
                    if best.update(quick_fid(task, t, monitor, step)):
                        run.save(task, feed, step, name="best")
                    if best.stop:
                        stop = EARLY_STOP
                # With several ranks, agreeing costs a host sync: do it where the loop syncs anyway.
                if not dist.active or at_log or at_eval:
                    late = deadline is not None and clock() >= deadline
                    stop = dist.agree_max(max(stop, SIGNAL if signals.requested else NO_STOP,
                                              TIME_LIMIT if late else NO_STOP))
                    if stop:
                        break
        log(monitor, task, run, step)
        if stop == EARLY_STOP:  # (best.fid is rank 0's: only rank 0 evaluates, and only rank 0 writes)
            monitor.event(step, STOP_EVENTS[stop],
                          f"early stop at step {step}: no better FID in {t.early_stop} "
                          f"evaluations (best {best.fid:.2f}, kept in checkpoints/best).", show=True)
        if stop == SIGNAL:
            monitor.event(step, STOP_EVENTS[stop], f"stopped by signal at step {step}; writing a checkpoint.", show=True)
        if stop == TIME_LIMIT:
            monitor.event(step, STOP_EVENTS[stop],
                          f"stopped at step {step} of {t.steps}: the time budget train.max_minutes="
                          f"{t.max_minutes:g} is spent (ganforge train --resume RUN continues; "
                          "--set train.max_minutes=0 trains every step).", show=True)
        grid = None
        if dist.is_main:
            if run.last_good is None or not run.last_good.name.endswith(f"{step:07d}"):
                run.save(task, feed, step)
            grid = run.write_grid(task, step)
            if step % t.sample_every:  # (the loop already logged a grid at this step)
                monitor.grid(step, grid)
            if task.animate:
                run.write_gif()
        monitor.event(step, "finish", f"{step} steps")
    finally:
        monitor.close()
    curve = None
    if dist.is_main and (run.dir / "metrics.jsonl").exists():
        curve = plot_losses(run.dir / "metrics.jsonl", run.dir / "loss_curve.png")
    dist.barrier()  # no rank leaves (and tears down the group) while rank 0 still writes
    return RunResult(run.dir, run.last_good, grid, curve, step, stopped_by=STOP_EVENTS.get(stop), main=dist.is_main)


NO_STOP, TIME_LIMIT, SIGNAL, EARLY_STOP = 0, 1, 2, 3  # agreed across ranks as a maximum
STOP_EVENTS = {TIME_LIMIT: "time_limit", SIGNAL: "signal", EARLY_STOP: "early_stop"}  # their kinds in events.jsonl
clock = time.perf_counter  # seconds, for train.max_minutes (a test replaces it)


def open_run(cfg: Config, dist: Dist, runs_root, resume) -> Run:
    """The run directory: rank 0 creates it (a new run) and every rank reads the checkpoint
    (a resume, which needs the run directory on a file system every node sees)."""
    if resume is not None:
        return Run.reopen(resume, cfg, dist.world_size)
    if not dist.active:
        return Run.create(runs_root, cfg)
    run, error = Run(None, cfg), None
    if dist.is_main:
        try:
            run = Run.create(runs_root, cfg)
        except Exception as exc:  # tell the other ranks before raising, so none waits forever
            error = exc
    if dist.agree(error is not None):
        raise error if error is not None else ConfigError("rank 0 could not create the run directory; see its error.")
    return run


def log(monitor: Monitor, task, run: Run, step: int) -> None:
    """One host sync: a metrics.jsonl line, the progress bar, and the family's health warnings."""
    row = monitor.flush(step, run.last_good)
    for warning in task.health(row, step) if row else []:
        monitor.warn(step, warning)


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
    """The cheap FID and classifier score of the task's sampler (the extractor of the run's data:
    MNIST digits or Fashion-MNIST clothes), recorded in metrics.jsonl; returns the FID."""
    from ganforge.eval.quick import quick_metrics

    task.before_snapshot(step)
    sampler = task.sampler().use_class_counts(task.spec.class_counts)  # as the run's checkpoints will sample
    m = quick_metrics(sampler, n=t.eval_samples, seed=t.seed, dataset=task.cfg.data.dataset)
    monitor.record({"step": step, "fid": round(m["fid"], 4), "classifier_score": round(m["classifier_score"], 4),
                    "eval_samples": t.eval_samples})
    return m["fid"]


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX-512 BF16 / AMX); elsewhere it emulates it slowly."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
