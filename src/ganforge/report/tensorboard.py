"""TensorBoard events for a run (``--set train.tensorboard=true``): the same scalars as
``metrics.jsonl``, the progress grids, and the events of ``events.jsonl``, written to
``RUN/tensorboard/`` (``tensorboard --logdir RUN/tensorboard``).

Optional: needs the ``tensorboard`` package (``pip install "ganforge[tensorboard]"``);
torch's ``SummaryWriter`` does the writing. The harness owns one sink on the writing rank
and calls it where it writes ``metrics.jsonl`` and the grids; nothing here knows a family.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ganforge.errors import ConfigError

INSTALL = 'pip install "ganforge[tensorboard]"'
#: Metrics-row keys that are not scalars to plot.
NOT_SCALARS = ("step", "eval_samples")


def require_tensorboard() -> None:
    """Raise a one-sentence :class:`ConfigError` when the ``tensorboard`` package is
    missing (cheap: no import), so the harness can refuse before creating the run directory."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(f"train.tensorboard=true needs the tensorboard package; install it with {INSTALL} "
                          "or set train.tensorboard=false.")


def tag_of(key: str, row: dict) -> str:
    """``d_loss`` -> ``train/d_loss``; a cheap-FID row's ``fid`` -> ``eval/fid``."""
    return f"{'eval' if 'fid' in row else 'train'}/{key}"


class TensorBoardSink:
    """Writes TensorBoard event files under ``run_dir/tensorboard``.

    >>> tb = TensorBoardSink(run_dir)
    >>> tb.scalars(50, {"step": 50, "d_loss": 1.2, "img_per_s": 900.0})
    >>> tb.image("samples", 1000, grid_uint8)      # (H, W) or (H, W, 3)
    >>> tb.close()
    """

    def __init__(self, run_dir: str | Path, subdir: str = "tensorboard"):
        require_tensorboard()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # an installed but unusable tensorboard (a version torch refuses)
            raise ConfigError(f"train.tensorboard=true could not load TensorBoard ({exc}); reinstall it with "
                              f"{INSTALL}.") from None
        self.log_dir = Path(run_dir) / subdir
        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def scalars(self, step: int, row: dict) -> None:
        """Every number of one ``metrics.jsonl`` row (non-finite values too: TensorBoard
        shows a NaN where the run diverged)."""
        for key, value in row.items():
            if key in NOT_SCALARS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            self.writer.add_scalar(tag_of(key, row), float(value), int(step))

    def image(self, tag: str, step: int, image: np.ndarray) -> None:
        """A uint8 image, (H, W) grayscale or (H, W, 3)/(H, W, 4) colour."""
        a = np.asarray(image)
        if a.dtype != np.uint8:
            raise ValueError(f"TensorBoardSink.image expects uint8 pixels, got {a.dtype}")
        if a.ndim == 2:
            self.writer.add_image(tag, a, int(step), dataformats="HW")
        elif a.ndim == 3 and a.shape[2] in (1, 3, 4):
            self.writer.add_image(tag, a[..., :3] if a.shape[2] == 4 else a, int(step), dataformats="HWC")
        else:
            raise ValueError(f"TensorBoardSink.image expects (H, W) or (H, W, C) pixels, got shape {a.shape}")

    def image_file(self, tag: str, step: int, path: str | Path) -> None:
        """A PNG written by the harness (``samples/step-NNNNNNN.png``)."""
        from PIL import Image

        with Image.open(path) as im:
            a = np.asarray(im.convert("L") if im.mode in ("L", "I", "I;16", "1") else im.convert("RGB"))
        self.image(tag, step, a)

    def text(self, step: int, kind: str, message: str = "") -> None:
        """One ``events.jsonl`` line (start, resume, warning, early stop, ...), as text."""
        self.writer.add_text("events", f"**{kind}** {message}".strip(), int(step))

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()

    def __enter__(self) -> "TensorBoardSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
