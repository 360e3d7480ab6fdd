"""Export a posts table for other tools: a CSV that 4CAT can import (``--format 4cat-csv``).

4CAT's CSV import ("Custom/other" in its upload form, ``datasources/custom``) needs the columns
``id``, ``thread_id``, ``author``, ``body`` and ``timestamp`` (best as ``YYYY-MM-DD HH:MM:SS``) and
keeps any other columns after them. The export writes those first, with ``timestamp`` in UTC, then
:data:`FOURCAT_EXTRA_COLUMNS` (``unix_timestamp``, ``parent_id``, ``platform``, ``kind``, counts,
...), so that :mod:`analysis.loaders.fourcat_csv` reads the file back to the same ids, texts and
times (to the second; also times before 1973, whose small ``unix_timestamp`` the loader takes
because ``timestamp`` names the same second).

- ``thread_id`` is the post's thread, else its root, else its own id (4CAT requires one).
- ``author`` is the handle, else the author id (both pseudonymized unless ingest kept them;
  ingesting the file again keeps those pseudonyms, see :mod:`analysis.loaders.pseudonym`).
- ``body`` is the text; an empty text and a null one are both an empty cell, told apart by
  ``text_status`` (null texts are deleted, removed, withheld or unavailable), so the file reads
  back to ``""`` or null as the table had it.
- ``subject`` is the title; ``hashtags`` and ``mentions`` are joined with commas, as 4CAT does;
  ``urls`` is a JSON list (a URL may hold a comma). An empty ``hashtags`` / ``mentions`` list is
  a blank cell (4CAT's own writing), and so is a null list of any of the three: a blank cell
  cannot tell null from empty, and reads back as ``[]``.
- ``root_id``, ``author_handle`` and ``collection_role`` go along, so that the file reads back
  with the same reply trees and with ``context`` rows still apart from the responses; so does
  ``reply_to_author_id`` (the parent's author, which a reply keeps also when its parent is not
  in the table).
- ``created_at_precision`` and ``collected_at`` (ISO 8601) go along, so that relative and day
  times and retrieval times read back; a row without a time (precision ``missing``, an API
  error's) has blank ``timestamp`` cells and reads back as such (4CAT itself skips it).
- Only a posts table written by ``python -m analysis ingest`` is exported: a table without
  :data:`POSTS_TABLE_COLUMNS` (a raw twarc2 file, a 4CAT CSV, any table that merely has ``id``
  and ``created_at``) is refused, since its author ids have not been pseudonymized.
- Texts are written exactly as posted, also those that start like a spreadsheet formula (``=``,
  ``+``, ``-``, ``@``): the file is data for 4CAT, which reads such cells as text, and a leading
  apostrophe (what coding sheets add) would change the posts. A spreadsheet program may run such
  cells as formulas; open the file there only as text.

Examples
--------
>>> posts = pd.DataFrame({"uid": ["reddit:a"], "platform": ["reddit"], "id": ["a"],
...                       "created_at": [pd.Timestamp("2020-10-01 09:00:05", tz="UTC")],
...                       "text": ["hi"], "author_handle": ["h"]})
>>> row = to_4cat(posts).iloc[0]
>>> row["id"], row["thread_id"], row["author"], row["timestamp"], row["unix_timestamp"]
('a', 'a', 'h', '2020-10-01 09:00:05', '1601542805')
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from analysis import schema
from analysis.errors import UserError
from analysis.io import CSV_LINE_END, atomic_path, integer_ids_as_text, read_table
from analysis.progress import progress_bar

#: Columns every posts table written by ``python -m analysis ingest`` has (see
#: :data:`analysis.schema.POSTS`), and raw exports do not: the input must have them all.
POSTS_TABLE_COLUMNS = ("uid", "platform", "id", "kind", "created_at", "created_at_precision",
                       "author_id", "text", "text_status", "collection_role", "source_format")

#: Export formats: name -> file suffix it is written with.
EXPORT_FORMATS = {"4cat-csv": ".csv"}

#: The columns 4CAT's CSV import requires, in its order.
FOURCAT_REQUIRED_COLUMNS = ("id", "thread_id", "author", "body", "timestamp")

#: Further columns written after the required ones.
FOURCAT_EXTRA_COLUMNS = ("unix_timestamp", "parent_id", "subject", "author_id", "platform", "kind",
                         "lang", "like_count", "reply_count", "share_count", "quote_count",
                         "score", "hashtags", "text_status", "uid", "root_id", "author_handle",
                         "mentions", "urls", "collection_role", "reply_to_author_id",
                         "created_at_precision", "collected_at")

#: Line end of the CSV (RFC 4180), as every CSV the project writes: see
#: :data:`analysis.io.CSV_LINE_END`.
LINE_END = CSV_LINE_END

#: Rows converted at a time when streaming a Parquet input.
BATCH_ROWS = 50_000


def _join(value: object) -> str | None:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return None if pd.isna(value) else str(value)


def _json_list(value: object) -> str | None:
    if hasattr(value, "tolist"):
        value = value.tolist()
    return json.dumps(list(value), ensure_ascii=False) if isinstance(value, list | tuple) else None


def to_4cat(posts: pd.DataFrame) -> pd.DataFrame:
    """A posts table as the columns of a 4CAT CSV import (all values strings or null).

    Parameters
    ----------
    posts
        Any frame with (a subset of) the posts-table columns; it is conformed first.

    Returns
    -------
    pandas.DataFrame
        :data:`FOURCAT_REQUIRED_COLUMNS` then :data:`FOURCAT_EXTRA_COLUMNS`; a new frame.
    """
    frame = schema.conform(posts, schema.POSTS)
    created = frame["created_at"]
    out = pd.DataFrame(index=frame.index)
    out["id"] = frame["id"]
    out["thread_id"] = frame["thread_id"].fillna(frame["root_id"]).fillna(frame["id"])
    out["author"] = frame["author_handle"].fillna(frame["author_id"])
    out["body"] = frame["text"]
    out["timestamp"] = created.dt.strftime("%Y-%m-%d %H:%M:%S").astype(schema.STRING)
    seconds = (created - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    out["unix_timestamp"] = seconds.astype("Int64").astype(schema.STRING)
    out["parent_id"] = frame["parent_id"]
    out["subject"] = frame["title"]
    out["author_id"] = frame["author_id"]
    for column in ("platform", "kind", "text_status"):
        out[column] = frame[column].astype("object").where(frame[column].notna(), None)
    out["lang"] = frame["lang"]
    for column in ("like_count", "reply_count", "share_count", "quote_count", "score"):
        out[column] = frame[column].astype(schema.STRING)
    out["hashtags"] = [_join(v) for v in frame["hashtags"]]
    out["uid"] = frame["uid"]
    out["root_id"] = frame["root_id"]
    out["author_handle"] = frame["author_handle"]
    out["mentions"] = [_join(v) for v in frame["mentions"]]
    out["urls"] = [_json_list(v) for v in frame["urls"]]  # a URL may hold a comma
    out["collection_role"] = frame["collection_role"].astype("object").where(
        frame["collection_role"].notna(), None)
    out["reply_to_author_id"] = frame["reply_to_author_id"]
    out["created_at_precision"] = frame["created_at_precision"].astype("object").where(
        frame["created_at_precision"].notna(), None)
    out["collected_at"] = [None if pd.isna(t) else t.isoformat() for t in frame["collected_at"]]
    return out[list(FOURCAT_REQUIRED_COLUMNS + FOURCAT_EXTRA_COLUMNS)].reset_index(drop=True)


def _batches(path: Path) -> tuple[int | None, Iterator[pd.DataFrame]]:
    """The number of rows (None when not known before reading) and the posts table in batches:
    streamed for Parquet, whole for CSV / JSON lines (whose times, lists, booleans and numbers
    are parsed from text, as other commands read them)."""
    if path.suffix.lower() == ".parquet" and path.is_file():
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise UserError(f"cannot read table: {str(exc).splitlines()[0]}", path) from None
        wanted = [c for c in parquet.schema_arrow.names if c in schema.POSTS]
        _check_posts(wanted, path)
        return parquet.metadata.num_rows, _parquet_batches(parquet, wanted)
    return None, _whole(path)


def _parquet_batches(parquet, columns: list[str]) -> Iterator[pd.DataFrame]:
    import pyarrow as pa

    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        table = integer_ids_as_text(pa.Table.from_batches([batch]))
        yield table.to_pandas(ignore_metadata=True)


def _whole(path: Path) -> Iterator[pd.DataFrame]:
    head = _head_columns(path)
    if head is not None:
        _check_posts(head, path)
    frame = read_table(path)
    _check_posts(frame.columns, path)
    try:
        yield schema.parse_text_columns(frame, schema.POSTS)
    except ValueError as exc:
        raise _invalid(exc, path) from None


def _invalid(exc: Exception, path: Path) -> UserError:
    """The one-line error for a table whose values do not fit the posts table's types."""
    return UserError(f"not a valid posts table: {exc}", path)


