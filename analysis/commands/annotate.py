"""``python -m analysis annotate``: the hand-coding loop.

    annotate sample POSTS [--labels LABELS | --model M] -n N -o SHEETS_DIR ...
    annotate import SHEETS_DIR -o GOLD.parquet [--strict]
    annotate agreement GOLD [--posts POSTS] [--disagreements RESOLUTIONS.csv] [-o REPORT.json]
    annotate adjudicate GOLD [--resolutions RESOLUTIONS.csv] [--majority] -o FINAL.parquet
    annotate estimate FINAL --sample SHEETS_DIR

See docs/hand-coding.md for the whole workflow.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from analysis import annotate
from analysis.annotate.adjudicate import ResolutionError, attach_texts
from analysis.annotate.sampling import ALLOCATIONS, STRATEGIES, UNCERTAIN_SHARE, UNCERTAIN_TOP
from analysis.annotate.sheets import (
    DESIGN_FILE,
    FORMATS,
    SAMPLE_FILE,
    STRATA_FILE,
    check_not_sheets_file,
    problems_table,
    read_csv_sheet,
    read_design,
)
from analysis.commands import check_n_boot, seed_number, warnings_to_stderr
from analysis.config import DEFAULT_SEED, MIN_N_BOOT
from analysis.errors import UserError
from analysis.io import (
    _first_line,
    check_output,
    read_table,
    sha256_file,
    write_json,
    write_table,
)
from analysis.schema import (
    LABELS,
    POSTS,
    STANCE_LABELS,
    STANCE_TASK,
    conform,
    parse_text_columns,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "annotate", help="hand-coding: sample posts, import sheets, agreement, gold labels",
        description="Draw a sample to hand-code, write coding sheets, import them, measure "
                    "agreement and adjudicate final gold labels.")
    steps = parser.add_subparsers(dest="step", metavar="STEP")
    steps.required = True

    sample = steps.add_parser("sample", help="draw posts to code and write one sheet per coder")
    sample.add_argument("posts", type=Path, metavar="POSTS", help="posts table (Parquet/CSV)")
    sample.add_argument("--labels", type=Path, metavar="LABELS",
                        help="a classifier's labels table (for label/uncertainty strata)")
    sample.add_argument("--labeler", metavar="ID",
                        help="use this labeler_id's rows of --labels (when it holds several)")
    sample.add_argument("--model", metavar="M",
                        help="label the posts with this model (vader, default or a .skops file) "
                             "instead of --labels")
    sample.add_argument("-n", type=int, required=True, metavar="N", help="posts to draw")
    sample.add_argument("--stratify-by", default="time,thread", metavar="KEYS",
                        help="comma-separated among time, thread, label, uncertainty "
                             "(default: time,thread)")
    sample.add_argument("--strategy", choices=STRATEGIES, default="stratified",
                        help="'uncertainty' over-samples the posts the model is least sure of")
    sample.add_argument("--freq", metavar="F",
                        help="calendar time bins (pandas frequency: 1D, 6h, W, MS)")
    sample.add_argument("--time-bins", type=int, default=5, metavar="K",
                        help="without --freq: K bins with about equal numbers of posts (5)")
    sample.add_argument("--allocation", choices=ALLOCATIONS, default="proportional")
    sample.add_argument("--uncertain-share", type=float, default=UNCERTAIN_SHARE, metavar="S",
                        help=f"share of N from the uncertain stratum ({UNCERTAIN_SHARE})")
    sample.add_argument("--uncertain-top", type=float, default=UNCERTAIN_TOP, metavar="Q",
                        help="share of posts, least confident first, forming the uncertain "
                             f"stratum ({UNCERTAIN_TOP})")
    sample.add_argument("--coders", default="A", metavar="A,B,C", help="coder ids (default: A)")
    sample.add_argument("--overlap", type=float, default=0.2, metavar="SHARE",
                        help="share of posts coded by several coders (0.2)")
    sample.add_argument("--overlap-coders", type=int, metavar="K",
                        help="coders per overlap post (default: all)")
    sample.add_argument("--allowed", default=",".join(STANCE_LABELS), metavar="L1,L2",
                        help="allowed labels (default: support,criticism,other)")
    sample.add_argument("--task", default=STANCE_TASK, help="task name of the labels (stance)")
    sample.add_argument("--target", metavar="TEXT",
                        help="one target text for every post (default: the thread root's text)")
    sample.add_argument("--include-roots", action="store_true",
                        help="also draw thread roots (default: responses only, by the rule of "
                             "analysis.responses: not roots, context rows, reposts or posts "
                             "without text)")
    sample.add_argument("--exclude", type=Path, action="append", default=[], metavar="GOLD",
                        help="labels table of posts already coded, not to draw again")
    sample.add_argument("--formats", default="csv,xlsx", metavar="csv,xlsx",
                        help="sheet formats (XLSX needs openpyxl)")
    sample.add_argument("--seed", type=seed_number, default=DEFAULT_SEED)
    sample.add_argument("--force", action="store_true",
                        help="replace a sheets folder of an earlier 'sample' whose sheets are "
                             "still empty (one with coders' labels or notes, other files or an "
                             "input of this run is never replaced)")
    sample.add_argument("-o", "--output", type=Path, required=True, metavar="SHEETS_DIR")
    sample.set_defaults(func=run_sample)

    imp = steps.add_parser("import", help="read filled sheets into a long labels table")
    imp.add_argument("sheets", type=Path, metavar="SHEETS_DIR")
    imp.add_argument("-o", "--output", type=Path, required=True, metavar="GOLD.parquet")
    imp.add_argument("--strict", action="store_true",
                     help="exit 2 (writing nothing) when any sheet has an error")
    imp.set_defaults(func=run_import)

    agree = steps.add_parser("agreement", help="Krippendorff's alpha, Cohen's kappa, "
                             "disagreements to adjudicate")
    agree.add_argument("gold", type=Path, metavar="GOLD")
    agree.add_argument("--posts", type=Path, metavar="POSTS",
                       help="posts table, to add each disagreement's text")
    agree.add_argument("--task", help="the task to measure (when GOLD holds several)")
    agree.add_argument("--n-boot", type=int, default=1000,
                       help=f"bootstrap resamples (1000; 0: no interval; else at least "
                            f"{MIN_N_BOOT})")
    agree.add_argument("--ci", type=float, default=0.95, help="interval level (0.95)")
    agree.add_argument("--seed", type=seed_number, default=DEFAULT_SEED)
    agree.add_argument("--disagreements", type=Path, metavar="RESOLUTIONS.csv",
                       help="write the disagreements here, with a resolved_label column to fill")
    agree.add_argument("-o", "--output", type=Path, metavar="REPORT.json",
                       help="write the report as JSON")
    agree.add_argument("--force", action="store_true",
                       help="replace a --disagreements file that has resolved_label filled in")
    agree.set_defaults(func=run_agreement)

    adj = steps.add_parser("adjudicate", help="merge resolutions into final gold labels")
    adj.add_argument("gold", type=Path, metavar="GOLD")
    adj.add_argument("--resolutions", type=Path, metavar="RESOLUTIONS.csv",
                     help="the disagreements file with resolved_label filled in")
    adj.add_argument("--majority", action="store_true",
                     help="resolve remaining disagreements by a strict majority of coders")
    adj.add_argument("--drop-unresolved", action="store_true",
                     help="leave out posts still unresolved instead of stopping")
    adj.add_argument("--allowed", metavar="L1,L2",
                     help="allowed labels (default: the sample's codebook, recorded by "
                          "'import'; without one, the labels the coders used)")
    adj.add_argument("--posts", type=Path, metavar="POSTS",
                     help="add text, target (thread root), context (parent), depth and thread_id "
                          "so that FINAL feeds 'train' and 'evaluate' directly")
    adj.add_argument("--target", metavar="TEXT",
                     help="with --posts: one target text for every post instead of the root's")
    adj.add_argument("-o", "--output", type=Path, required=True, metavar="FINAL.parquet")
    adj.set_defaults(func=run_adjudicate)

    est = steps.add_parser("estimate", help="label shares weighted back to the population")
    est.add_argument("final", type=Path, metavar="FINAL")
    est.add_argument("--sample", type=Path, required=True, metavar="SHEETS_DIR",
                     help="the sheets folder the posts were drawn into (its sample.csv, "
                          "strata.csv and design.json)")
    est.add_argument("-o", "--output", type=Path, metavar="SHARES.csv")
    est.set_defaults(func=run_estimate)

    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return int(args.func(args) or 0)


def _warnings_as_lines(step: Callable[[argparse.Namespace], int]
                       ) -> Callable[[argparse.Namespace], int]:
    """Run a step with each of its warnings printed as one ``warning: ...`` line
    (:func:`analysis.commands.warnings_to_stderr`), not in Python's file-and-line form."""

    @functools.wraps(step)
    def wrapped(args: argparse.Namespace) -> int:
        with warnings_to_stderr():
            return step(args)

    return wrapped


