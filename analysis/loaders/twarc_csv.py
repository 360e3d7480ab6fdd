"""The CSV that twarc-csv writes (``twarc2 csv``): one tweet per row, API v2 fields flattened.

Columns used (twarc-csv's default output; see its documentation and ``DataFrameConverter``):
``id``, ``conversation_id``, ``referenced_tweets.{replied_to,retweeted,quoted}.id``,
``author_id``, ``in_reply_to_user_id``, ``created_at``, ``text``, ``lang``,
``public_metrics.*_count``, ``edit_history_tweet_ids``, ``withheld.*``, ``entities.hashtags``,
``entities.mentions``, ``entities.urls``, ``author.username``, ``matching_rules`` and
``__twarc.{retrieved_at,url}``. Other columns are ignored.

The mapping follows :mod:`analysis.loaders.twarc2` (kind and parent from the referenced tweet
columns, thread from ``conversation_id``, edit chains under the latest version's id). What
differs comes from twarc-csv's options:

- Lists (entities, edit history) are JSON by default and Python's form (``['#a', '#b']``) with
  ``--no-json-encode-lists``; entities are texts (``#tag``, ``@user``, the expanded url) by
  default and whole v2 entity objects with ``--no-process-entities``. All of these are read to
  the same lists (tags without ``#``, mentions without ``@``, expanded urls; media links left
  out, as in the twarc2 loader). An entities cell that is none of these gives a null field, and
  the file a warning with the count.
- With the default ``--merge-retweets``, a retweet's ``text``, counts and entities are the
  retweeted tweet's (unless that tweet was not in the input; a retweet's own text starts with
  ``RT @``). The text is kept; the retweet's like, reply and quote counts and its entities are
  not in the row, so they are null (``share_count`` stays: the API gives a retweet the retweeted
  tweet's retweet count).
- Tweets that only came along in ``includes`` are not in the CSV, unless it was written with
  ``--inline-referenced-tweets``: then they are rows just before the tweet that references them,
  with that tweet's ``__twarc`` metadata and without ``matching_rules``, and nothing else marks
  them. A file of tweets hydrated in time order (a parent, then its reply, from the same page)
  looks the same, so such rows stay ``matched``; the file gets a warning with their count, since
  with that option they are referenced tweets that the collection did not ask for and would
  count as responses (load twarc2's JSON, or write the CSV without the option, to keep them
  apart).

twarc-csv writes a newline in a text as the two characters ``\\n`` and drops carriage returns;
``\\n`` is turned back into a newline here (a tweet that really contained a backslash followed
by ``n`` cannot be told apart). It keeps the API's ``&amp;``, ``&lt;`` and ``&gt;``; they are
undone here, as in the other Twitter loaders
(:func:`analysis.loaders.twitter_v1.unescape_tweet_text`).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import sys
import warnings
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

from analysis.io import check_column_names
from analysis.loaders.base import (
    CSV_NOT_UTF8,
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    NOT_UTF8,
    LoadOptions,
    Reject,
    make_uid,
    open_binary,
    snippet,
)
from analysis.loaders.counts import CountNotes
from analysis.loaders.table import (
    guess_delimiter,
    header_columns,
    text_for_status,
)
from analysis.loaders.twarc2 import (
    NO_LANGUAGE,
    entity_texts,
    parse_created_at,
    parse_iso_time,
)
from analysis.loaders.twitter_v1 import unescape_tweet_text

FORMAT = "twarc-csv"
PLATFORM = "twitter"

#: Header columns that every twarc-csv file has.
REQUIRED_COLUMNS = ("id", "conversation_id", "author_id", "created_at", "text")
#: At least one of these marks the header as twarc-csv's (not just any tweet table).
MARKER_COLUMNS = ("referenced_tweets.replied_to.id", "public_metrics.like_count",
                  "author.username", "__twarc.retrieved_at")
#: posts-table field -> twarc-csv column.
COUNT_COLUMNS = {
    "like_count": "public_metrics.like_count",
    "reply_count": "public_metrics.reply_count",
    "share_count": "public_metrics.retweet_count",
    "quote_count": "public_metrics.quote_count",
}
#: Referenced tweet columns in order of precedence, with the kind they give.
REFERENCE_COLUMNS = (("referenced_tweets.retweeted.id", "repost"),
                     ("referenced_tweets.replied_to.id", "reply"),
                     ("referenced_tweets.quoted.id", "quote"))
#: posts-table field -> (twarc-csv column, the prefix twarc-csv puts before each item, the key
#: of the text in a v2 entity object, as written with ``--no-process-entities``).
ENTITY_COLUMNS = {
    "hashtags": ("entities.hashtags", "#", "tag"),
    "mentions": ("entities.mentions", "@", "username"),
    "urls": ("entities.urls", "", "expanded_url"),
}
#: twarc-csv writes a media link as its ``display_url`` (``pic.twitter.com/...``), the only url
#: it writes without a scheme; media links are left out, as in the twarc2 loader.
URL_SCHEME = "://"
#: How a retweet's own text starts (in API v2). twarc-csv's default ``--merge-retweets`` puts
#: the retweeted tweet's text, counts and entities in the retweet's row instead.
RETWEET_PREFIX = "RT @"
#: Fields a merged retweet row holds for the retweeted tweet: null for the retweet. Its own
#: ``retweet_count`` is the retweeted tweet's in the API, so ``share_count`` stays.
MERGED_FIELDS = ("like_count", "reply_count", "quote_count", "hashtags", "mentions", "urls")
#: Filled only for tweets that a filtered stream matched (never for referenced tweets).
MATCHING_RULES_COLUMN = "matching_rules"
#: The metadata that ``--inline-referenced-tweets`` copies from a tweet to its referenced tweets.
TWARC_COLUMNS = ("__twarc.retrieved_at", "__twarc.url")
#: ``--inline-referenced-tweets`` writes at most one row per referenced tweet column before a
#: tweet.
INLINE_WINDOW = len(REFERENCE_COLUMNS)
#: twarc-csv writes newlines in text as a backslash and ``n`` (and drops carriage returns).
ESCAPED_NEWLINE = "\\n"
WITHHELD_COLUMNS = ("withheld.scope", "withheld.copyright", "withheld.country_codes")


def sniff(path: Path, head: bytes) -> bool:
    """Whether the first line of ``head`` is a twarc-csv header, split on the delimiter the
    reader splits it on (:func:`~analysis.loaders.table.header_columns`): twarc-csv writes
    commas, a spreadsheet that saves the file again may write semicolons or tabs."""
    names = set(header_columns(path, head))
    return all(c in names for c in REQUIRED_COLUMNS) and any(c in names for c in MARKER_COLUMNS)


def _value(record: dict, column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _list_cell(value: str) -> list | None:
    """A list cell as written by twarc-csv: JSON (its default) or Python's form
    (``--no-json-encode-lists``); None when it is neither.

    Examples
    --------
    >>> _list_cell('["#a", "#b"]'), _list_cell("[{'tag': 'a', 'x': False}]"), _list_cell("#a")
    (['#a', '#b'], [{'tag': 'a', 'x': False}], None)
    """
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):
        try:
            items = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    return items if isinstance(items, list) else None


def _entities(value: str | None, prefix: str, key: str) -> list[str] | None:
    """The texts of one entities cell: twarc-csv's texts (``#tag``) without ``prefix``, or
    ``key`` of its v2 entity objects; ``[]`` for an empty cell, None for one that is no list."""
    if value is None:
        return []
    items = _list_cell(value)
    if items is None:
        return None
    if any(isinstance(item, dict) for item in items):
        return entity_texts(items, key, skip_media=key == "expanded_url")
    return [item.removeprefix(prefix) for item in items if isinstance(item, str) and item
            and (key != "expanded_url" or URL_SCHEME in item)]


def _latest_id(record: dict) -> str | None:
    cell = _value(record, "edit_history_tweet_ids")
    history = (_list_cell(cell) if cell else None) or []
    if history and isinstance(history[-1], str) and history[-1].isdigit():
        return history[-1]
    return _value(record, "id")


def _is_merged_retweet(kind: str, text: str | None) -> bool:
    """Whether twarc-csv's ``--merge-retweets`` gave this retweet row the retweeted tweet's
    text, counts and entities (it keeps the retweet's own ``RT @...`` text and values when the
    retweeted tweet was not in its input)."""
    return kind == "repost" and bool(text) and not text.startswith(RETWEET_PREFIX)


def row_from_csv(record: dict, notes: CountNotes | None = None) -> dict:
    """Map one twarc-csv row (column -> text) to a posts-table row.

    An entities cell that is not a list gives null for its field; so do the fields of a merged
    retweet that belong to the retweeted tweet (:data:`MERGED_FIELDS`), and a count that is no
    count (counted in ``notes`` when given).

    Raises
    ------
    ValueError
        When the row lacks its id or time; the message is a reject reason.
    """
    post_id = _latest_id(record)
    if post_id is None:
        raise ValueError("row has no id")
    created = _value(record, "created_at")
    if created is None:
        raise ValueError("row has no created_at")
    created_at = parse_created_at(created)
    kind, parent_id = "post", None
    for column, ref_kind in REFERENCE_COLUMNS:
        ref = _value(record, column)
        if ref is not None:
            kind, parent_id = ref_kind, ref
            break
    retrieved = _value(record, "__twarc.retrieved_at")
    try:
        collected_at = parse_iso_time(retrieved) if retrieved else None
    except (ValueError, TypeError, OverflowError):
        collected_at = None
    text = record.get("text")
    if text:
        text = unescape_tweet_text(text.replace(ESCAPED_NEWLINE, "\n"))
    withheld = any(_value(record, c) not in (None, "False", "false", "[]")
                   for c in WITHHELD_COLUMNS)
    status = "withheld" if withheld else ("ok" if text is not None else "unavailable")
    text = text_for_status(text, status)  # an empty cell of a withheld tweet: not there
    lang = _value(record, "lang")
    conversation = _value(record, "conversation_id")
    row = {
        "platform": PLATFORM,
        "id": post_id,
        "uid": make_uid(PLATFORM, post_id),
        "kind": kind,
        "thread_id": conversation,
        "root_id": conversation,
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": "second",
        "collected_at": collected_at,
        "author_id": _value(record, "author_id") or _value(record, "author.id"),
        "author_handle": _value(record, "author.username"),
        "reply_to_author_id": _value(record, "in_reply_to_user_id") if kind == "reply" else None,
        "text": text,
        "text_status": status,
        "lang": lang if lang and lang not in NO_LANGUAGE else None,
        "hashtags": None,
        "mentions": None,
        "urls": None,
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    notes = CountNotes() if notes is None else notes
    for field, column in COUNT_COLUMNS.items():
        row[field] = notes.read(_value(record, column), field)
    if _is_merged_retweet(kind, text):
        row.update(dict.fromkeys(MERGED_FIELDS))
    else:
        for field, (column, prefix, key) in ENTITY_COLUMNS.items():
            row[field] = _entities(_value(record, column), prefix, key)
    return row


def _has_bad_bytes(values: list[str]) -> bool:
    """Whether a record's values hold bytes that were not UTF-8 (read as surrogates)."""
    return NOT_UTF8.search("".join(values)) is not None


