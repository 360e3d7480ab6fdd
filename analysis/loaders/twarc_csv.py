"""The CSV that twarc-csv writes (``twarc2 csv``): one tweet per row, API v2 fields flattened.

Columns used (twarc-csv's default output; see its documentation and ``DataFrameConverter``):
``id``, ``conversation_id``, ``referenced_tweets.{replied_to,retweeted,quoted}.id``,
``author_id``, ``in_reply_to_user_id``, ``created_at``, ``text``, ``lang``,
``public_metrics.*_count``, ``edit_history_tweet_ids``, ``withheld.*``, ``entities.hashtags``,
``entities.mentions``, ``entities.urls`` (JSON lists such as ``["#tag"]``), ``author.username``
and ``__twarc.retrieved_at``. Other columns are ignored.

The mapping follows :mod:`analysis.loaders.twarc2` (kind and parent from the referenced tweet
columns, thread from ``conversation_id``, edit chains under the latest version's id). One
difference comes from twarc-csv itself: with its default ``--merge-retweets``, a retweet's
``text`` is the retweeted tweet's full text, not the retweet's own ``RT @user: ...`` text, and
tweets that only came along in ``includes`` are not in the CSV (so there are no context rows).
twarc-csv writes a newline in a text as the two characters ``\\n`` and drops carriage returns;
``\\n`` is turned back into a newline here (a tweet that really contained a backslash followed
by ``n`` cannot be told apart).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    LoadOptions,
    Reject,
    make_uid,
    open_binary,
    snippet,
)
from analysis.loaders.twarc2 import NO_LANGUAGE, parse_created_at, parse_iso_time

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
#: twarc-csv writes newlines in text as a backslash and ``n`` (and drops carriage returns).
ESCAPED_NEWLINE = "\\n"
WITHHELD_COLUMNS = ("withheld.scope", "withheld.copyright", "withheld.country_codes")


def _header(head: bytes) -> list[str] | None:
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        return next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None


def sniff(path: Path, head: bytes) -> bool:
    """Whether the first line of ``head`` is a twarc-csv header."""
    columns = _header(head)
    if not columns:
        return False
    names = set(columns)
    return all(c in names for c in REQUIRED_COLUMNS) and any(c in names for c in MARKER_COLUMNS)


def _value(record: dict, column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number < 0 or not number.is_integer():
        return None
    return int(number)


def _json_list(value: str | None, strip: str = "") -> list[str]:
    if value is None:
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, str) and item:
            out.append(item[1:] if strip and item.startswith(strip) else item)
    return out


def _latest_id(record: dict) -> str | None:
    history = _json_list(_value(record, "edit_history_tweet_ids"))
    if history and history[-1].isdigit():
        return history[-1]
    return _value(record, "id")


def row_from_csv(record: dict) -> dict:
    """Map one twarc-csv row (column -> text) to a posts-table row.

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
        text = text.replace(ESCAPED_NEWLINE, "\n")
    withheld = any(_value(record, c) not in (None, "False", "false", "[]")
                   for c in WITHHELD_COLUMNS)
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
        "text": text if text else None,
        "text_status": "withheld" if withheld else ("ok" if text else "unavailable"),
        "lang": lang if lang and lang not in NO_LANGUAGE else None,
        "hashtags": _json_list(_value(record, "entities.hashtags"), "#"),
        "mentions": _json_list(_value(record, "entities.mentions"), "@"),
        "urls": _json_list(_value(record, "entities.urls")),
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    for field, column in COUNT_COLUMNS.items():
        row[field] = _count(_value(record, column))
    return row


def _has_bad_bytes(record: dict) -> bool:
    for value in record.values():
        if isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value):
            return True
    return False


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield a row or a :class:`Reject` per CSV record; ``source_line`` is the record's first
    physical line."""
    name = str(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        handle = open_binary(path)
    except OSError as exc:
        yield Reject(name, None, f"cannot open: {exc}", "")
        return
    with io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape",
                          newline="") as text:
        reader = csv.reader(text)
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                yield Reject(name, None, "empty file", "")
                return
            start = reader.line_num + 1
            for values in reader:
                number, start = start, reader.line_num + 1
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    yield Reject(name, number, f"field count: row has {len(values)} fields, "
                                 f"the header {len(header)}", snippet(",".join(values)))
                    continue
                record = dict(zip(header, values, strict=True))
                if _has_bad_bytes(record):
                    yield Reject(name, number, "invalid UTF-8", snippet(",".join(values)))
                    continue
                try:
                    row = row_from_csv(record)
                except ValueError as exc:
                    yield Reject(name, number, str(exc), snippet(",".join(values)))
                    continue
                row["source_file"] = name
                row["source_line"] = number
                yield row
        except csv.Error as exc:
            yield Reject(name, start, f"malformed CSV: {exc}", "")
        except DECOMPRESSION_ERRORS as exc:
            yield Reject(name, start, f"truncated or corrupt compressed file: {exc}", "")
