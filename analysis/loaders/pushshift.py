"""Reddit Pushshift / Arctic Shift dumps: NDJSON, plain or compressed (``.zst``, ``.gz``, ...).

One Reddit comment or submission per line, as in the monthly ``RC_YYYY-MM.zst`` (comments) and
``RS_YYYY-MM.zst`` (submissions) files, or in Arctic Shift and per-subreddit extracts; comments and
submissions may share a file. Each line becomes a row through
:func:`analysis.loaders.reddit.row_from_thing`; a line's kind is its ``{"kind": ..., "data": ...}``
wrapper when it has one, else guessed from its fields (:func:`analysis.loaders.reddit.kind_of`).

``.zst`` files are decompressed here, frame by frame, with the 2**31 window these dumps need, and
split into lines as bytes (a UTF-8 character split across decompression chunks stays whole). A file
that ends inside a compressed frame (a cut download) keeps every complete line before the cut and
gives one :class:`~analysis.loaders.base.Reject` for the rest; a line cut in half is that reject's
snippet. Other files go through :func:`analysis.loaders.base.iter_lines`.

Cite: Baumgartner et al., "The Pushshift Reddit Dataset", ICWSM 2020.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from analysis.loaders.base import LoadOptions, Reject, iter_lines, snippet
from analysis.loaders.reddit import kind_of, row_from_thing

FORMAT = "pushshift"

#: Window the Pushshift dumps were compressed with (``zstd --long=31``).
ZSTD_MAX_WINDOW = 2**31
#: Compressed bytes read at a time from a ``.zst`` file.
ZSTD_READ_BYTES = 1 << 20

TRUNCATED_REASON = "truncated .zst: the file ends inside a compressed frame; the rest is missing"

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


def _zst_lines(path: Path) -> Iterator[tuple[int, bytes] | Reject]:
    """``(line_number, raw)`` for each non-blank line of a ``.zst`` file; a Reject when cut."""
    import zstandard

    name = str(path)
    context = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    frame = context.decompressobj()
    frame_start = 0  # file offset where the current frame began
    offset = 0  # file offset of ``chunk``
    pending = b""
    number = 0
    fed = False
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(ZSTD_READ_BYTES)
            if not chunk:
                break
            out = []
            while chunk:
                if frame.eof:
                    frame, frame_start = context.decompressobj(), offset
                fed = True
                try:
                    out.append(frame.decompress(chunk))
                except zstandard.ZstdError as exc:
                    out.append(_recover(path, context, frame_start, offset, chunk))
                    for raw in (pending + b"".join(out)).split(b"\n")[:-1]:
                        number += 1
                        if raw.strip():
                            yield number, raw
                    yield Reject(name, number + 1, f"corrupt .zst: {exc}; the rest is missing",
                                 "")
                    return
                if frame.eof and frame.unused_data:
                    offset += len(chunk) - len(frame.unused_data)
                    chunk = frame.unused_data
                else:
                    offset += len(chunk)
                    chunk = b""
            pending += b"".join(out)
            if b"\n" not in pending:
                continue
            lines = pending.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                number += 1
                if raw.strip():
                    yield number, raw
    complete = not fed or frame.eof
    if not complete:
        yield Reject(name, number + 1, TRUNCATED_REASON, snippet(pending))
    elif pending.strip():
        yield number + 1, pending


def _recover(path: Path, context, frame_start: int, offset: int, chunk: bytes) -> bytes:
    """What a frame decodes to before the corrupt spot inside ``chunk`` (which starts at
    ``offset``), beyond what decoding up to ``offset`` already gave.

    Replays the frame from ``frame_start`` to ``offset`` (output discarded: it was yielded), then
    feeds ``chunk`` one byte at a time, so every block completed before the corruption comes out.
    """
    import zstandard

    frame = context.decompressobj()
    out: list[bytes] = []
    try:
        with open(path, "rb") as handle:
            handle.seek(frame_start)
            left = offset - frame_start
            while left > 0:
                block = handle.read(min(left, ZSTD_READ_BYTES))
                if not block:
                    return b""
                left -= len(block)
                frame.decompress(block)
        for index in range(len(chunk)):
            if frame.eof:
                frame = context.decompressobj()
            out.append(frame.decompress(chunk[index:index + 1]))
    except zstandard.ZstdError:
        pass
    return b"".join(out)


def _lines(path: Path) -> Iterator[tuple[int, bytes] | Reject]:
    if path.name.lower().endswith(".zst"):
        return _zst_lines(path)
    return iter_lines(path)


def _record(value: object) -> tuple[str, Mapping]:
    """(kind, data) of one line's JSON value; ValueError with a reason when it is neither."""
    if not isinstance(value, Mapping):
        raise ValueError(f"not a JSON object: {type(value).__name__}")
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
    for item in _lines(Path(path)):
        seen = True
        if isinstance(item, Reject):
            yield item
            continue
        number, raw = item
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield Reject(name, number, "invalid UTF-8", snippet(raw))
            continue
        except json.JSONDecodeError as exc:
            yield Reject(name, number, f"invalid JSON: {exc.msg}", snippet(raw))
            continue
        try:
            kind, data = _record(value)
            row = row_from_thing(dict(data), kind)
        except ValueError as exc:
            yield Reject(name, number, str(exc), snippet(raw))
            continue
        row["source_format"] = FORMAT
        row["source_file"] = name
        row["source_line"] = number
        yield row
    if not seen:
        yield Reject(name, None, "empty file", "")
