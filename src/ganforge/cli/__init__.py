"""`ganforge <verb>`: a thin command line over the library.

Each verb lives in a small module of this package that defines ``add_parser(subparsers)``
and sets ``func`` on its parser; handlers only parse arguments and call the library.
Heavy imports (torch) happen inside handlers so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ganforge.errors import GanforgeError

# Modules that contribute verbs, in the order `ganforge --help` lists them.
VERB_MODULES = (
    "ganforge.cli.core",
    "ganforge.cli.onedim",
    "ganforge.cli.evaluate",
    "ganforge.cli.latent",
    "ganforge.cli.report",
    "ganforge.cli.translate",
)


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error promise: a usage mistake is one line on stderr,
    ``error: ...`` naming ``--help``, and exit code 2 (argparse's default prints the whole
    usage block first). Subparsers inherit the class (``add_subparsers`` uses ``type(self)``)."""

    def error(self, message: str):
        message = " ".join(message.splitlines())
        self.exit(2, f"error: {message}; see `{self.prog} --help`.\n")


# argparse types for numbers with a range: a bad value is refused while parsing, in one line,
# before a handler loads or writes anything.


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def nonneg_int(text: str) -> int:
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {v}")
    return v


def seed_int(text: str) -> int:
    """A seed: 0..2**63-1 (torch, numpy and Python generators all accept it)."""
    from ganforge.config import MAX_SEED

    v = _int(text)
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a seed in 0..{MAX_SEED}, got {v}")
    return v


def _float(text: str) -> float:
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def positive_float(text: str) -> float:
    v = _float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {v:g}")
    return v


def nonneg_float(text: str) -> float:
    v = _float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {v:g}")
    return v


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    parser.verbs = sub  # for the short help of `ganforge` alone
    return parser


def short_help(parser: argparse.ArgumentParser, verbs) -> str:
    """The usage line and one line per verb: what `ganforge` alone prints."""
    rows = [(a.dest, a.help or "") for a in verbs._get_subactions()]
    width = max(len(name) for name, _ in rows)
    return parser.format_usage() + "\nverbs:\n" + "".join(f"  {n:<{width}}  {h}\n" for n, h in rows)


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns the exit code. A user error (bad flag, bad value, bad file) is
    one line on stderr, ``error: ...``, and code 2; ``--help`` and ``--version`` exit 0
    through ``SystemExit`` as argparse does."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # Parser.error has printed its one line
        if exc.code in (0, None):
            raise
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        print(short_help(parser, parser.verbs), end="")
        print("error: no verb given; pick one of the verbs above (ganforge VERB --help for its options).",
              file=sys.stderr)
        return 2
    try:
        code = args.func(args)
    except GanforgeError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a path the user named cannot be read or written (permissions, a file as folder, ...)
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {_one_line(exc.strerror or exc)}; check the path and its permissions.",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


def entry() -> None:
    """The ``ganforge`` command and ``python -m ganforge``: :func:`main`, then exit with its code.

    A process that is one of several ranks (torchrun's ``WORLD_SIZE`` > 1) leaves through
    ``os._exit`` once its output is flushed. By then training has destroyed the process group
    and closed every file; what is skipped is the interpreter's and the C++ libraries' teardown,
    where gloo now and then aborts the process ("terminate called without an active exception",
    SIGABRT) after ganforge's last line was printed: 2 of 35 runs of ``tests/training`` (25 tests,
    6 of them with two ranks) on 2026-12-03, and in CI; torch's issue tracker has the same
    message at exit (pytorch#190489). Rare and timing-dependent, so no backtrace was caught; the
    reason for this exit is where the message appeared, not a count of runs.
    A finished run must not report a crash to torchrun."""
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _one_line(message) -> str:
    return " ".join(str(message).splitlines())


if __name__ == "__main__":  # pragma: no cover
    entry()
