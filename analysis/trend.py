"""Shares of each label per time bin and group, corrected for classifier error, with intervals.

:func:`estimate_shares` joins a labels table (``uid``, ``label``, ``proba_<label>``...) with the
posts table, keeps the responses (not thread roots, not ``collection_role = "context"`` rows), puts
them in time bins (calendar bins in a stated time zone, or hours since each thread's root post or
since an event) and estimates the share of every label in every bin and group with one of the
methods of :mod:`analysis.quantify`.

Intervals are percentile bootstrap intervals. Each replicate resamples the *threads* of every
bin-group with replacement (replies in one thread are not independent) and, for the adjusted
methods, resamples the validation set that the confusion matrix comes from, so that the
uncertainty of the correction reaches the interval. One validation replicate is shared by all the
bins of a bootstrap replicate (it is the same classifier everywhere). See docs/statistics.md.

Examples
--------
>>> labels = pd.DataFrame({"uid": ["t:1", "t:2", "t:3"],
...                        "label": ["support", "other", "support"]})
>>> posts = pd.DataFrame({
...     "uid": ["t:0", "t:1", "t:2", "t:3"], "id": ["0", "1", "2", "3"],
...     "thread_id": ["0"] * 4, "root_id": ["0"] * 4, "depth": [0, 1, 1, 2],
...     "created_at": pd.to_datetime(["2020-09-30 10:00", "2020-09-30 11:00",
...                                   "2020-09-30 12:30", "2020-10-01 09:00"], utc=True)})
>>> trend = estimate_shares(labels, posts, freq="1D", method="cc", n_boot=0, min_posts=1)
>>> print(trend[["bin_start", "label", "n_posts", "estimate"]].to_string(index=False))
           bin_start     label  n_posts  estimate
2020-09-30T00:00:00Z   support        2       0.5
2020-09-30T00:00:00Z criticism        2       0.0
2020-09-30T00:00:00Z     other        2       0.5
2020-10-01T00:00:00Z   support        1       1.0
2020-10-01T00:00:00Z criticism        1       0.0
2020-10-01T00:00:00Z     other        1       0.0
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Day, Tick

from analysis import quantify, responses
from analysis.config import DEFAULT_SEED
from analysis.errors import UserError, check_n_boot, check_table
from analysis.loaders.base import daylight_saving_problem, parse_time
from analysis.progress import progress_bar
from analysis.schema import PROBA_PREFIX, STANCE_LABELS, TREND, label_order, without_offset

#: Bootstrap replicates when none are asked for.
DEFAULT_N_BOOT = 500
#: Bins with fewer responses than this are flagged ``few_posts`` (kept, but not to be drawn as
#: certain). About 30 is where a share's binomial standard error falls under 0.1 for any share.
DEFAULT_MIN_POSTS = 30
#: Flags a trend row can carry (joined with ";").
FLAG_FEW_POSTS = "few_posts"
#: Refuse frequencies that make more bins than this (a typo such as "1ms" for "1MS").
MAX_BINS = 100_000
FLAG_ONE_THREAD = "one_thread"
#: Bins whose responses come from fewer threads than this (but more than one) are flagged
#: ``few_threads``: a bootstrap over so few threads gives intervals that are too narrow (see
#: docs/statistics.md, "Flags", for the simulation).
MIN_THREADS = 10
FLAG_FEW_THREADS = "few_threads"
FLAG_NO_POSTS = "no_posts"

METHODS = (*quantify.METHODS, "auto")
ADJUSTED = ("acc", "pacc", "emq")

#: How messages name the two sources of a confusion matrix: the arguments of
#: :func:`estimate_shares` (the ``trend`` command passes its options to :func:`bundled_card`).
ARGUMENT_NAMES = ("validation=", "confusion=")

_POST_COLUMNS = ("created_at", "thread_id", *responses.COLUMNS[1:], "created_at_precision")


#: The rows a count in a message about a table's values is of: those the estimate reads (for a
#: labels table, the responses that are in the posts table), not every row of the file.
IN_USE = "rows in use"

#: How far from 1 a row's probabilities may sum (rounding in a CSV file) before the row is
#: refused: rescaling probabilities that sum to 3 would change the estimates without a word.
PROBA_SUM_TOLERANCE = 0.01


class TableError(UserError):
    """Bad content in one input table; ``table`` says which (``"labels"``, ``"posts"`` or
    ``"validation"``), so that a caller who read it from a file can name the file."""

    def __init__(self, message: str, table: str) -> None:
        super().__init__(message)
        self.table = table


@dataclass(frozen=True)
class _Calibration:
    """Validation quantities at the point estimate and per bootstrap replicate."""

    hard: np.ndarray | None  # (K, K) rates, rows true
    soft: np.ndarray | None
    prior: np.ndarray | None  # (K,)
    hard_reps: np.ndarray | None  # (B, K, K)
    soft_reps: np.ndarray | None
    prior_reps: np.ndarray | None  # (B, K)
    probabilities: np.ndarray | None = None  # validation posteriors (n, K)
    weights: np.ndarray | None = None  # validation bootstrap weights (B, n)
    correction: np.ndarray | None = None  # EM bias correction (K,), see quantify.bias_correction
    correction_reps: np.ndarray | None = None  # (B, K)
    gold: np.ndarray | None = None  # validation gold label codes (n,)
    predicted: np.ndarray | None = None  # validation predicted label codes (n,)
    clusters: np.ndarray | None = None  # validation thread codes (n,); items without threads
    by_thread: bool = False  # whether ``clusters`` are threads (else single items)
    absent: str | None = None  # why no adjusted method can run (a label without gold items)

    def with_bias_correction(self) -> _Calibration:
        """The same, plus the bias correction of the posteriors (for ``emq``)."""
        if self.probabilities is None:
            return self
        point = quantify.bias_correction(self.probabilities, self.prior)
        reps = None
        if self.weights is not None:
            reps = quantify.bias_correction(self.probabilities, self.prior_reps, self.weights)
        return replace(self, correction=point, correction_reps=reps)


def estimate_shares(
    labels: pd.DataFrame,
    posts: pd.DataFrame | None = None,
    *,
    freq: str | Sequence[float] = "1D",
    relative_to: str | pd.Timestamp | None = None,
    tz: str = "UTC",
    by: Sequence[str] = (),
    method: str = "auto",
    validation: pd.DataFrame | None = None,
    confusion: Mapping[str, object] | Literal["auto"] | None = "auto",
    ci: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    min_posts: int = DEFAULT_MIN_POSTS,
    random_state: int | np.random.Generator | None = DEFAULT_SEED,
    max_hours: float | None = None,
    include_roots: bool = False,
    include_context: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Estimate the share of each label per time bin (and group), with bootstrap intervals.

    Parameters
    ----------
    labels
        A labels table: ``uid``, ``label`` (predicted) and, for the probabilistic methods, one
        ``proba_<label>`` column per label. Without ``posts`` it must also hold the post columns
        below (a table already joined).
    posts
        The posts table: ``uid``, ``created_at`` (tz-aware) and, where present, ``thread_id``,
        ``root_id``, ``id``, ``depth``, ``collection_role`` and the ``by`` columns.
    freq
        Bin width as a pandas frequency with a unit and a positive width (``"1h"``, ``"6h"``,
        ``"1D"``, ``"W"``; a bare ``"5"`` is refused, not read as nanoseconds). Frequencies
        anchored on the last day of their periods (``"ME"``, ``"QE"``, ``"YE"``...) are refused:
        use ``"MS"``, ``"QS"``, ``"YS"``. For bins relative to a reference it must be a fixed
        width, or a sequence of bin edges in hours (``[0, 1, 3, 6, 12, 24]``; responses outside
        the edges are left out, with a warning). Every bin is half-open, ``[start, end)``.
    relative_to
        ``None``: calendar bins in ``tz``. ``"root"``: hours since each thread's root post (the
        root must be in ``posts``; a root whose time is known only to the day or roughly, by
        ``created_at_precision``, is warned about). A time (``Timestamp`` or ISO string; naive
        means ``tz``, and one that a clock change there skipped or repeated is refused): hours
        since that event.
    tz
        Time zone of calendar bins (IANA name); ``bin_start`` / ``bin_end`` are still written in
        UTC.
    by
        Grouping columns, from ``posts`` or ``labels`` (e.g. a thread-level gold label the caller
        joined in).
    method
        ``cc``, ``pcc``, ``acc``, ``pacc``, ``emq`` or ``auto`` (the default, as in the ``trend``
        command: an adjusted method when the validation data or the confusion matrix show every
        label detected well enough, else ``pcc`` or ``cc``; see
        :func:`analysis.quantify.choose_method`). ``pacc`` with only a confusion matrix of counts
        (a model card) falls back to ``acc`` with a warning; the ``method`` column says which ran.
    validation
        Hand-labelled sample: ``uid`` and ``label`` (the gold label), and either ``predicted``
        plus ``proba_<label>`` columns, or nothing else, in which case the predictions are taken
        from ``labels`` by ``uid``. An optional ``thread_id`` column makes the bootstrap resample
        its threads. Used by ``acc``, ``pacc`` and ``emq`` (training priors).
    confusion
        A model card's ``cv_confusion``: ``{"labels": [...], "matrix": [[...]]}``, rows = true
        label, columns = predicted label, counts. Used when ``validation`` is not given.
        ``"auto"`` (the default): without ``validation``, labels that all come from the bundled
        default model (``labeler_id`` exactly ``default@<version>`` of its current card) are
        corrected with that card's ``cv_confusion``, as the ``trend`` command does, with a
        warning saying so (see :func:`bundled_card`); other labels get none. ``None``: no
        confusion matrix.
    ci
        Interval level.
    n_boot
        Bootstrap replicates: 0 (no intervals) or at least
        :data:`~analysis.config.MIN_N_BOOT` (200); fewer are refused, as by the ``trend``
        command.
    min_posts
        Bins with fewer responses are flagged ``few_posts``.
    random_state
        Seed (or generator) of the bootstrap; the same seed gives the same table.
    max_hours
        For relative bins: keep the responses less than this many hours after the reference
        (one at exactly ``max_hours`` is left out, as it would start the next bin); the last bin
        ends at ``max_hours``.
    include_roots, include_context
        Count thread roots / ``collection_role = "context"`` rows too (both left out by default).
    progress
        A progress bar over the bins (and groups) on stderr: ``None``, when stderr is a terminal;
        ``False``, never (see :func:`analysis.progress.progress_bar`).

    Returns
    -------
    pandas.DataFrame
        The trend table: the ``by`` columns, ``bin_start``, ``bin_end`` (ISO UTC strings for
        calendar bins; hours since the reference, as numbers, for relative bins), ``label``,
        ``n_posts``, ``estimate``, ``ci_low``, ``ci_high``, ``method``, ``flag`` and
        ``n_threads``. Every bin of the range appears for every group; bins without responses
        have a null estimate and the flag ``no_posts``.

    Raises
    ------
    TypeError
        (:class:`~analysis.errors.WrongTypeError`, also a ``UserError``) ``labels``, ``posts`` or
        ``validation`` is not a DataFrame (a column such as ``labels["label"]`` is a Series).
    UserError
        Missing columns, unknown method, naive times, a bad frequency, ``n_boot`` from 1 to 199,
        ``max_hours`` without ``relative_to``, a naive ``relative_to`` that a clock change skipped
        or repeated, or a method that needs validation data when none is given (nor the default
        model's card, see ``confusion``).
    """
    _check_frame(labels, "labels")
    _check_frame(posts, "posts", optional=True)
    _check_frame(validation, "validation", optional=True)
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if not 0 < ci < 1:
        raise UserError(f"ci (--ci) must be between 0 and 1, not {ci}")
    check_n_boot(n_boot)
    if min_posts < 0:
        raise UserError("min_posts must not be negative")
    if max_hours is not None and relative_to is None:
        raise UserError("max_hours (--max-hours) applies to bins relative to a reference "
                        "(--relative-to); calendar bins have no hours since anything")
    if max_hours is not None and not max_hours > 0:
        raise UserError(f"max_hours (--max-hours) must be more than 0, not {max_hours:g}")
    by = list(dict.fromkeys([by] if isinstance(by, str) else by))
    frame = _in_uid_order(_join(labels, posts, by))
    if isinstance(confusion, str):
        confusion = _auto_confusion(confusion, labels, method, validation)
    classes = _classes(frame, validation, confusion)
    frame = _mark_threads(frame)
    roots = None
    if isinstance(relative_to, str) and relative_to == "root":
        roots = _roots(_mark_threads(_join_roots(labels, posts)))
    frame = _responses(frame, include_roots=include_roots, include_context=include_context)
    frame["_time"] = _utc_times(frame["created_at"], "created_at")
    frame = _drop_missing(frame, "_time", "responses without created_at")
    if relative_to is None:
        frame, starts, ends = _calendar_bins(frame, freq, tz)
    else:
        frame, starts, ends = _relative_bins(frame, freq, relative_to, tz, max_hours, roots)
    _warn_imprecise(frame, sub_daily=relative_to is not None or isinstance(to_offset(freq), Tick))
    predictions, probabilities = _predictions(frame, classes, "labels")
    calib_rng, rng = _streams(random_state)
    calib = _calibration(validation, confusion, labels, classes, n_boot, calib_rng)
    combos, combo_codes = _combos(frame, by)
    n_bins = len(starts)
    group = combo_codes * n_bins + _checked_bins(frame["_bin"].to_numpy(), n_bins)
    cluster = pd.factorize(frame["_thread"])[0]
    n_groups = len(combos) * n_bins
    method = _resolve_method(method, probabilities is not None, calib, group, cluster,
                             classes)
    if method == "emq":
        calib = calib.with_bias_correction()
    estimate, low, high, n_posts, n_threads = _estimate_groups(
        group, cluster, n_groups, predictions, probabilities, len(classes), method, calib,
        n_boot, ci, rng, progress)
    return _table(combos, by, starts, ends, classes, estimate, low, high, n_posts, n_threads,
                  method, min_posts, relative=relative_to is not None)


