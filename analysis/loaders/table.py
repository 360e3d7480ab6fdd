"""Any table: CSV (or TSV), JSON lines or Parquet, with a column mapping (formats ``csv``,
``jsonl``, ``parquet``).

Columns named like posts-table fields (:data:`MAPPABLE`: ``id``, ``created_at``, ``text``,
``parent_id``, ...) are taken as they are, ``root_id`` and ``reply_to_author_id`` too, so that a
posts table ingested again keeps the reply trees and reply-to authors its first loader gave;
``--map`` (``LoadOptions.field_map``: posts field -> input column) names the others, e.g.
``--map text=message,created_at=date,id=post_id``. In JSON lines a mapped column may
be a dotted path into nested objects (``author_handle=user.screen_name``).

Rules:

- ``id`` and ``created_at`` are required: a record without them is rejected, except that a row
  whose ``created_at_precision`` is ``missing`` (an API error or withheld post in a posts table
  written by ingest) keeps its null time. A mapping that names
  a column the file does not have is a one-line error (CSV and Parquet, whose columns are known).
  JSON lines name their columns record by record: a mapped column or dotted path that no record
  of a file has gives that file one warning once it is read
  (:class:`UnfoundColumnWarning`, e.g. ``--map text=mesage: no record has these``); its field
  is null in every row.
- Times: ISO-8601, epoch seconds, or the file's own timestamp type, read by
  :func:`analysis.loaders.base.parse_time`. Naive times are localized to ``--tz``
  (``LoadOptions.tz``); without it such a record is rejected, saying to pass ``--tz``.
  A date without a time of day (``2020-09-30``, ``30/09/2020``, ``Sep 30 2020``) gets
  ``created_at_precision = "day"``. Rejected, with the reason: numbers before 1973 as epoch
  seconds (``20200930``, ``2020``, spreadsheet serials), day/month dates that read both ways
  (``09/10/2020``), two-digit years, a month or year without a day (``2020-09``, ``Sep 2020``),
  and ``now`` / ``today`` / ``yesterday`` / ``tomorrow``.
- ``platform``: ``--platform`` (``LoadOptions.platform``) if given, else a ``platform`` column,
  else ``other``; it must be one of :data:`analysis.schema.PLATFORMS`.
- Reply trees: ``parent_id``, ``root_id`` and ``thread_id`` from their columns. In a table
  without parent information (no ``parent_id`` column and none mapped; in JSON lines, a record
  without that key), a row whose ``thread_id`` is not its own ``id`` answers the thread's root:
  ``parent_id`` and ``root_id`` are the ``thread_id`` (a ``root_id`` column's value is kept
  unless null or the row's own id), as the 4cat-csv, youtube-comments, instaloader and
  zeeschuimer loaders take comments without a parent. So a comment table mapped with
  ``--map thread_id=COLUMN`` gives replies (``depth`` 1, counted as responses) whose root is
  the post, also when the post is not a row (:func:`analysis.loaders.threads.add_threads`:
  a known root); ``author_is_op`` comes from the post's author when the post is a row, else
  null. A reply to a reply is then filed under the root too: map ``parent_id`` where the
  table has it. A row whose ``id`` is its ``thread_id``, or without a ``thread_id``, is a
  root; so is a row whose parent cell is there but empty. A row with a parent and a
  ``thread_id`` but no ``root_id`` (no column, or an empty cell) takes the ``thread_id`` as its
  root, the post the thread belongs to: in a table of comments with their parents (top-level
  comments name the post), a chain that reaches a reply to that post is whole, with its depth,
  though the post is not a row.
- ``kind``: a ``kind`` column, else ``reply`` when there is a parent and ``post`` otherwise.
- ``text`` is kept as written: an empty cell of a ``text`` column (CSV), ``""`` (JSON lines,
  Parquet) is an empty text (``""``, ``text_status`` ok); null, NaN or a missing key is a text
  that is not there (null, ``unavailable``). An empty text whose ``text_status`` column says
  ``deleted``, ``removed``, ``withheld`` or ``unavailable`` is null (a posts table written as
  CSV leaves such texts empty). Other string fields read an empty value as null.
- Counts (``like_count``, ``reply_count``, ``share_count``, ``quote_count``, ``score``) are read
  by :func:`analysis.loaders.counts.parse_count`: whole numbers (``12``, ``3.0``), thousands
  separators (``1,234``) and abbreviations (``1.2K`` -> 1200, ``3M``); only ``score`` may be
  below zero. An empty cell is null; a value that is no count (``lots``, ``1.5``, ``-3`` as a
  like count, a number too large for 64 bits) is null too, and the file gets one warning with
  how many per field (:class:`analysis.loaders.counts.UnreadableCountWarning`): the record is
  kept.
- ``hashtags`` / ``mentions`` / ``urls`` may be
  lists, JSON lists, lists as pandas writes them to CSV (``['a', 'b']``, ``['a' 'b']``) or
  strings separated by commas or spaces (a leading ``#`` / ``@`` is dropped).
- Authors: ``author_id``, ``author_handle``, ``reply_to_author_id`` and ``mentions`` are
  pseudonymized by ingest unless ``--keep-authors``; values that already are pseudonyms (a table
  pseudonymized before) stay as they are (:mod:`analysis.loaders.pseudonym`).
- Ids (:data:`ID_FIELDS`: ``id``, ``thread_id``, ``parent_id``, ``root_id``, ``author_id``,
  ``reply_to_author_id``) are text. A whole-number float (JSON lines, Parquet) is its digits
  (``100.0`` -> ``100``); one of 2**53 or more may have been rounded, so its record is rejected.
  In CSV, a column of ids that pandas wrote as floats (ids beside nulls come out as ``100.0``,
  large ones as ``1.3772666978502574e+18``) is read the same way, but only when *every*
  non-empty value of that column in the file is such a float (``<digits>.0`` or scientific
  notation): ``100.0`` beside ``abc`` stays ``100.0``. Deciding this reads the id columns once
  before the records, stopping at the first value of another form.
- JSON lines may also be one JSON array of records (``[{...}, {...}]``), read element by element.
- CSV: comma, semicolon, tab or pipe separated (guessed from the header line by
  :func:`guess_delimiter`), with lines ended by LF, CRLF or a lone CR (old Mac Excel), read
  record by record (the ``csv`` module over a decompressing stream); Parquet batch by batch;
  JSON lines line by line: memory stays flat whatever the file size. A quoted field may hold
  line ends; a quote opened and never closed (a record that does not read under strict quoting,
  has the wrong field count, or runs over :data:`MAX_RECORD_LINES` lines) rejects its first line
  only, and the lines after it are read again as records. ``source_line`` is the line a CSV record
  starts on, the line of a JSON record, or the 1-based row of a Parquet file.

One module serves the three formats; :func:`detect_format` tells them apart by content (Parquet's
``PAR1`` magic) and suffix, so :func:`read` does the right thing whichever of the three names
was chosen.

Examples
--------
>>> columns = resolve_columns(["post_id", "date", "message"],
...                           {"id": "post_id", "created_at": "date", "text": "message"})
>>> row = row_from_record({"post_id": "7", "date": "2020-10-01 09:00", "message": "hi"},
...                       columns, tz="Europe/Amsterdam")
>>> row["uid"], str(row["created_at"]), row["kind"]
('other:7', '2020-10-01 07:00:00+00:00', 'post')
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime as dt
import io
import json
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

from analysis.errors import UserError
from analysis.io import check_column_names
from analysis.loaders.base import (
    CSV_NOT_UTF8,
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    NOT_UTF8,
    UTF8_BOM,
    LoadOptions,
    Reject,
    in_time_range,
    iter_json_array,
    iter_json_lines,
    json_type,
    make_uid,
    open_binary,
    parse_time_with_precision,
    shown,
    snippet,
    without_line_marks,
)
from analysis.loaders.counts import CountNotes
from analysis.loaders.reddit import account, marked_text
from analysis.schema import (
    COLLECTION_ROLES,
    KINDS,
    PLATFORMS,
    POSTS,
    TEXT_STATUSES,
    TIME_PRECISIONS,
    id_text,
    text_list,
)

FORMATS = ("csv", "jsonl", "parquet")

#: Fields every record must have.
REQUIRED = ("id", "created_at")

#: Posts-table fields a mapping may fill (the rest are set by the loader or by ingest).
MAPPABLE = ("platform", "id", "kind", "thread_id", "parent_id", "root_id", "created_at",
            "created_at_precision", "collected_at", "author_id", "author_handle",
            "reply_to_author_id", "text", "title", "text_status", "lang", "like_count",
            "reply_count", "share_count", "quote_count", "score", "hashtags", "mentions", "urls",
            "collection_role")

#: Fields holding ids of posts (what reply trees are built from) and of authors (what pseudonyms
#: and reply-to-author links are made from).
ID_FIELDS = ("id", "thread_id", "parent_id", "root_id", "author_id", "reply_to_author_id")
#: Text fields taken as strings.
STRING_FIELDS = ("thread_id", "parent_id", "root_id", "author_id", "author_handle",
                 "reply_to_author_id", "text", "title", "lang")
COUNT_FIELDS = ("like_count", "reply_count", "share_count", "quote_count", "score")
LIST_FIELDS = {"hashtags": "#", "mentions": "@", "urls": ""}
#: Category fields and their allowed values.
CHOICE_FIELDS = {"kind": KINDS, "created_at_precision": TIME_PRECISIONS,
                 "text_status": TEXT_STATUSES, "collection_role": COLLECTION_ROLES}

#: Every optional field a row carries, null until a column fills it.
_EMPTY_ROW = dict.fromkeys(STRING_FIELDS + COUNT_FIELDS + tuple(LIST_FIELDS) + ("collected_at",))

DEFAULT_PLATFORM = "other"
PARQUET_MAGIC = b"PAR1"
PARQUET_BATCH_ROWS = 65_536
#: CSV fields may be long (a post with its quoted thread); the csv module's default is 128 KiB.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
#: Lines one CSV record may span (a quoted text with line ends); a quoted field that runs on
#: longer is taken for a quote opened and never closed (see :func:`iter_csv`). Texts of the
#: platforms read here are at most 40,000 characters (a Reddit self post), so far fewer lines.
MAX_RECORD_LINES = 10_000

_COMPRESSION = (".gz", ".bz2", ".xz", ".zst")
_LIST_SPLIT = re.compile(r"[,\s]+")
#: A line end: ``\r\n``, ``\n`` or a lone ``\r`` (old Mac Excel).
_LINE_END = re.compile(rb"\r\n?|\n")
#: The start of a JSON array, up to its first element.
_ARRAY_START = re.compile(r"\s*\[\s*")
#: How pandas writes a whole-number float to CSV (an integer id column with nulls): ``100.0``, or
#: in scientific notation from 1e16 on (``1.3772666978502574e+18``, already rounded).
_FLOAT_RENDERING = re.compile(r"\d+\.0|\d(?:\.\d+)?[eE]\+?\d+")


def _suffix(path: Path) -> str:
    """The file's type suffix, under any compression suffix (``a.csv.gz`` -> ``.csv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def detect_format(path: Path, head: bytes) -> str:
    """``csv``, ``jsonl`` or ``parquet`` for a file, from its magic bytes and suffix; without a
    known suffix, JSON lines when the first record (past the marks a JSON-lines reader drops,
    :func:`~analysis.loaders.base.without_line_marks`) starts with ``{``.

    Examples
    --------
    >>> detect_format(Path("x.bin"), b"PAR1...."), detect_format(Path("x.ndjson.gz"), b"")
    ('parquet', 'jsonl')
    >>> detect_format(Path("export"), b'  {"id": 1}'), detect_format(Path("x.tsv"), b"")
    ('jsonl', 'csv')
    """
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    suffix = _suffix(Path(path))
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    return "jsonl" if without_line_marks(head).lstrip()[:1] == b"{" else "csv"


