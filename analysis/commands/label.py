"""``python -m analysis label``: placeholder until its issue lands."""

from __future__ import annotations

import argparse

from analysis.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("label", help="(not yet available)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'label' is not available yet")
