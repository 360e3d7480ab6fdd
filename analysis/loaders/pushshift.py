"""Reddit Pushshift / Arctic Shift dumps: NDJSON, plain or compressed (``.zst``, ``.gz``, ...).

One Reddit comment or submission per line, as in the monthly ``RC_YYYY-MM.zst`` (comments) and
``RS_YYYY-MM.zst`` (submissions) files, or in Arctic Shift and per-subreddit extracts; comments and
submissions may share a file. Each line becomes a row through
:func:`analysis.loaders.reddit.row_from_thing`; a line's kind is its ``{"kind": ..., "data": ...}``
wrapper when it has one, else guessed from its fields (:func:`analysis.loaders.reddit.kind_of`).

Files are read line by line with :func:`analysis.loaders.base.iter_lines`, which reads ``.zst``
files across frames with the 2**31 window these dumps need and keeps every complete line of a cut
or damaged one (:mod:`analysis.loaders.zst`). A lone UTF-16 surrogate in a line's strings (a text
cut in the middle of an emoji) becomes U+FFFD, and a warning at the end of the file counts them.

Cite: Baumgartner et al., "The Pushshift Reddit Dataset", ICWSM 2020.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from analysis.loaders.base import (
    LoadOptions,
    Reject,
    iter_lines,
    json_type,
    parse_json_line,
    snippet,
    warn_broken_texts,
)
from analysis.loaders.counts import CountNotes
from analysis.loaders.reddit import kind_of, row_from_thing

FORMAT = "pushshift"

# A JSON object line with Reddit's created_utc and a subreddit or a Reddit fullname in it.
_REDDIT_FIELDS = re.compile(rb'"(?:subreddit|subreddit_id|link_id|parent_id|permalink)"\s*:')
_API_KIND = re.compile(rb'"kind"\s*:\s*"(?:Listing|more|t1|t3)"')


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` starts with a Reddit record per line (``created_utc`` and a subreddit)."""
    first = head.lstrip()[:1]
    if first != b"{" or b'"created_utc"' not in head or not _REDDIT_FIELDS.search(head):
        return False
    line = head.lstrip().split(b"\n", 1)[0]
    # Reddit API things ({"kind": "t1", "data": ...}, Listings, pretty-printed documents) are
    # reddit-api's, which also walks their nested replies.
    if _API_KIND.search(line) or line.rstrip() in (b"{", b"{\r"):
        return False
    return True


def _record(value: object) -> tuple[str, Mapping]:
    """(kind, data) of one line's JSON value; ValueError with a reason when it is neither."""
    if not isinstance(value, Mapping):
        raise ValueError(f"not a JSON object but a JSON {json_type(value)}")
    if isinstance(value.get("kind"), str) and isinstance(value.get("data"), Mapping):
        return value["kind"], value["data"]
    kind = kind_of(value)
    if kind is None:
        raise ValueError("not a Reddit comment or submission: no body, parent_id, title or "
                         "selftext")
    return kind, value


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or one :class:`Reject` per line (``source_line`` is the line number)."""
    name = str(path)
    seen = False
    for item in _rows_of_lines(name, iter_lines(path)):
        seen = True
        yield item
    if not seen:
        yield Reject(name, None, "empty file", "")


def read_lines(path: Path, lines: Iterable[tuple[int, bytes]], options: LoadOptions
               ) -> Iterator[dict | Reject]:
    """:func:`read` for some lines of an uncompressed file (a part of a large file, see
    :mod:`analysis.loaders.parts`); ``lines`` are ``(line number, raw bytes)``."""
    yield from _rows_of_lines(str(path), lines)


def _rows_of_lines(name: str, lines: Iterable[tuple[int, bytes] | Reject]
                   ) -> Iterator[dict | Reject]:
    """Rows or rejects of ``lines``; warns at the end when texts held lone surrogates
    (:func:`~analysis.loaders.base.warn_broken_texts`) and when counts were no count
    (:class:`~analysis.loaders.counts.CountNotes`; for a file read in parts, once per file:
    :class:`~analysis.loaders.parts.PartReader`)."""
    broken: Counter = Counter()
    notes = CountNotes()
    for item in lines:
        if isinstance(item, Reject):
            yield item
            continue
        number, raw = item
        parsed = parse_json_line(name, number, raw, broken)
        if isinstance(parsed, Reject):
            yield parsed
            continue
        value = parsed[1]
        try:
            kind, data = _record(value)
            row = row_from_thing(dict(data), kind, notes)
        except ValueError as exc:
            yield Reject(name, number, str(exc), snippet(raw))
            continue
        row["source_format"] = FORMAT
        row["source_file"] = name
        row["source_line"] = number
        yield row
    warn_broken_texts(name, broken)
    notes.warn(name)