def _records(text: io.TextIOBase, name: str, delimiter: str
             ) -> Iterator[tuple[int, list[str], dict] | Reject]:
    """The records of a twarc-csv file as ``(first physical line, values, column -> value)``,
    or a :class:`Reject` each; the column names are those of the header, spaces around them
    dropped (as :func:`sniff` reads them)."""
    reader = csv.reader(text, delimiter=delimiter)
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            yield Reject(name, None, "empty file", "")
            return
        header = [column.strip() for column in header]
        check_column_names(header, Path(name))
        start = reader.line_num + 1
        records = False
        for values in reader:
            number, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            records = True
            if len(values) != len(header):
                yield Reject(name, number, f"field count: row has {len(values)} fields, "
                             f"the header {len(header)}", snippet(delimiter.join(values)))
                continue
            if _has_bad_bytes(values):
                yield Reject(name, number, CSV_NOT_UTF8, snippet(delimiter.join(values)))
                continue
            yield number, values, dict(zip(header, values, strict=True))
        if not records:
            yield Reject(name, None, "no records: the file has a header line only", "")
    except csv.Error as exc:
        yield Reject(name, start, f"malformed CSV: {exc}", "")
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(name, start, f"truncated or corrupt compressed file: {exc}", "")


def _rows(records: Iterator[tuple[int, list[str], dict] | Reject], name: str,
          counts: Counter, notes: CountNotes, delimiter: str
          ) -> Iterator[tuple[dict | Reject, dict | None]]:
    """Map records to rows or rejects, each with its record (None for a reject); count the rows
    with an unreadable entities cell in ``counts``, the counts that are no count in ``notes``."""
    for item in records:
        if isinstance(item, Reject):
            yield item, None
            continue
        number, values, record = item
        try:
            row = row_from_csv(record, notes)
        except ValueError as exc:
            yield Reject(name, number, str(exc), snippet(delimiter.join(values))), None
            continue
        row["source_file"] = name
        row["source_line"] = number
        if ((row["hashtags"] is None or row["mentions"] is None or row["urls"] is None)
                and not _is_merged_retweet(row["kind"], row["text"])):
            counts["unreadable entities"] += 1
        yield row, record


