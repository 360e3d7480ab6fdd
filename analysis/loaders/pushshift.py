"""Reddit Pushshift / Arctic Shift dumps: NDJSON, plain or compressed (``.zst``, ``.gz``, ...).

One Reddit comment or submission per line, as in the monthly ``RC_YYYY-MM.zst`` (comments) and
``RS_YYYY-MM.zst`` (submissions) files, or in Arctic Shift and per-subreddit extracts; comments and
submissions may share a file. Each line becomes a row through
:func:`analysis.loaders.reddit.row_from_thing`; a line's kind is its ``{"kind": ..., "data": ...}``
wrapper when it has one, else guessed from its fields (:func:`analysis.loaders.reddit.kind_of`).

``.zst`` files are decompressed here (across frames, with the 2**31 window these dumps need; the
decompressor holds up to one window of history, so memory grows with the file up to that window,
as with ``zstd --long=31``) and split into lines as bytes (a UTF-8 character split across
decompression chunks stays whole). A file that ends inside a compressed frame (a cut download,
found by :func:`frames_complete`) keeps every complete line before the cut and gives one
:class:`~analysis.loaders.base.Reject` for the rest; a line cut in half is that reject's snippet.
A damaged block keeps every line before it, likewise. Other files go through
:func:`analysis.loaders.base.iter_lines`.

Cite: Baumgartner et al., "The Pushshift Reddit Dataset", ICWSM 2020.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from analysis.loaders.base import LoadOptions, Reject, iter_lines, parse_json_line, snippet
from analysis.loaders.reddit import kind_of, row_from_thing

FORMAT = "pushshift"

#: Window the Pushshift dumps were compressed with (``zstd --long=31``).
ZSTD_MAX_WINDOW = 2**31
#: Decompressed bytes read at a time from a ``.zst`` file.
ZSTD_READ_BYTES = 1 << 18

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


def _zst_reader(path: Path) -> IO[bytes]:
    import zstandard

    context = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    return context.stream_reader(open(path, "rb"), read_across_frames=True, closefd=True)


def _zst_lines(path: Path) -> Iterator[tuple[int, bytes] | Reject]:
    """``(line_number, raw)`` for each non-blank line of a ``.zst`` file; a Reject when cut."""
    import zstandard

    name = str(path)
    pending = b""
    number = 0
    done = 0  # decompressed bytes read so far
    error: Exception | None = None
    with _zst_reader(path) as reader:
        while True:
            try:
                block = reader.read(ZSTD_READ_BYTES)
            except zstandard.ZstdError as exc:
                error = exc
                break
            if not block:
                break
            done += len(block)
            pending += block
            if b"\n" not in block:
                continue
            lines = pending.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                number += 1
                if raw.strip():
                    yield number, raw
    if error is not None:
        pending += _readable_after(path, done)
        lines = pending.split(b"\n")
        for raw in lines[:-1]:
            number += 1
            if raw.strip():
                yield number, raw
        yield Reject(name, number + 1, f"corrupt .zst: {error}; the rest is missing",
                     snippet(lines[-1]))
        return
    if not frames_complete(path):
        yield Reject(name, number + 1, TRUNCATED_REASON, snippet(pending))
    elif pending.strip():
        yield number + 1, pending


def _readable_after(path: Path, done: int) -> bytes:
    """The bytes that still decompress after the first ``done``, up to a damaged block.

    The failed read may have dropped the good end of the block before the damage; reading again
    one byte at a time from ``done`` gets all of it back.
    """
    import zstandard

    out = bytearray()
    try:
        with _zst_reader(path) as reader:
            reader.seek(done)
            while byte := reader.read(1):
                out += byte
    except (zstandard.ZstdError, OSError):
        pass
    return bytes(out)


#: zstd frame magic numbers (RFC 8878): a data frame, and the 16 skippable ones.
_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MASK, _SKIPPABLE_MAGIC = 0xFFFFFFF0, 0x184D2A50


def frames_complete(path: Path) -> bool:
    """Whether a ``.zst`` file is a sequence of whole zstd frames (RFC 8878), without
    decompressing it: frame headers and block headers are read, block contents skipped.

    A decompressor that runs out of input in the middle of a frame just stops; this is how a cut
    download is told from a whole one.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        offset = 0
        while offset < size:
            handle.seek(offset)
            head = handle.read(18)  # magic (4) + the longest frame header (14)
            if len(head) < 4:
                return False
            magic = int.from_bytes(head[:4], "little")
            if magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC:
                if len(head) < 8:
                    return False
                offset += 8 + int.from_bytes(head[4:8], "little")
                continue
            if magic != _ZSTD_MAGIC or len(head) < 5:
                return False
            descriptor = head[4]
            single_segment = descriptor >> 5 & 1
            content_size_bytes = (0 if not single_segment else 1, 2, 4, 8)[descriptor >> 6]
            dictionary_bytes = (0, 1, 2, 4)[descriptor & 3]
            checksum_bytes = 4 if descriptor >> 2 & 1 else 0
            offset += 5 + (0 if single_segment else 1) + dictionary_bytes + content_size_bytes
            while True:
                handle.seek(offset)
                header = handle.read(3)
                if len(header) < 3:
                    return False
                value = int.from_bytes(header, "little")
                block_type, block_size = value >> 1 & 3, value >> 3
                if block_type == 3:
                    return False
                offset += 3 + (1 if block_type == 1 else block_size)
                if value & 1:
                    break
            offset += checksum_bytes
    return offset == size


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
    for item in _rows_of_lines(name, _lines(Path(path))):
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
    for item in lines:
        if isinstance(item, Reject):
            yield item
            continue
        number, raw = item
        parsed = parse_json_line(name, number, raw)
        if isinstance(parsed, Reject):
            yield parsed
            continue
        value = parsed[1]
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