def sniff(path: Path, head: bytes) -> bool:
    r"""Whether a file is a table in the posts schema: Parquet, or CSV / JSON lines whose columns
    are all posts-table fields and include ``id`` and ``created_at``.

    The columns are those of the CSV header line (ended by ``\n``, ``\r\n`` or a lone ``\r``,
    split on the delimiter :func:`guess_delimiter` finds, as the CSV reader splits it), of the
    first JSON line, or of the first record of a JSON array (as
    ``DataFrame.to_json(orient="records")`` writes it, indented or not). Conservative on
    purpose: tables with other column names need ``--format`` and ``--map``, and a line of
    prose is no header.

    Examples
    --------
    >>> sniff(Path("x.csv"), b"id;created_at;text\r1;2020-10-01T10:00:00Z;hi\r")
    True
    >>> sniff(Path("x.json"), b'[\n  {\n    "id": 1,\n    "created_at": "2020"\n  }\n]')
    True
    >>> sniff(Path("notes.txt"), b"id, as said; created_at was late, the text too\n")
    False
    """
    kind = detect_format(path, head)
    if kind == "parquet":
        return head.startswith(PARQUET_MAGIC)
    body = head.removeprefix(UTF8_BOM)
    if kind == "jsonl" and body.lstrip()[:1] == b"[":
        record = _first_array_element(body)
        keys = set(record) if isinstance(record, dict) else set()
        return set(REQUIRED) <= keys <= set(POSTS)
    first = first_line(body).strip()
    if not first:
        return False
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if kind == "jsonl":
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return False
        keys = set(record) if isinstance(record, dict) else set()
    else:  # empty header cells (a spreadsheet's after the last column) name no column
        keys = set(header_columns(path, head)) - {""}
    return set(REQUIRED) <= keys <= set(POSTS)


