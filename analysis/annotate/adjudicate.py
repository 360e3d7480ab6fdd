"""Final gold labels: one label per post from the coders' labels and a resolution file.

A post coded once keeps its coder's label; a post on which all its coders agree keeps that label;
a disagreement takes the ``resolved_label`` of the resolution file (the disagreements file written
by ``annotate agreement``, filled by an adjudicator), or, when asked, the label a strict majority
of its coders gave. Anything left unresolved stops the run unless it is explicitly dropped.

Examples
--------
>>> gold = pd.DataFrame({"uid": ["1", "1", "2"], "labeler_id": ["A", "B", "A"],
...                      "label": ["support", "other", "criticism"], "task": "stance"})
>>> resolutions = pd.DataFrame({"uid": ["1"], "resolved_label": ["support"]})
>>> final = adjudicate(gold, resolutions)
>>> final[["uid", "label", "labeler_id", "resolution"]].values.tolist()
[['1', 'support', 'adjudicator', 'adjudicated'], ['2', 'criticism', 'A', 'single']]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from analysis.annotate.agreement import check_one_label_per_coder
from analysis.annotate.sheets import Problem, _check_allowed, coding_rows, recorded_codebook
from analysis.errors import UserError
from analysis.schema import LABELS, STANCE_TASK, conform

RESOLUTIONS = ("single", "unanimous", "majority", "adjudicated")
DEFAULT_ADJUDICATOR = "adjudicator"


class ResolutionError(UserError):
    """A resolution file with problems; ``problems`` lists each one with its row and value."""

    def __init__(self, message: str, path: object | None, problems: list[Problem]) -> None:
        super().__init__(message, path)
        self.problems = problems


def check_resolutions(resolutions: pd.DataFrame, gold: pd.DataFrame, allowed: Sequence[str], *,
                      source: str = "resolutions") -> tuple[dict[str, tuple[str, str]],
                                                            list[Problem]]:
    """Validate a resolution file; return ``{uid: (label, adjudicator)}`` and the problems.

    Rows with an empty ``resolved_label`` are skipped (not resolved yet). Row numbers count the
    header as row 1.
    """
    problems: list[Problem] = []
    for column in ("uid", "resolved_label"):
        if column not in resolutions.columns:
            problems.append(Problem(source, 1, f"missing column {column!r} (the file written "
                                    "by 'annotate agreement --disagreements' has it)",
                                    ", ".join(map(str, resolutions.columns)), column))
    if problems:
        return {}, problems
    folded = {v.casefold(): v for v in allowed}
    known = set(gold["uid"].astype(str))
    out: dict[str, tuple[str, str]] = {}
    rows: dict[str, int] = {}
    for offset, record in enumerate(resolutions.to_dict("records")):
        row = offset + 2
        uid = _text(record.get("uid"))
        value = _text(record.get("resolved_label"))
        who = _text(record.get("adjudicator")) or DEFAULT_ADJUDICATOR
        if not value:
            continue
        if uid not in known:
            problems.append(Problem(source, row, "uid is not in the coders' labels", uid, "uid"))
            continue
        label = folded.get(value.casefold())
        if label is None:
            problems.append(Problem(source, row, f"resolved_label is not one of "
                                    f"{', '.join(allowed)}", value, "resolved_label"))
            continue
        if uid in out and out[uid][0] != label:
            problems.append(Problem(source, row, f"uid resolved twice, differently (row "
                                    f"{rows[uid]} says {out[uid][0]!r})", uid, "uid"))
            continue
        out[uid] = (label, who)
        rows[uid] = row
    return out, problems


def adjudicate(gold: pd.DataFrame, resolutions: pd.DataFrame | None = None, *,
               allowed: Sequence[str] | None = None, majority: bool = False,
               drop_unresolved: bool = False, coder_col: str = "labeler_id",
               source: str = "resolutions") -> pd.DataFrame:
    """Merge the coders' labels and a resolution file into one final label per post.

    Parameters
    ----------
    gold
        The coders' labels (one row per coder and post; ``uid``, ``labeler_id``, ``label``).
        A coder with two rows for one post is refused, as by
        :func:`analysis.annotate.agreement.reliability_matrix`.
    resolutions
        A table with ``uid`` and ``resolved_label`` (and optionally ``adjudicator``). A resolution
        also overrides a post the coders agreed on.
    allowed
        The allowed labels (default: the sample's codebook, which ``annotate import`` records in
        the ``allowed_labels`` column; without one, the labels the coders used). Labels that
        differ only in letter case are refused, as resolutions are matched regardless of case.
    majority
        Resolve remaining disagreements by a strict majority of the post's coders.
    drop_unresolved
        Leave out posts still unresolved instead of raising.
    source
        Name of the resolution file, for messages.

    Returns
    -------
    pandas.DataFrame
        The labels table columns (labeler_type ``human``; ``labeler_id`` is the coder, the
        agreeing coders joined by ``+``, or the adjudicator) plus ``resolution`` (single,
        unanimous, majority, adjudicated), ``n_coders`` and ``coder_labels``.
    """
    for column in ("uid", coder_col, "label"):
        if column not in gold.columns:
            raise UserError(f"the coders' labels table has no {column!r} column")
    frame = gold.dropna(subset=["uid", "label"]).copy()
    frame["uid"] = frame["uid"].astype(str)
    frame["label"] = frame["label"].astype(str)
    frame[coder_col] = frame[coder_col].astype(str)
    check_one_label_per_coder(frame, coder_col=coder_col)
    tasks = frame["task"].dropna().unique().tolist() if "task" in frame.columns else []
    if len(tasks) > 1:
        raise UserError(f"the labels table mixes tasks {', '.join(map(str, tasks))}; "
                        "adjudicate one task at a time")
    task = tasks[0] if tasks else STANCE_TASK
    if allowed is None:
        allowed = recorded_codebook(frame) or sorted(frame["label"].unique())
    allowed = _check_allowed(allowed)
    resolved: dict[str, tuple[str, str]] = {}
    if resolutions is not None:
        resolved, problems = check_resolutions(resolutions, frame, allowed, source=source)
        if problems:
            raise ResolutionError(f"{len(problems)} problem(s), first: "
                                  f"{str(problems[0]).removeprefix('error: ')}", None, problems)
    created = (pd.to_datetime(frame["created_at"], utc=True) if "created_at" in frame.columns
               else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]"))
    frame["created_at"] = created
    run_ids = frame["run_id"].dropna().unique().tolist() if "run_id" in frame.columns else []
    rows = []
    unresolved = []
    for uid, group in frame.groupby("uid", sort=True):
        by_coder = dict(zip(group[coder_col], group["label"], strict=True))
        labels = list(by_coder.values())
        summary = "; ".join(f"{c}={v}" for c, v in sorted(by_coder.items()))
        base = {"uid": uid, "n_coders": len(by_coder), "coder_labels": summary,
                "created_at": group["created_at"].max()}
        counts = Counter(labels)
        top, top_n = counts.most_common(1)[0]
        if uid in resolved:
            label, who = resolved[uid]
            rows.append(base | {"label": label, "labeler_id": who, "resolution": "adjudicated"})
        elif len(counts) == 1:
            kind = "single" if len(by_coder) == 1 else "unanimous"
            rows.append(base | {"label": top, "labeler_id": "+".join(sorted(by_coder)),
                                "resolution": kind})
        elif majority and top_n * 2 > len(labels):
            agreeing = sorted(c for c, v in by_coder.items() if v == top)
            rows.append(base | {"label": top, "labeler_id": "+".join(agreeing),
                                "resolution": "majority"})
        else:
            unresolved.append(uid)
    if unresolved and not drop_unresolved:
        raise UserError(f"{len(unresolved)} disagreement(s) are unresolved (e.g. "
                        f"{unresolved[0]}); {_unresolved_advice(resolutions, majority)}")
    out = pd.DataFrame(rows, columns=["uid", "label", "labeler_id", "resolution", "n_coders",
                                      "coder_labels", "created_at"])
    out["task"] = task
    out["labeler_type"] = "human"
    out["run_id"] = run_ids[0] if len(run_ids) == 1 else None
    out = conform(out, LABELS, extra=True)
    out["n_coders"] = out["n_coders"].astype("Int64")
    out.attrs["unresolved"] = unresolved
    return out


def _unresolved_advice(resolutions: pd.DataFrame | None, majority: bool) -> str:
    """What settles the disagreements :func:`adjudicate` left unresolved, given what it was
    given: only the options that were not used, and what the ones used could not do.

    >>> print(_unresolved_advice(None, True))  # doctest: +NORMALIZE_WHITESPACE
    they are ties that the majority rule (--majority) cannot settle, with no label given by more
    than half of the post's coders: give a resolution file with their resolved_label filled in
    (--resolutions), or leave them out (--drop-unresolved)
    """
    fill = ("fill their resolved_label in the resolution file" if resolutions is not None else
            "give a resolution file with their resolved_label filled in (--resolutions)")
    if majority:
        return ("they are ties that the majority rule (--majority) cannot settle, with no label "
                f"given by more than half of the post's coders: {fill}, or leave them out "
                "(--drop-unresolved)")
    return (f"{fill}, or settle them by a strict majority of coders (--majority), or leave "
            "them out (--drop-unresolved)")


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def attach_texts(final: pd.DataFrame, posts: pd.DataFrame, *,
                 target: str | None = None) -> pd.DataFrame:
    """Add the columns ``train`` and ``evaluate`` read: ``text``, ``target``, ``context``,
    ``depth`` and ``thread_id`` of each post, from the posts table.

    ``target`` is the thread root's text unless one fixed ``target`` is given; ``context`` is the
    parent's text. Texts are titles and bodies together, as ``label`` gives them to the
    classifiers (see :func:`~analysis.annotate.sheets.coding_rows`). Returns a new frame;
    ``final`` is not changed.
    """
    rows = coding_rows(posts, final["uid"].astype(str).tolist(), target=target)
    out = final.copy()
    out["text"] = rows["text"].to_numpy()
    out["target"] = rows["target"].to_numpy()
    out["context"] = rows["parent"].to_numpy()
    out["thread_id"] = rows["thread_id"].to_numpy()
    if "depth" in posts.columns:
        depth = posts.drop_duplicates("uid").set_index(posts["uid"].drop_duplicates()
                                                       .astype(str))["depth"]
        out["depth"] = out["uid"].astype(str).map(depth).astype("Int16")
    for column in ("text", "target", "context", "thread_id"):
        out[column] = out[column].astype("string")
    return out
