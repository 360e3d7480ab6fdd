"""4CAT CSV exports (a dataset downloaded as CSV from a 4CAT instance).

Every 4CAT dataset has the columns of 4CAT's import contract (``datasources/custom``:
``id``, ``thread_id``, ``author``, ``body``, ``timestamp``), usually ``unix_timestamp`` and
``subject``, and whatever columns its data source adds (``likes``, ``num_likes``, ``url``,
``hashtags``, ...).

Mapping rules:

- ``id`` -> ``id``; ``body`` -> ``text`` (as written, spaces included; an empty body is an
  empty text, ``""``, unless a ``text_status`` column says the text is not there: then null);
  ``subject`` -> ``title``; ``author`` -> ``author_handle``, and ``author_id`` from an
  ``author_id`` column, else the handle (so reply trees can still tell authors apart).
- ``created_at`` from ``unix_timestamp`` when present (exact), else from ``timestamp``
  (``YYYY-MM-DD HH:MM:SS``, which 4CAT writes in UTC; ``--tz`` overrides that assumption).
  A record with neither is rejected, unless its ``created_at_precision`` column (which
  ``python -m analysis export`` writes) says ``missing``: such a row (an API error's) keeps a
  null time. A ``timestamp`` that is a date only (``2020-10-01``) gives
  ``created_at_precision = "day"``; a ``created_at_precision`` column, when present and valid,
  gives it instead (``relative``, ``day`` of the posts table the export was written from).
- ``collected_at`` from a ``collected_at`` column when present (ISO 8601, as the export writes
  it; naive times in ``--tz``, else UTC); a value that is not a time rejects the record.
  Real 4CAT exports have neither column: precision comes from the time, ``collected_at`` is
  null.
- ``parent_id`` from a ``parent_id`` column when it names another item; otherwise, when
  ``thread_id`` differs from ``id``, the thread (4CAT has no parent for most sources, so replies
  to replies then hang off the thread root). ``kind``: a ``kind`` column if valid, else ``post``
  for an item without parent and ``reply`` (``comment`` on Reddit, Instagram, YouTube and
  TikTok) otherwise.
- ``platform``: ``--platform`` if given, else a ``platform`` column, else guessed from a URL
  column (:data:`URL_COLUMNS`, e.g. ``tiktok.com`` -> ``tiktok``), else ``other``.
- Counts from the first non-empty column of each list in :data:`COUNT_COLUMNS`.
- Columns that ``python -m analysis export`` adds, when present: ``root_id``,
  ``author_handle`` (a blank one stays blank instead of taking ``author``),
  ``reply_to_author_id``, ``mentions`` and ``urls`` (comma-separated), ``collection_role``
  (``context`` rows stay context: they never count as responses); without it every row is
  ``matched``.
- Lists: a blank ``hashtags``, ``mentions`` or ``urls`` cell is an empty list (``[]``: 4CAT
  writes a post without hashtags or links so); they are null only when their column is absent.
  A blank cell cannot tell an empty list from a null one: the export writes a null list blank,
  so it comes back as ``[]`` (the reading that loses less: most posts without hashtags have
  ``[]``).

Examples
--------
>>> row = row_from_record({"id": "2", "thread_id": "1", "author": "a", "body": "no",
...                        "timestamp": "2020-10-01 09:00:00", "url": "https://www.tiktok.com/x"})
>>> row["uid"], row["parent_id"], row["kind"], str(row["created_at"])
('tiktok:2', '1', 'comment', '2020-10-01 09:00:00+00:00')
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from analysis.errors import UserError
from analysis.loaders.base import (
    LOADER_VERSION,
    LoadOptions,
    Reject,
    make_uid,
    parse_time,
    parse_time_with_precision,
    record_snippet,
)
from analysis.loaders.table import (
    as_count,
    as_list,
    as_text,
    is_missing,
    iter_csv,
    text_for_status,
)
from analysis.schema import (
    COLLECTION_ROLES,
    KINDS,
    PLATFORMS,
    TEXT_STATUSES,
    TIME_PRECISIONS,
)

FORMAT = "4cat-csv"

#: The columns every 4CAT dataset has (4CAT's CSV import contract).
REQUIRED_COLUMNS = ("id", "thread_id", "author", "body", "timestamp")

#: posts-table count field -> 4CAT columns that may hold it, first non-empty wins.
COUNT_COLUMNS = {
    "like_count": ("like_count", "likes", "num_likes", "amount_likes", "favorite_count"),
    "reply_count": ("reply_count", "num_comments", "amount_comments", "comments", "replies",
                    "num_replies"),
    "share_count": ("share_count", "shares", "num_shares", "amount_shares", "retweets",
                    "retweet_count"),
    "quote_count": ("quote_count", "quotes", "num_quotes"),
    "score": ("score",),
}

#: Columns whose URL tells the platform, in order.
URL_COLUMNS = ("url", "post_url", "tiktok_url", "permalink", "link", "post_source_domain")

#: URL host (without ``www.``) -> platform.
HOST_PLATFORMS = {
    "twitter.com": "twitter", "x.com": "twitter", "reddit.com": "reddit",
    "old.reddit.com": "reddit", "instagram.com": "instagram", "youtube.com": "youtube",
    "youtu.be": "youtube", "m.youtube.com": "youtube", "tiktok.com": "tiktok",
    "bsky.app": "bluesky",
}

#: Platforms whose answers are called comments.
COMMENT_PLATFORMS = ("reddit", "instagram", "youtube", "tiktok")

_HOST = re.compile(r"^(?:www\.)?(.+)$")


def sniff(path: Path, head: bytes) -> bool:
    """Whether the first line of ``head`` is a CSV header with all of 4CAT's required columns."""
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return False
    header = {c.strip() for c in next(csv.reader([text]), [])}
    return set(REQUIRED_COLUMNS) <= header


