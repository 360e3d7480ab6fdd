"""``python -m analysis reproduce [STUDY]``: run a study end to end."""

from __future__ import annotations

import argparse

from analysis import config
from analysis.commands import warnings_to_stderr


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce", help="run a study end to end: ingest, label, trend, figures",
        description="Run every stage of a study file (studies/NAME.toml) and write its tables "
                    "to data/processed/NAME/ and its figures, summary.md and manifest.json to "
                    "reports/NAME/.")
    parser.add_argument("study", nargs="?", default=config.DEFAULT_STUDY,
                        help=f"study name in studies/ or a .toml path "
                             f"(default: {config.DEFAULT_STUDY})")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="worker processes (default -1: one per core); results do not "
                             "depend on it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.reproduce import reproduce

    with warnings_to_stderr():  # e.g. the files of the output folders a run keeps
        outputs = reproduce(args.study, progress=False if args.no_progress else None,
                            jobs=args.jobs)
    print(f"tables:  {outputs.processed}")
    print(f"figures: {', '.join(str(p) for p in outputs.figures)}")
    print(f"summary: {outputs.summary}")
    print(f"manifest: {outputs.manifest}")
    return 0