def _to_4cat_checked(batch: pd.DataFrame, path: Path) -> pd.DataFrame:
    """:func:`to_4cat` of one batch; values outside the posts table's types (a naive time, a
    platform such as 'Reddit') are a :class:`UserError` naming ``path``."""
    try:
        return to_4cat(batch)
    except (TypeError, ValueError) as exc:
        raise _invalid(exc, path) from None


def _check_posts(columns, path: Path) -> None:
    """A :class:`UserError` unless ``columns`` has :data:`POSTS_TABLE_COLUMNS`: a raw export (a
    twarc2 file, a 4CAT CSV, any table with ``id`` and ``created_at``) has not been through
    ingest, and exporting it would write its raw author ids."""
    missing = [name for name in POSTS_TABLE_COLUMNS if name not in set(columns)]
    if missing:
        raise UserError(f"not a posts table (missing columns: {', '.join(missing)}); run "
                        "`python -m analysis ingest` first", path)


def _head_columns(path: Path) -> list[str] | None:
    """The columns of a CSV or JSON-lines table from its first line (None when that line does
    not tell: the whole file is read and checked then), so that a large raw file is refused
    before it is read."""
    suffix = path.suffix.lower()
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline(1 << 20)
    except (OSError, UnicodeDecodeError):
        return None
    if suffix == ".csv":
        return [c.strip() for c in next(csv.reader([first]), [])] or None
    if suffix in (".jsonl", ".ndjson"):
        try:
            record = json.loads(first)
        except ValueError:
            return None
        return list(record) if isinstance(record, dict) else None
    return None


