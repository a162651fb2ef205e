"""The training harness: one loop for every model family (``loop.train``), the run on disk
(``run``), ranks (``dist``) and what a run shows (``monitor``). What a step does lives in
``ganforge.tasks``."""

from ganforge.training.loop import RunResult, train

__all__ = ["train", "RunResult"]
