"""``python -m analysis ingest INPUT... -o OUTPUT.parquet``: exports into one posts table.

Writes OUTPUT.parquet, OUTPUT.rejects.jsonl (when records were rejected), OUTPUT.labels.parquet
(when the data came with gold labels) and OUTPUT.manifest.json, all together or (after an error,
Ctrl-C or SIGTERM) none of them, and prints a summary. A bad -o is refused before anything is
read; inputs are regular files or folders (a pipe, such as ``<(command)`` or /dev/stdin, is
refused: save its output to a file first). The files of an earlier ingest run found in an input
folder (its manifest and the outputs it names) are skipped, and the summary says so.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from analysis.commands import warnings_to_stderr
from analysis.errors import EXIT_USER_ERROR, UserError
from analysis.loaders import REGISTRY
from analysis.schema import PLATFORMS

#: Above this many input files the summary groups them by format.
MAX_LISTED_INPUTS = 20
#: The summary names at most this many of the earlier run's files it skipped.
MAX_LISTED_SKIPPED = 5


#: Where ``--map`` splits its pairs: at a comma followed by a field name and ``=``, so that a
#: column name may hold commas (``text=Message, text``).
_MAP_PAIRS = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*=)")


def parse_field_map(text: str | None) -> dict[str, str]:
    """``"text=message,created_at=date"`` -> ``{"text": "message", "created_at": "date"}``.

    A comma splits pairs only before ``field=``: a column name may hold commas.

    >>> parse_field_map("text=Message, text,id=post_id")
    {'text': 'Message, text', 'id': 'post_id'}
    """
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for part in _MAP_PAIRS.split(text.strip().strip(",")):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise UserError(f"--map expects field=column pairs separated by commas, got {part!r}")
        field = field.strip()
        if field in mapping:
            raise UserError(f"--map names the field {field!r} twice ({field}={mapping[field]} "
                            f"and {field}={column.strip()}); give each field one column")
        mapping[field] = column.strip()
    return mapping


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, "
                                         f"not {text!r}")
    return jobs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest", help="load exports (twarc2, Reddit, RumourEval, CSV, ...) into a posts table",
        description="Load exports into one posts table with reply trees, provenance and a "
                    "rejects file. Authors are pseudonymized unless --keep-authors.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="files or folders (not pipes: save a pipe's output to a file first)")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="OUTPUT.parquet (rejects, labels and manifest go next to it)")
    parser.add_argument("--format", default="auto", choices=["auto", *REGISTRY],
                        metavar="NAME", help="input format (default: auto; one of "
                        f"{', '.join(REGISTRY)})")
    parser.add_argument("--map", dest="field_map", metavar="FIELD=COLUMN,...",
                        help="posts-table field to input column, for csv/jsonl/parquet (a "
                             "column name may hold commas: 'text=Message, text')")
    parser.add_argument("--tz", help="IANA time zone for naive times, for csv/jsonl/parquet and "
                        "4cat-csv (else they are rejected; other formats write UTC)")
    parser.add_argument("--thread-id", help="the post / video the comments belong to "
                        "(instaloader, youtube-comments; tables: --map thread_id=COLUMN)")
    parser.add_argument("--platform", help="platform for csv/jsonl/parquet and 4cat-csv: "
                        f"{', '.join(PLATFORMS)} (default: other)")
    parser.add_argument("--keep-authors", action="store_true",
                        help="keep raw author ids and handles (default: keyed pseudonyms)")
    parser.add_argument("--no-language", dest="detect_language", action="store_false",
                        help="skip language detection (faster)")
    parser.add_argument("--jobs", type=_jobs, metavar="N",
                        help="worker processes for large uncompressed JSON-lines files, which "
                        "are read in parts (default: one per CPU core; 1 reads everything in "
                        "this process); the output does not depend on it")
    parser.add_argument("--strict", action="store_true",
                        help="any rejected record is an error (exit 2, nothing written)")
    parser.add_argument("--quiet", action="store_true", help="print no summary")
    parser.set_defaults(func=run)


def format_summary(summary: dict) -> str:
    """The summary as a few human-readable lines."""
    lines = []
    inputs = summary["inputs"]
    if len(inputs) > MAX_LISTED_INPUTS:
        groups: dict[tuple, list[dict]] = {}
        for entry in inputs:
            groups.setdefault((entry["format"], entry["detected"]), []).append(entry)
        for (fmt, detected), entries in groups.items():
            how = ("not read" if fmt is None
                   else f"{fmt} ({'detected' if detected else 'as given'})")
            lines.append(f"  {len(entries)} files: {how}, "
                         f"{sum(e['rows'] for e in entries)} rows, "
                         f"{sum(e['rejects'] for e in entries)} rejects")
        inputs = []
    for entry in inputs:
        if entry["format"] is None:
            lines.append(f"  {entry['path']}: not read ({entry['rejects']} reject)")
            continue
        how = "detected" if entry["detected"] else "as given"
        lines.append(f"  {entry['path']}: {entry['format']} ({how}), "
                     f"{entry['rows']} rows, {entry['rejects']} rejects")
    skipped = summary.get("skipped_outputs") or []
    if skipped:
        names = ", ".join(skipped[:MAX_LISTED_SKIPPED])
        more = (f" and {len(skipped) - MAX_LISTED_SKIPPED} more"
                if len(skipped) > MAX_LISTED_SKIPPED else "")
        lines.append(f"skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''} written by "
                     f"an earlier ingest run: {names}{more}")
    context_read = summary["rows_read"] - summary["rows_read_matched"]
    lines.append(f"rows read: {summary['rows_read']} ({context_read} context)")
    lines.append(f"rows written: {summary['rows_written']} "
                 f"({summary['rows_context']} context)")
    lines.append(f"duplicates collapsed: {summary['duplicates']}")
    lines.append(f"rejects: {summary['rejects']}")
    for reason, count in summary["rejects_by_reason"].items():
        lines.append(f"  {count:>8}  {reason}")
    if summary["labels"]:
        repeated = summary.get("label_duplicates", 0)
        conflicts = summary.get("label_conflicts", 0)
        parts = ([f"{repeated} given more than once, kept once"] if repeated else []) + (
            [f"{conflicts} post(s) with different labels: see the warning"] if conflicts else [])
        note = f" ({'; '.join(parts)})" if parts else ""
        lines.append(f"gold labels: {summary['labels']}{note}")
    lines.append("authors: " + ("pseudonymized (key " + str(summary["pseudonym_key_id"]) + ")"
                                if summary["pseudonymized"] else "raw (--keep-authors)"))
    lines.append(f"time: {summary['seconds']:.1f} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from analysis.loaders.ingest import ingest_to_files, output_paths

    output_paths(args.output)  # refuse a bad -o before reading anything
    with warnings_to_stderr():  # e.g. a RumourEval folder without its key files
        result, written = ingest_to_files(
            args.inputs, args.output, format=args.format,
            field_map=parse_field_map(args.field_map), tz=args.tz, thread_id=args.thread_id,
            platform=args.platform, keep_authors=args.keep_authors,
            detect_language=args.detect_language, progress=None if not args.quiet else False,
            jobs=args.jobs, strict=args.strict)
    if not args.quiet:
        print(format_summary(result.summary), file=sys.stderr)
    if args.strict and result.rejects:
        first = result.rejects[0]
        where = first.file if first.line is None else f"{first.file}:{first.line}"
        print(f"error: {len(result.rejects)} record(s) rejected (--strict), nothing written; "
              f"first: {where}: {first.reason}", file=sys.stderr)
        return EXIT_USER_ERROR
    if not args.quiet:
        for name, path in written.items():
            print(f"wrote {name}: {path}", file=sys.stderr)
    return 0