def export_posts(posts_path: str | os.PathLike, output: str | os.PathLike,
                 format: str = "4cat-csv",  # noqa: A002 - mirrors --format
                 *, progress: bool | None = None) -> dict[str, int]:
    """Write a posts table (Parquet, CSV or JSON lines) as a file another tool imports.

    Parameters
    ----------
    posts_path
        A posts table, as written by ``python -m analysis ingest``. In CSV and JSON lines,
        times are ISO 8601 with an offset and lists JSON lists (see
        :func:`analysis.schema.parse_text_columns`).
    output
        The file to write (atomically); it may not be the input, and its suffix must be the
        format's (``.csv`` for ``4cat-csv``).
    format
        One of :data:`EXPORT_FORMATS`.
    progress
        A progress bar over the rows written (of a Parquet input, read in batches) on stderr:
        ``None``, when stderr is a terminal; ``False``, never (see
        :func:`analysis.progress.progress_bar`).

    Returns
    -------
    dict
        ``rows`` written and ``rows_without_time`` (4CAT skips rows without a timestamp).

    Raises
    ------
    UserError
        For a file that is not a posts table, or whose values do not fit its types (naive
        times, a platform or kind outside the schema's, an id that may have been rounded), and
        for an output whose suffix is not the format's.
    """
    if format not in EXPORT_FORMATS:
        raise UserError(f"unknown export --format {format!r}; use one of "
                        f"{', '.join(EXPORT_FORMATS)}")
    suffix = EXPORT_FORMATS[format]
    if Path(output).suffix.lower() != suffix:
        raise UserError(f"{format} writes a {suffix} file; give -o a name ending in {suffix}",
                        output)
    source = Path(posts_path)
    if not source.is_file():
        raise UserError("no such file", source)
    counts = {"rows": 0, "rows_without_time": 0}
    with atomic_path(output, overwrite_guard=[source]) as tmp, \
            open(tmp, "w", encoding="utf-8", newline="") as handle:
        total, batches = _batches(source)
        header = True
        with progress_bar(total=total, unit=" rows", desc="export",
                          progress=False if total is None else progress) as bar:
            for batch in batches:
                table = _to_4cat_checked(batch, source)
                table.to_csv(handle, index=False, header=header, lineterminator=LINE_END)
                header = False
                counts["rows"] += len(table)
                counts["rows_without_time"] += int(table["timestamp"].isna().sum())
                if bar is not None:
                    bar.update(len(table))
        if header:  # no batch at all: still write the header
            to_4cat(schema.empty(schema.POSTS)).to_csv(handle, index=False,
                                                        lineterminator=LINE_END)
    return counts
