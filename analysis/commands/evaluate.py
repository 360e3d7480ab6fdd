"""``python -m analysis evaluate DATA --model M --label-col label [--json]``: score a model.

Compares a model's labels with the labels in DATA: accuracy, macro-F1 with a bootstrap 95%
interval, per-class precision / recall / F1, the confusion matrix (rows true), and with
``--average-over`` the mean F1 of those labels (F_avg, the SemEval-2016 metric; a label with no
row and no prediction has no F1 and is left out, there and in macro-F1). ``--cv K``
instead cross-validates ``train``'s pipeline on DATA itself as ``train`` does, choosing C the same
way (folds grouped by ``--group-col``; every row needs a group), so it gives the scores
``train``'s card records for the same rows, folds and seed. A uid on rows that differ is an
error; a post listed twice (the same uid on rows equal in every column) is scored once; without
a ``uid`` column (nor a unique ``id``) every row is a post of its own.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.commands import (
    add_column_options,
    check_n_boot,
    column_name,
    seed_number,
)
from analysis.config import MIN_N_BOOT


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="measure a classifier against labels",
                                   description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("data", type=Path,
                        help="labelled table (.csv separated by , ; tab or |, .parquet, .jsonl)")
    parser.add_argument("--model", default="default",
                        help="'default', 'vader' or a .skops file (ignored with --cv)")
    add_column_options(parser, trained=True)
    parser.add_argument("--label-col", default="label", type=column_name,
                        help="column with the gold labels (default: label)")
    parser.add_argument("--group-col", default=None, type=column_name,
                        help="threads/groups: bootstrap and CV folds resample them (every "
                             "row needs one)")
    parser.add_argument("--average-over", default=None,
                        help="comma-separated labels for F_avg, e.g. favor,against")
    parser.add_argument("--cv", type=int, default=0,
                        help="cross-validate train's pipeline on DATA with K folds, choosing C "
                             "as train does")
    parser.add_argument("--fast", action="store_true",
                        help="with --cv: no character n-grams (as train --fast)")
    parser.add_argument("--n-boot", type=int, default=config.N_BOOT,
                        help=f"bootstrap resamples of the 95%% interval of macro-F1: 0 (no "
                             f"interval) or at least {MIN_N_BOOT} (fewer leave the 2.5%% and "
                             "97.5%% percentiles resting on a handful of resamples, or on none; "
                             f"default: {config.N_BOOT}, as train's card)")
    parser.add_argument("--seed", type=seed_number, default=config.DEFAULT_SEED,
                        help="seed of the bootstrap and the folds, 0 to 2**32 - 1 (default: "
                             f"{config.DEFAULT_SEED})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.classifiers import evaluate_model, get_model, label_posts
    from analysis.classifiers.datasets import read_user_table
    from analysis.classifiers.labelling import posts_frame
    from analysis.classifiers.training import distinct_rows, frame_groups
    from analysis.commands import model_inputs_note, warnings_to_stderr
    from analysis.errors import UserError

    average_over = average_over_labels(args.average_over)
    check_n_boot(args.n_boot)
    if args.cv == 1 or args.cv < 0:
        raise UserError("--cv must be at least 2")
    table = read_user_table(args.data)  # ';' and tab separated CSV too
    # notes and warnings (e.g. rows repeated exactly, scored once; an interval over few groups)
    # are printed once the evaluation succeeded
    with warnings_to_stderr():
        model = None if args.cv else get_model(args.model)  # refuses another model's card
        # the columns given, else those the model was trained with (--cv: those given)
        inputs = model_inputs_note(None if args.cv else args.model, table, target=args.target,
                                   text_col=args.text_col, target_col=args.target_col,
                                   context_col=args.context_col, source=args.data)
        frame = posts_frame(table, **inputs._asdict(), label_col=args.label_col,
                            group_col=args.group_col, source=args.data)
        if len(frame) == 0:
            raise UserError("no rows to evaluate", args.data)
        keep = distinct_rows(frame, source=args.data)
        frame, table = frame[keep].reset_index(drop=True), table[keep].reset_index(drop=True)
        groups = frame_groups(frame, args.data)  # before labelling: a missing group fails fast
        if args.cv:
            report = _cross_validate(frame, groups, args, average_over)
        else:
            # the labels 'label' would write for these rows (empty and non-English texts too)
            labels = label_posts(table, model, **inputs._asdict(), progress=False,
                                 source=args.data)
            report = evaluate_model(frame, model, average_over=average_over,
                                    n_boot=args.n_boot, seed=args.seed,
                                    predicted=labels["label"].astype(str), source=args.data)
            report["model"] = (f"{getattr(model, 'model_id_', args.model)}@"
                               f"{getattr(model, 'version_', '0')}")
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(_text_report(report))
    return 0


def average_over_labels(text: str | None) -> list[str] | None:
    """The labels of ``--average-over`` (comma-separated, read as the data's labels are: spaces
    around them dropped, in Unicode NFC), or None when it is not given. An empty list or item
    (``""``, ``","``, ``"a,,b"``) and a label named twice are a
    :class:`~analysis.errors.UserError`: they would be ignored, or counted twice in F_avg.

    >>> average_over_labels("favor, against")
    ['favor', 'against']
    """
    from analysis.classifiers.training import label_form
    from analysis.errors import UserError

    if text is None:
        return None
    labels = [label_form(label) for label in text.split(",")]
    if not all(labels):
        raise UserError(f"--average-over {text!r} has an empty label; give comma-separated "
                        "labels, e.g. --average-over favor,against")
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise UserError(f"--average-over names {', '.join(map(repr, twice))} more than once; "
                        "name each label once")
    return labels


def _cross_validate(frame: pd.DataFrame, groups: Sequence[str] | None,
                    args: argparse.Namespace, average_over: list[str] | None) -> dict:
    """The report of ``--cv``: ``train``'s cross-validation of ``train``'s pipeline on the
    file (C chosen from :data:`~analysis.classifiers.training.C_GRID` as ``train`` chooses it),
    with ``C`` and ``C_selection`` added; notes on stderr as ``train`` prints them."""
    from analysis.classifiers.training import (
        C_GRID,
        check_training_rows,
        cross_validate,
        user_pipeline,
        warn_label_typos,
    )
    from analysis.commands import fold_notes
    from analysis.errors import UserError

    check_training_rows(frame, args.data)  # as train refuses them, and warns
    warn_label_typos(frame["label"], args.data)
    classes = sorted(set(frame["label"].astype(str)))
    unknown = [label for label in average_over or () if label not in classes]
    if unknown:
        raise UserError(f"--average-over names {unknown}, not among the labels of the data "
                        f"({classes})", args.data)
    pipeline = user_pipeline(len(frame), seed=args.seed, fast=args.fast)
    _, fields = cross_validate(pipeline, frame, groups=groups, cv=args.cv, seed=args.seed,
                               C_grid=C_GRID, n_boot=args.n_boot, average_over=average_over,
                               source=args.data)
    report = fields["cv_metrics"]
    report["C"] = fields["C"]
    report["C_selection"] = fields["C_selection"]
    report["model"] = (f"train pipeline{' (fast)' if args.fast else ''} with C "
                       f"{fields['C']:g}, {fields['cv_folds']}-fold CV on {args.data.name}")
    fold_notes(fields, args.cv)
    return report


def _text_report(report: dict) -> str:
    lines = [f"model {report['model']}: n = {report['n']}, accuracy {report['accuracy']:.3f}, "
             f"macro-F1 {report['macro_f1']:.3f}"
             + (" [{:.3f}, {:.3f}]".format(*report["macro_f1_ci"])
                if report.get("macro_f1_ci") else "")]
    if "f_avg" in report:
        absent = ", ".join(report.get("f_avg_labels_absent") or [])
        head = f"F_avg over {', '.join(report['f_avg_labels'])}: "
        if report["f_avg"] is None:
            lines.append(head + f"undefined (no row and no prediction of {absent})")
        else:
            lines.append(head + f"{report['f_avg']:.3f}" + (
                f" (left out, no row and no prediction: {absent})" if absent else ""))
    lines.append(f"{'label':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for label, row in report["per_class"].items():
        scores = "".join(f"{'-':>10}" if row[key] is None else f"{row[key]:>10.3f}"
                         for key in ("precision", "recall", "f1"))
        lines.append(f"{label:<14}{scores}{row['support']:>9}")
    labels = report["confusion"]["labels"]
    lines.append("confusion (rows true, columns predicted): " + " ".join(labels))
    for label, row in zip(labels, report["confusion"]["matrix"], strict=True):
        lines.append(f"  {label:<12} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)