def header_columns(path: Path, head: bytes) -> list[str]:
    r"""The column names of a CSV file's header line, as :func:`iter_csv` reads them: the first
    line of ``head`` (after a byte order mark; any line end), split on the delimiter
    :func:`guess_delimiter` finds, spaces around each name dropped; [] when it is no UTF-8 text.

    >>> header_columns(Path("x.csv"), b"\xef\xbb\xbfid; created_at;body\r1;2;3\r")
    ['id', 'created_at', 'body']
    """
    try:
        text = first_line(head.removeprefix(UTF8_BOM)).decode("utf-8")
    except UnicodeDecodeError:
        return []
    try:
        names = next(csv.reader([text], delimiter=guess_delimiter(path, head)), [])
    except csv.Error:
        return []
    return [name.strip() for name in names]


def _first_array_element(head: bytes) -> object:
    """The first element of the JSON array that ``head`` starts with, or None when ``head``
    does not hold it whole (or it is no JSON).

    Examples
    --------
    >>> _first_array_element(b' [ {"id": 1}, {"id": 2'), _first_array_element(b'[{"id": 1')
    ({'id': 1}, None)
    """
    try:
        # not final: a character cut by the end of the head is left out, bad UTF-8 raises
        text = codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return None
    start = _ARRAY_START.match(text)
    if start is None:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, start.end())[0]
    except (json.JSONDecodeError, RecursionError):
        return None


def resolve_columns(columns: Sequence[str] | None, field_map: Mapping[str, str],
                    path: Path | None = None) -> dict:
    """Posts field -> input column: same-named columns, overridden by ``field_map``.

    Parameters
    ----------
    columns
        The file's columns, or ``None`` when not known up front (JSON lines).
    field_map
        ``--map`` as a dict (posts field -> input column).
    path
        The file, named in errors.

    Raises
    ------
    UserError
        For a field that cannot be mapped, or (when ``columns`` is known) a mapped column the file
        does not have or a required field without a column.
    """
    unknown = [f for f in field_map if f not in MAPPABLE]
    if unknown:
        raise UserError(f"--map names unknown field(s) {', '.join(sorted(unknown))}; fields are "
                        f"{', '.join(MAPPABLE)}", path)
    resolved = {f: f for f in MAPPABLE if columns is None or f in columns}
    resolved.update(field_map)
    if columns is not None:
        have = set(columns)
        missing = [c for c in field_map.values() if c not in have]
        if missing:
            shown = ", ".join(list(columns)[:30])
            raise UserError(f"--map names column(s) {', '.join(missing)} that the file does not "
                            f"have; its columns are: {shown}", path)
        absent = [f for f in REQUIRED if resolved.get(f) not in have]
        if absent:
            raise UserError(f"no column for {', '.join(absent)}; map one with --map "
                            f"{absent[0]}=COLUMN (columns: {', '.join(list(columns)[:30])})", path)
    return resolved


