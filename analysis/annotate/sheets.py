"""Coding sheets: one per coder, written as CSV (and XLSX when openpyxl is installed), read back
with every problem listed by sheet, row and value.

A sheets folder made by :func:`write_sheets` holds

- ``sheet-<coder>.csv`` (UTF-8 with a byte-order mark, so spreadsheet programs open it correctly)
  and ``sheet-<coder>.xlsx``: the posts to code, one per row, with the thread's target, the parent
  post and the post itself in readable columns, an empty ``label`` column, a ``note`` column and
  the allowed labels;
- ``design.json``: the sampling design, the coders, the task and its allowed labels;
- ``sample.csv``: every sampled post with its stratum and inclusion probability (for weighting);
- ``assignments.csv``: which coder got which post; ``strata.csv``: every stratum's size and draws.

:func:`read_sheets` reads the filled sheets back. Row numbers in its problems are spreadsheet row
numbers (the header is row 1).

Examples
--------
>>> import tempfile, pathlib
>>> posts = pd.DataFrame({"uid": ["x:1", "x:2"], "platform": ["other", "other"],
...                       "id": ["1", "2"], "parent_id": [None, "1"], "root_id": ["1", "1"],
...                       "text": ["Root post", "A reply"]})
>>> units = pd.DataFrame({"uid": ["x:2"]})
>>> assignments = pd.DataFrame({"uid": ["x:2"], "coder": ["A"], "position": [1],
...                             "overlap": [False]})
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "sheets"
>>> paths = write_sheets(folder, posts, units, assignments, formats=("csv",))
>>> sorted(p.name for p in paths)
['assignments.csv', 'design.json', 'sample.csv', 'sheet-A.csv']
>>> sheet = pd.read_csv(folder / "sheet-A.csv", encoding="utf-8-sig")
>>> sheet.loc[0, ["target", "parent", "text"]].tolist()
['Root post', 'Root post', 'A reply']
>>> result = read_sheets(folder)
>>> [p.message for p in result.problems]
['no label filled in (row left out)']
"""

from __future__ import annotations

import datetime as dt
import io
import json
import numbers
import os
import re
import shutil
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from analysis.annotate.sampling import (
    UNCERTAIN_SHARE,
    UNCERTAIN_TOP,
    Sample,
    assign_coders,
    draw_sample,
    parse_coders,
)
from analysis.config import DEFAULT_SEED
from analysis.errors import UserError
from analysis.io import (
    _refuse_raw,
    check_column_names,
    make_parent,
    sha256_file,
    staging_folder,
    swap_folders,
)
from analysis.schema import LABELS, STANCE_LABELS, STANCE_TASK, conform

SHEET_PREFIX = "sheet-"
DESIGN_FILE = "design.json"
SAMPLE_FILE = "sample.csv"
ASSIGNMENTS_FILE = "assignments.csv"
STRATA_FILE = "strata.csv"
FORMATS = ("csv", "xlsx")

#: The columns of a coding sheet, in order. Coders fill ``label`` (and ``note`` if they like);
#: every other column must stay as written.
SHEET_COLUMNS = ("item", "target", "parent", "text", "label", "note", "allowed_labels", "coder",
                 "uid", "thread_id", "created_at")
#: Columns that must be present, unchanged in name, for a sheet to be read at all.
REQUIRED_COLUMNS = ("item", "uid", "coder", "label")
EDITABLE_COLUMNS = ("label", "note")

