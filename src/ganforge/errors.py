"""User-facing errors.

Every mistake a user can make (a missing file, a wrong shape, an unknown preset, an
incompatible pair of options) raises :class:`GanforgeError` with one sentence that says
what is wrong and how to fix it. The CLI prints that sentence, without a traceback, and
exits with code 2.
"""


class GanforgeError(Exception):
    """A user error: bad input or an impossible configuration."""

    exit_code = 2


class DataError(GanforgeError):
    """A dataset is missing, corrupt, or has the wrong shape."""


class ConfigError(GanforgeError):
    """A configuration is invalid or combines incompatible options."""


class CheckpointError(GanforgeError):
    """A checkpoint is missing or corrupt."""


class TrainingDiverged(GanforgeError):
    """A loss became NaN or Inf; the last good checkpoint was kept. ``run_dir``: the run that
    stopped (None on a rank that writes nothing), so a caller can still report on it."""

    def __init__(self, message: str, run_dir=None):
        super().__init__(message)
        self.run_dir = run_dir