_ABSENT = object()


def _find(record: Mapping, column: str) -> object:
    """The value of ``column`` in ``record`` (a key, else a dotted path into nested objects),
    or :data:`_ABSENT` when the record has no such key or path (a null value is there)."""
    if column in record:
        return record[column]
    if "." in column:
        value: object = record
        for part in column.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return _ABSENT
            value = value[part]
        return value
    return _ABSENT


def _lookup(record: Mapping, column: str) -> object:
    value = _find(record, column)
    return None if value is _ABSENT else value


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_id(value: object, field: str) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"bad id: {field} {shown(value)} is not an id")
    if isinstance(value, float) and value.is_integer():
        try:
            return id_text(value, field)
        except ValueError as exc:  # 2**53 or more: it may have been rounded
            raise ValueError(f"bad id: {exc}") from None
    if isinstance(value, str | int):
        return str(value).strip()
    raise ValueError(f"bad id: {field} {shown(value)} is not an id")


def as_text(value: object) -> str | None:
    """A text as written: ``""`` for an empty one (an empty CSV cell in a text column); ``None``
    only for a value that is not there (null, NaN).

    Examples
    --------
    >>> as_text(""), as_text(" so sorry "), as_text(None), as_text(float("nan"))
    ('', ' so sorry ', None, None)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def text_for_status(text: str | None, status: str) -> str | None:
    """``text``, or ``None`` when it is empty and ``status`` says the text is not there
    (``deleted``, ``removed``, ``withheld``, ``unavailable``): a table cannot write null apart
    from an empty text, so the status tells them apart. A text of spaces is kept as written.

    Examples
    --------
    >>> text_for_status("", "ok"), text_for_status("", "deleted"), text_for_status(" ", "withheld")
    ('', None, ' ')
    """
    return None if status != "ok" and text == "" else text


def _bracketed(text: str) -> object:
    """A list written in brackets: a JSON list, or the Python / NumPy form that pandas writes to
    CSV (``['a', 'b']``, ``['a' 'b']``; read as :func:`analysis.schema.parse_text_columns` reads
    it); else the text between the brackets, to be split.

    Examples
    --------
    >>> _bracketed('["a", "b"]'), _bracketed("['a' 'b, c']"), _bracketed("[a, b]")
    (['a', 'b'], ['a', 'b, c'], 'a, b')
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    inner = text.strip("[]")
    if inner.lstrip()[:1] in ("'", '"'):
        try:
            return text_list(text, "list")
        except ValueError:
            pass
    return inner