def compare_shares(estimates: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Join estimated shares with gold shares of the same bins: the validation view.

    Parameters
    ----------
    estimates
        Trend tables (one or several methods / models stacked; extra key columns such as
        ``model`` are kept).
    gold
        The trend table of the gold labels (``estimate_shares(gold_labels, posts,
        method="cc", n_boot=0)``).

    Returns
    -------
    pandas.DataFrame
        ``estimates`` with ``gold`` (the gold share), ``error`` (estimate - gold) and ``covered``
        (gold within the interval; null without an interval) added; rows whose bin has no gold
        share are dropped.
    """
    keys = [c for c in gold.columns
            if c not in ("n_posts", "estimate", "ci_low", "ci_high", "method", "flag",
                         "n_threads")]
    missing = [k for k in keys if k not in estimates.columns]
    if missing:
        raise UserError(f"estimates lack the gold table's key column(s) {', '.join(missing)}")
    right = gold[keys + ["estimate"]].rename(columns={"estimate": "gold"})
    out = estimates.merge(right, on=keys, how="inner", validate="many_to_one")
    out = out[out["gold"].notna() & out["estimate"].notna()].reset_index(drop=True)
    if len(out) == 0 and estimates["estimate"].notna().any() and gold["estimate"].notna().any():
        warnings.warn("no bin of the estimates has a gold share: were both tables made with the "
                      "same bins (freq, tz, relative_to) and groups?", stacklevel=2)
    out["error"] = (out["estimate"] - out["gold"]).astype("Float64")
    covered = (out["ci_low"] <= out["gold"] + 1e-12) & (out["gold"] <= out["ci_high"] + 1e-12)
    out["covered"] = covered.astype("boolean").where(out["ci_low"].notna())
    return out


# -- arguments, and the default model's card ----------------------------------------------------


def _check_frame(value: object, name: str, *, optional: bool = False) -> None:
    """:func:`~analysis.errors.check_table` for an argument of :func:`estimate_shares`: a Series
    such as ``labels["label"]`` has no uid to join on."""
    what = {"labels": "a labels table (a DataFrame with uid, label and/or proba_<label> "
                      "columns, as label_posts returns)",
            "posts": "a posts table (a DataFrame with uid, created_at, thread_id...) or None",
            "validation": "a DataFrame of hand-coded posts (uid, label) or None"}[name]
    check_table(value, name, what, optional=optional)


def _auto_confusion(confusion: str, labels: pd.DataFrame, method: str,
                    validation: pd.DataFrame | None) -> Mapping[str, object] | None:
    """What ``confusion="auto"`` stands for: without ``validation``, the bundled default model's
    ``cv_confusion`` when :func:`bundled_card` gives its card (whose note is warned), else None."""
    if confusion != "auto":
        raise UserError(f"confusion must be a model card's cv_confusion ({{'labels': [...], "
                        f"'matrix': [[...]]}}), 'auto' or None, not {confusion!r}")
    if validation is not None:
        return None
    card, note = bundled_card(labels, method)
    if note:
        warnings.warn(note, stacklevel=3)
    if card is None:
        return None
    if not card.get("cv_confusion"):
        raise UserError("the default model's card has no cv_confusion; pass validation=")
    return card["cv_confusion"]


def bundled_card(labels: pd.DataFrame, method: str, *,
                 names: tuple[str, str] = ARGUMENT_NAMES) -> tuple[dict | None, str | None]:
    """The bundled default model's card, when it should correct ``labels`` given no validation
    table and no confusion matrix, and a note to give the user.

    The card applies when ``method`` may adjust with a confusion matrix (``acc``, ``pacc``,
    ``emq``, ``auto``) and every label came from the bundled default model (``labeler_id``
    exactly its ``default@<version>``). Labels of a user model saved as ``default.skops``, or of
    another version of the bundled model, get no card: for an adjusted ``method`` that is a
    :class:`TableError` (of the labels table) naming both versions, for ``auto`` a note.
    :func:`estimate_shares` (``confusion="auto"``) and the ``trend`` command both call this.

    Parameters
    ----------
    labels
        The labels table (its ``labeler_id`` column, when it has one).
    method
        The method asked for.
    names
        How the note and the error name the validation table and the confusion matrix: the
        arguments of :func:`estimate_shares`, or the command's ``--validation`` and
        ``--model-card``.

    Returns
    -------
    tuple
        The card (a dict, or None), and the note (what the card is used for, or why labels that
        look like the default model's get none; None when there is nothing to say).
    """
    if method not in (*ADJUSTED, "auto") or "labeler_id" not in labels.columns:
        return None, None
    ids = labels["labeler_id"].dropna().astype(str)
    if not (len(ids) and ids.str.startswith("default@").all()):
        return None, None
    from analysis.classifiers import model_card
    from analysis.classifiers.persistence import card_model_version

    # only labels that may be the bundled model's read its card (building it when not cached)
    card = model_card("default")
    bundled = f"default@{card_model_version(card)}"
    validation, confusion = names
    if (ids == bundled).all():
        return card, _card_note(method, validation, confusion)
    why = (f"the labels come from {', '.join(sorted(set(ids) - {bundled}))}, not the bundled "
           f"default model ({bundled}), so its card does not describe their errors (labels of "
           "an older version, or of your own model saved as default.skops): label again, or "
           f"pass {validation} or {confusion}")
    if method in ADJUSTED:
        raise TableError(f"method {method} needs a confusion matrix, and {why}", "labels")
    return None, why


def _card_note(method: str, validation: str, confusion: str) -> str:
    """What the default model's card is used for: the adjustment of an adjusted ``method``, or
    for ``auto`` the test of whether to adjust at all (whose outcome a warning then reports)."""
    card = "the default model's cross-validated confusion matrix (its model card)"
    given = f"no {validation} or {confusion} given"
    if method == "auto":
        return (f"{given}; auto adjusts with {card} if it shows every label detected well "
                "enough, else uses an unadjusted method")
    return f"{given}; {method} adjusts with {card}"


# -- joining and filtering ---------------------------------------------------------------------


def _distinct(values: pd.Series) -> list[str]:
    return sorted(values.dropna().astype(str).unique())


def _check_one_labeler(labels: pd.DataFrame) -> None:
    """A :class:`TableError` when a labels table holds the labels of several tasks, of several
    kinds of labeler, or of several models (``labeler_id``): one classifier's errors are
    corrected, so its labels must be the only ones. Hand-coded labels (``labeler_type``
    ``human`` only) may come from several coders."""
    for column, what in (("task", "tasks"), ("labeler_type", "kinds of labeler")):
        found = _distinct(labels[column]) if column in labels.columns else []
        if len(found) > 1:
            raise TableError(f"the labels table mixes {len(found)} {what} ({', '.join(found[:3])})"
                             "; pass one model's labels of one task", "labels")
    if "labeler_id" not in labels.columns or (
            "labeler_type" in labels.columns and _distinct(labels["labeler_type"]) == ["human"]):
        return
    models = _distinct(labels["labeler_id"])
    if len(models) > 1:
        raise TableError(f"the labels table mixes the labels of {len(models)} models "
                         f"({', '.join(models[:3])}); pass one model's labels of one task: the "
                         "trend corrects one classifier's errors", "labels")


def _join(labels: pd.DataFrame, posts: pd.DataFrame | None, by: list[str]) -> pd.DataFrame:
    if "uid" not in labels.columns:
        raise TableError("the labels table has no 'uid' column", "labels")
    if "label" not in labels.columns and not any(
            c.startswith(PROBA_PREFIX) for c in labels.columns):
        raise TableError("the labels table has neither 'label' nor proba_<label> columns",
                         "labels")
    if labels["uid"].duplicated().any():
        raise TableError("the labels table has more than one label per uid; pass one model's "
                         "labels of one task", "labels")
    _check_one_labeler(labels)
    label_cols = ["uid"] + [c for c in labels.columns
                            if c == "label" or c.startswith(PROBA_PREFIX)]
    if posts is None:
        frame = labels.copy()
        source = "labels"
    else:
        if "uid" not in posts.columns:
            raise TableError("the posts table has no 'uid' column", "posts")
        post_cols = [c for c in dict.fromkeys(("uid", *_POST_COLUMNS, *by))
                     if c in posts.columns and (c == "uid" or c not in label_cols)]
        from_labels = [c for c in by
                       if c not in post_cols and c not in label_cols and c in labels.columns]
        left = labels[label_cols + from_labels]
        frame = left.merge(_one_row_per_uid(posts[post_cols]), on="uid", how="inner")
        unmatched = len(left) - len(frame)
        if len(frame) == 0:
            raise TableError("no label's uid is in the posts table; are they from the same "
                             "data?", "labels")
        if unmatched:
            warnings.warn(f"{unmatched} labels have no post in the posts table and were left out",
                          stacklevel=3)
        source = "posts"
    missing = [c for c in ("created_at", *by) if c not in frame.columns]
    if missing:
        raise TableError(f"the {source} table lacks column(s) {', '.join(missing)} (needed for "
                         "the time bins / --by)", source)
    if posts is None and len(frame) and frame["created_at"].isna().all():
        # a labels table from 'label' has a created_at column of its own, left empty
        raise TableError("the labels table has no post times (its created_at is empty); pass "
                         "the posts table with --posts", "labels")
    return frame.reset_index(drop=True)


def _one_row_per_uid(posts: pd.DataFrame) -> pd.DataFrame:
    """``posts`` with rows repeated exactly dropped; a uid on rows that differ is refused (which
    one counted would depend on the order of the rows)."""
    posts = posts.drop_duplicates()
    repeated = posts["uid"].duplicated(keep=False)
    if repeated.any():
        raise TableError(f"the posts table has {posts.loc[repeated, 'uid'].nunique()} uid(s) on "
                         f"rows that differ (e.g. {posts.loc[repeated, 'uid'].iloc[0]}); ingest "
                         "the files together, which keeps one row per post", "posts")
    return posts


def _in_uid_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by ``uid`` (when it has one): the bootstrap draws follow the rows, so the
    same data gives the same intervals whatever order its table is in."""
    if "uid" not in frame.columns:
        return frame
    return frame.sort_values("uid", key=lambda uid: uid.astype("string"),
                             kind="stable").reset_index(drop=True)


def _join_roots(labels: pd.DataFrame, posts: pd.DataFrame | None) -> pd.DataFrame:
    """Every post (labelled or not) that may be a thread root, with its time."""
    source = labels if posts is None else posts
    return source[[c for c in ("uid", *_POST_COLUMNS) if c in source.columns]]


def _mark_threads(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``_is_root`` (:func:`analysis.responses.is_root`) and ``_thread`` (the thread key: the
    reply tree's root_id, else thread_id, else uid)."""
    thread = _col(frame, "root_id").fillna(_col(frame, "thread_id")).fillna(
        frame["uid"].astype("string"))
    return frame.assign(_is_root=responses.is_root(frame).to_numpy(), _thread=thread.to_numpy())


def _roots(frame: pd.DataFrame) -> pd.DataFrame:
    """Time (``time``) and ``created_at_precision`` (``precision``, null where not known) of
    each thread's root post (the earliest, if a thread has several), indexed by thread key."""
    roots = frame.loc[frame["_is_root"]]
    if len(roots) == 0:
        raise UserError("relative_to='root' needs the thread roots in the posts table "
                        "(depth 0, or id / uid equal to root_id)")
    table = pd.DataFrame({"time": _utc_times(roots["created_at"], "created_at").to_numpy(),
                          "precision": _col(roots, "created_at_precision").to_numpy()},
                         index=roots["_thread"].to_numpy())
    table = table.sort_values("time", kind="stable")  # a root without a time comes last
    return table[~table.index.duplicated()]


def _responses(frame: pd.DataFrame, *, include_roots: bool, include_context: bool) -> pd.DataFrame:
    reason = responses.left_out(frame, include_roots=include_roots,
                                include_context=include_context)
    counts = reason.value_counts()
    dropped = [f"{counts[name]} {what}" for name, what in (
        (responses.REPOST, "reposts (no words of their own)"),
        (responses.NO_TEXT, "responses without text (deleted, removed, withheld or "
                            "unavailable)")) if counts.get(name, 0)]
    if dropped:
        warnings.warn(" and ".join(dropped) + " were left out", stacklevel=3)
    keep = reason.isna().to_numpy()
    if not keep.any():
        raise TableError("no responses to count: every labelled post is a thread root, "
                         "context, a repost or without text", "labels")
    return frame.loc[keep].reset_index(drop=True)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _utc_times(values: pd.Series, name: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        raise UserError(f"{name} has times without a time zone; give them one (ingest --tz)")
    text = values.astype("string")
    try:
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError) as exc:
        if "utc=True" not in str(exc) and "Mixed timezones" not in str(exc):
            raise UserError(f"{name} has values that are not ISO times: "
                            f"{str(exc).splitlines()[0]}") from exc
        naive = without_offset(text)
        if naive.any():
            raise UserError(f"{name} mixes times with and without a time zone (e.g. "
                            f"{text[naive].iloc[0]!r}); give every time one (ingest --tz)"
                            ) from exc
        parsed = pd.to_datetime(text, format="ISO8601", utc=True)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        if parsed.notna().any():
            raise UserError(f"{name} has times without a time zone; give them one (ingest --tz)")
        parsed = parsed.dt.tz_localize("UTC")
    return parsed.dt.tz_convert("UTC")


#: What a coarse ``created_at_precision`` does to the bins, of the responses' own times and (for
#: bins relative to the root) of their roots' times: (column, precision, warning after the count).
_IMPRECISION_WARNINGS = (
    ("created_at_precision", "relative",
     "responses have times known only roughly, relative to when they were collected (such as "
     "'2 years ago'): their bins tell when they were collected more than when they were posted"),
    ("created_at_precision", "day",
     "responses have times known only to the day; bins shorter than a day put them at the "
     "day's start"),
    ("_root_precision", "relative",
     "responses are counted from thread roots whose times are known only roughly, relative to "
     "when they were collected (such as '2 years ago'): their hours since the root may be far "
     "off"),
    ("_root_precision", "day",
     "responses are counted from thread roots whose times are known only to the day (taken as "
     "the day's start): their hours since the root may be off by up to a day"),
)


def _warn_imprecise(frame: pd.DataFrame, *, sub_daily: bool) -> None:
    """Warn about responses whose times (``created_at_precision``), or whose roots' times for
    bins since the root (``_root_precision``), are coarser than their bins."""
    for column, precision, message in _IMPRECISION_WARNINGS:
        if column not in frame.columns or (precision == "day" and not sub_daily):
            continue
        count = int((frame[column].astype("string") == precision).sum())
        if count:
            warnings.warn(f"{count} {message}", stacklevel=3)


def _drop_missing(frame: pd.DataFrame, column: str, what: str) -> pd.DataFrame:
    missing = frame[column].isna()
    if missing.any():
        warnings.warn(f"{int(missing.sum())} {what} were left out", stacklevel=4)
        frame = frame.loc[~missing].reset_index(drop=True)
    return frame


# -- bins -------------------------------------------------------------------------------------


def _format_utc(times: pd.DatetimeIndex) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times.tz_convert("UTC")]


def _check_unit(freq: str) -> None:
    """Refuse a bin width without a unit (pandas would read ``"5"`` as 5 nanoseconds)."""
    try:
        number = float(freq)
    except ValueError:
        return
    example = f"{freq.strip()}h" if np.isfinite(number) and number > 0 else "1h"
    raise UserError(f"bad frequency {freq!r}: give a unit, e.g. {example} or 1D")


def calendar_edges(times: pd.Series, freq: object, tz: str = "UTC") -> pd.DatetimeIndex:
    """Edges of the calendar bins of ``freq`` in ``tz`` that cover ``times`` (tz-aware, not
    empty): bins of days, hours or minutes on the local clock (:func:`_clock_edges`), of weeks,
    months or years on the local calendar (:func:`_period_edges`), anchored so that a time's bin
    never depends on the other times. The edges increase strictly, from the last one at or
    before the first time to the first one after the last time, so every time is in exactly one
    bin ``[start, end)``. ``annotate sample --freq`` draws its time strata with these bins too.

    Raises
    ------
    UserError
        A frequency that is not a string, has no unit, is not positive, is anchored on the last
        day of its periods (``ME``, ``QE``, ``YE``, ``BME``, ``SME``...) or makes too many bins;
        an unknown time zone.
    """
    if not isinstance(freq, str):
        raise UserError("calendar bins need freq as a pandas frequency such as 1h, 6h or 1D")
    _check_unit(freq)
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError) as exc:
        raise UserError(f"bad frequency {freq!r}; use a pandas frequency such as 1h, 6h, 1D, "
                        "W") from exc
    if offset.n <= 0:
        raise UserError(f"bad frequency {freq!r}: the bin width must be positive")
    _refuse_end_anchored(offset, freq)
    local = times.dt.tz_convert(_checked_zone(tz))
    if isinstance(offset, (Tick, Day)):
        edges = _clock_edges(local, offset, tz, freq)
    else:
        edges = _period_edges(local.min(), local.max(), offset, tz, freq)
    return _covering(edges, local.min(), local.max())


def _checked_zone(tz: str) -> str:
    """``tz``, or a UserError when pandas knows no such time zone."""
    try:
        pd.Timestamp(0, tz="UTC").tz_convert(tz)
    except (LookupError, ValueError, TypeError) as exc:  # zoneinfo / pytz: by kind of bad name
        raise UserError(f"unknown time zone {tz!r}; use an IANA name such as Europe/London") \
            from exc
    return tz


def _refuse_end_anchored(offset, freq: str) -> None:
    """Refuse a frequency anchored on the last day of its periods (``ME``, ``QE``, ``YE``,
    ``BME``, ``SME``...): a calendar bin starts on its anchor day, so each period's last day
    would be counted with the next period."""
    if type(offset).__name__.endswith("End"):
        raise UserError(f"frequency {freq!r} is anchored on the last day of each period, which "
                        "its bins would count with the next period; use "
                        f"{_start_anchored(offset)}, anchored on the first day")


def _start_anchored(offset) -> str:
    """The frequency of the same periods as the end-anchored ``offset``, anchored on their first
    day (``ME``: ``MS``; ``QE-NOV``: ``QS-MAR``; ``YE``: ``YS-JAN``; ``SME``: ``SMS-16``).

    >>> _start_anchored(to_offset("2QE-NOV"))
    '2QS-MAR'
    """
    name = type(offset).__name__[:-len("End")]
    kwds = dict(offset.kwds)
    if "startingMonth" in kwds:  # quarters or half years: the month after one that ends one
        months = 3 if "Quarter" in name else 6
        kwds["startingMonth"] = kwds["startingMonth"] % months + 1
    if "month" in kwds:
        kwds["month"] = kwds["month"] % 12 + 1
    if "day_of_month" in kwds:
        kwds["day_of_month"] += 1
    begin = getattr(offsets, f"{name}Begin")
    try:
        return begin(offset.n, **kwds).freqstr
    except ValueError:  # SME-27: there is no SMS-28
        return begin(offset.n).freqstr


def _calendar_bins(frame: pd.DataFrame, freq: object, tz: str):
    if len(frame) == 0:
        raise UserError("no responses left to put in time bins")
    edges = calendar_edges(frame["_time"], freq, tz)
    utc_edges = edges.tz_convert("UTC").as_unit("ns").asi8
    index = np.searchsorted(utc_edges, _ns(frame["_time"]), side="right") - 1
    return frame.assign(_bin=index), _format_utc(edges[:-1]), _format_utc(edges[1:])


def _checked_bins(index: np.ndarray, n_bins: int) -> np.ndarray:
    """``index`` (each response's bin), or an internal error when one is outside
    ``[0, n_bins)``: the response would be counted in another group's bin, or lost."""
    if len(index) and (index.min() < 0 or index.max() >= n_bins):
        raise RuntimeError(f"internal error: a response fell outside the {n_bins} time bins; "
                           "please report it with the command that made it")
    return index


#: Bins of several calendar periods (``2W``, ``3MS``) count their periods from the first one that
#: starts at or after this local time, so that a post's bin never depends on the other posts.
PERIOD_ORIGIN = "1900-01-01"
#: Longer than any clock has been set back (UTC offsets lie within about -16 and +16 hours; the
#: longest step back, Alaska's in 1867, was a day): edges this far past the last post's local
#: time cover a post made after its clock went back.
_LONGEST_SETBACK = pd.Timedelta(days=2)


def _period_edges(first: pd.Timestamp, last: pd.Timestamp, offset, tz: str,
                  freq: str) -> pd.DatetimeIndex:
    """Edges of calendar bins (weeks, months, years: periods without a fixed width) from the
    period holding ``first`` to past the one holding ``last``, on the calendar of ``tz``: each
    starts at local midnight of its first day (:func:`_first_instants`: a midnight a clock
    change skips moves to the end of the gap; one that happens twice is taken at its first
    occurrence)."""
    try:
        n_bins = (last - first) / pd.Timedelta(offset)
    except (ValueError, TypeError):
        n_bins = 0  # calendar offsets (months, weeks) have no fixed width; they are coarse
    if n_bins > MAX_BINS:
        raise UserError(f"frequency {freq!r} makes about {int(n_bins)} bins (more than "
                        f"{MAX_BINS}); pick a wider one")
    wall_first, wall_last = first.tz_localize(None), last.tz_localize(None)
    # the period after the last post: after a clock went back, the start of the next period
    # may have passed already, and the next one that has not is at most a setback further on
    end = wall_last + _LONGEST_SETBACK + offset
    try:  # on the local calendar, then placed in the zone as _clock_edges does
        if offset.n == 1:  # every period: the calendar anchors them
            steps = pd.date_range(start=wall_first.normalize() - offset, end=end, freq=offset)
        else:
            steps = pd.date_range(start=pd.Timestamp(PERIOD_ORIGIN), end=end,
                                  freq=offset.base)[::offset.n]
    except (ValueError, TypeError) as exc:
        raise UserError(f"bad frequency {freq!r} for calendar bins: {exc}") from exc
    edges = _first_instants(steps, tz).unique()
    if len(edges) == 0 or edges[0] > first:
        raise UserError(f"frequency {freq!r} counts its bins from {PERIOD_ORIGIN}; the posts "
                        f"start earlier (use one period, e.g. {offset.base.freqstr})")
    return edges


def _clock_edges(local: pd.Series, offset: Tick | Day, tz: str, freq: str) -> pd.DatetimeIndex:
    """Edges of bins of a fixed width (days, hours, minutes) on the local clock of ``tz``: the
    same clock times every day, counted from local midnight of 1 January 1970 (6h: 00, 06, 12
    and 18 o'clock all year; 2D: every other local midnight), so a post's bin never depends on
    the other posts. Across a clock change one bin is shorter or longer by the change
    (:func:`_first_instants`): an edge that does not exist moves to the end of the gap, and one
    that happens twice is taken at its first occurrence (15min, clocks back from 02:00 to 01:00:
    the bin from the first 01:45 lasts until 02:00, 1 h 15 min)."""
    wall = local.dt.tz_localize(None)
    low, high = wall.min().floor(offset), wall.max().floor(offset)
    if (high - low) / pd.Timedelta(offset) > MAX_BINS:
        raise UserError(f"frequency {freq!r} makes about {int((high - low) / offset)} bins "
                        f"(more than {MAX_BINS}); pick a wider one")
    # the edge after the last post: after a clock went back, the edge after its local time may
    # have passed already, and the next one that has not is at most a setback further on
    steps = pd.date_range(low, high + 2 * offset + _LONGEST_SETBACK, freq=offset)
    return _first_instants(steps, tz).unique()


def _first_instants(wall: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """The first instant at which the clock of ``tz`` shows each ``wall`` time or a later one: a
    time that happens twice (the clocks went back) is taken at its first occurrence, and one
    that does not exist (they went forward) at the end of the gap (:func:`_gap_ends`).
    Non-decreasing where ``wall`` increases."""
    wall = wall.as_unit("ns")

    def localize(first: bool) -> pd.DatetimeIndex:
        return wall.tz_localize(tz, ambiguous=np.full(len(wall), first), nonexistent="NaT")

    earlier, later = localize(True), localize(False)
    instants = earlier.where(earlier <= later, later)
    skipped = np.asarray(instants.isna())
    if not skipped.any():
        return instants
    values = instants.asi8.copy()
    values[skipped] = _gap_ends(wall.asi8[skipped], tz)
    return pd.to_datetime(values, utc=True).tz_convert(tz)


#: Nanoseconds per day: no UTC offset is as large, so a wall time read as UTC is less than a day
#: from the instants at which the clock shows it.
_NS_PER_DAY = 86_400_000_000_000


def _gap_ends(wall: np.ndarray, tz: str) -> np.ndarray:
    """For wall times (naive, ns) that a clock change of ``tz`` skipped: the instant (UTC, ns)
    of that change, the first at which the clock shows them or a later time, found by bisection.
    (Pandas' ``shift_forward`` moves such a time by an hour, past the end of Lord Howe Island's
    30-minute gap, and its ``shift_backward`` misses a change at 00:01, as Gaza's.)"""
    low, high = wall - _NS_PER_DAY, wall + _NS_PER_DAY  # the clock shows less, then more
    while np.any(high - low > 1):
        middle = low + (high - low) // 2
        shown = pd.to_datetime(middle, utc=True).tz_convert(tz).tz_localize(None).asi8
        reached = shown >= wall
        low, high = np.where(reached, low, middle), np.where(reached, middle, high)
    return high


def _covering(edges: pd.DatetimeIndex, first: pd.Timestamp,
              last: pd.Timestamp) -> pd.DatetimeIndex:
    """``edges`` from the last one at or before ``first`` to the first one after ``last``; an
    internal error unless they increase strictly and cover both."""
    if not (edges.is_monotonic_increasing and edges.is_unique and len(edges) > 1
            and edges[0] <= first and last < edges[-1]):
        raise RuntimeError(f"internal error: calendar bin edges that do not increase or do not "
                           f"cover {first} to {last}; please report it with the command")
    edges = edges[np.searchsorted(edges, first, side="right") - 1:]
    return edges[: np.searchsorted(edges, last, side="right") + 1]


def _ns(times: pd.Series) -> np.ndarray:
    return times.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()


#: Nanoseconds per hour: bins of a fixed width relative to a reference are cut in integer
#: nanoseconds, so that a response exactly on an edge is in the bin that starts there (in float
#: hours, 21 minutes / 7 minutes is 2.9999999999999996: the bin before).
_NS_PER_HOUR = 3_600_000_000_000


def _relative_bins(frame: pd.DataFrame, freq: object, relative_to: object, tz: str,
                   max_hours: float | None, roots: pd.DataFrame | None):
    """Bins ``[start, end)`` of hours since each thread's root (``roots``, from :func:`_roots`;
    the roots' ``created_at_precision`` goes to ``_root_precision``) or since ``relative_to``;
    responses ``max_hours`` or more after it are left out, and the last bin ends there."""
    if roots is not None:
        reference = frame["_thread"].map(roots["time"])
        missing = reference.isna().to_numpy()
        if missing.all():
            raise UserError("relative_to='root': no response's thread root is in the posts table")
        if missing.any():
            warnings.warn(f"{int(missing.sum())} responses whose thread root is not in the posts "
                          "table were left out", stacklevel=3)
        frame = frame.loc[~missing].reset_index(drop=True)
        frame = frame.assign(_root_precision=frame["_thread"].map(roots["precision"]).to_numpy())
        reference = pd.Series(pd.DatetimeIndex(reference[~missing]).tz_convert("UTC"))
    else:
        event = event_time(relative_to, tz)
        reference = pd.Series(event, index=frame.index)
    since = _ns(frame["_time"]) - _ns(reference)
    if roots is not None and (early := int((since < 0).sum())):
        warnings.warn(f"{early} responses are dated before their thread's root post (clock skew, "
                      "or a wrong root or time in the data); they are counted in bins before "
                      "hour 0", stacklevel=3)
    if max_hours is not None:
        kept = since < max_hours * _NS_PER_HOUR
        frame, since = frame.loc[kept].reset_index(drop=True), since[kept]
    if len(frame) == 0:
        raise UserError("no responses left to put in time bins")
    if isinstance(freq, str):
        edges, index = _width_bins(since, freq, max_hours)
        outside = np.zeros(len(index), dtype=bool)
    else:
        edges = _end_at(_edge_list(freq), max_hours)
        index = np.searchsorted(edges, since / _NS_PER_HOUR, side="right") - 1
        outside = (index < 0) | (index >= len(edges) - 1)
        if outside.any():
            warnings.warn(f"{int(outside.sum())} responses outside the bin edges were left out",
                          stacklevel=3)
    frame = frame.assign(_bin=index).loc[~outside].reset_index(drop=True)
    if len(frame) == 0:
        raise UserError("no responses inside the bin edges")
    return frame, [float(e) for e in edges[:-1]], [float(e) for e in edges[1:]]


def _width_bins(since: np.ndarray, freq: str,
                max_hours: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Edges (hours) of bins ``freq`` wide from the one holding the earliest response to the one
    holding the latest, or to ``max_hours``, and each response's bin; ``since`` holds the
    responses' nanoseconds since the reference."""
    _check_unit(freq)
    try:
        width = int(pd.Timedelta(freq).to_timedelta64().astype("timedelta64[ns]").astype(np.int64))
    except (ValueError, TypeError) as exc:
        raise UserError(f"bad frequency {freq!r} for bins relative to a reference; use a "
                        "fixed width such as 1h, 6h, 1D, or a list of edges in hours") from exc
    if not width > 0:
        raise UserError(f"bad frequency {freq!r}: the bin width must be positive")
    number = since // width
    low = number.min()
    high = number.max() + 1 if max_hours is None else np.ceil(max_hours * _NS_PER_HOUR / width)
    if high - low > MAX_BINS:
        raise UserError(f"frequency {freq!r} makes {high - low:.0f} bins (more than "
                        f"{MAX_BINS}); pick a wider one")
    edges = np.arange(low, int(high) + 1, dtype=np.int64) * width / _NS_PER_HOUR
    return _end_at(edges, max_hours), number - low


def _edge_list(freq: object) -> np.ndarray:
    """Bin edges given as a sequence of hours, checked."""
    try:
        edges = np.asarray([float(e) for e in freq])
    except (TypeError, ValueError) as exc:
        raise UserError("bin edges must be numbers (hours)") from exc
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise UserError("bin edges must be at least two increasing numbers (hours)")
    return edges


def _end_at(edges: np.ndarray, max_hours: float | None) -> np.ndarray:
    """``edges`` (hours) cut at ``max_hours``: the bin it falls in ends there; later ones go."""
    if max_hours is None or not edges[0] < max_hours < edges[-1]:
        return edges
    return np.append(edges[edges < max_hours], max_hours)


def check_time_text(text: str, what: str) -> None:
    """A :class:`UserError` naming ``what`` when ``text`` is no time by the loaders' rules
    (:func:`analysis.loaders.base.parse_time`): ``now`` or ``today``, a date without a year
    (``Sep 30``) or a clock time without a date (``12:00``), which pandas would read as a time
    that depends on the day it runs or as year 1; a date whose day and month read both ways."""
    try:
        parse_time(text, tz="UTC")  # a check only: a naive time is placed in its zone later
    except (ValueError, TypeError, OverflowError) as exc:
        raise UserError(f"{what} {text!r}: {exc}") from None


def event_time(value: object, tz: str) -> pd.Timestamp:
    """The event time of ``relative_to`` in UTC (an ISO time or Timestamp; naive means ``tz``),
    or a :class:`UserError`: not a time (:func:`check_time_text`), an unknown zone, or a naive
    time that a clock change there skipped or repeated. A study file's ``relative_to`` is
    checked with it too."""
    if isinstance(value, str):
        check_time_text(value, "relative_to")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise UserError(f"relative_to must be 'root' or an ISO time, not {value!r}") from exc
    if stamp is pd.NaT:
        raise UserError(f"relative_to must be 'root' or an ISO time, not {value!r}")
    if stamp.tzinfo is None:
        try:
            stamp = stamp.tz_localize(_checked_zone(tz))
        except ValueError as exc:  # a local time that a clock change skipped or repeated
            raise UserError(daylight_saving_problem(stamp, tz, stamp.isoformat())) from exc
    return stamp.tz_convert("UTC")


def _combos(frame: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    if not by:
        return pd.DataFrame(index=[0]), np.zeros(len(frame), dtype=int)
    keys = frame[by].astype(object).where(frame[by].notna(), None)
    codes = keys.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
    combos = (frame[by].assign(_code=codes).drop_duplicates("_code").sort_values("_code")
              .drop(columns="_code").reset_index(drop=True))
    return combos, codes


# -- labels, predictions, validation ---------------------------------------------------------


def _classes(frame: pd.DataFrame, validation: pd.DataFrame | None,
             confusion: Mapping[str, object] | None) -> list[str]:
    proba = [c[len(PROBA_PREFIX):] for c in frame.columns if c.startswith(PROBA_PREFIX)]
    if proba:
        names = label_order(proba)  # not the columns' order, which would steer the bootstrap draws
    else:
        names = label_order(set(frame["label"].dropna().astype(str)))
        if set(names) <= set(STANCE_LABELS) and confusion is None and validation is None:
            names = list(STANCE_LABELS)  # a share of 0 is an estimate too
    if confusion is not None:
        extra = [str(x) for x in _confusion_labels(confusion) if str(x) not in names]
        if proba and extra:
            raise UserError(f"the confusion matrix has label(s) {extra} that the labels table "
                            "has no proba_ column for")
        names += extra
    if validation is not None and "label" in validation.columns:
        seen = set(validation["label"].dropna().astype(str))
        if not proba and "predicted" in validation.columns:
            names += sorted(set(validation["predicted"].dropna().astype(str)) - set(names))
        if not proba and set(names) | seen <= set(STANCE_LABELS):
            names = list(STANCE_LABELS)  # a stance label nothing was predicted as: share 0
        extra = sorted(seen - set(names))
        if extra:
            known = ("the classifier's labels" if proba else
                     "the labels predicted (no proba_ columns tell the classifier's labels)")
            raise TableError(f"the validation table has gold label(s) {extra} outside {known}: "
                             f"{names}; map them to those first", "validation")
    if not proba:
        names = label_order(names)
    if len(names) < 2:
        raise UserError(f"need at least two labels to estimate shares, found {names}")
    return names


def _confusion_labels(confusion: Mapping[str, object]) -> list:
    if not isinstance(confusion, Mapping) or "labels" not in confusion or \
            "matrix" not in confusion:
        raise UserError("the confusion matrix must be {'labels': [...], 'matrix': [[...]]} "
                        "(a model card's cv_confusion)")
    return list(confusion["labels"])  # type: ignore[arg-type]


def _predictions(frame: pd.DataFrame, classes: list[str],
                 table: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Predicted label codes and probabilities of the ``table`` ("labels" or "validation")."""
    proba_cols = [f"{PROBA_PREFIX}{c}" for c in classes]
    probabilities = None
    if all(c in frame.columns for c in proba_cols):
        values = frame[proba_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float,
                                                                                  na_value=np.nan)
        bad = np.isnan(values).any(axis=1) | (values < 0).any(axis=1)
        if bad.any():
            raise TableError(f"{int(bad.sum())} {IN_USE} of the {table} table have missing or "
                             "negative proba_ values", table)
        total = values.sum(axis=1, keepdims=True)
        off = np.abs(total.ravel() - 1.0) > PROBA_SUM_TOLERANCE
        if off.any():
            sums = total.ravel()[off]
            raise TableError(f"{int(off.sum())} {IN_USE} of the {table} table have proba_ values "
                             f"that do not sum to 1 (sums from {sums.min():.3g} to "
                             f"{sums.max():.3g}); give each row's probabilities of every label",
                             table)
        probabilities = values / total
    if "label" in frame.columns:
        predictions = _encode(frame["label"], classes, table)
    elif probabilities is not None:
        predictions = probabilities.argmax(axis=1)
    else:
        raise TableError(f"the {table} table has neither predicted labels nor a proba_ column "
                         f"for every label ({', '.join(proba_cols)})", table)
    return predictions, probabilities


def _encode(values: pd.Series, classes: list[str], table: str) -> np.ndarray:
    text = values.astype("string")
    if text.isna().any():
        raise TableError(f"{int(text.isna().sum())} {IN_USE} of the {table} table have no "
                         "label", table)
    codes = pd.Categorical(text, categories=classes).codes
    if (codes < 0).any():
        unknown = sorted(set(text[codes < 0]))[:5]
        raise TableError(f"the {table} table has label(s) {unknown} outside {classes}", table)
    return np.asarray(codes, dtype=int)


def _streams(random_state: int | np.random.Generator | None
             ) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent random streams from ``random_state``: the first resamples the validation
    data or the confusion matrix, the second the threads of each bin. So ``cc`` and ``pcc``,
    which use no calibration, draw the same resamples whether a confusion matrix or validation
    data was given or not: the same seed gives them the same intervals either way."""
    if isinstance(random_state, np.random.Generator):
        first, second = random_state.spawn(2)
        return first, second
    first, second = np.random.SeedSequence(random_state).spawn(2)
    return np.random.default_rng(first), np.random.default_rng(second)


def _calibration(validation, confusion, labels, classes, n_boot, rng):
    n_classes = len(classes)
    if validation is not None:
        return _calibration_from_validation(validation, labels, classes, n_boot, rng)
    if confusion is not None:
        order = [str(x) for x in _confusion_labels(confusion)]
        try:
            matrix = np.asarray(confusion["matrix"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise UserError("the confusion matrix must hold numbers") from exc
        if matrix.shape != (len(order), len(order)) or (matrix < 0).any():
            raise UserError("the confusion matrix must be square, non-negative, one row and "
                            "column per label")
        counts = np.zeros((n_classes, n_classes))
        position = [classes.index(x) for x in order]
        counts[np.ix_(position, position)] = matrix
        absent = _absent(counts, classes, "the confusion matrix")
        if absent:
            return _Calibration(None, None, None, None, None, None, absent=absent)
        hard = quantify.rates_from_counts(counts)
        prior = counts.sum(axis=1) / counts.sum()
        hard_reps = prior_reps = None
        if n_boot:
            total = int(round(counts.sum()))
            draws = rng.multinomial(total, (counts / counts.sum()).ravel(), size=n_boot)
            draws = draws.reshape(n_boot, n_classes, n_classes).astype(float)
            hard_reps = quantify.fill_empty_rows(quantify.rates_from_counts(draws), hard)
            prior_reps = draws.sum(axis=2) / total
        return _Calibration(hard, None, prior, hard_reps, None, prior_reps)
    return _Calibration(None, None, None, None, None, None)


def _absent(counts: np.ndarray, classes: list[str], where: str) -> str | None:
    """Why no adjusted method can use ``counts`` (labels without gold items), or None."""
    rows = counts.sum(axis=1)
    absent = [c for c, r in zip(classes, rows, strict=True) if r <= 0]
    return f"{where} has no gold items of label(s) {absent}" if absent else None


def _calibration_from_validation(validation: pd.DataFrame, labels: pd.DataFrame,
                                 classes: list[str], n_boot: int, rng) -> _Calibration:
    if "label" not in validation.columns:
        raise TableError("the validation table needs a 'label' column with the gold labels",
                         "validation")
    proba_cols = [f"{PROBA_PREFIX}{c}" for c in classes]
    own = "predicted" in validation.columns or any(c in validation.columns for c in proba_cols)
    frame = validation.copy()
    if not own:
        if "uid" not in validation.columns:
            raise TableError("the validation table needs 'uid' to find its predictions",
                             "validation")
        pred = labels[["uid"] + [c for c in labels.columns
                                 if c == "label" or c in proba_cols]]
        pred = pred.rename(columns={"label": "predicted"})
        frame = frame.drop(columns=[c for c in frame.columns if c in proba_cols]).merge(
            pred, on="uid", how="inner")
        if len(frame) == 0:
            raise TableError("no validation uid has a label in the labels table", "validation")
        if len(frame) < len(validation):
            warnings.warn(f"{len(validation) - len(frame)} of {len(validation)} validation rows "
                          "have no label in the labels table and were left out", stacklevel=4)
    frame = _in_uid_order(frame[frame["label"].notna()])
    if "uid" in frame.columns and frame["uid"].duplicated().any():
        repeated = frame.loc[frame["uid"].duplicated(), "uid"]
        raise TableError(f"the validation table has more than one gold label for "
                         f"{repeated.nunique()} uid(s) (e.g. {repeated.iloc[0]}); give one final "
                         "label per post ('annotate adjudicate' merges the coders' labels)",
                         "validation")
    gold = _encode(frame["label"], classes, "validation")
    pred_frame = frame.rename(columns={"label": "_gold", "predicted": "label"})
    if "label" not in pred_frame.columns:
        pred_frame = pred_frame.drop(columns="label", errors="ignore")
    predicted, probabilities = _predictions(pred_frame, classes, "validation")
    n_classes = len(classes)
    onehot_pair = np.eye(n_classes * n_classes)[gold * n_classes + predicted]  # (n, K*K)
    hard_counts = onehot_pair.sum(axis=0).reshape(n_classes, n_classes)
    by_thread = "thread_id" in frame.columns
    clusters = (pd.factorize(frame["thread_id"].astype("string").fillna(
        frame.get("uid", pd.Series(range(len(frame)))).astype("string")))[0]
        if by_thread else np.arange(len(frame)))
    absent = _absent(hard_counts, classes, "the validation table")
    if absent:  # what auto needs to choose between cc and pcc, nothing to adjust with
        return _Calibration(None, None, None, None, None, None, probabilities=probabilities,
                            gold=gold, predicted=predicted, clusters=clusters,
                            by_thread=by_thread, absent=absent)
    hard = quantify.rates_from_counts(hard_counts)
    prior = hard_counts.sum(axis=1) / hard_counts.sum()
    soft = None
    soft_pair = None
    if probabilities is not None:
        soft_pair = (np.eye(n_classes)[gold][:, :, None] * probabilities[:, None, :]).reshape(
            len(gold), -1)
        soft = quantify.rates_from_counts(soft_pair.sum(axis=0).reshape(n_classes, n_classes))
    hard_reps = soft_reps = prior_reps = weights = None
    if n_boot:
        weights = _cluster_weights(clusters, n_boot, rng)  # (B, n)
        draws = (weights @ onehot_pair).reshape(n_boot, n_classes, n_classes)
        hard_reps = quantify.fill_empty_rows(quantify.rates_from_counts(draws), hard)
        prior_reps = quantify.counts_to_shares(draws.sum(axis=2))
        if soft_pair is not None:
            soft_draws = (weights @ soft_pair).reshape(n_boot, n_classes, n_classes)
            soft_reps = quantify.fill_empty_rows(quantify.rates_from_counts(soft_draws), soft)
    return _Calibration(hard, soft, prior, hard_reps, soft_reps, prior_reps,
                        probabilities=probabilities, weights=weights, gold=gold,
                        predicted=predicted, clusters=clusters, by_thread=by_thread)


def _cluster_weights(clusters: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap weights per item: how often its cluster was drawn, shape ``(B, n)``."""
    n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
    if n_clusters == 0:
        return np.zeros((n_boot, 0))
    # draw n_clusters clusters with replacement per replicate, and count the draws of each
    picks = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    picks += np.arange(n_boot)[:, None] * n_clusters
    draws = np.bincount(picks.ravel(), minlength=n_boot * n_clusters).reshape(n_boot, n_clusters)
    return draws[:, clusters].astype(float)


def _typical_bin_size(group: np.ndarray, cluster: np.ndarray, by_thread: bool) -> int:
    """Median number of threads (``by_thread``) or replies in the bins that have replies."""
    if len(group) == 0:
        return 1
    if by_thread:
        pairs = np.unique(np.column_stack([group, cluster]), axis=0)
        sizes = np.bincount(pairs[:, 0])
    else:
        sizes = np.bincount(group)
    return max(int(np.median(sizes[sizes > 0])), 1)


def _unadjusted_errors(calib: _Calibration, size: int) -> tuple[float | None, float | None]:
    """``cc``'s and ``pcc``'s errors on samples of ``size`` validation threads (or items)."""
    if calib.gold is None or calib.probabilities is None:
        return None, None
    n_classes = calib.probabilities.shape[1]
    true = np.eye(n_classes)[calib.gold]
    return (quantify.sample_error(true, np.eye(n_classes)[calib.predicted], calib.clusters,
                                  size),
            quantify.sample_error(true, calib.probabilities, calib.clusters, size))


def _resolve_method(method: str, has_probabilities: bool, calib: _Calibration,
                    group: np.ndarray, cluster: np.ndarray, classes: Sequence[str]) -> str:
    if method == "auto":
        bin_size = _typical_bin_size(group, cluster, calib.by_thread)
        detected = None
        if calib.hard is not None:
            detected = quantify.detectability(calib.hard, calib.prior)
        smallest = None if detected is None else float(detected.min())
        cc_error, pcc_error = _unadjusted_errors(calib, bin_size)
        chosen = quantify.choose_method(has_probabilities=has_probabilities,
                                        has_hard_rates=calib.hard is not None,
                                        has_soft_rates=calib.soft is not None,
                                        detectability=smallest, cc_error=cc_error,
                                        pcc_error=pcc_error)
        if chosen in ("cc", "pcc") and (smallest is not None or calib.absent):
            warnings.warn(_auto_fallback_message(chosen, calib, detected, classes, bin_size,
                                                 compared=cc_error is not None
                                                 and has_probabilities), stacklevel=3)
        return chosen
    if method in ("pcc", "pacc", "emq") and not has_probabilities:
        raise TableError(f"method {method} needs proba_<label> columns in the labels table; "
                         "use cc or acc", "labels")
    if method in ADJUSTED and calib.absent:
        message = (f"{calib.absent}; adjusted methods need some of every label (use method "
                   "pcc or cc)")
        if calib.gold is not None:  # from a validation table: name its file
            raise TableError(message, "validation")
        raise UserError(message)
    if method in ADJUSTED and calib.hard is None:
        raise UserError(f"method {method} needs validation data: pass a validation table "
                        "(validation=) or a model card's cv_confusion (confusion=)")
    if method in ("pacc", "emq") and calib.soft is None:
        given = ("the validation table has no proba_ column for every label" if calib.gold
                 is not None else "only a confusion matrix of counts (a model card) was given")
        warnings.warn(f"{method} needs the validation set's probabilities and {given}; using acc",
                      stacklevel=3)
        return "acc"
    return method


def _auto_fallback_message(chosen: str, calib: _Calibration, detected: np.ndarray | None,
                           classes: Sequence[str], bin_size: int, *, compared: bool) -> str:
    """Why ``auto`` fell back to ``chosen`` (``cc`` or ``pcc``): the source of the confusion
    matrix (the validation data or a model card), the labels barely detected, and how the
    unadjusted method was picked (``compared``: on bin-sized samples of validation items)."""
    from_validation = calib.gold is not None
    if calib.absent:
        reason = f"{calib.absent} (adjusted methods need some of every label)"
    else:
        weak = [f"{name} {value:.2f}" for name, value in zip(classes, detected, strict=True)
                if value < quantify.AUTO_MIN_DETECTABILITY]
        source = ("the validation data show" if from_validation else
                  "the model card's cross-validated confusion matrix shows")
        reason = (f"{source} label(s) barely detected (one-vs-rest tpr - fpr under "
                  f"{quantify.AUTO_MIN_DETECTABILITY}: {', '.join(weak)}); adjusted shares would "
                  "amplify noise")
    if compared:
        why = (f"the smaller error on samples of {bin_size} validation "
               f"{'threads' if calib.by_thread else 'replies'}, the size of a typical bin")
    elif from_validation:
        why = "there are no validation items with probabilities to compare cc and pcc on"
    else:
        why = ("a model card has no items to compare cc and pcc on; a validation table of "
               "hand-coded posts would")
    check = " (check the validation figure)" if from_validation else ""
    return (f"auto: {reason}, so {chosen} is used, without adjustment ({why}), and its bias "
            f"stays{check}")


# -- estimation --------------------------------------------------------------------------------


def _estimate_groups(group, cluster, n_groups, predictions, probabilities, n_classes, method,
                     calib: _Calibration, n_boot, ci, rng, progress: bool | None = None):
    estimate = np.full((n_groups, n_classes), np.nan)
    low = np.full((n_groups, n_classes), np.nan)
    high = np.full((n_groups, n_classes), np.nan)
    n_posts = np.bincount(group, minlength=n_groups)
    n_threads = np.zeros(n_groups, dtype=int)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    onehot = np.eye(n_classes)[predictions]
    alpha = (1 - ci) / 2
    with warnings.catch_warnings(record=True) as caught, \
            progress_bar(range(n_groups), unit=" bins", desc=f"trend ({method})",
                         progress=progress) as bar:
        warnings.simplefilter("always", RuntimeWarning)
        _loop_groups(n_groups, order, bounds, cluster, onehot, probabilities, method, calib,
                     n_boot, alpha, rng, estimate, low, high, n_threads, bar)
    not_converged = [w for w in caught if "did not converge" in str(w.message)]
    if not_converged:
        warnings.warn(f"EM prior adjustment did not converge in {len(not_converged)} bin(s) for "
                      "some bootstrap runs; their shares are the last iterate", RuntimeWarning,
                      stacklevel=3)
    for other in caught:
        if other not in not_converged:
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return estimate, low, high, n_posts, n_threads


def _loop_groups(n_groups, order, bounds, cluster, onehot, probabilities, method, calib, n_boot,
                 alpha, rng, estimate, low, high, n_threads, bar=None) -> None:
    """Fill the arrays of every bin-group in turn; ``bar`` (a tqdm bar over ``range(n_groups)``,
    or None) counts them."""
    for g in range(n_groups) if bar is None else bar:
        rows = order[bounds[g]:bounds[g + 1]]
        if len(rows) == 0:
            continue
        local = pd.factorize(cluster[rows])[0]
        n_threads[g] = local.max() + 1
        hard = onehot[rows]
        soft = None if probabilities is None else probabilities[rows]
        estimate[g] = _shares(method, hard, soft, None, calib, point=True)
        if n_boot:
            weights = _cluster_weights(local, n_boot, rng)
            reps = _shares(method, hard, soft, weights, calib, point=False, rng=rng)
            low[g], high[g] = np.nanquantile(reps, [alpha, 1 - alpha], axis=0)


#: Upper bound on replicates x replies drawn at once by :func:`drawn_label_shares` (memory).
_DRAW_BLOCK = 2_000_000


def drawn_label_shares(probabilities: np.ndarray, weights: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of ``pcc`` that also draw each reply's label from its probabilities.

    The mean of calibrated probabilities estimates the share of each label, but the share that
    the replies of a bin actually have also varies with the labels themselves: a reply with
    probability 0.3 of support is support or not. Resampling threads alone moves only the mean
    probability, so a model that gives every reply about the same probabilities would get an
    interval of almost no width. Each replicate here resamples threads (``weights``, ``(B, n)``,
    how often each reply's thread was drawn) and draws a label from its probabilities for every
    copy of a reply; the spread of the replicates then carries both parts of the variance of the
    label share (the variance of the probabilities and the label noise around them).

    Returns
    -------
    numpy.ndarray
        ``(B, K)`` label shares, one row per replicate.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = np.full((100, 2), 0.5)  # every reply 50/50: thread resampling alone gives width 0
    >>> reps = drawn_label_shares(p, np.ones((400, 100)), rng)
    >>> bool(0.03 < reps[:, 0].std() < 0.07)  # about sqrt(0.25 / 100) = 0.05
    True
    """
    n_boot, n_items = weights.shape
    n_classes = probabilities.shape[1]
    # the share of probability left for classes k, k+1, ... (sequential binomials = multinomial)
    left = np.clip(1.0 - np.cumsum(probabilities, axis=1) + probabilities, 1e-12, None)
    conditional = np.clip(probabilities / left, 0.0, 1.0)
    counts = np.empty((n_boot, n_classes))
    block = max(1, _DRAW_BLOCK // max(n_items, 1))
    for start in range(0, n_boot, block):
        # a reply drawn w times (its thread drawn w times) gets w labels of its own
        remaining = np.rint(weights[start:start + block]).astype(np.int64)
        for k in range(n_classes - 1):
            drawn = rng.binomial(remaining, conditional[:, k])
            counts[start:start + block, k] = drawn.sum(axis=1)
            remaining -= drawn
        counts[start:start + block, -1] = remaining.sum(axis=1)
    return quantify.counts_to_shares(counts)


def _shares(method, hard, soft, weights, calib: _Calibration, *, point: bool,
            rng: np.random.Generator | None = None) -> np.ndarray:
    """The shares of one bin (``point``) or their bootstrap replicates (``weights``: how often
    each reply's thread was drawn; ``rng`` for pcc's label draws)."""
    if method == "pcc" and not point:
        return drawn_label_shares(soft, weights, rng)
    if method in ("cc", "acc"):
        observed = quantify.probabilistic_classify_and_count(hard, weights)
    elif method in ("pcc", "pacc"):
        observed = quantify.probabilistic_classify_and_count(soft, weights)
    if method in ("cc", "pcc"):
        return observed
    if method == "acc":
        return quantify.adjust_shares(observed, calib.hard if point else calib.hard_reps)
    if method == "pacc":
        return quantify.adjust_shares(observed, calib.soft if point else calib.soft_reps)
    prior = calib.prior if point else calib.prior_reps
    correction = calib.correction if point else calib.correction_reps
    return quantify.em_prior_adjustment(soft, prior, weights, correction=correction)


def _table(combos, by, starts, ends, classes, estimate, low, high, n_posts, n_threads, method,
           min_posts, *, relative: bool) -> pd.DataFrame:
    n_bins, n_classes = len(starts), len(classes)
    n_combos = len(combos)
    combo_index = np.repeat(np.arange(n_combos), n_bins * n_classes)
    bin_index = np.tile(np.repeat(np.arange(n_bins), n_classes), n_combos)
    group_index = combo_index * n_bins + bin_index
    label_index = np.tile(np.arange(n_classes), n_combos * n_bins)
    out = combos.iloc[combo_index].reset_index(drop=True) if by else pd.DataFrame(
        index=range(len(group_index)))
    posts = n_posts[group_index]
    threads = n_threads[group_index]
    flags = []
    for count, thread_count in zip(posts, threads, strict=True):
        parts = []
        if count == 0:
            parts.append(FLAG_NO_POSTS)
        else:
            if count < min_posts:
                parts.append(FLAG_FEW_POSTS)
            if thread_count == 1:
                parts.append(FLAG_ONE_THREAD)
            elif thread_count < MIN_THREADS:
                parts.append(FLAG_FEW_THREADS)
        flags.append(";".join(parts) or pd.NA)
    out["bin_start"] = np.asarray(starts, dtype=object)[bin_index]
    out["bin_end"] = np.asarray(ends, dtype=object)[bin_index]
    out["label"] = np.asarray(classes, dtype=object)[label_index]
    out["n_posts"] = posts
    out["estimate"] = estimate[group_index, label_index]
    out["ci_low"] = low[group_index, label_index]
    out["ci_high"] = high[group_index, label_index]
    out["method"] = method
    out["flag"] = flags
    out["n_threads"] = threads
    dtypes = dict(TREND)
    if relative:
        dtypes["bin_start"] = dtypes["bin_end"] = "Float64"
    for name, dtype in dtypes.items():
        out[name] = out[name].astype(dtype)
    out["n_threads"] = out["n_threads"].astype("Int64")
    return out[[*by, *TREND, "n_threads"]]
