"""What a training run shows and writes: progress bar, metrics.jsonl, the loss curve,
and the health check every family shares (a non-finite statistic stops the run). Checks
that only make sense for one family (the GAN's "D wins") live in its task."""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ganforge.errors import TrainingDiverged


def stack_on_one_device(values: list[torch.Tensor]) -> torch.Tensor:
    """The statistics as one float vector, on the accelerator where any of them lives: a task may
    report a few on the CPU (a schedule's level, a fade-in's alpha) beside the losses on the GPU,
    and ``torch.stack`` refuses to mix devices."""
    device = next((v.device for v in values if v.device.type != "cpu"), torch.device("cpu"))
    return torch.stack([v.float().to(device) for v in values])


class Monitor:
    """Accumulates step statistics as device tensors and syncs with the host only every
    ``log_every`` steps (one ``.item()`` batch per window, not per step).

    With several ranks the window's statistics are averaged across ranks first (one
    all-reduce), so every rank sees the same row and a NaN on any rank stops all of them;
    only the main rank writes files and shows the progress bar.

    Besides ``metrics.jsonl`` it keeps ``events.jsonl``: one line per thing that happened to
    the run (start, resume, warning, early stop, signal, divergence, finish), for the report.
    """

    def __init__(self, run_dir: Path | None, total_steps: int, start_step: int, images_per_step: int,
                 labels: dict[str, str], quiet: bool = False, dist=None, sink=None):
        self.run_dir, self.dist = run_dir, dist
        self.sink = sink  # train.tensorboard: a ganforge.report.tensorboard.TensorBoardSink gets the same rows
        self.main = dist is None or dist.is_main
        self.metrics_path = None if run_dir is None else run_dir / "metrics.jsonl"
        self.events_path = None if run_dir is None else run_dir / "events.jsonl"
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.images_per_step = images_per_step * (1 if dist is None else dist.world_size)  # global images
        self.labels = {**labels, "img_per_s": "img/s"}  # metrics.jsonl key -> progress-bar label
        self.t0 = time.perf_counter()
        self.window_start = self.t0
        self.window_steps = 0
        self.bar = tqdm(total=total_steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True,
                        disable=quiet or not self.main, file=sys.stderr)

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for k, v in stats.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()
        self.count += 1
        self.window_steps += 1
        self.bar.update(1)

    def flush(self, step: int, last_good: Path | None) -> dict | None:
        """Sync, check health, append one metrics line, refresh the progress bar."""
        if not self.count:
            return None
        keys = list(self.sums)
        stacked = stack_on_one_device([self.sums[k] for k in keys])
        if self.dist is not None:
            stacked = self.dist.mean(stacked)  # the same row on every rank
        values = stacked.cpu().tolist()  # the one host sync
        row = {k: v / self.count for k, v in zip(keys, values)}
        now = time.perf_counter()
        row["img_per_s"] = self.window_steps * self.images_per_step / max(now - self.window_start, 1e-9)
        row = {"step": step, **{k: round(v, 6) for k, v in row.items()}, "time_s": round(now - self.t0, 2)}
        self.sums, self.count, self.window_steps, self.window_start = {}, 0, 0, now
        self._append(self.metrics_path, row)
        bad = [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            self.close()
            where = f"the last good checkpoint is {last_good}" if last_good else "no checkpoint was written yet"
            msg = (f"{', '.join(bad)} became NaN/Inf near step {step}; training stopped and {where}: "
                   "lower the learning rates or try another loss.")
            self.event(step, "diverged", msg)
            raise TrainingDiverged(msg, self.run_dir if self.main else None)
        shown = {label: row[k] for k, label in self.labels.items() if k in row}
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=False)
        return row

    def record(self, row: dict) -> None:
        """Append an out-of-band row (e.g. an evaluation) to metrics.jsonl."""
        self._append(self.metrics_path, row)
        if "fid" in row:
            self.write(f"step {row['step']}: FID {row['fid']:.2f} ({row.get('eval_samples')} samples)")

    def event(self, step: int, kind: str, message: str = "", show: bool = False) -> None:
        """One line of events.jsonl: ``{"step", "kind", "message", "time"}``; ``show``: also
        print the message under the progress bar."""
        if show:
            self.write(message)
        self._append(self.events_path, {"step": step, "kind": kind, "message": message,
                                        "time": datetime.now(timezone.utc).isoformat(timespec="seconds")})

    def warn(self, step: int, message: str) -> None:
        """A warning: shown under the progress bar and kept in events.jsonl."""
        self.event(step, "warning", message, show=True)

    def _append(self, path: Path | None, row: dict) -> None:
        # One short append per line: a kill leaves at most one partial last line, which
        # readers skip (and a resume cuts the file back to its checkpoint's step).
        if self.main and path is not None:
            with open(path, "a") as f:
                f.write(json.dumps(row) + "\n")
            if self.sink is not None and path == self.events_path:
                self.sink.text(row["step"], row["kind"], row["message"])
            elif self.sink is not None:
                self.sink.scalars(row["step"], row)

    def write(self, msg: str) -> None:
        if self.main:
            self.bar.write(msg, file=sys.stderr)

    def grid(self, step: int, path: Path | None) -> None:
        """A progress grid written at ``path``, for TensorBoard's image tab."""
        if self.sink is not None and path is not None:
            self.sink.image_file("samples", step, path)

    def close(self) -> None:
        self.bar.close()
        if self.sink is not None:
            self.sink.close()


def plot_losses(metrics_path: Path, out: Path) -> Path | None:
    """Loss curves and D's outputs over steps, from metrics.jsonl."""
    all_rows = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    rows = [r for r in all_rows if "img_per_s" in r]  # training windows
    evals = [r for r in all_rows if "fid" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, axes = plt.subplots(1, 3 if evals else 2, figsize=(15 if evals else 10, 3.6))
    ax1, ax2 = axes[0], axes[1]
    if evals:
        axes[2].plot([r["step"] for r in evals], [r["fid"] for r in evals], "o-")
        axes[2].set_xlabel("generator step")
        axes[2].set_title(f"FID ({evals[0].get('eval_samples')} samples, MNIST extractor)")
    # Right: the GAN's D outputs or the VAE's ELBO; left: every other statistic the task logs,
    # so a new family's curves appear without touching this function.
    outputs = {"d_real": "D(x)", "d_fake": "D(G(z))", "elbo": "ELBO (nats)"}
    for k in rows[0]:
        if k not in outputs and k not in ("step", "time_s", "img_per_s"):
            ax1.plot(steps, [r.get(k, math.nan) for r in rows], label=k)
    ax1.set_title("losses")
    for k, lab in outputs.items():
        if k in rows[0]:
            ax2.plot(steps, [r[k] for r in rows], label=lab)
    ax2.set_title("ELBO" if "elbo" in rows[0] else "discriminator outputs")
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