def as_list(value: object, prefix: str) -> list[str] | None:
    """A list of strings from a table's value: a list (or array), a JSON list, the Python /
    NumPy form pandas writes to CSV, or a string of items separated by commas or spaces; a
    leading ``prefix`` (``#``, ``@``) is dropped from each item. ``None`` for a missing value.

    Examples
    --------
    >>> as_list("['#Obama', 'Soros']", "#"), as_list("#a, #b c", "#"), as_list("[]", "")
    (['Obama', 'Soros'], ['a', 'b', 'c'], [])
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _bracketed(text)
        if isinstance(value, str):
            value = _LIST_SPLIT.split(value)
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        return [str(value)]
    out = []
    for item in value:
        if is_missing(item):
            continue
        token = str(item).strip()
        if prefix and token.startswith(prefix):
            token = token[len(prefix):]
        if token:
            out.append(token)
    return out


def _as_time(value: object, field: str, tz: str | None) -> tuple[pd.Timestamp | None, bool]:
    """The time and whether it was a bare date: a day without a time of day (``2020-09-30``,
    ``30/09/2020``, ``Sep 30 2020``, a date value).

    Times are read by :func:`~analysis.loaders.base.parse_time_with_precision`, which refuses
    values that would give a wrong time (numbers before 1973, dates whose day and month read both
    ways, a month or year without a day, ``now``); the :class:`ValueError` says why, as a reject
    reason starting ``bad time:`` (or ``naive time:``).
    """
    if is_missing(value):
        return None, False
    if isinstance(value, str) and "-" in value[:10]:
        # fast path for ISO-8601 with an offset (the common case; it always has a time of day);
        # everything else goes through parse_time, so naive and unusual strings keep its rules
        # and messages
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            try:
                return in_time_range(pd.Timestamp(parsed).tz_convert("UTC"), value), False
            except ValueError as exc:
                raise ValueError(f"bad time: {field} ({exc})") from None
    try:
        stamp, precision = parse_time_with_precision(value, tz=tz)
    except ValueError as exc:
        if "naive" in str(exc):
            raise ValueError(f"naive time: {field} {value!r} has no time zone; pass --tz ZONE "
                             "(e.g. --tz UTC)") from None
        raise ValueError(f"bad time: {field} {shown(value)} ({exc})") from None
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"bad time: {field} {shown(value)} ({exc})") from None
    if stamp is pd.NaT:
        raise ValueError(f"bad time: {field} {shown(value)} is not a time")
    return stamp, precision == "day"


def answers_thread(record: Mapping, columns: Mapping[str, str], row: Mapping) -> bool:
    """Whether a row, read without parent information, answers the root of its thread: it
    names a ``thread_id`` other than its own ``id``, and its record has no parent column (the
    file has none and none is mapped; in JSON lines, the record has no such key or path).

    A parent column that is there but empty says the row has no parent: it stays a root.

    Examples
    --------
    >>> columns = resolve_columns(["id", "thread_id", "created_at"], {})
    >>> answers_thread({}, columns, {"id": "c1", "thread_id": "P9", "parent_id": None})
    True
    >>> answers_thread({}, columns, {"id": "P9", "thread_id": "P9", "parent_id": None})
    False
    >>> with_parent = resolve_columns(["id", "thread_id", "parent_id", "created_at"], {})
    >>> answers_thread({"parent_id": ""}, with_parent,
    ...                {"id": "c1", "thread_id": "P9", "parent_id": None})
    False
    """
    thread = row.get("thread_id")
    if thread is None or thread == row.get("id") or row.get("parent_id") is not None:
        return False
    column = columns.get("parent_id")
    return column is None or _find(record, column) is _ABSENT


def thread_root(row: Mapping) -> str | None:
    """The root a row read from a table names: its ``root_id``, else, for a row with a parent,
    its ``thread_id`` (the post the thread belongs to: a known root that need not be a row, see
    :func:`analysis.loaders.threads.via_known_root`). A row with a parent is not its own root.

    Examples
    --------
    >>> thread_root({"id": "c2", "parent_id": "c1", "thread_id": "P9", "root_id": None})
    'P9'
    >>> thread_root({"id": "c2", "parent_id": "c1", "thread_id": "P9", "root_id": "R0"})
    'R0'
    >>> thread_root({"id": "P9", "parent_id": None, "thread_id": "P9", "root_id": None}) is None
    True
    """
    post_id, root, thread = row["id"], row["root_id"], row["thread_id"]
    if row["parent_id"] is None or root not in (None, post_id) or thread == post_id:
        return root
    return thread


def _says_missing(precision: object) -> bool:
    """Whether a ``created_at_precision`` value is ``missing``: a row of a posts table that has
    no time by design (an API error, a withheld post), which keeps its null time."""
    return isinstance(precision, str) and precision.strip().lower() == "missing"


def row_from_record(record: Mapping, columns: Mapping[str, str], *, platform: str | None = None,
                    tz: str | None = None, source_format: str = "csv",
                    notes: CountNotes | None = None) -> dict:
    """Map one record of a table to a posts-table row.

    Parameters
    ----------
    record
        Column -> value (strings from CSV; any JSON or Arrow value otherwise).
    columns
        Posts field -> column, from :func:`resolve_columns`.
    platform
        The platform of every record (``--platform``); else the ``platform`` column, else
        ``other``.
    tz
        Time zone for naive times.
    source_format
        ``csv``, ``jsonl`` or ``parquet``.
    notes
        Where to count the count values that are no count (null in the row); without it they
        are null without a note.

    Raises
    ------
    ValueError
        When the record lacks its id or time, has a naive time without ``tz``, or has a value
        outside a category; the message is a reject reason.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"wrong shape: not a record (JSON object) but a JSON {json_type(record)}")

    def get(field: str) -> object:
        column = columns.get(field)
        return None if column is None else _lookup(record, column)

    post_id = _as_id(get("id"), "id")
    if post_id is None:
        raise ValueError(f"missing id: record has no id (column {columns.get('id', 'id')!r}; "
                         "map one with --map id=COLUMN)")
    created_at, is_date = _as_time(get("created_at"), "created_at", tz)
    if created_at is None and not _says_missing(get("created_at_precision")
                                                if "created_at_precision" in columns else None):
        raise ValueError(f"missing time: record has no created_at (column "
                         f"{columns.get('created_at', 'created_at')!r}; map one with "
                         "--map created_at=COLUMN)")
    if platform:
        plat = platform
    else:
        value = get("platform")
        plat = DEFAULT_PLATFORM if is_missing(value) else str(value).strip().lower()
    if plat not in PLATFORMS:
        raise ValueError(f"unknown platform: {plat!r} is not one of {', '.join(PLATFORMS)}")
    row = dict(_EMPTY_ROW)
    row.update(platform=plat, id=post_id, uid=make_uid(plat, post_id), created_at=created_at)
    for field in STRING_FIELDS:
        if field not in columns:
            continue
        value = get(field)
        if field in ID_FIELDS:
            row[field] = _as_id(value, field)
        elif field == "text":
            row[field] = as_text(value)
        else:
            row[field] = None if is_missing(value) else str(value)
    if answers_thread(record, columns, row):
        # no parent information: the row answers its thread's root, a known root that need
        # not be a row (see threads.via_known_root), as 4cat-csv, youtube-comments,
        # instaloader and zeeschuimer take comments without a parent
        row["parent_id"] = row["thread_id"]
    row["root_id"] = thread_root(row)
    if "collected_at" in columns:
        row["collected_at"] = _as_time(get("collected_at"), "collected_at", tz)[0]
    notes = CountNotes() if notes is None else notes
    for field in COUNT_FIELDS:
        if field in columns:
            row[field] = notes.read(get(field), field)
    for field, prefix in LIST_FIELDS.items():
        if field in columns:
            row[field] = as_list(get(field), prefix)
    defaults = {
        # an API error's row (no time) has no kind
        "kind": None if created_at is None else "reply" if row["parent_id"] else "post",
        "created_at_precision": "day" if is_date else "second",
        "text_status": "ok" if row["text"] is not None else "unavailable",
        "collection_role": "matched",
    }
    if plat == "reddit":  # Reddit's markers of a deleted text or account, as its loaders read them
        status = get("text_status") if "text_status" in columns else None
        row["text"], marked = marked_text(row["text"], None if is_missing(status) else str(status))
        row["author_id"], row["author_handle"] = map(account, (row["author_id"],
                                                               row["author_handle"]))
        defaults["text_status"] = marked or defaults["text_status"]
    for field, allowed in CHOICE_FIELDS.items():
        value = get(field) if field in columns else None
        if is_missing(value):
            row[field] = defaults[field]
            continue
        text = str(value).strip().lower()
        if text not in allowed:
            raise ValueError(f"bad {field}: {value!r} is not one of {', '.join(allowed)}")
        row[field] = text
    row["text"] = text_for_status(row["text"], row["text_status"])
    row["source_format"] = source_format
    row["loader_version"] = LOADER_VERSION
    return row


