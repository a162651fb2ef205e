"""See a run: a self-contained HTML report (one run, or several side by side), the 1-D
problem's page, and the TensorBoard writer.

The report reads run directories only (``config.json``, ``metrics.jsonl``,
``events.jsonl``, ``samples/``, ``checkpoints/``, ``eval/``), never a model family's
internals, so every family's runs render. ``ganforge report RUN [RUN ...]`` builds it;
``train --report`` and ``evaluate --report`` refresh ``RUN/report.html``.
"""

from __future__ import annotations

from ganforge.report.page import build_report, render, write_run_report
from ganforge.report.rundata import RunData, load_run

__all__ = ["build_report", "write_run_report", "render", "load_run", "RunData"]