def platform_from_record(record: Mapping[str, str]) -> str:
    """The platform a 4CAT record comes from: its ``platform`` column, else a URL column's host."""
    value = record.get("platform")
    if not is_missing(value) and str(value).strip().lower() in PLATFORMS:
        return str(value).strip().lower()
    for column in URL_COLUMNS:
        value = record.get(column)
        if is_missing(value):
            continue
        text = str(value).strip()
        host = urlparse(text if "//" in text else f"//{text}").hostname or ""
        match = _HOST.match(host.lower())
        if match and match.group(1) in HOST_PLATFORMS:
            return HOST_PLATFORMS[match.group(1)]
    return "other"


def _first(record: Mapping[str, str], columns: tuple[str, ...]) -> object:
    for column in columns:
        value = record.get(column)
        if not is_missing(value):
            return value
    return None


def _text(record: Mapping[str, str], column: str) -> str | None:
    """The column's value, stripped; None when absent or blank."""
    value = record.get(column)
    return None if is_missing(value) else str(value).strip()


def _list(record: Mapping[str, str], column: str, prefix: str) -> list[str] | None:
    """A list column's items; ``[]`` for a blank cell, ``None`` when the column is absent."""
    if column not in record:
        return None
    return as_list(record[column], prefix) or []


def row_from_record(record: Mapping[str, str], *, platform: str | None = None,
                    tz: str | None = None) -> dict:
    """Map one 4CAT CSV record (column -> string) to a posts-table row.

    Parameters
    ----------
    record
        One CSV record as a dict.
    platform
        Platform of every record (``--platform``); else taken from the record.
    tz
        Zone of the ``timestamp`` column (4CAT writes UTC, the default).

    Raises
    ------
    ValueError
        When the record lacks its id or time; the message is a reject reason.
    """
    post_id = record.get("id")
    if is_missing(post_id):
        raise ValueError("missing id: record has no id")
    post_id = str(post_id).strip()
    unix = record.get("unix_timestamp")
    precision = "second"
    stated = (_text(record, "created_at_precision") or "").lower()
    try:
        if not is_missing(unix):
            created_at = parse_time(str(unix).strip())
        elif not is_missing(record.get("timestamp")):
            created_at, precision = parse_time_with_precision(str(record["timestamp"]).strip(),
                                                              tz=tz or "UTC")
        elif stated == "missing":  # a row without a time by design (an API error's)
            created_at = None
        else:
            raise ValueError("missing time: record has no timestamp or unix_timestamp")
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"bad time: {exc}") from None
    except ValueError as exc:
        if str(exc).startswith("missing time"):
            raise
        value = unix if not is_missing(unix) else record.get("timestamp")
        raise ValueError(f"bad time: {value!r} ({exc})") from None
    if created_at is pd.NaT or (created_at is None and stated != "missing"):
        raise ValueError(f"bad time: {unix if not is_missing(unix) else record.get('timestamp')!r}"
                         " is not a time")
    if stated in TIME_PRECISIONS:
        precision = stated
    elif stated:
        raise ValueError(f"bad created_at_precision: {stated!r} is not one of "
                         f"{', '.join(TIME_PRECISIONS)}")
    collected_at = _text(record, "collected_at")
    if collected_at is not None:
        try:
            collected_at = parse_time(collected_at, tz=tz or "UTC")
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"bad time: collected_at {collected_at!r} ({exc})") from None
    plat = platform or platform_from_record(record)
    if plat not in PLATFORMS:
        raise ValueError(f"unknown platform: {plat!r} is not one of {', '.join(PLATFORMS)}")
    thread_id = None if is_missing(record.get("thread_id")) else str(record["thread_id"]).strip()
    parent_id = None if is_missing(record.get("parent_id")) else str(record["parent_id"]).strip()
    if parent_id == post_id:
        parent_id = None
    if parent_id is None and thread_id is not None and thread_id != post_id:
        parent_id = thread_id
    kind = str(record.get("kind") or "").strip().lower()
    if kind not in KINDS:  # an API error's row (no time) has no kind
        kind = None if created_at is None else "post" if parent_id is None else (
            "comment" if plat in COMMENT_PLATFORMS else "reply")
    status = str(record.get("text_status") or "").strip().lower()
    if status not in TEXT_STATUSES:
        status = "ok"
    # the body as written, spaces included; an empty body is an empty text unless the status
    # says the text is not there (CSV writes "" and null alike)
    text = text_for_status(as_text(record.get("body")), status)
    author = _text(record, "author")
    author_id = _text(record, "author_id")
    role = _text(record, "collection_role")
    lang = _first(record, ("lang", "language", "language_guess"))
    row = {
        "platform": plat,
        "id": post_id,
        "uid": make_uid(plat, post_id),
        "kind": kind,
        "thread_id": thread_id,
        "root_id": _text(record, "root_id"),
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": precision,
        "collected_at": collected_at,
        "author_id": author_id or author,
        "author_handle": _text(record, "author_handle") if "author_handle" in record else author,
        "reply_to_author_id": _text(record, "reply_to_author_id"),
        "text": text,
        "title": None if is_missing(record.get("subject")) else str(record["subject"]),
        "text_status": status,
        "lang": None if lang is None else str(lang).strip(),
        "hashtags": _list(record, "hashtags", "#"),
        "mentions": _list(record, "mentions", "@"),
        "urls": _list(record, "urls", ""),
        "collection_role": role if role in COLLECTION_ROLES else "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    for field, columns in COUNT_COLUMNS.items():
        row[field] = as_count(_first(record, columns))
    return row


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or :class:`Reject` per CSV record, streaming."""
    path = Path(path)
    name = str(path)
    for item in iter_csv(path):
        if isinstance(item, Reject):
            yield item
            continue
        if isinstance(item, list):
            missing = [c for c in ("id", "body") if c not in item]
            if missing or not ({"timestamp", "unix_timestamp"} & set(item)):
                raise UserError(f"not a 4CAT CSV export: no {', '.join(missing) or 'timestamp'} "
                                "column; for other tables use --format csv with --map", path)
            continue
        number, record = item
        try:
            row = row_from_record(record, platform=options.platform, tz=options.tz)
        except ValueError as exc:
            yield Reject(name, number, str(exc), record_snippet(record))
            continue
        row["source_file"] = name
        row["source_line"] = number
        yield row