DESIGN_VERSION = 1
LABEL_SEPARATOR = " | "
#: The column of the imported labels that records the sample's codebook (its allowed labels,
#: joined by :data:`LABEL_SEPARATOR`), so that ``adjudicate`` checks resolutions against it.
CODEBOOK_COLUMN = "allowed_labels"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a filled sheet or a resolution file.

    ``row`` is the spreadsheet row (header = 1); ``severity`` is ``"error"`` (the row, or the
    sheet, is not imported) or ``"warning"`` (imported, but look at it).
    """

    sheet: str
    row: int | None
    message: str
    value: str | None = None
    column: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.severity}: {where}: {self.message}{value}"

    def as_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "sheet": self.sheet, "row": self.row,
                "column": self.column, "value": self.value, "message": self.message}


@dataclass
class ImportResult:
    """What :func:`read_sheets` found: the labels it could import, and every problem."""

    labels: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def coding_rows(posts: pd.DataFrame, uids: Sequence[str], *,
                target: str | None = None) -> pd.DataFrame:
    """For each uid: its text, its parent's text and its target's text, from the posts table.

    A post's text is its title and body together, as the classifiers read it
    (:func:`analysis.classifiers.datasets.full_text`: a Reddit submission keeps its claim in the
    title). The target is ``target`` when given (one text for every post, e.g. the claim under
    study), otherwise the text of the thread's root post (the classifiers' default target).
    """
    from analysis.classifiers.datasets import full_text  # imports scikit-learn: only when used

    frame = posts.copy()
    if "uid" not in frame.columns:
        raise UserError("the posts table has no 'uid' column")
    frame["uid"] = frame["uid"].astype("string")
    texts = (full_text(frame) if "text" in frame.columns
             else pd.Series(index=frame.index, dtype="string"))
    text = {uid: value if isinstance(value, str) else None
            for uid, value in zip(frame["uid"], texts, strict=True)}
    platform = frame["platform"].astype("string") if "platform" in frame.columns else None

    own = frame["id"].astype("string") if "id" in frame.columns else None
    by_id = ({} if own is None or platform is None else
             dict(zip(platform.fillna("") + "\x00" + own.fillna(""), frame["uid"], strict=True)))

    def ref(column: str) -> pd.Series:
        if column not in frame.columns or platform is None:
            return pd.Series(pd.NA, index=frame.index, dtype="string")
        ids = frame[column].astype("string")
        keys = platform.fillna("") + "\x00" + ids.fillna("")
        found = [by_id.get(k, f"{p}:{i}") if pd.notna(i) else None
                 for k, p, i in zip(keys, platform, ids, strict=True)]
        return pd.Series(found, index=frame.index, dtype="string")

    parent_uid = ref("parent_id")
    root_uid = ref("root_id")
    info = pd.DataFrame({"uid": frame["uid"], "parent_uid": parent_uid, "root_uid": root_uid,
                         "thread_id": frame.get("thread_id", pd.NA),
                         "created_at": frame.get("created_at", pd.NA)})
    info = info.drop_duplicates("uid").set_index("uid")
    missing = [u for u in uids if u not in info.index]
    if missing:
        raise UserError(f"{len(missing)} sampled post(s) are not in the posts table, e.g. "
                        f"{missing[0]}; use the posts table the sample was drawn from")
    info = info.loc[list(uids)]
    rows = pd.DataFrame({"uid": list(uids)})
    rows["text"] = [text.get(u) for u in uids]
    rows["parent"] = [text.get(p) if isinstance(p, str) else None for p in info["parent_uid"]]
    if target is not None:
        rows["target"] = target
    else:
        rows["target"] = [text.get(r) if isinstance(r, str) and r != u else None
                          for u, r in zip(uids, info["root_uid"], strict=True)]
    rows["thread_id"] = info["thread_id"].astype("string").to_numpy()
    created = pd.to_datetime(info["created_at"], utc=True)
    rows["created_at"] = [t.strftime("%Y-%m-%d %H:%M:%S UTC") if pd.notna(t) else None
                          for t in created]
    return rows


def write_sheets(folder: str | os.PathLike, posts: pd.DataFrame, units: pd.DataFrame,
                 assignments: pd.DataFrame, *, allowed: Sequence[str] = STANCE_LABELS,
                 task: str = STANCE_TASK, target: str | None = None,
                 formats: Sequence[str] = FORMATS, strata: pd.DataFrame | None = None,
                 design: dict | None = None, overwrite: bool = False,
                 inputs: Sequence[str | os.PathLike | None] = ()) -> list[Path]:
    """Write the coding sheets and the saved design into ``folder``, all or nothing.

    Parameters
    ----------
    folder
        The sheets folder; it must not exist yet or be empty unless ``overwrite``. It may not be
        a symbolic link, the working folder or a folder above it.
    posts
        The posts table the sample was drawn from (texts of posts, parents and roots).
    units
        The sampled posts (:attr:`analysis.annotate.sampling.Sample.units`), saved as
        ``sample.csv`` (without their ``created_at``, which the sheets show).
    assignments
        Coder assignments (:func:`analysis.annotate.sampling.assign_coders`).
    allowed
        The labels coders may use.
    task
        The labels table's ``task`` for the imported labels.
    target
        One target text for every post (default: the thread root's text).
    formats
        ``"csv"`` and/or ``"xlsx"``; XLSX needs openpyxl and is skipped with a warning without it.
    strata, design
        The strata table and design parameters to save alongside (``design.json`` keeps
        ``design`` under ``"design"``). :func:`draw_sheets` draws the sample and writes its
        sheets with the whole design, as ``annotate sample`` does: the seed, the coders and
        overlap, and the sha256 of the posts file.
    overwrite
        Replace an existing sheets folder (one with ``design.json``) whose sheets are still
        empty: a folder with any label or note filled in (coders' work), with files this
        function does not write, or holding one of ``inputs``, is never replaced.
    inputs
        The run's input files (``None`` entries are skipped): ``folder`` may not hold one.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    dest = Path(folder)
    _refuse_raw(dest)
    allowed = _check_allowed(allowed)
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise UserError(f"sheet formats must be among {', '.join(FORMATS)}")
    _check_sheets_folder(dest, overwrite=overwrite, inputs=inputs)
    coders = list(dict.fromkeys(assignments["coder"].astype(str)))
    context = coding_rows(posts, assignments["uid"].astype("string").unique().tolist(),
                          target=target).set_index("uid")
    want_xlsx = "xlsx" in formats and _openpyxl() is not None
    if "xlsx" in formats and not want_xlsx:
        warnings.warn("openpyxl is not installed: wrote CSV sheets only (pip install openpyxl "
                      "for XLSX sheets)", stacklevel=2)
        if "csv" not in formats:
            formats = ("csv",)
    make_parent(dest)
    try:
        tmp = staging_folder(dest)
    except OSError as exc:
        raise UserError(f"cannot write in this folder ({exc.strerror}); pick another -o",
                        dest.parent) from exc
    try:
        sheet_files = {}
        for coder in coders:
            mine = assignments[assignments["coder"].astype(str) == coder].sort_values("position")
            sheet = _sheet_frame(mine, context, coder, allowed)
            names = []
            if "csv" in formats:
                name = f"{SHEET_PREFIX}{coder}.csv"
                # CRLF line ends (RFC 4180) make pandas quote a lone CR inside a text
                sheet.to_csv(tmp / name, index=False, encoding="utf-8-sig",
                             lineterminator="\r\n")
                names.append(name)
            if want_xlsx:
                name = f"{SHEET_PREFIX}{coder}.xlsx"
                _write_xlsx(sheet, tmp / name, allowed, coder, task)
                names.append(name)
            sheet_files[coder] = names
        # the posts' times are in the sheets and the posts table, not in the design's files
        units_out = units.drop(columns=["created_at"], errors="ignore")
        units_out.to_csv(tmp / SAMPLE_FILE, index=False, lineterminator="\n")
        assignments.to_csv(tmp / ASSIGNMENTS_FILE, index=False, lineterminator="\n")
        if strata is not None:
            strata.to_csv(tmp / STRATA_FILE, index=False, lineterminator="\n")
        record = {
            "version": DESIGN_VERSION, "task": task, "allowed_labels": list(allowed),
            "coders": coders, "sheets": sheet_files, "target": target,
            "n_items": int(assignments["uid"].nunique()),
            "n_overlap": int(assignments.loc[assignments["overlap"].astype(bool), "uid"]
                             .nunique()),
            "files_sha256": {name: sha256_file(tmp / name)
                             for name in (SAMPLE_FILE, ASSIGNMENTS_FILE)},
            "design": design or {},
        }
        (tmp / DESIGN_FILE).write_text(json.dumps(record, indent=2, sort_keys=True,
                                                  default=str) + "\n", encoding="utf-8")
        swap_folders([tmp], [dest])  # the old folder goes only once the new one is in
    except OSError as exc:
        raise UserError(f"cannot write the sheets folder ({exc.strerror or exc}); pick another "
                        "-o", dest) from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return sorted(dest.iterdir())


@dataclass(frozen=True)
class DrawnSheets:
    """What :func:`draw_sheets` did: the sample drawn, the coders' assignments, the design saved
    (under ``"design"``) in ``design.json``, and the files written."""

    sample: Sample
    assignments: pd.DataFrame
    design: dict
    files: list[Path]


def draw_sheets(folder: str | os.PathLike, posts: pd.DataFrame, n: int,
                coders: str | Sequence[str], *, labels: pd.DataFrame | None = None,
                overlap: float = 0.2, overlap_coders: int | None = None,
                stratify_by: str | Sequence[str] = ("time", "thread"),
                strategy: str = "stratified", freq: str | None = None, n_time_bins: int = 5,
                allocation: str = "proportional", uncertain_share: float = UNCERTAIN_SHARE,
                uncertain_top: float = UNCERTAIN_TOP, include_roots: bool = False,
                exclude: Sequence[str] = (), allowed: Sequence[str] = STANCE_LABELS,
                task: str = STANCE_TASK, target: str | None = None,
                formats: Sequence[str] = FORMATS, seed: int = DEFAULT_SEED,
                posts_file: str | os.PathLike | None = None,
                labels_file: str | os.PathLike | None = None, record: dict | None = None,
                overwrite: bool = False,
                inputs: Sequence[str | os.PathLike | None] = ()) -> DrawnSheets:
    """Draw a sample, give it to coders and write their sheets: ``annotate sample`` in one call.

    :func:`~analysis.annotate.sampling.draw_sample` with ``random_state=seed``,
    :func:`~analysis.annotate.sampling.assign_coders` with ``seed + 1``, then
    :func:`write_sheets` with the whole design: the draw's parameters, ``seed``, ``coders``,
    ``overlap`` and ``overlap_coders``, and the path and sha256 of ``posts_file`` and
    ``labels_file``. The command line runs this function, so the same posts, options and seed
    give the same folder from Python.

    Parameters
    ----------
    folder, posts, allowed, task, target, formats, overwrite
        As for :func:`write_sheets`.
    n, labels, stratify_by, strategy, freq, n_time_bins, allocation
        As for :func:`~analysis.annotate.sampling.draw_sample`.
    uncertain_share, uncertain_top, include_roots, exclude
        As for :func:`~analysis.annotate.sampling.draw_sample`.
    coders, overlap, overlap_coders
        As for :func:`~analysis.annotate.sampling.assign_coders`.
    seed
        The seed of the draw (the coders get ``seed + 1``); default
        :data:`~analysis.config.DEFAULT_SEED`, as ``annotate sample`` without ``--seed``.
    posts_file, labels_file
        The files ``posts`` and ``labels`` were read from, recorded with their sha256 (None: not
        recorded). The sheets folder may not hold them.
    record
        More entries for the saved design (``annotate sample`` records its ``--model`` and
        ``--labeler`` and its command).
    inputs
        Other input files of the run, which the sheets folder may not hold either.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise UserError(f"the seed must be a whole number of 0 or more, not {seed!r}")
    coders = parse_coders(coders)
    drawn = draw_sample(posts, n, labels=labels, stratify_by=stratify_by, strategy=strategy,
                        freq=freq, n_time_bins=n_time_bins, allocation=allocation,
                        uncertain_share=uncertain_share, uncertain_top=uncertain_top,
                        include_roots=include_roots, exclude=exclude, random_state=int(seed))
    assignments = assign_coders(drawn.units, coders, overlap=overlap,
                                overlap_coders=overlap_coders, random_state=int(seed) + 1)
    design = drawn.params | {
        "seed": int(seed), "coders": coders, "overlap": overlap, "overlap_coders": overlap_coders,
        "posts": _file_record(posts_file), "labels": _file_record(labels_file),
        "labeler": None, "model": None, "command": "analysis.annotate.draw_sheets",
    } | dict(record or {})
    files = write_sheets(folder, posts, drawn.units, assignments, allowed=allowed, task=task,
                         target=target, formats=formats, strata=drawn.strata, design=design,
                         overwrite=overwrite, inputs=[posts_file, labels_file, *inputs])
    return DrawnSheets(sample=drawn, assignments=assignments, design=design, files=files)


def _file_record(path: str | os.PathLike | None) -> dict[str, str] | None:
    """A file's path and sha256, for the saved design; None for no file."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise UserError("no such file", path)
    return {"path": str(path), "sha256": sha256_file(path)}


#: The files :func:`write_sheets` writes besides the sheets themselves.
FOLDER_FILES = (DESIGN_FILE, SAMPLE_FILE, ASSIGNMENTS_FILE, STRATA_FILE)


def is_sheets_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a file of a sheets folder (a sheet, or one of
    :data:`FOLDER_FILES`) that is, or would be, read as part of the folder."""
    name = Path(path).name
    return name in FOLDER_FILES or _is_sheet_name(name)


def check_not_sheets_file(path: str | os.PathLike,
                          folders: Sequence[str | os.PathLike | None] = ()) -> None:
    """Refuse an output that would replace or add a file of a sheets folder: a coder's sheet,
    the design, the sample, the assignments or the strata.

    A sheets folder is a folder with ``design.json`` in it, or one of ``folders``.
    """
    dest = Path(path)
    parent = dest.parent.resolve()
    known = {Path(f).resolve() for f in folders if f is not None}
    if is_sheets_file(dest) and ((parent / DESIGN_FILE).is_file() or parent in known):
        raise UserError("is a file of a sheets folder (coders' sheets and the sampling design "
                        "are never overwritten); pick another -o", dest)


def _check_sheets_folder(dest: Path, *, overwrite: bool,
                         inputs: Sequence[str | os.PathLike | None]) -> None:
    """Refuse a sheets folder that :func:`write_sheets` may not write or replace."""
    if dest.is_symlink():
        raise UserError("is a symbolic link; give the folder itself or a new -o", dest)
    here = Path.cwd().resolve()
    if dest.resolve() == here or dest.resolve() in here.parents:
        raise UserError("is the working folder or a folder above it; give a new folder for "
                        "the sheets, e.g. -o sheets", dest)
    if not dest.exists():
        return
    if not dest.is_dir():
        raise UserError("exists and is not a folder; pick a new -o", dest)
    present = sorted(dest.iterdir())
    if not present:
        return
    if not overwrite:
        raise UserError("the sheets folder exists and is not empty (it may hold coders' work); "
                        "pick a new -o, or pass --force to replace sheets nobody has filled",
                        dest)
    if not (dest / DESIGN_FILE).is_file():
        raise UserError(f"--force replaces only a sheets folder of 'annotate sample' (with "
                        f"{DESIGN_FILE}), and this is not one; pick a new -o", dest)
    held = [Path(p) for p in inputs if p is not None and Path(p).exists()
            and dest.resolve() in Path(p).resolve().parents]
    if held:
        raise UserError(f"holds an input of this run ({held[0].name}); pick a new -o", dest)
    other = [p.name for p in present if not p.is_file() or not is_sheets_file(p)]
    if other:
        raise UserError(f"holds files 'annotate sample' does not write ({', '.join(other)}); "
                        "move them away or pick a new -o", dest)
    filled = _filled_sheets(dest)
    if filled:
        raise UserError(f"labels or notes are filled in ({', '.join(filled)}) and coders' "
                        "work is never overwritten; move the folder away or pick a new -o", dest)


def _filled_sheets(folder: Path) -> list[str]:
    """The sheets in ``folder`` with any label or note filled in, or that cannot be read."""
    filled = []
    for paths in _sheet_files(folder).values():
        for path in paths:
            frame, problem = _load_sheet(path)
            if problem is not None or any(
                    frame[c].astype(str).str.strip().ne("").any()
                    for c in EDITABLE_COLUMNS if c in frame.columns):
                filled.append(path.name)
    return filled


def read_design(folder: str | os.PathLike) -> dict:
    """The ``design.json`` of a sheets folder; a missing or broken one is a :class:`UserError`."""
    path = Path(folder) / DESIGN_FILE
    if Path(folder).exists() and not Path(folder).is_dir():
        raise UserError("is a file, not a sheets folder; give the folder 'annotate sample' "
                        "wrote (its -o)", folder)
    if not Path(folder).is_dir():
        raise UserError("no such sheets folder", folder)
    if not path.is_file():
        raise UserError(f"no {DESIGN_FILE}: not a sheets folder written by 'annotate sample'",
                        folder)
    try:
        design = json.loads(path.read_text(encoding="utf-8"))
        design["coders"] = [str(c) for c in design["coders"]]
        design["allowed_labels"] = [str(v) for v in design["allowed_labels"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"cannot read the design ({exc}); restore it from the sample run",
                        path) from exc
    return design


def read_sheets(folder: str | os.PathLike, *, strict: bool = False) -> ImportResult:
    """Read the filled sheets of a sheets folder into a long labels table, listing every problem.

    Checks: each coder's sheet is present; no sheet for an unknown coder; the header keeps the
    required columns; the ``coder`` column matches the sheet; every row belongs to the coder's
    assignment; no post appears twice; every label is one of the allowed labels (matched without
    regard to case or surrounding spaces); every assigned post is still in its coder's sheet. Rows
    with errors, rows left empty and assigned posts deleted from a sheet are not imported (empty
    and deleted rows are warnings); everything else is.

    Each coder's labels come from one sheet. When the CSV and the XLSX sheet both have labels
    filled in, the one with more labels is read (with a warning). A sheet that cannot be read (a
    damaged file, a required column renamed or removed, an XLSX without openpyxl) is an error,
    and its twin is read in its place only if the twin has labels filled in (the error says
    so): an untouched twin is never read instead, so such a coder gets no labels until the
    sheet is fixed.

    Parameters
    ----------
    folder
        A sheets folder written by :func:`write_sheets` and filled by the coders.
    strict
        Raise :class:`~analysis.errors.UserError` when there is any error.

    Returns
    -------
    ImportResult
        ``labels``: the labels table columns (:data:`analysis.schema.LABELS`) with
        ``labeler_type="human"`` and ``labeler_id`` = coder, plus ``note``, ``sheet``,
        ``sheet_row`` and ``allowed_labels`` (the codebook); ``problems``; and in ``summary``,
        per coder, the sheet read (``sheet``, None when none could be), its ``rows``, the labels
        ``imported`` and the coder's sheets that could not be read (``unreadable``).
    """
    folder = Path(folder)
    design = read_design(folder)
    coders = design["coders"]
    allowed = {v.casefold(): v for v in design["allowed_labels"]}
    assignments = _read_assignments(folder)
    problems: list[Problem] = []
    frames = []
    summary: dict[str, object] = {"coders": {}}
    found = _sheet_files(folder)
    for coder in sorted(set(found) - set(coders)):
        for path in found[coder]:
            problems.append(Problem(path.name, None, f"sheet of unknown coder {coder!r} (coders "
                                    f"are {', '.join(coders)}); not imported", coder, "coder"))
    for coder in coders:
        paths = found.get(coder, [])
        if not paths:
            problems.append(Problem(f"{SHEET_PREFIX}{coder}.csv", None,
                                    f"sheet of coder {coder!r} is missing", None))
            summary["coders"][coder] = {"sheet": None, "rows": 0, "imported": 0,
                                        "unreadable": []}
            continue
        frame, sheet_problems, used = _read_coder(paths, coder, allowed,
                                                  set(assignments.get(coder, ())))
        problems.extend(sheet_problems)
        summary["coders"][coder] = {"sheet": used, "rows": int(frame.attrs.get("rows", 0)),
                                    "imported": int(len(frame)),
                                    "unreadable": list(frame.attrs.get("unreadable", []))}
        frames.append(frame)
    labels = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["uid", "label", "labeler_id", "created_at", "note", "sheet", "sheet_row"]))
    labels["task"] = design.get("task", STANCE_TASK)
    labels["labeler_type"] = "human"
    labels["run_id"] = _run_id(design)
    labels[CODEBOOK_COLUMN] = LABEL_SEPARATOR.join(design["allowed_labels"])
    out = conform(labels, LABELS, extra=True)
    out = out[list(LABELS) + ["note", "sheet", "sheet_row", CODEBOOK_COLUMN]]
    out["sheet_row"] = out["sheet_row"].astype("Int64")
    summary["n_labels"] = int(len(out))
    summary["n_errors"] = sum(p.severity == "error" for p in problems)
    summary["n_warnings"] = sum(p.severity == "warning" for p in problems)
    result = ImportResult(labels=out, problems=problems, summary=summary)
    if strict and result.errors:
        first = result.errors[0]
        raise UserError(f"{len(result.errors)} problem(s) in the filled sheets, first: "
                        f"{str(first).removeprefix('error: ')}; fix them or import without "
                        "--strict", folder)
    return result


def recorded_codebook(labels: pd.DataFrame) -> list[str] | None:
    """The codebook :func:`read_sheets` recorded in a labels table, or None if none was recorded.

    >>> recorded_codebook(pd.DataFrame({"allowed_labels": ["pro | anti", "pro | anti"]}))
    ['pro', 'anti']
    """
    if CODEBOOK_COLUMN not in labels.columns:
        return None
    books = [b for b in labels[CODEBOOK_COLUMN].dropna().astype(str).unique() if b.strip()]
    if len(books) > 1:
        raise UserError(f"the labels come from samples with different codebooks "
                        f"({'; '.join(books)}); adjudicate one sample at a time or pass "
                        "--allowed")
    return books[0].split(LABEL_SEPARATOR) if books else None


def problems_table(problems: Sequence[Problem]) -> pd.DataFrame:
    """The problems as a table, one row each (the ``.problems.csv`` of ``annotate import``):
    ``row`` is a whole number, missing where a problem has no row (a missing sheet, a deleted
    post).

    >>> table = problems_table([Problem("sheet-A.csv", 7, "bad label", "suport"),
    ...                         Problem("sheet-B.csv", None, "sheet is missing")])
    >>> table["row"].tolist()
    [7, <NA>]
    """
    frame = pd.DataFrame([p.as_dict() for p in problems],
                         columns=["severity", "sheet", "row", "column", "value", "message"])
    frame["row"] = pd.to_numeric(frame["row"]).astype("Int64")
    return frame


def format_problems(problems: Sequence[Problem]) -> str:
    """One line per problem, errors first."""
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.sheet, p.row or 0))
    return "\n".join(str(p) for p in ordered)


# --- helpers ---------------------------------------------------------------------------------


def _check_allowed(allowed: Sequence[str]) -> list[str]:
    values = [str(v).strip() for v in allowed]
    folded = [v.casefold() for v in values]
    if not values or any(not v for v in values) or len(set(folded)) != len(folded):
        raise UserError("the allowed labels must be distinct and non-empty, e.g. "
                        "--allowed support,criticism,other")
    return values


def _sheet_frame(mine: pd.DataFrame, context: pd.DataFrame, coder: str,
                 allowed: Sequence[str]) -> pd.DataFrame:
    uids = mine["uid"].astype("string").tolist()
    ctx = context.loc[uids]
    sheet = pd.DataFrame({
        "item": range(1, len(uids) + 1),
        "target": [inert(v) for v in ctx["target"]],
        "parent": [inert(v) for v in ctx["parent"]],
        "text": [inert(v) for v in ctx["text"]],
        "label": "",
        "note": "",
        "allowed_labels": LABEL_SEPARATOR.join(allowed),
        "coder": coder,
        "uid": uids,
        "thread_id": ctx["thread_id"].to_numpy(),
        "created_at": ctx["created_at"].to_numpy(),
    })
    return sheet[list(SHEET_COLUMNS)]


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A post's text as a sheet shows it: one that starts like a formula (``=HYPERLINK(...)``,
    ``+cmd|...``) gets a leading apostrophe, which spreadsheets read as "this is text" and do not
    show, so opening a sheet never runs what the public wrote. Import does not read these
    columns back."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _openpyxl():
    try:
        import openpyxl
    except ImportError:
        return None
    return openpyxl


def _write_xlsx(sheet: pd.DataFrame, path: Path, allowed: Sequence[str], coder: str,
                task: str) -> None:
    openpyxl = _openpyxl()
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "coding"
    ws.append(list(sheet.columns))
    changed = {"control": 0, "long": 0}
    for values in sheet.itertuples(index=False):
        ws.append([_xlsx_cell(v, changed) for v in values])
    if changed["control"] or changed["long"]:
        warnings.warn(f"{path.name}: {changed['control']} cell(s) had control characters, shown "
                      f"as U+FFFD, and {changed['long']} text(s) were longer than a spreadsheet "
                      f"cell holds ({XLSX_MAX_CHARS:,} characters) and are cut with a note; CSV "
                      "sheets (--formats csv) show texts as written", stacklevel=3)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # openpyxl takes any "=..." string for a formula
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = {"item": 6, "target": 50, "parent": 50, "text": 60, "label": 14, "note": 30,
              "allowed_labels": 30, "coder": 8, "uid": 28, "thread_id": 22, "created_at": 22}
    for index, name in enumerate(sheet.columns, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        ws.column_dimensions[letter].width = widths.get(name, 15)
        if name in ("target", "parent", "text"):
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    if len(sheet):
        label_col = openpyxl.utils.get_column_letter(list(sheet.columns).index("label") + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                               allow_blank=True, showErrorMessage=True,
                               error="Use one of: " + ", ".join(allowed))
        check.add(f"{label_col}2:{label_col}{len(sheet) + 1}")
        ws.add_data_validation(check)
    info = book.create_sheet("instructions")
    for line in (
        [f"Coding sheet of coder {coder} (task: {task})"],
        ["Fill the 'label' column of the 'coding' sheet with one of:", ", ".join(allowed)],
        ["Use 'note' for anything worth saying. Do not change other columns, rows or the header."],
        ["The 'target' is what the stance is toward; 'parent' is the post the reply answers."],
    ):
        info.append(line)
    book.properties.creator = "analysis annotate sample"
    book.properties.created = _FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_without_times(buffer.getvalue()))


#: The time written into a coding workbook (its properties and its zip entries), so that the same
#: sample gives byte-identical files.
_FIXED_TIME = dt.datetime(2000, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _without_times(workbook: bytes) -> bytes:
    """The XLSX ``workbook`` with the save time openpyxl writes (the ``modified`` property and each
    zip entry's date) replaced by :data:`_FIXED_TIME`."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            target.writestr(zipfile.ZipInfo(entry.filename, _FIXED_TIME.timetuple()[:6]), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


#: Characters an XLSX cell cannot hold: the control characters other than tab, line feed and
#: carriage return (openpyxl refuses them with an error).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Longest text a spreadsheet cell holds (Excel's limit; openpyxl cuts longer ones silently).
XLSX_MAX_CHARS = 32_767


def _xlsx_cell(value: object, changed: dict[str, int]) -> object:
    """:func:`_cell` as an XLSX cell can hold it: control characters replaced by U+FFFD and a
    text too long for a cell cut with a note saying how much is missing (``changed`` counts
    both)."""
    value = _cell(value)
    if not isinstance(value, str):
        return value
    if _XLSX_ILLEGAL.search(value):
        value = _XLSX_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", value)
        changed["control"] += 1
    if len(value) > XLSX_MAX_CHARS:
        keep = XLSX_MAX_CHARS - 100  # room for the note
        value = (value[:keep] + f" [cut here: {len(value) - keep:,} more characters; a "
                 f"spreadsheet cell holds {XLSX_MAX_CHARS:,}]")
        changed["long"] += 1
    return value


def _is_sheet_name(name: str) -> bool:
    return name.startswith(SHEET_PREFIX) and Path(name).suffix.lower() in (".csv", ".xlsx")


def _sheet_files(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and _is_sheet_name(path.name):
            found.setdefault(path.stem[len(SHEET_PREFIX):], []).append(path)
    return found


def _read_assignments(folder: Path) -> dict[str, list[str]]:
    path = folder / ASSIGNMENTS_FILE
    if not path.is_file():
        raise UserError(f"no {ASSIGNMENTS_FILE}: restore it from the sample run", folder)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"uid", "coder"} <= set(frame.columns):
        raise UserError("needs columns uid and coder; restore it from the sample run", path)
    return {c: g["uid"].tolist() for c, g in frame.groupby("coder")}


def _load_sheet(path: Path) -> tuple[pd.DataFrame | None, Problem | None]:
    """The sheet's cells as strings ('' for empty), or a problem if it cannot be read."""
    try:
        if path.suffix.lower() == ".xlsx":
            openpyxl = _openpyxl()
            if openpyxl is None:
                return None, Problem(path.name, None, "openpyxl is not installed: install it to "
                                     "read XLSX sheets, or fill the CSV sheet instead")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                ws = book["coding"] if "coding" in book.sheetnames else book.worksheets[0]
                rows = [["" if v is None else str(v) for v in row]
                        for row in ws.iter_rows(values_only=True)]
            finally:
                book.close()
            if not rows:
                return None, Problem(path.name, None, "the sheet is empty (no header)")
            header = [h.strip() for h in rows[0]]
            check_column_names(header, path)
            body = [r + [""] * (len(header) - len(r)) for r in rows[1:]]
            frame = pd.DataFrame([r[:len(header)] for r in body], columns=header, dtype=object)
        else:
            frame = read_csv_sheet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes a listed problem
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, Problem(path.name, None, f"cannot read the sheet: {first}")
    return frame.fillna(""), None


def read_csv_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV file as saved by a spreadsheet program, cells as strings ('' for empty): UTF-8 (with
    or without BOM) or, failing that, Windows-1252; comma-separated, or semicolon-separated as
    some locales save it. Coding sheets and resolution files are both read with it."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    check_column_names(pd.read_csv(io.StringIO(text), header=None, nrows=1, dtype=str,
                                   keep_default_na=False, sep=sep).iloc[0], path)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_coder(paths: list[Path], coder: str, allowed: dict[str, str],
                assigned: set[str]) -> tuple[pd.DataFrame, list[Problem], str | None]:
    loaded = []
    problems: list[Problem] = []
    unreadable: list[int] = []  # positions in ``problems`` of the sheets that cannot be read
    for path in paths:
        frame, problem = _load_sheet(path)
        if problem is not None:
            unreadable.append(len(problems))
            problems.append(problem)
            continue
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            unreadable.append(len(problems))
            problems.append(Problem(path.name, 1, "header changed: missing column(s) "
                                    f"{', '.join(missing)}; restore the header "
                                    f"({', '.join(SHEET_COLUMNS)})",
                                    ", ".join(frame.columns)))
            continue
        extra = [c for c in frame.columns if c not in SHEET_COLUMNS]
        if extra:
            problems.append(Problem(path.name, 1, f"extra column(s) {', '.join(extra)} are "
                                    "ignored", ", ".join(extra), severity="warning"))
        filled = frame["label"].str.strip() != ""
        loaded.append((path, frame, int(filled.sum())))
    empty = _empty_labels()
    with_labels = [item for item in loaded if item[2] > 0]
    empty.attrs["unreadable"] = [problems[at].sheet for at in unreadable]
    if unreadable and not with_labels:
        # The coder's work may be in the sheet that cannot be read: an untouched twin is not
        # read in its place (it would list every row as not coded, under the wrong file).
        for at in unreadable if loaded else ():
            problems[at] = replace(problems[at], message=problems[at].message + (
                f"; no label of coder {coder!r} is imported until this sheet can be read (the "
                f"untouched {loaded[0][0].name} is not read in its place)"))
        return empty, problems, None
    if not loaded:
        return empty, problems, None
    if len(with_labels) > 1:
        names = ", ".join(p.name for p, _, _ in with_labels)
        problems.append(Problem(with_labels[0][0].name, None, f"labels filled in both {names}; "
                                "keep one (used the one with more labels)", severity="warning"))
    path, frame, _ = max(with_labels or loaded, key=lambda item: (item[2], item[0].suffix))
    for at in unreadable:  # a readable twin has labels: they are imported, and the error says so
        problems[at] = replace(problems[at], message=problems[at].message + (
            f"; its labels are not imported (those of {path.name} are): if the coder's work is "
            "in this sheet, import again once it can be read"))
    rows = []
    seen: dict[str, tuple[int, str]] = {}
    conflicted: set[str] = set()
    mtime = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC").floor("s")
    for offset, record in enumerate(frame.to_dict("records")):
        row = offset + 2
        uid = str(record["uid"]).strip()
        raw = str(record["label"])
        value = raw.strip()
        sheet_coder = str(record["coder"]).strip()
        if not uid and not value and not sheet_coder:
            continue
        if sheet_coder != coder:
            problems.append(Problem(path.name, row, f"coder column says {sheet_coder!r} but this "
                                    f"is the sheet of {coder!r}; row not imported", sheet_coder,
                                    "coder"))
            continue
        if uid not in assigned:
            problems.append(Problem(path.name, row, "uid is not one of this coder's posts (row "
                                    "added or uid edited); row not imported", uid, "uid"))
            continue
        if not value:
            problems.append(Problem(path.name, row, "no label filled in (row left out)", None,
                                    "label", severity="warning"))
            continue
        label = allowed.get(value.casefold())
        if label is None:
            problems.append(Problem(path.name, row, "label is not one of "
                                    f"{', '.join(allowed.values())}; row not imported", raw,
                                    "label"))
            continue
        if uid in seen:
            first_row, first_label = seen[uid]
            if uid in conflicted:
                problems.append(Problem(path.name, row, f"duplicate of row {first_row}; this "
                                        "post has different labels in the sheet, none imported",
                                        uid, "uid"))
            elif first_label == label:
                problems.append(Problem(path.name, row, f"duplicate of row {first_row} (same "
                                        "label); kept once", uid, "uid", severity="warning"))
            else:
                problems.append(Problem(path.name, row, f"duplicate of row {first_row} with a "
                                        f"different label ({first_label!r} vs {label!r}); "
                                        "none imported", uid, "uid"))
                rows = [r for r in rows if r["uid"] != uid]
                conflicted.add(uid)
            continue
        seen[uid] = (row, label)
        rows.append({"uid": uid, "label": label, "labeler_id": coder, "created_at": mtime,
                     "note": str(record.get("note", "")).strip() or None, "sheet": path.name,
                     "sheet_row": row})
    present = set(frame["uid"].str.strip())
    for uid in sorted(assigned - present):
        problems.append(Problem(path.name, None, "assigned post is not in the sheet (row "
                                "deleted?); left out like a row with no label", uid, "uid",
                                severity="warning"))
    out = pd.DataFrame(rows) if rows else empty
    out.attrs["rows"] = len(frame)
    out.attrs["unreadable"] = empty.attrs["unreadable"]
    return out, problems, path.name


def _empty_labels() -> pd.DataFrame:
    return pd.DataFrame({"uid": pd.Series(dtype="string"), "label": pd.Series(dtype="string"),
                         "labeler_id": pd.Series(dtype="string"),
                         "created_at": pd.Series(dtype="datetime64[ns, UTC]"),
                         "note": pd.Series(dtype="string"), "sheet": pd.Series(dtype="string"),
                         "sheet_row": pd.Series(dtype="Int64")})


def _run_id(design: dict) -> str:
    digest = design.get("files_sha256", {}).get(ASSIGNMENTS_FILE, "")
    return f"annotate-{digest[:12]}" if digest else "annotate"