def run_sample(args: argparse.Namespace) -> int:
    # every warning (the model's labelling, the draw, the sheets) is one "warning:" line
    with warnings_to_stderr():
        posts = _read_posts(args.posts)
        coders = annotate.parse_coders(args.coders)
        formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
        if not formats or set(formats) - set(FORMATS):
            raise UserError(f"--formats must be among {', '.join(FORMATS)}")
        allowed = [v.strip() for v in args.allowed.split(",") if v.strip()]
        labels = _sample_labels(args, posts)
        exclude: list[str] = []
        for path in args.exclude:
            done = read_table(path)
            if "uid" not in done.columns:
                raise UserError("has no 'uid' column; --exclude takes a labels table", path)
            exclude.extend(done["uid"].dropna().astype(str).tolist())
        result = annotate.draw_sheets(
            args.output, posts, args.n, coders, labels=labels, overlap=args.overlap,
            overlap_coders=args.overlap_coders, stratify_by=args.stratify_by,
            strategy=args.strategy, freq=args.freq, n_time_bins=args.time_bins,
            allocation=args.allocation, uncertain_share=args.uncertain_share,
            uncertain_top=args.uncertain_top, include_roots=args.include_roots,
            exclude=sorted(set(exclude)), allowed=allowed, task=args.task, target=args.target,
            formats=formats, seed=args.seed, posts_file=args.posts, labels_file=args.labels,
            record={"labeler": args.labeler, "model": args.model,
                    "command": "python -m analysis annotate sample"},
            overwrite=args.force, inputs=args.exclude)
    drawn, assignments, written = result.sample, result.assignments, result.files
    per_coder = assignments.groupby("coder").size()
    n_overlap = int(assignments.loc[assignments["overlap"], "uid"].nunique())
    print(f"drew {len(drawn.units)} of {drawn.params['population']} eligible posts in "
          f"{int((drawn.strata['sampled'] > 0).sum())} strata; {n_overlap} go to several coders")
    print("posts per coder: " + ", ".join(f"{c} {per_coder[c]}" for c in coders))
    print(f"wrote {len(written)} files to {args.output}: "
          + ", ".join(p.name for p in written))
    return 0