#: Delimiters tried on a CSV header line, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")


def first_line(data: bytes) -> bytes:
    r"""The first line of ``data``, whichever line end ends it: ``\n``, ``\r\n`` or a lone
    ``\r`` (spreadsheets saved by old Mac Excel), as the CSV reader breaks lines.

    Examples
    --------
    >>> first_line(b"a;b\rc;d\r"), first_line(b"a,b\r\nc,d"), first_line(b"a\tb")
    (b'a;b', b'a,b', b'a\tb')
    """
    return _LINE_END.split(data, maxsplit=1)[0]


def guess_delimiter(path: Path, head: bytes | None = None) -> str:
    r"""The delimiter of a CSV file: tab for ``.tsv``, else the candidate of :data:`DELIMITERS`
    that occurs most often (outside quotes) in the header line; ``,`` when none does.

    The header line is the first line of ``head`` (the file's first bytes, decompressed) when
    given, else read from ``path``; any line end ends it (:func:`first_line`).

    Examples
    --------
    >>> guess_delimiter(Path("x.csv"), b"id;created_at;text\r1;2020;a, b, c\r")
    ';'
    >>> guess_delimiter(Path("x.txt"), b"id\tcreated_at\n"), guess_delimiter(Path("x.csv"), b"id")
    ('\t', ',')
    """
    if _suffix(path) == ".tsv":
        return "\t"
    if head is None:
        try:
            with open_binary(path) as handle:
                head = handle.readline(1 << 16)
        except DECOMPRESSION_ERRORS:
            return ","
    first = first_line(head.removeprefix(UTF8_BOM))
    text = re.sub(r'"[^"]*"', "", first.decode("utf-8", errors="replace"))
    counts = {d: text.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _text_stream(path: Path) -> io.TextIOWrapper:
    # surrogateescape keeps reading past bad bytes; records holding them are rejected one by one.
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="surrogateescape",
                            newline="")


def _csv_records(handle: io.TextIOWrapper, delimiter: str
                 ) -> Iterator[tuple[int, list[str] | None, str | None, list[str]]]:
    """The records of a CSV text stream: ``(start_line, fields, problem, lines)``, with
    ``fields`` None and ``problem`` a reject reason for a record that cannot be read.

    Quoting is strict: a closing quote is followed by the delimiter or the line end, and the
    file does not end inside quotes (``"a"b`` is a bad record, not the text ``ab``). A record
    over several lines (a quoted field holding line ends) is taken only when it reads so, has as
    many fields as the header (the first record) and spans at most :data:`MAX_RECORD_LINES`
    lines. Otherwise its quote was opened and never closed: its first line is rejected and the
    lines after it are read again as records, so an unclosed quote costs one record, not the
    rest of the file. Memory stays within :data:`MAX_RECORD_LINES` lines.
    """
    source = iter(handle)
    pending: collections.deque[str] = collections.deque()  # lines to read again
    taken: list[str] = []  # the lines of the record being read
    limited = False
    done = 0  # lines read into records so far
    width: int | None = None

    def feed() -> Iterator[str]:
        # a new feed follows every resync, which is when lines are put back: read those first
        nonlocal limited
        most = MAX_RECORD_LINES
        append = taken.append
        while pending:
            append(pending.popleft())
            if len(taken) > most:
                limited = True
                return
            yield taken[-1]
        for line in source:
            append(line)
            if len(taken) > most:
                limited = True
                return
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    while True:
        taken.clear()
        limited = False
        start = done + 1
        problem = None
        at_end = False  # the file ends inside a quoted field
        try:
            fields = next(reader)
        except StopIteration:
            if not limited:
                return
            fields = None
        except csv.Error as exc:
            fields = None
            at_end = str(exc) == "unexpected end of data"
            problem = "the file ends inside a quoted field" if at_end else f"bad CSV: {exc}"
        if limited:
            problem = f"a quoted field runs on over more than {MAX_RECORD_LINES} lines"
        elif (fields is not None and len(taken) > 1 and width is not None
              and len(fields) != width):
            problem = (f"a quoted field runs over {len(taken)} lines into a record of "
                       f"{len(fields)} fields, the header has {width}")
        if problem is not None:
            if len(taken) > 1:  # the quote opened on the first line: read the others again
                pending.extendleft(reversed(taken[1:]))
                yield (start, None, f"unclosed quote: {problem}; this line is rejected and "
                       "the lines after it are read again", taken[:1])
                done += 1
            else:
                if at_end:
                    problem = f"unclosed quote: {problem}"
                yield start, None, problem, list(taken)
                done += len(taken)
            reader = csv.reader(feed(), delimiter=delimiter, strict=True)
            continue
        done += len(taken)
        if width is None and fields and any(f.strip() for f in fields):
            width = len(fields)
        yield start, fields, None, taken