def _twarc_source(record: dict) -> tuple[str | None, ...]:
    return tuple(_value(record, column) for column in TWARC_COLUMNS)


def _referenced_before(pending: deque, record: dict) -> int:
    """How many of the rows just before ``record`` are tweets it references, as
    ``--inline-referenced-tweets`` writes them: with its ``__twarc`` metadata and no
    ``matching_rules``."""
    refs = {_value(record, column) for column, _ in REFERENCE_COLUMNS}
    source = _twarc_source(record)
    found = 0
    for earlier in reversed(pending):
        if (_value(earlier, "id") not in refs
                or _value(earlier, MATCHING_RULES_COLUMN) is not None
                or _twarc_source(earlier) != source):
            break
        refs.discard(_value(earlier, "id"))
        found += 1
    return found


def _count_inlined(items: Iterator[tuple[dict | Reject, dict | None]],
                   counts: Counter) -> Iterator[dict | Reject]:
    """Pass the rows on; count in ``counts`` the rows that look like referenced tweets written by
    ``--inline-referenced-tweets`` (see the module docstring)."""
    pending: deque[dict] = deque(maxlen=INLINE_WINDOW)  # the records of the last rows
    counted: set[str | None] = set()
    for item, record in items:
        if record is None:
            pending.clear()
        else:
            if item["parent_id"] is not None:
                found = _referenced_before(pending, record)
                counted.update(_value(r, "id") for r in list(pending)[len(pending) - found:])
            pending.append(record)
        yield item
    counts["inlined"] = len(counted)


