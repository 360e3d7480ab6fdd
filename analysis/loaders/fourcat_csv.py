"""4CAT CSV exports (a dataset downloaded as CSV from a 4CAT instance).

Every 4CAT dataset has the columns of 4CAT's import contract (``datasources/custom``:
``id``, ``thread_id``, ``author``, ``body``, ``timestamp``), usually ``unix_timestamp`` and
``subject``, and whatever columns its data source adds (``likes``, ``num_likes``, ``url``,
``hashtags``, ...).

Mapping rules:

- ``id`` -> ``id``; ``body`` -> ``text`` (as written, spaces included; an empty body is an
  empty text, ``""``, unless a ``text_status`` column says the text is not there: then null);
  ``subject`` -> ``title``; ``author`` -> ``author_handle``, and ``author_id`` from an
  ``author_id`` column, else the handle (so reply trees can still tell authors apart). On
  Reddit rows, Reddit's markers read as its loaders read them
  (:data:`analysis.loaders.reddit.DELETED_MARKERS`): a body ``[deleted]`` / ``[removed]`` is a
  null text with that ``text_status`` (unless a ``text_status`` column gives one), and an author
  ``[deleted]`` is no author (not one account shared by every deleted user, which would make
  them all the thread's author).
- ``created_at`` from ``unix_timestamp`` when present (exact), else from ``timestamp``
  (``YYYY-MM-DD HH:MM:SS``, which 4CAT writes in UTC; ``--tz`` overrides that assumption).
  A ``unix_timestamp`` below 10**8 (before 1973) is rejected as a date written as a number or
  as milliseconds, unless the row's ``timestamp`` is a time in the same second: then it is the
  time of an old post (``python -m analysis export`` writes both), and it is read.
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
- ``platform``: ``--platform`` if given; else a row's ``platform`` cell (a column that
  ``python -m analysis export`` writes) when it names one of the schema's platforms; else it is
  decided for the whole file before its rows are read (:func:`scan_platforms`, one extra pass
  over the file), from the rows that name a platform: by a ``platform`` cell or by the host of
  a URL column (:data:`URL_COLUMNS`, e.g. ``tiktok.com`` -> ``tiktok``). A row without a URL,
  or with a URL of no known platform, thus takes the platform of the rest of its file and
  stays in its reply tree (its ``uid`` is ``platform:id``). When those rows name one platform,
  every row takes it; none, ``other``. When they name more than one, each thread
  (``thread_id``, else the row's own ``id``) takes the platform most of its rows name (on a
  tie, the one named first), so a thread is never split across platforms, and the rows of a
  thread that names none take the platform most rows of the file name; the file gets a
  warning saying so. 4CAT's CSV has no column naming its data source, so the URLs are what
  tells the platform; ``--platform`` overrides all of this.
- Counts from the first non-empty column of each list in :data:`COUNT_COLUMNS`, read by
  :func:`analysis.loaders.counts.parse_count` (``1,234`` -> 1234, ``1.2K`` -> 1200, ``3M``;
  only ``score`` may be below zero). A value that is no count (``lots``, ``1.5``, ``-3``) gives
  a null count, not a reject, and the file gets one warning with how many per field
  (:class:`analysis.loaders.counts.UnreadableCountWarning`); an empty cell is null.
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

import math
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from analysis.errors import UserError
from analysis.loaders.base import (
    LOADER_VERSION,
    MIN_EPOCH_SECONDS,
    LoadOptions,
    Reject,
    in_time_range,
    make_uid,
    parse_time,
    parse_time_with_precision,
    record_snippet,
)
from analysis.loaders.counts import CountNotes
from analysis.loaders.reddit import account, marked_text
from analysis.loaders.table import (
    as_list,
    as_text,
    header_columns,
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
    """Whether the first line of ``head`` is a CSV header with all of 4CAT's required columns
    (comma, semicolon, tab or pipe separated, as the reader reads it: a 4CAT export saved again
    by a spreadsheet in a European locale has semicolons)."""
    return set(REQUIRED_COLUMNS) <= set(header_columns(path, head))


def _platform_cell(record: Mapping[str, str]) -> str | None:
    """The platform a record's ``platform`` cell names, when it is one of the schema's."""
    value = record.get("platform")
    if not is_missing(value) and str(value).strip().lower() in PLATFORMS:
        return str(value).strip().lower()
    return None


def _platform_of_urls(record: Mapping[str, str]) -> str | None:
    """The platform of the host of the first URL column with a known host (:data:`URL_COLUMNS`)."""
    for column in URL_COLUMNS:
        value = record.get(column)
        if is_missing(value):
            continue
        text = str(value).strip()
        host = urlparse(text if "//" in text else f"//{text}").hostname or ""
        match = _HOST.match(host.lower())
        if match and match.group(1) in HOST_PLATFORMS:
            return HOST_PLATFORMS[match.group(1)]
    return None


def platform_named(record: Mapping[str, str]) -> str | None:
    """The platform one 4CAT record names: its ``platform`` cell, else a URL column's host;
    ``None`` when it names none."""
    return _platform_cell(record) or _platform_of_urls(record)


def platform_from_record(record: Mapping[str, str]) -> str:
    """The platform of one 4CAT record read alone: the one it names
    (:func:`platform_named`), else ``other``. A file's rows are given theirs by
    :func:`scan_platforms`, which also looks at the rest of the file."""
    return platform_named(record) or "other"


def _thread_key(record: Mapping[str, str]) -> str | None:
    """The thread a record belongs to: its ``thread_id``, else (a root) its own ``id``."""
    for column in ("thread_id", "id"):
        value = record.get(column)
        if not is_missing(value):
            return str(value).strip()
    return None


def _records(path: Path) -> Iterator[Mapping[str, str]]:
    """The records of a 4CAT CSV (header and rejects left out)."""
    for item in iter_csv(path):
        if isinstance(item, tuple):
            yield item[1]


@dataclass
class FilePlatforms:
    """The platform of each record of one 4CAT file, as :func:`scan_platforms` decided it.

    Attributes
    ----------
    file_platform
        The platform most rows of the file name (on a tie the one named first); ``other`` when
        none names one.
    threads
        Only when the rows name more than one platform: thread -> the platform most of its
        rows name; ``None`` otherwise (every row takes ``file_platform``).
    named
        Platform -> how many rows name it.
    split_threads
        Threads whose rows name more than one platform (their rows take the most named one).
    guessed_rows
        Rows of a file naming several platforms that name none and whose thread names none:
        they take ``file_platform``.
    decided_rows
        Rows of a file naming several platforms without a ``platform`` cell of their own: the
        rows whose platform was decided by their thread or the file.
    """

    file_platform: str = "other"
    threads: dict[str, str] | None = None
    named: Counter = field(default_factory=Counter)
    split_threads: int = 0
    guessed_rows: int = 0
    decided_rows: int = 0

    def platform_of(self, record: Mapping[str, str]) -> str:
        """The record's platform: its ``platform`` cell, else its thread's, else the file's."""
        cell = _platform_cell(record)
        if cell is not None:
            return cell
        if self.threads is not None:
            return self.threads.get(_thread_key(record), self.file_platform)
        return self.file_platform

    def note(self, name: str) -> str | None:
        """A warning's text when the file names more than one platform and some rows have no
        ``platform`` cell (a posts table's export, with one in every row, gets none), else
        ``None``."""
        if self.threads is None or not self.decided_rows:
            return None
        named = ", ".join(f"{platform} {count}" for platform, count in self.named.most_common())
        text = (f"{name}: its rows name more than one platform ({named} rows, by platform cell "
                f"or URL); each of the {self.decided_rows} row(s) without a platform cell takes "
                "the platform most rows of its thread name")
        if self.split_threads:
            text += (f"; {self.split_threads} thread(s) have rows naming different platforms "
                     "(they are not split: all their rows take the one named most)")
        if self.guessed_rows:
            text += (f"; {self.guessed_rows} row(s) of threads naming none take "
                     f"{self.file_platform}, the platform the file names most")
        return text + "; pass --platform to set one platform for the file"


