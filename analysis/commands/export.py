"""``python -m analysis export POSTS --format 4cat-csv -o OUT.csv``: a posts table for other tools.

See :func:`analysis.export.export_posts`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.export import EXPORT_FORMATS, export_posts


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a posts table in another tool's import format (4CAT CSV)",
        description="Write a posts table (the output of 'ingest') as a file another tool can "
                    "import. 4cat-csv: the columns of 4CAT's CSV import (id, thread_id, author, "
                    "body, timestamp in UTC, then unix_timestamp, parent_id, platform, ...). "
                    "Texts are written exactly as posted, also those that start like a "
                    "spreadsheet formula (=, +, -, @): open the file in a spreadsheet program "
                    "only as text.")
    parser.add_argument("posts", type=Path, metavar="POSTS",
                        help="posts table (.parquet, .csv or .jsonl) written by 'ingest'; "
                             "other tables (raw exports too) are refused, so that raw author "
                             "ids never bypass ingest's pseudonyms")
    parser.add_argument("--format", dest="export_format", choices=sorted(EXPORT_FORMATS),
                        default="4cat-csv", help="export format (default: %(default)s)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="file to write, with the format's suffix (4cat-csv: .csv, e.g. "
                             "posts.4cat.csv)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (one is shown for Parquet input, on stderr, only "
                             "when it is a terminal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    counts = export_posts(args.posts, args.output, format=args.export_format,
                          progress=False if args.no_progress else None)
    message = f"wrote {counts['rows']} rows to {args.output} ({args.export_format})"
    if counts["rows_without_time"]:
        message += (f"; {counts['rows_without_time']} rows have no timestamp and 4CAT will skip "
                    "them")
    print(message)
    return 0