@_warnings_as_lines
def run_import(args: argparse.Namespace) -> int:
    _check_outputs([args.output], sheets=args.sheets)  # a folder is refused before its name
    problems_path = args.output.with_name(args.output.stem + ".problems.csv")
    _check_outputs([problems_path], sheets=args.sheets)
    result = annotate.read_sheets(args.sheets)
    if result.problems:
        print(annotate.format_problems(result.problems), file=sys.stderr)
    if args.strict and result.errors:
        raise UserError(f"{len(result.errors)} error(s) in the filled sheets (listed above); "
                        "fix them or import without --strict; nothing was written", args.sheets)
    if result.labels.empty:
        raise UserError("no labels could be imported (see the problems above)", args.sheets)
    sheets = sorted(args.sheets.iterdir()) if args.sheets.is_dir() else []
    write_table(result.labels, args.output, overwrite_guard=sheets)
    if result.problems:
        write_table(problems_table(result.problems), problems_path, overwrite_guard=sheets)
        print(f"{len(result.errors)} error(s), {len(result.problems) - len(result.errors)} "
              f"warning(s): listed in {problems_path}", file=sys.stderr)
    elif problems_path.is_file():  # an earlier run's list would not describe this output
        problems_path.unlink()
        print(f"no problems: removed {problems_path} of an earlier run", file=sys.stderr)
    for coder, info in result.summary["coders"].items():
        if info["sheet"] is None and info["unreadable"]:
            print(f"{coder}: 0 label(s): {', '.join(info['unreadable'])} cannot be read (see "
                  "the error above)")
        else:
            print(f"{coder}: {info['imported']} label(s) from {info['sheet'] or '(no sheet)'}")
    print(f"wrote {len(result.labels)} labels to {args.output}")
    return 0


