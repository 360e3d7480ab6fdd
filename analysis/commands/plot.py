"""``python -m analysis plot TREND.csv --kind shares -o FIG_STEM``: a figure from a table.

Writes FIG_STEM.png and FIG_STEM.pdf (deterministic, atomic); see :mod:`analysis.plots`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from analysis import plots
from analysis.commands import warnings_to_stderr
from analysis.errors import UserError
from analysis.io import read_table
from analysis.trend import check_time_text

KINDS = ("shares", "volume", "validation", "multiples")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="draw a figure (PNG + PDF) from a trend or comparison table",
        description="Draw shares over time (shares), responses per bin stacked by label "
                    "(volume), estimated against gold shares (validation: a table from "
                    "analysis.trend.compare_shares) or one panel per group (multiples).")
    parser.add_argument("table", type=Path, metavar="TREND.csv",
                        help="trend table from 'trend' (or a comparison table for validation)")
    parser.add_argument("--kind", required=True, choices=KINDS, help="which figure")
    parser.add_argument("--by", help="grouping column: panels for multiples (at most "
                        f"{plots.MAX_PANELS} groups); for the other kinds, rows of --group only")
    parser.add_argument("--group", help="with --by: the group to draw (shares, volume)")
    parser.add_argument("--method", help="draw only this method's rows (when several)")
    parser.add_argument("--model", help="draw only this model's rows (a study's trend.csv "
                        "stacks its models and the gold labels in a model column)")
    parser.add_argument("--labels",
                        help="comma-separated labels to draw (default: the table's, support and "
                             f"criticism first, without other), at most {plots.MAX_LABELS} "
                             "besides other, each in its own colour; not for volume, which "
                             "stacks all")
    parser.add_argument("--event", action="append", default=[], metavar="WHEN=TEXT",
                        help="a labelled vertical line: 2020-09-30=announcement (a time "
                             "without a UTC offset is read in --tz), or hours (24=debunked) for "
                             "relative bins; repeatable; not for validation. A text too long "
                             "for the axes is wrapped and cut short with an ellipsis")
    parser.add_argument("--tz", help="IANA time zone of the time axis and of --event times "
                        "without an offset (default UTC); give the trend's --tz")
    parser.add_argument("--xlabel", metavar="TEXT",
                        help="x-axis label (not for validation). Default: 'Time (TZ)' for "
                             f"calendar bins; for relative bins '{plots.REFERENCE_XLABEL}', as "
                             "a trend table does not record its reference: give e.g. "
                             f"--xlabel '{plots.ROOT_XLABEL}' for a trend --relative-to root")
    parser.add_argument("--title", help="figure title")
    parser.add_argument("--width", type=float, default=plots.COLUMN_WIDTH,
                        help=f"inches (default {plots.COLUMN_WIDTH}: one paper column)")
    parser.add_argument("--height", type=float, help="inches (default depends on --kind)")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="FIG_STEM: writes FIG_STEM.png and FIG_STEM.pdf")
    parser.set_defaults(func=run)


def parse_event(text: str) -> tuple[object, str]:
    """``WHEN=TEXT`` -> (hours as float, or a Timestamp; text).

    A time without a zone stays naive: :func:`analysis.plots.plot_shares` reads it in ``--tz``.
    """
    when, sep, label = text.partition("=")
    if not sep or not when.strip() or not label.strip():
        raise UserError(f"--event expects WHEN=TEXT, got {text!r}")
    when = when.strip()
    try:
        return float(when), label.strip()
    except ValueError:
        pass
    check_time_text(when, "--event time")
    try:
        stamp = pd.Timestamp(when)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--event time {when!r} is neither hours nor an ISO time") from exc
    return stamp, label.strip()


def run(args: argparse.Namespace) -> int:
    table = read_table(args.table)
    if table.empty:
        raise UserError("the table has no rows to plot", args.table)
    labels = [x.strip() for x in args.labels.split(",") if x.strip()] if args.labels else None
    events = [parse_event(e) for e in args.event]
    for column in ("model", "method"):
        table = _only(table, column, getattr(args, column), args.table)
    if args.by and args.by not in table.columns:
        raise UserError(f"no column {args.by!r} for --by", args.table)
    if args.kind != "multiples" and args.by:
        if args.group is None:
            raise UserError("--by with this --kind needs --group (or use --kind multiples)")
        table = table[table[args.by].astype(str) == args.group].drop(columns=[args.by])
        if table.empty:
            raise UserError(f"no rows with {args.by} = {args.group!r}", args.table)
    for name, inches in (("--width", args.width), ("--height", args.height)):
        if inches is not None and not 0.5 <= inches <= plots.MAX_FIGURE_INCHES:
            raise UserError(f"{name} must be between 0.5 and {plots.MAX_FIGURE_INCHES:g} inches, "
                            f"not {inches}")
    if labels and args.kind != "volume" and "label" in table.columns:
        known = sorted(set(table["label"].dropna().astype(str)))
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise UserError(f"--labels names {', '.join(unknown)}, which the table does not have "
                            f"(its labels: {', '.join(known)})", args.table)
    if args.xlabel is not None and args.kind == "validation":
        raise UserError("--xlabel is for figures over time; the validation figure's axes are "
                        "gold and estimated shares")
    if labels and args.kind == "volume":
        raise UserError("--labels is not for volume: it stacks every label, so that the stacks "
                        "add up to all responses; drop --labels")
    if events and args.kind == "validation":
        raise UserError("--event marks a time; the validation figure has no time axis (its "
                        "axes are gold and estimated shares)")
    xlabel = args.xlabel or _default_xlabel(table)
    height = args.height
    try:
        if args.kind == "multiples":
            if not args.by:
                raise UserError("--kind multiples needs --by COLUMN")
            n_panels = table[args.by].nunique(dropna=False)
            try:
                auto_height = plots.small_multiples_height(n_panels, args.by)
            except UserError as exc:  # too many panels: name the table
                raise UserError(str(exc), args.table) from None
            fig, _ = plots.new_figure(args.width, height or auto_height, nrows=0)
            plots.plot_small_multiples(fig, table, args.by, labels, events, tz=args.tz,
                                       xlabel=xlabel)
        else:
            fig, ax = plots.new_figure(args.width, height or (
                3.3 if args.kind == "validation" else plots.DEFAULT_HEIGHT))
            if args.kind == "shares":
                plots.plot_shares(ax, table, labels, events, tz=args.tz, xlabel=xlabel)
            elif args.kind == "volume":
                plots.plot_volume(ax, table, events=events, tz=args.tz, xlabel=xlabel)
            else:
                plots.plot_validation(ax, table, labels)
    except ValueError as exc:
        raise UserError(str(exc).splitlines()[0], args.table) from exc
    if args.title:
        plots.add_title(fig, args.title)
    stem = args.output
    if stem.suffix.lower() in (".png", ".pdf"):  # -o fig.png means the stem fig
        stem = stem.with_suffix("")
    with warnings_to_stderr():  # e.g. characters no installed font has, named once
        written = plots.save_figure(fig, stem)
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _only(table: pd.DataFrame, column: str, value: str | None, path: Path) -> pd.DataFrame:
    """The rows of ``table`` whose ``column`` is ``value`` (all rows without a value)."""
    if value is None:
        return table
    if column not in table:
        raise UserError(f"the table has no {column} column; drop --{column}", path)
    rows = table[table[column] == value]
    if rows.empty:
        raise UserError(f"no rows of {column} {value!r}", path)
    return rows


def _default_xlabel(table: pd.DataFrame) -> str | None:
    """The x-axis label without --xlabel: for relative bins the reference is not known (a trend
    table does not record it), so not "the source post"; ``None`` (the plots' own) otherwise."""
    if "bin_start" in table.columns and len(table) and plots.is_relative(table):
        return plots.REFERENCE_XLABEL
    return None