def scan_platforms(path: Path) -> FilePlatforms:
    """Decide, before the rows are read, the platform of each record of a 4CAT CSV.

    One pass counts the platforms the rows name (:func:`platform_named`); only when they name
    more than one does a second pass find each thread's (memory then grows with the number of
    threads; otherwise it stays flat). Rows the reader rejects are left out.
    """
    named: Counter = Counter()
    for record in _records(path):
        platform = platform_named(record)
        if platform is not None:
            named[platform] += 1
    if len(named) <= 1:
        return FilePlatforms(next(iter(named), "other"), None, named)
    file_platform = named.most_common(1)[0][0]
    votes: dict[str | None, Counter] = {}
    unnamed: Counter = Counter()  # thread -> rows that name no platform of their own
    for record in _records(path):
        key = _thread_key(record)
        platform = platform_named(record)
        if platform is not None:
            votes.setdefault(key, Counter())[platform] += 1
        if _platform_cell(record) is None:
            unnamed[key] += 1
    threads = {key: count.most_common(1)[0][0] for key, count in votes.items()
               if key is not None}
    split = sum(1 for key, count in votes.items() if len(count) > 1 and unnamed[key])
    guessed = sum(rows for key, rows in unnamed.items() if key not in votes or key is None)
    return FilePlatforms(file_platform, threads, named, split, guessed, sum(unnamed.values()))


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