@_warnings_as_lines
def run_agreement(args: argparse.Namespace) -> int:
    check_n_boot(args.n_boot)
    inputs = [args.gold, args.posts]
    _check_outputs([args.disagreements, args.output], inputs=inputs)
    if not args.force and args.disagreements:
        _refuse_filled_resolutions(args.disagreements)
    gold = _read_gold(args.gold, args.task)
    posts = _read_posts(args.posts) if args.posts else None
    report = annotate.measure_agreement(gold, posts=posts, n_boot=args.n_boot, ci=args.ci,
                                        random_state=args.seed, source=args.gold)
    print(report.to_text())
    if args.disagreements:
        write_table(report.disagreements, args.disagreements, overwrite_guard=inputs)
        print(f"wrote {len(report.disagreements)} disagreement(s) to {args.disagreements}; fill "
              "resolved_label, then run 'annotate adjudicate --resolutions'")
    if args.output:
        write_json(report.to_dict() | {"gold": {"path": str(args.gold),
                                                "sha256": sha256_file(args.gold)}}, args.output,
                   overwrite_guard=inputs)
        print(f"wrote {args.output}")
    return 0


@_warnings_as_lines
def run_adjudicate(args: argparse.Namespace) -> int:
    _check_outputs([args.output], inputs=[args.gold, args.resolutions, args.posts])
    gold = _read_gold(args.gold, None)
    resolutions = _read_resolutions(args.resolutions) if args.resolutions else None
    allowed = ([v.strip() for v in args.allowed.split(",") if v.strip()] if args.allowed
               else None)
    try:
        with _naming(args.gold):
            final = annotate.adjudicate(gold, resolutions, allowed=allowed,
                                        majority=args.majority,
                                        drop_unresolved=args.drop_unresolved,
                                        source=str(args.resolutions or "resolutions"))
    except ResolutionError as exc:
        print(annotate.format_problems(exc.problems), file=sys.stderr)
        raise UserError(f"{len(exc.problems)} problem(s) in the resolution file (listed above); "
                        "nothing was written", args.resolutions) from exc
    if args.posts:
        final = attach_texts(final, _read_posts(args.posts), target=args.target)
    write_table(final, args.output, overwrite_guard=[args.gold, args.resolutions, args.posts])
    counts = final["resolution"].value_counts()
    print(f"wrote {len(final)} final labels to {args.output} ("
          + ", ".join(f"{k} {counts[k]}" for k in counts.index) + ")")
    dropped = final.attrs.get("unresolved", [])
    if dropped:
        print(f"left out {len(dropped)} unresolved post(s)", file=sys.stderr)
    return 0