def _warn(name: str, counts: Counter) -> None:
    if counts["inlined"]:
        warnings.warn(f"{name}: {counts['inlined']} row(s) come just before a tweet that "
                      "references them, as twarc-csv's --inline-referenced-tweets writes "
                      "referenced tweets; if the file was written with that option, those rows "
                      "were not asked for by the collection but are read as collected rows and "
                      "count as responses (ingest twarc2's JSON instead to keep them apart)",
                      UserWarning, stacklevel=3)
    if counts["unreadable entities"]:
        warnings.warn(f"{name}: {counts['unreadable entities']} row(s) have an entities cell "
                      "(hashtags, mentions or urls) that is not a list; those fields are null",
                      UserWarning, stacklevel=3)


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield a row or a :class:`Reject` per CSV record; ``source_line`` is the record's first
    physical line. The delimiter is the one of the header line
    (:func:`~analysis.loaders.table.guess_delimiter`: a file saved again by a spreadsheet may
    have semicolons or tabs).

    Warns (:class:`UserWarning`) when the file holds rows that look like referenced tweets
    written by ``--inline-referenced-tweets`` (they stay collected rows) or entities cells that
    are not lists.
    """
    name = str(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        handle = open_binary(path)
    except OSError as exc:
        yield Reject(name, None, f"cannot open: {exc}", "")
        return
    counts: Counter = Counter()
    notes = CountNotes()
    delimiter = guess_delimiter(path)
    with io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape",
                          newline="") as text:
        rows = _rows(_records(text, name, delimiter), name, counts, notes, delimiter)
        yield from _count_inlined(rows, counts)
    _warn(name, counts)
    notes.warn(name)
