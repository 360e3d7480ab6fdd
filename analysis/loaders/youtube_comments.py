"""youtube-comment-downloader output: one JSON comment per line (NDJSON).

Each line, as ``youtube_comment_downloader`` writes it (with ``--pretty`` the same records come
indented inside ``{"comments": [...]}``, which is read too, streaming; there a record with a
syntax error is one reject and reading resumes at the next record, an object with ``cid``)::

    {"cid": "UgzX.8abc", "text": "...", "time": "2 years ago", "time_parsed": 1601500000.0,
     "author": "@someone", "channel": "UC...", "votes": "1.2K", "replies": "3",
     "photo": "https://...", "heart": false, "reply": true}

Mapping rules:

- ``id`` is ``cid``; a reply's ``cid`` is ``<parent cid>.<reply id>``, so ``parent_id`` is the part
  before the ``.``; top-level comments answer the video (``parent_id`` = ``thread_id``).
- The file does not name the video, so ``thread_id`` (the video id) must be given with
  ``--thread-id``; without it the file is refused with a one-line error (replies need a root).
- ``root_id`` is the video id too: the video is the root of every comment's tree though it is not
  a row, so top-level comments get ``depth`` 1 and replies 2 (see
  :mod:`analysis.loaders.threads`); ``author_is_op`` stays null (the video's author is unknown)
  unless the video is a row of the same run (then its ``uid`` is ``youtube:<video id>``).
- ``created_at`` comes from ``time_parsed`` (epoch seconds the tool derived from the relative
  ``time`` text at download time), so ``created_at_precision`` is ``relative``: "2 years ago" is
  only good to about a unit of its own scale. A line without ``time_parsed`` is rejected.
- ``votes`` such as ``"1.2K"`` or ``"3M"`` become integers (1200, 3000000) in ``like_count``;
  ``replies`` goes to ``reply_count``. ``author`` is the display handle, ``channel`` the author id.
- All rows are ``kind = "comment"`` on ``youtube``.

Examples
--------
>>> parse_count("1.2K"), parse_count("15"), parse_count("3M"), parse_count("1,234")
(1200, 15, 3000000, 1234)
>>> row = row_from_comment({"cid": "Ugw1.Ugx2", "text": "same", "time_parsed": 1601500000.5,
...                         "author": "@a", "channel": "UC1", "votes": "2"}, video_id="vid")
>>> row["parent_id"], row["thread_id"], row["created_at_precision"], row["like_count"]
('Ugw1', 'vid', 'relative', 2)
>>> row["root_id"]
'vid'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from analysis.errors import UserError
from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    LoadOptions,
    Reject,
    iter_json_array,
    iter_json_lines,
    json_type,
    make_uid,
    open_binary,
    parse_required_time,
    rows_from_records,
    shown,
)

# parse_count lives in analysis.loaders.counts (one reader of counts for every loader); the names
# stay importable from here
from analysis.loaders.counts import COUNT_SUFFIXES, CountNotes, parse_count  # noqa: F401

#: This format reads ``--thread-id`` (see :func:`analysis.loaders.ingest.ingest`).
READS_THREAD_ID = True
FORMAT = "youtube-comments"
PLATFORM = "youtube"

#: Keys of one youtube-comment-downloader record (``replies``, ``reply``, ``paid`` only in newer
#: versions).
RECORD_KEYS = ("cid", "text", "time", "time_parsed", "author", "channel", "votes", "replies",
               "photo", "heart", "reply", "paid")

_SNIFF_KEYS = (b'"cid"', b'"time"', b'"votes"', b'"channel"')


def _is_pretty(head: bytes) -> bool:
    """``--pretty`` output: ``{`` alone on the first line, then ``"comments": [``."""
    lines = head.lstrip().split(b"\n", 2)
    return len(lines) > 1 and lines[0].strip() == b"{" and \
        lines[1].strip().replace(b" ", b"").startswith(b'"comments":[')


def _is_record(value: dict) -> bool:
    """Whether an object found after a broken record of ``--pretty`` output is a record, where
    reading resumes: it has ``cid`` (replies are records of the same list, not nested)."""
    return "cid" in value


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` is youtube-comment-downloader output (JSON lines or ``--pretty``)."""
    if _is_pretty(head):
        return all(key in head for key in _SNIFF_KEYS)
    first = head.lstrip().split(b"\n", 1)[0]
    return first.startswith(b"{") and all(key in first for key in _SNIFF_KEYS)


def row_from_comment(record: dict, *, video_id: str, notes: CountNotes | None = None) -> dict:
    """Map one youtube-comment-downloader record to a posts-table row.

    Parameters
    ----------
    record
        One parsed line of the tool's output.
    video_id
        The video the comments belong to (``--thread-id``).
    notes
        Where to count the ``votes`` / ``replies`` values that are no count (null in the row);
        without it they are null without a note.

    Returns
    -------
    dict
        Posts-table fields with the raw channel id and handle; ``source_file`` and
        ``source_line`` are left for the caller.

    Raises
    ------
    ValueError
        When the record is not a comment or lacks its id or time; the message is a reject reason.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"wrong shape: not a comment object but a JSON {json_type(record)}")
    notes = CountNotes() if notes is None else notes
    cid = record.get("cid")
    if not isinstance(cid, str) or not cid.strip():
        raise ValueError("missing id: comment has no cid")
    cid = cid.strip()
    parsed = record.get("time_parsed")
    if parsed in (None, "") or isinstance(parsed, bool):
        raise ValueError("missing time: comment has no time_parsed "
                         f"(time {shown(record.get('time'))})")
    created_at = parse_required_time(parsed, "time_parsed", utc_platform="YouTube")
    parent_id = cid.rsplit(".", 1)[0] if "." in cid else video_id
    text = record.get("text")
    text = text if isinstance(text, str) else None
    channel = record.get("channel")
    author = record.get("author")
    return {
        "platform": PLATFORM,
        "id": cid,
        "uid": make_uid(PLATFORM, cid),
        "kind": "comment",
        "thread_id": video_id,
        "root_id": video_id,  # the video: known, though not a row (see threads.add_threads)
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": "relative",
        "author_id": channel if isinstance(channel, str) and channel else None,
        "author_handle": author if isinstance(author, str) and author else None,
        "text": text,
        "text_status": "ok" if text is not None else "unavailable",
        "like_count": notes.read(record.get("votes"), "like_count", blank=0),
        "reply_count": notes.read(record.get("replies"), "reply_count", blank=0)
        if "replies" in record else None,
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or :class:`Reject` per line; needs ``options.thread_id`` (the video id)."""
    if not options.thread_id:
        raise UserError("youtube-comment-downloader files do not name their video; pass "
                        "--thread-id VIDEO_ID", path)
    video_id = str(options.thread_id)
    with open_binary(path) as handle:
        try:
            head = handle.read(4096)
        except DECOMPRESSION_ERRORS:
            head = b""
    if _is_pretty(head):
        records = iter_json_array(path, key="comments", resume=_is_record,
                                  skipped="the comment is skipped")
    else:
        records = iter_json_lines(path)
    notes = CountNotes()
    yield from rows_from_records(
        str(path), records, lambda record: row_from_comment(record, video_id=video_id,
                                                            notes=notes))
    notes.warn(str(path))
