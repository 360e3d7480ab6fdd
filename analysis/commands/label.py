"""``python -m analysis label INPUT [--model vader|default|PATH] -o LABELS.parquet``.

Reads a posts table (or any CSV / Parquet / JSON-lines table with the named columns) and writes
the labels table: uid, task, label, one ``proba_<label>`` column per label, labeler_type,
labeler_id (model id @ version), run_id. For a posts table the target of a reply is its thread
root's text unless ``--target`` or ``--target-col`` says otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import config
from analysis.classifiers.labelling import BATCH_SIZE
from analysis.commands import add_column_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "label", help="label posts as support / criticism / other (or a trained model's labels)",
        description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("input", type=Path,
                        help="posts table (.parquet, .csv separated by , ; tab or |, .jsonl)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="labels table to write (.parquet, .csv, .jsonl)")
    parser.add_argument("--model", default="default",
                        help="'default', 'vader' or a .skops model file (default: default)")
    add_column_options(parser, trained=True)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"rows per batch (default: {BATCH_SIZE})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="parallel workers over batches (default: 1; -1: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.classifiers import get_model, label_posts
    from analysis.classifiers.datasets import read_user_table
    from analysis.commands import model_inputs_note, warnings_to_stderr
    from analysis.errors import UserError, check_jobs
    from analysis.io import check_table_output, write_table

    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    check_jobs(args.jobs)
    if args.output.resolve() == args.input.resolve():
        raise UserError("output would overwrite the input file; pick another -o", args.output)
    if args.output.resolve().is_relative_to(config.DATA_RAW.resolve()):
        raise UserError("refusing to write under data/raw/ (raw data is read-only); pick "
                        "another -o", args.output)
    check_table_output(args.output)  # a bad -o is refused before labelling, not after
    posts = read_user_table(args.input)  # ';' and tab separated CSV too
    if len(posts) == 0:
        raise UserError("the table has no rows to label", args.input)
    # notes and warnings (e.g. rows repeated exactly, labelled once; replies without a root
    # post, labelled without a target) are printed once the labels are written
    with warnings_to_stderr():
        model = get_model(args.model)  # refuses the card of another model
        # the columns given, else those the model was trained with (a missing text column is
        # refused as the model frame is made)
        inputs = model_inputs_note(args.model, posts, target=args.target,
                                   text_col=args.text_col, target_col=args.target_col,
                                   context_col=args.context_col, source=args.input)
        labels = label_posts(posts, model, **inputs._asdict(), batch_size=args.batch_size,
                             jobs=args.jobs, progress=False if args.no_progress else None,
                             source=args.input)
        write_table(labels, args.output)  # a failed write: no notes
    counts = labels["label"].value_counts().to_dict()
    print(f"labelled {len(labels)} rows with {labels['labeler_id'].iloc[0] if len(labels) else ''}"
          f" -> {args.output}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
