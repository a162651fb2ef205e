"""Training: steps (the only code touching optimizers), the loop, and the monitor."""

from ganforge.training.loop import RunResult, train

__all__ = ["train", "RunResult"]