def run_estimate(args: argparse.Namespace) -> int:
    _check_outputs([args.output], inputs=[args.final], sheets=args.sample)
    final = _read_gold(args.final, None)
    if not args.sample.is_dir():
        raise UserError("--sample takes the sheets folder that 'annotate sample' wrote (the one "
                        f"with {SAMPLE_FILE} in it)", args.sample)
    units = read_table(args.sample / SAMPLE_FILE)
    missing = [c for c in ("uid", "stratum", "stratum_size") if c not in units.columns]
    if missing:
        raise UserError(f"not a sample file of 'annotate sample' (missing {', '.join(missing)})",
                        args.sample / SAMPLE_FILE)
    if units["stratum"].isna().any():
        raise UserError("stratum must be filled in every row", args.sample / SAMPLE_FILE)
    units["stratum_size"] = pd.to_numeric(units["stratum_size"], errors="coerce")
    if units["stratum_size"].isna().any():
        raise UserError("stratum_size must be a number in every row", args.sample / SAMPLE_FILE)
    strata = _read_strata(args.sample / STRATA_FILE, units)
    codebook = (read_design(args.sample)["allowed_labels"]
                if (args.sample / DESIGN_FILE).is_file() else None)
    with _naming(args.final), warnings_to_stderr():
        shares = annotate.estimate_label_shares(final, units, strata=strata, labels=codebook)
    print(shares.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    first = shares.iloc[0]
    covered, missing = int(first["population_covered"]), int(first["population_missing"])
    print(f"the shares describe the {covered} of {covered + missing} eligible posts in strata "
          "with coded posts" + (f"; {first['strata_missing']} stratum/strata holding {missing} "
                                "posts had no coded posts and are not covered" if missing else ""))
    if args.output:
        write_table(shares, args.output, overwrite_guard=[args.final, args.sample / SAMPLE_FILE,
                                                          args.sample / STRATA_FILE])
    return 0


# --- helpers ---------------------------------------------------------------------------------


def _check_outputs(outputs: Sequence[Path | None], *, inputs: Sequence[Path | None] = (),
                   sheets: Path | None = None) -> None:
    """Refuse, before any work, outputs that name the same file, an input, or a file of a sheets
    folder (``sheets``, or any folder with a design.json)."""
    given = [o for o in outputs if o is not None]
    if len({o.resolve() for o in given}) < len(given):
        raise UserError("two outputs name the same file; give each its own file name",
                        given[-1])
    for output in given:
        check_output(output, overwrite_guard=inputs)
        check_not_sheets_file(output, [sheets])


def _refuse_filled_resolutions(path: Path) -> None:
    """Refuse to replace a resolution file whose ``resolved_label`` holds an adjudicator's work."""
    if not path.is_file():
        return
    try:
        existing = _read_resolutions(path)
    except UserError:
        return  # not a resolution file this step could have written
    column = existing.get("resolved_label")
    if column is not None and column.fillna("").astype(str).str.strip().ne("").any():
        raise UserError("has resolved_label filled in (an adjudicator's work); give another "
                        "--disagreements file name, or pass --force to replace it", path)


def _read_posts(path: Path) -> pd.DataFrame:
    frame = read_table(path)
    if "uid" not in frame.columns:
        raise UserError("not a posts table (no 'uid' column); make one with 'ingest'", path)
    try:
        if path.suffix.lower() != ".parquet":  # CSV / JSON lines: times and lists as text
            frame = parse_text_columns(frame, POSTS)
        return conform(frame, POSTS)
    except (TypeError, ValueError) as exc:
        raise UserError(f"not a valid posts table: {exc}", path) from exc


def _read_resolutions(path: Path) -> pd.DataFrame:
    """A resolution file; a CSV is read like a coding sheet (a spreadsheet's CSV, any locale)."""
    if path.suffix.lower() != ".csv":
        return read_table(path)
    if not path.is_file():
        raise UserError("no such file", path)
    try:
        return read_csv_sheet(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the resolution file: {_first_line(exc)}", path) from exc


def _read_strata(path: Path, units: pd.DataFrame) -> pd.DataFrame:
    """The strata table of a sample, checked against its units."""
    if not path.is_file():
        raise UserError("no such file; 'annotate sample' writes it next to sample.csv, and the "
                        "estimate needs it to count the strata that got no draws", path)
    strata = read_table(path)
    if not {"stratum", "population"} <= set(strata.columns):
        raise UserError("not a strata file of 'annotate sample' (needs stratum and population)",
                        path)
    strata["population"] = pd.to_numeric(strata["population"], errors="coerce")
    if strata["population"].isna().any():
        raise UserError("population must be a number in every row", path)
    unknown = sorted(set(units["stratum"]) - set(strata["stratum"]))
    if unknown:
        raise UserError(f"does not list stratum {unknown[0]!r} of {SAMPLE_FILE}; use the "
                        f"{STRATA_FILE} written with it", path)
    return strata


def _read_gold(path: Path, task: str | None) -> pd.DataFrame:
    frame = read_table(path)
    missing = [c for c in ("uid", "label", "labeler_id") if c not in frame.columns]
    if missing:
        raise UserError(f"not a labels table (missing {', '.join(missing)})", path)
    try:
        frame = conform(frame, LABELS, extra=True)
    except (TypeError, ValueError) as exc:
        raise UserError(f"not a valid labels table: {exc}", path) from exc
    if frame["labeler_type"].notna().any():
        frame = frame[frame["labeler_type"].astype("object") == "human"]
    tasks = frame["task"].dropna().unique().tolist()
    if task is not None:
        frame = frame[frame["task"] == task]
    elif len(tasks) > 1:
        raise UserError(f"holds several tasks ({', '.join(tasks)}); pick one with --task", path)
    if frame.empty:
        raise UserError("no human labels in this table", path)
    return frame.reset_index(drop=True)


def _sample_labels(args: argparse.Namespace, posts: pd.DataFrame) -> pd.DataFrame | None:
    if args.model and args.labels:
        raise UserError("give either --labels or --model, not both")
    if args.model:
        try:
            from analysis.classifiers import label_posts
        except ImportError as exc:
            raise UserError("model labelling is not available in this installation; label the "
                            "posts first ('analysis label') and pass --labels") from exc
        eligible = annotate.eligible_posts(posts, include_roots=args.include_roots)
        # Posts without text cannot be labelled (nor drawn); their replies still find them.
        labels = label_posts(posts[posts["text"].notna()].reset_index(drop=True),
                             model=args.model, target=args.target)
        return labels[labels["uid"].isin(eligible["uid"])].reset_index(drop=True)
    if not args.labels:
        return None
    labels = read_table(args.labels)
    if "uid" not in labels.columns:
        raise UserError("not a labels table (no 'uid' column)", args.labels)
    if args.labeler:
        labels = labels[labels["labeler_id"].astype(str) == args.labeler]
        if labels.empty:
            raise UserError(f"no rows with labeler_id {args.labeler!r}", args.labels)
    elif "labeler_id" in labels.columns and labels["labeler_id"].nunique() > 1:
        raise UserError("holds labels of several labelers "
                        f"({', '.join(map(str, labels['labeler_id'].unique()[:5]))}); pick one "
                        "with --labeler", args.labels)
    return labels.reset_index(drop=True)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Put ``path`` in front of a library error that names no file (not a resolution file's
    list of problems, which the caller reports)."""
    try:
        yield
    except ResolutionError:
        raise
    except UserError as exc:
        if exc.path is not None:
            raise
        raise UserError(str(exc), path) from exc
