"""`ganforge <verb>`: a thin command line over the library.

Each verb lives in a small module of this package that defines ``add_parser(subparsers)``
and sets ``func`` on its parser; handlers only parse arguments and call the library.
Heavy imports (torch) happen inside handlers so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ganforge.errors import GanforgeError

# Modules that contribute verbs, in the order `ganforge --help` lists them.
VERB_MODULES = (
    "ganforge.cli.core",
    "ganforge.cli.onedim",
    "ganforge.cli.evaluate",
    "ganforge.cli.latent",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganforge",
        description="Learn a distribution, generate similar-but-new samples, and measure how similar they are.",
        epilog="Example: ganforge train --preset mnist-mlp",
    )
    from ganforge import __version__

    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a verb module not written yet
            if exc.name == name:
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
    except GanforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