def iter_csv(path: Path, *, delimiter: str | None = None
             ) -> Iterator[list[str] | tuple[int, dict[str, str]] | Reject]:
    """Stream a CSV file: first its header (a list), then ``(start_line, record)`` or a Reject.

    Records with bad UTF-8 or a field count different from the header's are rejected; a
    ``csv.Error`` rejects the record it happens in and reading goes on. A quote that is opened
    and never closed rejects the line it is on, and the lines after it are read as records
    (see :func:`_csv_records`).
    """
    name = str(path)
    if delimiter is None:
        delimiter = guess_delimiter(path)
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    try:
        with _text_stream(path) as handle:
            header, records, unnamed, lost = None, False, [], 0
            for start, fields, problem, lines in _csv_records(handle, delimiter):
                if fields is None:
                    raw_lines = "".join(lines).encode("utf-8", "surrogateescape")
                    yield Reject(name, start, problem or "bad CSV", snippet(raw_lines))
                    if header is None:
                        return
                    continue
                if header is None:
                    if not any(f.strip() for f in fields):
                        continue
                    header = [f.strip() for f in fields]
                    if any(NOT_UTF8.search(f) for f in header):
                        raise UserError("the CSV header is not valid UTF-8 (is this a CSV "
                                        "file? pass the right --format)", path)
                    check_column_names(header, path)
                    unnamed = [i for i, column in enumerate(header) if not column]
                    yield header
                    continue
                if not any(f.strip() for f in fields):  # a blank line, or a row of empty cells
                    continue
                records = True
                raw = delimiter.join(fields)
                if NOT_UTF8.search(raw):
                    yield Reject(name, start, CSV_NOT_UTF8,
                                 snippet(raw.encode("utf-8", "surrogateescape")))
                    continue
                if len(fields) != len(header):
                    yield Reject(name, start, f"field count: record has {len(fields)} fields, "
                                 f"the header has {len(header)}", snippet(raw))
                    continue
                lost += any(fields[i].strip() for i in unnamed)
                yield start, dict(zip(header, fields, strict=True))
            if header is None:
                yield Reject(name, None, "empty file", "")
            elif not records:
                yield Reject(name, None, "no records: the file has a header line only", "")
            if lost:
                where = ", ".join(str(i + 1) for i in unnamed)
                warnings.warn(f"{name}: {lost} record(s) have values under a column without a "
                              f"name in the header (column {where}); they are not read: name "
                              "the column to read them", UserWarning, stacklevel=2)
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(name, None, f"truncated or corrupt compressed file: {exc}", "")


def float_id_columns(path: Path, columns: Mapping[str, str]) -> set[str]:
    """The CSV columns of :data:`ID_FIELDS` that pandas wrote as floats: every non-empty value is
    ``<digits>.0`` or in scientific notation (and there is at least one). Reads until each column
    has shown another form.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "generated.csv"
    >>> _ = path.write_text("id,parent_id,thread_id\\n100,,x\\n101,100.0,100.0\\n")
    >>> sorted(float_id_columns(path, {"id": "id", "parent_id": "parent_id",
    ...                                "thread_id": "thread_id"}))
    ['parent_id']
    """
    candidates = {columns[f] for f in ID_FIELDS if f in columns}
    seen: set[str] = set()
    for item in iter_csv(path):
        if not candidates:
            break
        if isinstance(item, list):
            candidates &= set(item)
            continue
        if isinstance(item, Reject):
            continue
        for column in list(candidates):
            value = item[1][column].strip()
            if not value:
                continue
            if _FLOAT_RENDERING.fullmatch(value):
                seen.add(column)
            else:
                candidates.discard(column)
    return candidates & seen


def _read_csv(path: Path, options: LoadOptions, notes: CountNotes
              ) -> Iterator[dict | Reject]:
    name = str(path)
    columns = None
    floats: set[str] = set()
    for item in iter_csv(path):
        if isinstance(item, Reject):
            yield item
            continue
        if isinstance(item, list):
            columns = resolve_columns(item, options.field_map, path)
            floats = float_id_columns(path, columns)
            continue
        number, record = item
        if all(key == value for key, value in record.items()):  # files joined with `cat`
            yield Reject(name, number, "header row repeated inside the file",
                         snippet(",".join(record.values())))
            continue
        for column in floats:
            if record[column].strip():
                record[column] = float(record[column])  # as JSON lines and Parquet hold it
        yield from _mapped(record, columns, options, "csv", name, number, notes)


def _mapped(record: object, columns: Mapping[str, str], options: LoadOptions,
            source_format: str, name: str, number: int, notes: CountNotes
            ) -> Iterator[dict | Reject]:
    try:
        row = row_from_record(record, columns, platform=options.platform,  # type: ignore[arg-type]
                              tz=options.tz, source_format=source_format, notes=notes)
    except ValueError as exc:
        raw = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False,
                                                                default=str)
        yield Reject(name, number, str(exc), snippet(raw))
        return
    row["source_file"] = name
    row["source_line"] = number
    yield row


