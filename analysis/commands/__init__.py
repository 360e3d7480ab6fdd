"""The command line: ``python -m analysis SUBCOMMAND ...``.

Each subcommand lives in its own module here with two functions: ``register(subparsers)`` adds
its parser, and ``run(args) -> int`` does the work by calling the package's public functions. This
module only wires them together and turns a :class:`~analysis.errors.UserError` into one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from analysis import __version__
from analysis.errors import EXIT_USER_ERROR, UserError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "ingest", "label", "train", "evaluate", "trend", "plot", "reproduce", "annotate", "export",
)


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = ArgumentParser(
        prog="python -m analysis",
        description="Load, label and chart public responses on social media.",
    )
    parser.add_argument("--version", action="version", version=f"analysis {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=ArgumentParser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"analysis.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted; no output was written", file=sys.stderr)
        return 130
