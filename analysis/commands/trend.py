"""``python -m analysis trend LABELS --posts POSTS --freq 1D -o TREND.csv``: shares over time.

Estimates the share of each label per time bin (and group) with a correction for classifier error
and bootstrap intervals; see :func:`analysis.trend.estimate_shares` and docs/statistics.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.commands import Note, check_n_boot, seed_number, warnings_to_stderr
from analysis.config import MIN_N_BOOT
from analysis.errors import UserError
from analysis.io import check_table_output, read_table, write_table
from analysis.trend import (
    ADJUSTED,
    DEFAULT_MIN_POSTS,
    DEFAULT_N_BOOT,
    METHODS,
    TableError,
    bundled_card,
    check_time_text,
    estimate_shares,
)

#: How this command names the validation table and the model card in messages (the Python
#: functions name their arguments, ``validation=`` and ``confusion=``).
OPTION_NAMES = ("--validation", "--model-card")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "trend", help="share of each label per time bin, corrected for classifier error",
        description="Estimate the share of support / criticism / other (or any labels) per time "
                    "bin and group, with bootstrap intervals that resample threads and the "
                    "validation set. Only responses count (not thread roots, not context rows).")
    parser.add_argument("labels", type=Path, metavar="LABELS",
                        help="labels table (uid, label, proba_<label>...) from 'label'")
    parser.add_argument("--posts", type=Path, help="posts table from 'ingest' (without it, "
                        "LABELS must already hold created_at, thread_id, ...)")
    parser.add_argument("--freq", default="1D",
                        help="bin width: a pandas frequency (1h, 6h, 1D, W), or for --relative-to "
                             "a fixed width or comma-separated edges in hours (0,1,3,6,24)")
    parser.add_argument("--relative-to", metavar="root|ISO_TIME",
                        help="bins in hours since each thread's root post (root) or an event time")
    parser.add_argument("--tz", help="IANA time zone of calendar bins and of a naive "
                        "--relative-to time (default UTC for calendar bins)")
    parser.add_argument("--by", default="", metavar="COLUMNS",
                        help="comma-separated grouping columns of the posts or labels table")
    parser.add_argument("--method", default="auto", choices=METHODS,
                        help="cc, pcc, acc, pacc, emq, or auto (the default: an adjusted "
                             "method when the validation data or model card show every label "
                             "detected well enough, else pcc or cc; see docs/statistics.md)")
    parser.add_argument("--validation", type=Path,
                        help="hand-labelled sample: uid, label (gold), and optionally predicted "
                             "+ proba_<label> (else taken from LABELS)")
    parser.add_argument("--model-card", metavar="CARD.json",
                        help="model card whose cv_confusion gives the adjustment (or 'default')")
    parser.add_argument("--ci", type=float, default=0.95, help="interval level (default 0.95)")
    parser.add_argument("--min-posts", type=int, default=DEFAULT_MIN_POSTS,
                        help=f"flag bins with fewer responses (default {DEFAULT_MIN_POSTS})")
    parser.add_argument("--n-boot", type=int, default=DEFAULT_N_BOOT,
                        help=f"bootstrap replicates (default {DEFAULT_N_BOOT}; 0: no intervals; "
                             f"else at least {MIN_N_BOOT})")
    parser.add_argument("--max-hours", type=float,
                        help="with --relative-to: keep responses less than this many hours after "
                             "the reference; the last bin ends there")
    parser.add_argument("--seed", type=seed_number, default=config.DEFAULT_SEED,
                        help="bootstrap seed (same seed, same table)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (one is shown on stderr only when it is a terminal)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="TREND.csv or .parquet")
    parser.set_defaults(func=run)


def parse_freq(text: str, relative: bool) -> str | list[float]:
    """A frequency string, or (for relative bins) comma-separated edges in hours."""
    if relative and "," in text:
        try:
            return [float(part) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise UserError(f"--freq edges must be numbers (hours), got {text!r}") from exc
    return text


def parse_relative_to(text: str | None, tz: str | None) -> str | pd.Timestamp | None:
    """``root``, or an ISO time; a time without offset needs ``--tz``."""
    if text is None or text == "root":
        return text
    check_time_text(text, "--relative-to")
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--relative-to must be 'root' or an ISO time, got {text!r}") from exc
    if stamp.tzinfo is None and tz is None:
        raise UserError(f"--relative-to {text!r} has no time zone; add an offset "
                        "(2020-09-30T00:00-07:00) or pass --tz")
    return stamp


def read_card_confusion(value: str, labels: pd.DataFrame | None = None) -> dict:
    """``cv_confusion`` of a model card given as a JSON path, ``default`` or a ``.skops`` path.

    The card next to a ``.skops`` file must be that file's: one that records the sha256 of
    another model file is refused, as ``label`` and ``evaluate`` refuse it
    (:func:`~analysis.classifiers.persistence.check_card_file`). With ``labels``, the card must
    be of the model that made them (see :func:`check_card_model`).
    """
    from analysis.classifiers import MODEL_NAMES, model_card

    path = Path(value)
    if path.suffix not in (".json", ".skops") and value not in MODEL_NAMES:
        raise UserError("is not a model card: give a card (.json), a model (.skops) with its "
                        "card next to it, or 'default'", path)
    if path.suffix == ".json":
        if not path.is_file():
            raise UserError("no such model card", path)
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"unreadable model card: {exc}", path) from exc
    else:
        from analysis.classifiers.persistence import check_card_file

        card = model_card(value)
        if not card and value not in MODEL_NAMES:
            from analysis.classifiers.persistence import card_path

            raise UserError(f"no model card next to the model ({card_path(path).name}); give "
                            "the card train wrote with it, or pass --validation", path)
        if card and value not in MODEL_NAMES and path.is_file():  # a model file: its card?
            check_card_file(card, path)
    if not isinstance(card, dict) or not ({"cv_confusion", "model_id", "labels"} & set(card)):
        raise UserError("is not a model card: it has no cv_confusion, model_id or labels (give "
                        "the .card.json that train writes next to its model)", value)
    confusion = card.get("cv_confusion")
    if not confusion:
        raise UserError("the model card has no cv_confusion; pass --validation instead", value)
    if labels is not None:
        check_card_model(card, labels, value)
    return confusion


def check_card_model(card: dict, labels: pd.DataFrame, value: str) -> None:
    """Refuse a card that is not of the model in the labels' ``labeler_id``
    (``<model_id>@<version>``): another model's confusion matrix, or that of the same model
    retrained on other data (same ``model_id``, another version; see
    :func:`~analysis.classifiers.persistence.card_model_version`),
    would correct the wrong errors. Labels made while the model had no card carry the first 12
    hex digits of its file's sha256 as version
    (:func:`~analysis.classifiers.persistence.load_model`): the card that records that sha256
    (``model_sha256``) is theirs. Nothing is checked when the card has no ``model_id`` or the
    labels no ``labeler_id``; versions are not compared for labels without one (``@0``, as
    :func:`~analysis.classifiers.label_posts` writes for a model without ``version_``)."""
    model_id = card.get("model_id")
    if not model_id or "labeler_id" not in labels.columns:
        return
    source = None if value == "default" else value
    ids = labels["labeler_id"].dropna().astype(str)
    models = sorted({i.rpartition("@")[0] for i in ids if i.rpartition("@")[0]})
    others = [m for m in models if m != str(model_id)]
    if others:
        raise UserError(f"the model card is of model {str(model_id)!r} but the labels come from "
                        f"{', '.join(map(repr, others))}; pass the card of the model that made "
                        "the labels (or --validation)", source)
    from analysis.classifiers.persistence import MODEL_SHA256, card_model_version

    version = card_model_version(card)
    sha256 = card.get(MODEL_SHA256)
    same = {"", "0", version, *([sha256[:12]] if isinstance(sha256, str) and sha256 else [])}
    stale = sorted({i for i in ids if i.rpartition("@")[0] and i.rpartition("@")[2] not in same})
    if stale:
        raise UserError(f"the labels come from {', '.join(stale)} but the card is of "
                        f"{model_id}@{version} (retrained?); pass the card of the model that "
                        "made the labels (or --validation)", source)


def _default_card(labels, validation, method: str, source: object = None) -> str | None:
    """``"default"`` when no validation table is given and the bundled default model's card
    should correct ``labels`` (:func:`analysis.trend.bundled_card`, which ``estimate_shares``
    shares), giving its note as a :class:`~analysis.commands.Note`; else None. Labels of another
    version of the bundled model (or of a user's ``default.skops``) with an adjusted ``method``
    are a :class:`UserError` naming ``source`` (the labels file) and both versions."""
    if validation is not None:
        return None
    try:
        card, note = bundled_card(labels, method, names=OPTION_NAMES)
    except TableError as exc:
        raise UserError(str(exc), source) from exc
    if note:
        warnings.warn(note, Note, stacklevel=2)
    return "default" if card is not None else None


def run(args: argparse.Namespace) -> int:
    check_n_boot(args.n_boot)
    inputs = [args.labels, args.posts, args.validation,
              args.model_card if args.model_card and args.model_card != "default" else None]
    check_table_output(args.output, overwrite_guard=inputs)  # a bad -o before the work
    labels = read_table(args.labels)
    posts = read_table(args.posts) if args.posts else None
    validation = read_table(args.validation) if args.validation else None
    with warnings_to_stderr():  # notes and warnings, printed once the table is written
        card = args.model_card or _default_card(labels, validation, args.method, args.labels)
        confusion = read_card_confusion(card, labels) if card else None
        relative_to = parse_relative_to(args.relative_to, args.tz)
        by = [c.strip() for c in args.by.split(",") if c.strip()]
        for name, frame in (("labels", labels), ("posts", posts)):
            if frame is not None and "uid" not in frame.columns:
                raise UserError("missing column uid", getattr(args, name))
        if args.method in ADJUSTED and validation is None and confusion is None:
            raise UserError(f"method {args.method} needs validation data: pass a validation "
                            "table (--validation) or a model card with cv_confusion "
                            "(--model-card)")
        try:
            trend = estimate_shares(
                labels, posts, freq=parse_freq(args.freq, relative_to is not None),
                relative_to=relative_to, tz=args.tz or "UTC", by=by, method=args.method,
                validation=validation, confusion=confusion, ci=args.ci, n_boot=args.n_boot,
                min_posts=args.min_posts, random_state=args.seed, max_hours=args.max_hours,
                progress=False if args.no_progress else None)
        except TableError as exc:  # name the file the table came from
            path = {"labels": args.labels, "posts": args.posts,
                    "validation": args.validation}[exc.table]
            raise UserError(str(exc), path) from exc
        write_table(trend, args.output, overwrite_guard=inputs)  # a failed write: no notes
    print(f"{args.output}: {summarize(trend, by)}", file=sys.stderr)
    return 0


def summarize(trend: pd.DataFrame, by: list[str]) -> str:
    """The closing line's counts: distinct bins, groups (with ``by``) and labels, the method,
    and how many bins (of one group each, with ``by``) are flagged."""
    cells = trend.drop_duplicates([*by, "bin_start"])
    flagged = int(cells["flag"].notna().sum())
    shape = f"{trend['bin_start'].nunique()} bins"
    if by:
        shape += f" x {len(trend.drop_duplicates(by))} groups"
    counted = f"{flagged} of {len(cells)} group bins" if by else f"{flagged} bins"
    return (f"{shape} x {trend['label'].nunique()} labels, method {trend['method'].iloc[0]}, "
            f"{counted} flagged")
