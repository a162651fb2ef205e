"""Verb: report (one self-contained HTML page for a run, or several runs side by side)."""

from __future__ import annotations

import argparse
from pathlib import Path

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report", help="write a self-contained HTML report of runs (side by side for several)", formatter_class=RAW,
        description="One HTML file with everything inline (opens from disk or an e-mail attachment, no network): "
                    "the config with its differences from the preset, the training curves, the sample grids over "
                    "time, health events, and the latest `ganforge evaluate` of each run. Several runs: the same "
                    "sections side by side and one comparison table with the best value per row marked.",
        epilog="examples:\n"
               "  ganforge report runs/001-mnist-mlp                     # -> runs/001-mnist-mlp/report.html\n"
               "  ganforge report runs/001-mnist-mlp runs/002-mnist-dcgan -o compare.html\n"
               "  ganforge train --preset mnist-mlp --report             # written at the end of training\n"
               "  ganforge evaluate runs/001-mnist-mlp --report          # evaluated, then refreshed\n"
               "See docs/report.md.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories (runs/NNN-name)")
    p.add_argument("-o", "--out", metavar="FILE.html",
                   help="where to write (default: RUN/report.html for one run, ./report.html for several)")
    p.add_argument("--title", help="the page's title (default: the run names)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    import time

    from ganforge.files import check_output_file
    from ganforge.report import build_report

    if args.out is not None and not Path(args.out).is_dir():  # a folder gets report.html inside it
        check_output_file(args.out, "-o", suffixes=(".html", ".htm"))
    t0 = time.perf_counter()
    out = build_report(args.runs, args.out, title=args.title)
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s); open it in a browser")
    return 0