#: Keys of a record that :class:`UnfoundColumnWarning` shows.
SHOWN_KEYS = 30


class UnfoundColumnWarning(UserWarning):
    """Columns (or dotted paths) that ``--map`` names and that no record of the JSON-lines file
    ``name`` has: their fields are null in every row of it. (CSV and Parquet know their columns
    up front: there such a mapping is an error, see :func:`resolve_columns`.)

    Attributes
    ----------
    name
        The file.
    missing
        Posts field -> the column ``--map`` gave it, in ``--map``'s order.
    keys
        The keys of the file's first record (at most :data:`SHOWN_KEYS`), to spot a typo by.
    """

    def __init__(self, name: str, missing: dict[str, str], keys: Sequence[str] = ()) -> None:
        pairs = ", ".join(f"{field}={column}" for field, column in missing.items())
        shown = ", ".join(str(key) for key in keys)
        super().__init__(f"{name}: --map {pairs}: no record has these; those fields are null"
                         + (f" (the first record's keys: {shown})" if shown else ""))
        self.name, self.missing, self.keys = name, dict(missing), list(keys)


class ColumnNotes:
    """Which columns that ``--map`` names the records of one JSON-lines file have: a column
    (key, or dotted path) counts once any record has it, whatever its value (null too).

    Fields that every record needs (:data:`REQUIRED`) are left out: without their column each
    record is rejected, with a reason naming the column.

    Attributes
    ----------
    missing
        Posts field -> mapped column that no record seen so far has.
    records
        Records (JSON objects) seen.

    Examples
    --------
    >>> notes = ColumnNotes({"id": "pid", "text": "mesage", "author_handle": "user.name"})
    >>> notes.see({"pid": 1, "message": "hi", "user": {"name": "ann"}})
    >>> notes.see({"pid": 2, "mesage": None})
    >>> notes.missing, notes.records
    ({}, 2)
    """

    def __init__(self, field_map: Mapping[str, str]) -> None:
        self.missing = {f: c for f, c in field_map.items() if f not in REQUIRED}
        self.records = 0
        self.keys: list[str] | None = None

    def see(self, record: object) -> None:
        """Note the mapped columns ``record`` has (a record that is no JSON object has none)."""
        if not isinstance(record, Mapping):
            return
        self.records += 1
        if self.keys is None:
            self.keys = [str(key) for key in list(record)[:SHOWN_KEYS]]
        if self.missing:
            for field, column in list(self.missing.items()):
                if _find(record, column) is not _ABSENT:
                    del self.missing[field]

    def warn(self, name: str, stacklevel: int = 3) -> None:
        """Warn (:class:`UnfoundColumnWarning`), when records were read and none had some of
        the mapped columns, which."""
        if self.records and self.missing:
            warnings.warn(UnfoundColumnWarning(name, self.missing, self.keys or ()),
                          stacklevel=stacklevel)


def _read_jsonl(path: Path, options: LoadOptions, notes: CountNotes, head: bytes = b"",
                found: ColumnNotes | None = None) -> Iterator[dict | Reject]:
    name = str(path)
    columns = resolve_columns(None, options.field_map, path)
    found = ColumnNotes(options.field_map) if found is None else found
    seen_any = False
    if head.lstrip()[:1] == b"[":
        records = iter_json_array(path)  # a JSON array of records, streamed element by element
    else:
        records = iter_json_lines(path)
    for item in records:
        seen_any = True
        if isinstance(item, Reject):
            yield item
            continue
        number, record = item
        found.see(record)
        yield from _mapped(record, columns, options, "jsonl", name, number, notes)
    if not seen_any:
        yield Reject(name, None, "empty file", "")


def _read_parquet(path: Path, options: LoadOptions, notes: CountNotes
                  ) -> Iterator[dict | Reject]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UserError(f"not a readable Parquet file ({str(exc).splitlines()[0]}); pass the "
                        "right --format", path) from None
    columns = resolve_columns(parquet.schema_arrow.names, options.field_map, path)
    wanted = sorted(set(columns.values()))
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
            for record in batch.to_pylist():
                number += 1
                yield from _mapped(record, columns, options, "parquet", name, number, notes)
    except (pa.ArrowException, OSError) as exc:
        yield Reject(name, number + 1, f"unreadable Parquet data: {str(exc).splitlines()[0]}", "")
        return
    if number == 0:  # as a CSV file with a header line only
        yield Reject(name, None, "no records: the table has no rows", "")


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or :class:`Reject` per record of a CSV, JSON-lines or Parquet table.

    Warns (:class:`~analysis.loaders.counts.UnreadableCountWarning`), once the file is read,
    when count values were no count (those counts are null, their records kept); and, for JSON
    lines, (:class:`UnfoundColumnWarning`) when columns that ``--map`` names are in no record of
    the file (those fields are null).
    """
    path = Path(path)
    try:
        with open_binary(path) as handle:
            head = handle.read(1024)
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(str(path), None, f"truncated or corrupt compressed file: {exc}", "")
        return
    kind = detect_format(path, head)
    notes = CountNotes()
    found = ColumnNotes(options.field_map)
    if kind == "parquet":
        yield from _read_parquet(path, options, notes)
    elif kind == "jsonl":
        yield from _read_jsonl(path, options, notes, head, found)
    else:
        yield from _read_csv(path, options, notes)
    notes.warn(str(path))
    found.warn(str(path))