def _unix_time(unix: str, record: Mapping[str, str], tz: str | None) -> pd.Timestamp | None:
    """The time of a ``unix_timestamp`` cell. A number below
    :data:`~analysis.loaders.base.MIN_EPOCH_SECONDS` (before 1973) is refused as a date written
    as a number or milliseconds (:func:`~analysis.loaders.base.parse_time`), unless the row's
    ``timestamp`` names the same second: then it is an old post's time (as ``python -m analysis
    export`` writes one) and is read."""
    try:
        return parse_time(unix)
    except ValueError:
        seconds = _small_seconds(unix)
        if seconds is None or not _timestamp_agrees(record, seconds, tz):
            raise
    return in_time_range(pd.Timestamp(round(seconds * 1_000_000), unit="us", tz="UTC")
                         .as_unit("ns"), unix)


def _small_seconds(unix: str) -> float | None:
    """``unix`` as a finite number below :data:`~analysis.loaders.base.MIN_EPOCH_SECONDS`
    seconds; None for anything else."""
    try:
        seconds = float(unix)
    except ValueError:
        return None
    return seconds if -math.inf < seconds < MIN_EPOCH_SECONDS else None


def _timestamp_agrees(record: Mapping[str, str], seconds: float, tz: str | None) -> bool:
    """Whether the row's ``timestamp`` (read as :func:`row_from_record` reads it without a
    ``unix_timestamp``) is a time in the same second as ``seconds`` since 1970."""
    text = _text(record, "timestamp")
    if text is None:
        return False
    try:
        stamp, precision = parse_time_with_precision(text, tz=tz or "UTC")
    except (ValueError, TypeError, OverflowError):
        return False
    return (stamp is not None and precision == "second"
            and math.floor(stamp.timestamp()) == math.floor(seconds))


def row_from_record(record: Mapping[str, str], *, platform: str | None = None,
                    tz: str | None = None, notes: CountNotes | None = None) -> dict:
    """Map one 4CAT CSV record (column -> string) to a posts-table row.

    Parameters
    ----------
    record
        One CSV record as a dict.
    platform
        The record's platform (``--platform``, or what :func:`scan_platforms` decided for it);
        else the one the record names (:func:`platform_from_record`).
    tz
        Zone of the ``timestamp`` column (4CAT writes UTC, the default).
    notes
        Where to count the count values that are no count (null in the row); without it they
        are null without a note.

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
            created_at = _unix_time(str(unix).strip(), record, tz)
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
    body = as_text(record.get("body"))
    author = _text(record, "author")
    if plat == "reddit":  # Reddit's markers of a deleted text or account, as its loaders read them
        body, status = marked_text(body, status if status in TEXT_STATUSES else None)
        author = account(author)
    if status not in TEXT_STATUSES:
        status = "ok"
    # the body as written, spaces included; an empty body is an empty text unless the status
    # says the text is not there (CSV writes "" and null alike)
    text = text_for_status(body, status)
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
    notes = CountNotes() if notes is None else notes
    for name, columns in COUNT_COLUMNS.items():
        row[name] = notes.read(_first(record, columns), name)
    return row


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or :class:`Reject` per CSV record, streaming (after a pass that decides the
    platforms, :func:`scan_platforms`, unless ``--platform`` is given or no column names one).

    Warns (:class:`UserWarning`), once the file is read, when its rows name more than one
    platform, and (:class:`~analysis.loaders.counts.UnreadableCountWarning`) when count values
    were no count.
    """
    path = Path(path)
    name = str(path)
    platforms: FilePlatforms | None = None
    notes = CountNotes()
    for item in iter_csv(path):
        if isinstance(item, Reject):
            yield item
            continue
        if isinstance(item, list):
            missing = [c for c in ("id", "body") if c not in item]
            if missing or not ({"timestamp", "unix_timestamp"} & set(item)):
                raise UserError(f"not a 4CAT CSV export: no {', '.join(missing) or 'timestamp'} "
                                "column; for other tables use --format csv with --map", path)
            if options.platform is None and {"platform", *URL_COLUMNS} & set(item):
                platforms = scan_platforms(path)
            continue
        number, record = item
        platform = options.platform or (platforms.platform_of(record) if platforms else None)
        try:
            row = row_from_record(record, platform=platform, tz=options.tz, notes=notes)
        except ValueError as exc:
            yield Reject(name, number, str(exc), record_snippet(record))
            continue
        row["source_file"] = name
        row["source_line"] = number
        yield row
    note = platforms.note(name) if platforms else None
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=2)
    notes.warn(name)
