"""``python -m analysis train DATA --label-col label -o MODEL.skops``: train on your labels.

Learns any label set from a labelled CSV / Parquet / JSON-lines table with the target-aware
features of the default model. Writes MODEL.skops (skops, never pickle) and MODEL.card.json
(labels, the sha256 of DATA, cross-validated metrics and confusion matrix, folds grouped by
``--group-col``, versions, seed). Every row needs a label (and a group, with ``--group-col``,
and a uid, with a ``uid`` column); a uid on rows that differ is an error, and a post listed twice
(the same uid on rows equal in every column) is trained on once; without a ``uid`` column (nor a
unique ``id``) every row is a post of its own. Rows whose text is also in another fold
(retweets, copies) inflate the cross-validated scores: a note says how many, and the card
records it as cv_texts_in_several_folds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import config
from analysis.commands import add_column_options, column_name, seed_number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a classifier on your own labels",
                                   description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("data", type=Path,
                        help="labelled table (.csv separated by , ; tab or |, .parquet, .jsonl)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="MODEL.skops to write")
    add_column_options(parser)
    parser.add_argument("--label-col", default="label", type=column_name,
                        help="column with the labels (default: label)")
    parser.add_argument("--group-col", default=None, type=column_name,
                        help="column to group CV folds by (e.g. thread_id)")
    parser.add_argument("--cv", type=int, default=5,
                        help="folds of the card's CV (0: none; default: 5)")
    parser.add_argument("--C", type=float, default=None, dest="C",
                        help="inverse regularisation of the logistic regression (default: "
                             "chosen from 0.5, 1, 2 by the cross-validation)")
    parser.add_argument("--fast", action="store_true",
                        help="leave out character n-grams: ~2x faster labelling, a little less "
                             "accurate")
    parser.add_argument("--model-id", default=None,
                        help="name in the card and in labels' labeler_id: ASCII letters, "
                             "digits, '-', '_' and '.' (default: file stem)")
    parser.add_argument("--seed", type=seed_number, default=config.DEFAULT_SEED,
                        help=f"seed of the folds and the fit, 0 to 2**32 - 1 (default: "
                             f"{config.DEFAULT_SEED})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="parallel CV folds (default: 1; -1: all cores)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.classifiers import save_model, train_model
    from analysis.classifiers.datasets import read_user_table
    from analysis.classifiers.labelling import posts_frame
    from analysis.classifiers.persistence import check_model_id, check_model_output
    from analysis.commands import fold_notes, warnings_to_stderr
    from analysis.errors import UserError

    check_model_output(args.output)  # a bad -o is refused before training
    if args.model_id is not None:
        model_id = check_model_id(args.model_id)
    else:
        model_id = check_model_id(args.output.stem, what="the model id (the file name)",
                                  hint="; give one with --model-id")
    if args.cv == 1 or args.cv < 0:
        raise UserError("--cv must be 0 (no cross-validation) or at least 2")
    table = read_user_table(args.data)  # ';' and tab separated CSV too
    frame = posts_frame(table, text_col=args.text_col, target_col=args.target_col,
                        target=args.target, context_col=args.context_col,
                        label_col=args.label_col, group_col=args.group_col, source=args.data)
    with warnings_to_stderr():  # rows repeated exactly: trained on once
        model, card = train_model(frame, model_id=model_id,
                                  cv=args.cv, seed=args.seed, jobs=args.jobs, C=args.C,
                                  fast=args.fast, source=args.data, data_file=args.data)
    save_model(model, args.output, card)
    summary = ""
    if "cv_metrics" in card:
        summary = (f"; {card['cv_folds']}-fold CV macro-F1 "
                   f"{card['cv_metrics']['macro_f1']:.3f}, "
                   f"accuracy {card['cv_metrics']['accuracy']:.3f}, C {card['C']:g}")
    print(f"trained on {card['n_train']} rows, labels {card['labels']}{summary} -> {args.output}")
    fold_notes(card, args.cv)
    return 0
