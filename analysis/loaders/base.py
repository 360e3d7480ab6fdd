"""What every loader shares: the records it yields, its options, and safe ways to read input.

A loader module (one per format, see :mod:`analysis.loaders`) is a pure mapping from raw records to
rows of the posts table. It yields, for each input record, either a ``dict`` of posts-table fields
(raw author ids; pseudonymization, reply trees, language and types are applied later by
:mod:`analysis.loaders.ingest`), or a :class:`Reject` saying why the record could not be read. A
loader that finds gold labels (RumourEval) also yields :class:`GoldLabel` records.

Shared pieces, so that every loader reads, maps and rejects the same way:

- reading: :func:`open_binary`, :func:`iter_lines`, :func:`parse_json_line`,
  :func:`iter_json_lines`, :func:`iter_json_values` (JSON lines or one document),
  :func:`iter_json_array` (a streamed JSON array);
- mapping: :func:`parse_time`, :func:`parse_required_time`, :func:`json_id`, :func:`json_count`,
  :func:`make_uid`;
- rejecting: :func:`snippet`, :func:`record_snippet`, and :func:`rows_from_records`, the loop
  from ``(line, record)`` pairs to rows or rejects. Reject reasons start with a stable category
  before their first ``:`` (``missing id``, ``bad time``, ...): the ingest summary counts by it.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import pandas as pd

from analysis.errors import UserError
from analysis.schema import FIRST_TIME, LAST_TIME, TIME_RANGE

#: Bumped whenever a loader's output changes for the same input; stored in every row.
LOADER_VERSION = "4"

SNIPPET_CHARS = 200
#: The UTF-8 byte order mark, which readers skip at the start of a file.
UTF8_BOM = b"\xef\xbb\xbf"

#: Files read whole as one JSON document: larger than this after decompression, and they are
#: not (a few kilobytes of .gz can expand to gigabytes).
MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024
#: Lines longer than this are a reject each instead of being buffered.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: Elements of a JSON array (see :func:`iter_json_array`) larger than this are refused instead of
#: buffered.
MAX_ELEMENT_CHARS = 64 * 1024 * 1024
_CHUNK = 1 << 16
#: Bytes that were not UTF-8, as ``errors="surrogateescape"`` decodes them.
NOT_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: where it was and why."""

    file: str
    line: int | None
    reason: str
    snippet: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason,
                "snippet": self.snippet[:SNIPPET_CHARS]}


@dataclass(frozen=True)
class GoldLabel:
    """A human label that came with a dataset; it goes to the labels table, not the posts table."""

    uid: str
    task: str
    label: str
    labeler_id: str
    split: str | None = None


@dataclass(frozen=True)
class LoadOptions:
    """Options a loader may use; every field has a safe default.

    Attributes
    ----------
    field_map
        For the generic table formats: posts-table field -> input column.
    tz
        Time zone for naive timestamps (IANA name); without it naive times are rejected.
    thread_id
        The thread / post / video the input belongs to, for formats that do not say.
    platform
        Platform for the generic formats (default ``other``).
    """

    field_map: Mapping[str, str] = field(default_factory=dict)
    tz: str | None = None
    thread_id: str | None = None
    platform: str | None = None


def make_uid(platform: str, post_id: str) -> str:
    """The table-wide key ``platform:id``."""
    return f"{platform}:{post_id}"


def snippet(raw: bytes | str) -> str:
    """The first characters of a raw record, decoded leniently, for a reject row."""
    if isinstance(raw, bytes):
        raw = raw[: SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    return raw[:SNIPPET_CHARS]


def open_binary(path: str | os.PathLike) -> IO[bytes]:
    """Open a file for reading bytes, decompressing ``.gz``, ``.bz2``, ``.xz`` and ``.zst``, and
    skipping a UTF-8 byte order mark at its start (spreadsheet programs and Windows editors write
    one).

    Zstandard files are read across frames with a 2**31 window, as Pushshift / Arctic Shift dumps
    need; reading to the end of one cut inside a frame raises :class:`EOFError`
    (:func:`analysis.loaders.zst.open_checked`).
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix == ".gz":
        handle = gzip.open(source, "rb")
    elif suffix == ".bz2":
        handle = bz2.open(source, "rb")
    elif suffix == ".xz":
        handle = lzma.open(source, "rb")
    elif suffix == ".zst":
        from analysis.loaders import zst

        handle = zst.open_checked(source)
    else:
        handle = open(source, "rb")
    try:
        if handle.peek(len(UTF8_BOM))[:len(UTF8_BOM)] == UTF8_BOM:
            handle.read(len(UTF8_BOM))
    except BaseException:
        handle.close()
        raise
    return handle


DECOMPRESSION_ERRORS = (EOFError, OSError, lzma.LZMAError, gzip.BadGzipFile)


def read_whole(path: str | os.PathLike) -> bytes | None:
    """The decompressed bytes of ``path``, or None when there are more than
    :data:`MAX_WHOLE_FILE_BYTES` (checked while reading, so a small compressed file that expands
    to gigabytes is never held).

    Raises what :func:`open_binary` reads raise (:data:`DECOMPRESSION_ERRORS`).
    """
    with open_binary(path) as handle:
        data = handle.read(MAX_WHOLE_FILE_BYTES + 1)
    return None if len(data) > MAX_WHOLE_FILE_BYTES else data


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes] | Reject]:
    """Yield ``(line_number, raw_bytes)`` for each non-blank line (1-based), streaming.

    A file that ends in the middle of a compressed stream yields a :class:`Reject` for the rest
    instead of raising (a ``.zst`` file keeps every complete line before the cut or damage:
    :func:`analysis.loaders.zst.lines`). Lines are split on ``\\n`` in bytes, so a UTF-8
    character split across decompression chunks is never broken. A UTF-8 byte order mark at the
    start of the file is skipped.
    """
    if Path(path).suffix.lower() == ".zst":
        from analysis.loaders import zst

        first = True
        for item in zst.lines(Path(path)):
            if first and not isinstance(item, Reject):
                item = item[0], item[1].removeprefix(UTF8_BOM)
                first = False
            yield item
        return
    name = str(path)
    number = 0
    try:
        with open_binary(path) as handle:
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass  # the rest of the line, not kept
                    yield Reject(name, number, LONG_LINE, snippet(raw))
                elif raw.strip():
                    yield number, raw
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(name, number + 1, f"truncated or corrupt compressed file: {exc}", "")


#: Reject reason of a line over :data:`MAX_LINE_BYTES`.
LONG_LINE = f"line longer than {MAX_LINE_BYTES // 2**20} MiB; skipped"


#: Suffixes :func:`open_binary` decompresses; such files cannot be read from a byte offset.
COMPRESSED_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zst"})


def line_ranges(path: str | os.PathLike, size: int) -> list[tuple[int, int]]:
    r"""Byte ranges ``[start, end)`` of about ``size`` bytes that cover an (uncompressed) file and
    end just after a newline (the last one at the end of the file).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
    ...     _ = handle.write(b"aaa\nbb\nc\n\ndddd")
    >>> line_ranges(handle.name, 4)
    [(0, 4), (4, 9), (9, 14)]
    >>> os.unlink(handle.name)
    """
    total = os.path.getsize(path)
    ranges = []
    start = 0
    with open(path, "rb") as handle:
        while start < total:
            handle.seek(min(start + size, total) - 1)
            handle.readline()  # to just after the newline at or after the target
            end = handle.tell()
            ranges.append((start, end))
            start = end
    return ranges


def iter_lines_between(path: str | os.PathLike, start: int, end: int
                       ) -> Iterator[tuple[int, bytes]]:
    """:func:`iter_lines` for the bytes ``[start, end)`` of an uncompressed file, numbering
    lines from 1 at ``start`` (add the lines before ``start`` for the file's numbers).

    ``start`` and ``end`` are line boundaries, as :func:`line_ranges` gives them.
    """
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        number = 0
        while left > 0:
            raw = handle.readline(left)
            if not raw:
                break
            left -= len(raw)
            number += 1
            if number == 1 and start == 0:
                raw = raw.removeprefix(UTF8_BOM)
            if raw.strip():
                yield number, raw


def count_lines(path: str | os.PathLike, start: int, end: int) -> int:
    """The number of lines :func:`iter_lines_between` numbers in ``[start, end)`` (a last line
    without a newline counts)."""
    count = 0
    last = b"\n"
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            block = handle.read(min(left, _CHUNK * 16))
            if not block:
                break
            count += block.count(b"\n")
            last = block[-1:]
            left -= len(block)
    return count + (last != b"\n")


def parse_json_line(name: str, number: int, raw: bytes) -> tuple[int, object] | Reject:
    """``(number, value)`` of one JSON line, or a :class:`Reject` for bad UTF-8 or bad JSON.

    Parameters
    ----------
    name
        The file, for the reject.
    number
        The line number (1-based).
    raw
        The line's bytes.
    """
    try:
        return number, json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Reject(name, number, "invalid UTF-8", snippet(raw))
    except json.JSONDecodeError as exc:
        return Reject(name, number, f"invalid JSON: {exc.msg}", snippet(raw))
    except RecursionError:
        return Reject(name, number, NESTED_TOO_DEEPLY, snippet(raw))


#: Reject reason for JSON nested deeper than Python's parser goes: about 1,000 levels on Python
#: 3.11, several thousand on 3.13 (its parser no longer recurses in Python), so a document between
#: the two (a Reddit thread some hundreds of replies deep) reads on the newer Python only.
NESTED_TOO_DEEPLY = ("JSON nested too deeply to read (deeper than this Python's parser goes: "
                     "about 1,000 levels on Python 3.11)")


def iter_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, object] | Reject]:
    """Yield ``(line_number, parsed_json)`` per line; bad UTF-8 or bad JSON becomes a Reject."""
    name = str(path)
    for item in iter_lines(path):
        yield item if isinstance(item, Reject) else parse_json_line(name, *item)


def iter_json_values(
    path: str | os.PathLike,
    whole_document: Callable[[Path, bytes, tuple[int, object] | Reject],
                             Iterable[tuple[int, object] | Reject] | None],
    *,
    parse_line: Callable[[str, int, bytes], tuple[int, object] | Reject] = parse_json_line,
) -> Iterator[tuple[int, object] | Reject]:
    """JSON values of a file with their line: one per line, or the file read whole.

    The first non-blank line decides. ``whole_document(path, first_line, parsed)`` gets it raw
    and parsed (``(line, value)`` or a :class:`Reject`) and returns the values of the file read
    as one document, or ``None`` to read the file line by line (a bad line is a reject for that
    line). An empty file is one ``empty file`` reject.

    Parameters
    ----------
    path
        The file (decompressed as :func:`open_binary` does).
    whole_document
        The format's rule for files that are not JSON lines (a pretty-printed document, an
        array).
    parse_line
        ``(file name, line number, raw line) -> (line, value) | Reject``.
    """
    name = str(path)
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        yield Reject(name, None, "empty file", "")
        return
    if isinstance(first, Reject):
        yield first
        return
    number, raw = first
    parsed = parse_line(name, number, raw)
    document = whole_document(Path(path), raw, parsed)
    if document is not None:
        lines.close()
        yield from document
        return
    yield parsed
    for item in lines:
        yield item if isinstance(item, Reject) else parse_line(name, *item)


def iter_json_array(path: Path, *, key: str | None = None
                    ) -> Iterator[tuple[int, object] | Reject]:
    """Yield ``(line, element)`` for each element of a JSON array, streaming (no whole-file read).

    Parameters
    ----------
    path
        A file holding a JSON array (``key=None``), or an object whose first member ``key`` is
        the array (``{"comments": [...]}``); decompressed as :func:`open_binary` does.
    key
        The member that holds the array, when the file is an object.

    An element with invalid UTF-8 is rejected alone; a syntax error, a truncated file or a wrong
    shape ends the file with one reject naming the line.
    """
    name = str(path)
    decoder = json.JSONDecoder()
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    buffer = ""
    pos = 0
    line = 1
    eof = False

    def more() -> bool:
        nonlocal buffer, pos, eof
        if eof:
            return False
        try:
            block = handle.read(_CHUNK)
        except DECOMPRESSION_ERRORS as exc:
            raise _Truncated(str(exc)) from None
        if not block:
            eof = True
            buffer = buffer[pos:] + text_decoder.decode(b"", final=True)
            pos = 0
            return bool(buffer)
        buffer = buffer[pos:] + text_decoder.decode(block)
        pos = 0
        return True

    def skip_space() -> None:
        nonlocal pos, line
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                if buffer[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buffer) or not more():
                return

    with open_binary(path) as handle:
        try:
            skip_space()
            if pos >= len(buffer):
                yield Reject(name, None, "empty file", "")
                return
            if key is not None:
                # '{' then '"key"' then ':' before the array
                for expected in ("{", json.dumps(key), ":"):
                    skip_space()
                    if buffer[pos:pos + len(expected)] != expected:
                        yield Reject(name, line, f"wrong shape: expected an object with "
                                     f"{json.dumps(key)} first", snippet(buffer[pos:pos + 200]))
                        return
                    pos += len(expected)
                skip_space()
            if pos >= len(buffer) or buffer[pos] != "[":
                first = buffer[pos:pos + 200]
                kind = "a JSON object" if first.startswith("{") else "not JSON"
                yield Reject(name, line, "wrong shape: expected a JSON array, "
                             f"found {kind}", snippet(first))
                return
            pos += 1
            while True:
                skip_space()
                if pos >= len(buffer):
                    yield Reject(name, line, "truncated: the file ends inside the JSON array", "")
                    return
                if buffer[pos] == "]":
                    return
                if buffer[pos] == ",":
                    pos += 1
                    continue
                while True:
                    try:
                        element, end = decoder.raw_decode(buffer, pos)
                    except json.JSONDecodeError as exc:
                        if len(buffer) - pos > MAX_ELEMENT_CHARS:
                            yield Reject(name, line, "too large: an array element is over "
                                         "the size limit", "")
                            return
                        if more():
                            continue
                        yield Reject(name, line, f"invalid JSON: {exc.msg}",
                                     snippet(buffer[pos:pos + 200]))
                        return
                    if end >= len(buffer) and not eof and more():
                        # a number at the end of the buffer may continue in the next block
                        continue
                    break
                raw = buffer[pos:end]
                start_line = line
                line += raw.count("\n")
                pos = end
                if NOT_UTF8.search(raw):
                    yield Reject(name, start_line, "invalid UTF-8",
                                 snippet(raw.encode("utf-8", "replace")))
                    continue
                yield start_line, element
        except _Truncated as exc:
            yield Reject(name, line, f"truncated or corrupt compressed file: {exc}", "")


class _Truncated(Exception):
    pass


def parse_time(value: object, *, tz: str | None = None) -> pd.Timestamp | None:
    """Parse a timestamp into a tz-aware UTC :class:`pandas.Timestamp`.

    Accepts ISO-8601 strings, Twitter's ``Tue Mar 24 10:45:36 +0000 2015``, and Unix epoch seconds
    as int, float or numeric string. Naive times are localized to ``tz``; without ``tz`` they raise
    :class:`ValueError`, as do unparseable values. ``None`` and empty strings give ``None``.

    Examples
    --------
    >>> parse_time("Tue Mar 24 10:45:36 +0000 2015")
    Timestamp('2015-03-24 10:45:36+0000', tz='UTC')
    >>> parse_time("1134345600")
    Timestamp('2005-12-12 00:00:00+0000', tz='UTC')
    >>> parse_time("2020-09-30 21:00", tz="America/Los_Angeles")
    Timestamp('2020-10-01 04:00:00+0000', tz='UTC')
    >>> parse_time(float("nan")) is None
    True
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        seconds = float(value)
        if seconds != seconds:  # NaN: a missing time, as pandas writes it
            return None
        if seconds in (float("inf"), float("-inf")):
            raise ValueError(f"not a time: {value!r}")
        if not _FIRST_SECOND <= seconds <= _LAST_SECOND:
            raise ValueError(f"time out of range: {value!r} seconds since 1970 is outside the "
                             f"years {TIME_RANGE} that the table holds (numbers are read as "
                             "seconds, not milliseconds)")
        # to the microsecond: no source is finer, and float seconds carry binary noise below it
        # (1700000000.123456 would be ...20.123456001)
        return pd.Timestamp(round(seconds * 1_000_000), unit="us", tz="UTC").as_unit("ns")
    if isinstance(value, str) and len(value) == 30 and value[3] == " " and value[19] == " ":
        stamp = pd.Timestamp(datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y"))
    else:
        stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is None:
        if tz is None:
            raise ValueError(f"naive time {value!r} has no time zone; pass --tz")
        try:
            stamp = stamp.tz_localize(tz)
        except ValueError:
            raise ValueError(_daylight_saving_problem(stamp, tz, value)) from None
    return in_time_range(stamp.tz_convert("UTC"), value)


def _daylight_saving_problem(stamp: pd.Timestamp, tz: str, value: object) -> str:
    """Why the naive ``stamp`` has no single time in ``tz``: a clock change."""
    try:
        stamp.tz_localize(tz, ambiguous=True)
    except ValueError:
        return (f"local time {value!r} does not exist in {tz} (the clocks went forward "
                "then); give such times with their UTC offset")
    return (f"local time {value!r} happened twice in {tz} (the clocks went back then); give "
            "such times with their UTC offset")


_FIRST_SECOND, _LAST_SECOND = FIRST_TIME.timestamp(), LAST_TIME.timestamp()


def in_time_range(stamp: pd.Timestamp, value: object) -> pd.Timestamp:
    """``stamp`` (tz-aware), or :class:`ValueError` when the table cannot hold it (pandas would
    wrap such a time around to a wrong one when storing it in nanoseconds)."""
    if not FIRST_TIME <= stamp <= LAST_TIME:
        raise ValueError(f"time out of range: {value!r} is outside the years {TIME_RANGE} that "
                         "the table holds")
    return stamp


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_input(path: str | os.PathLike) -> Path:
    """A readable input file or folder, or a :class:`UserError` naming it."""
    source = Path(path)
    if not source.exists():
        raise UserError("no such file or folder", source)
    return source


def json_id(value: object, what: str) -> str | None:
    """An id from a JSON value: a string or an integer, as a string; ``None`` when absent.

    Raises
    ------
    ValueError
        ``"<what> is not an id: <value>"`` for any other type (booleans included).
    """
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{what} is not an id: {value!r}")
    return str(value)


def json_count(value: object) -> int | None:
    """A count from a JSON value: an integer or a string of digits; anything else, and a number
    too large for the table's 64-bit count columns, gives ``None``.

    Examples
    --------
    >>> json_count(3), json_count("12"), json_count(True), json_count(1.5), json_count("-1")
    (3, 12, None, None, None)
    >>> json_count(10**20) is None
    True
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return in_count_range(value)
    if isinstance(value, str) and value.isdigit():
        return in_count_range(int(value))
    return None


def in_count_range(number: int) -> int | None:
    """``number``, or ``None`` when the table's 64-bit count columns cannot hold it."""
    return number if _INT64_MIN <= number <= _INT64_MAX else None


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_required_time(value: object, what: str, *, tz: str | None = None) -> pd.Timestamp:
    """:func:`parse_time` for a time a record must have (the caller checks it is present).

    Parameters
    ----------
    value
        The raw time.
    what
        Its field name, for the reason.
    tz
        As for :func:`parse_time`.

    Raises
    ------
    ValueError
        With a reject reason starting ``bad time:`` when ``value`` is no time.
    """
    try:
        stamp = parse_time(value, tz=tz)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"bad time: {what} {value!r} ({exc})") from None
    if stamp is None or stamp is pd.NaT:
        raise ValueError(f"bad time: {what} {value!r} is not a time")
    return stamp


def record_snippet(record: object) -> str:
    """A parsed JSON record written back as JSON, cut for a reject row."""
    return snippet(json.dumps(record, ensure_ascii=False, default=str))


def rows_from_records(name: str, records: Iterable[tuple[int, object] | Reject],
                      to_row: Callable[[object], dict]) -> Iterator[dict | Reject]:
    """Map ``(line, record)`` pairs to rows with ``source_file`` and ``source_line`` set.

    Parameters
    ----------
    name
        The input file.
    records
        What :func:`iter_json_lines` or :func:`iter_json_array` yields; rejects pass through.
    to_row
        One record -> one posts-table row; a :class:`ValueError` it raises becomes a reject with
        its message as the reason.

    Yields
    ------
    dict or Reject
        One per record, and an ``empty file`` reject when there was none.
    """
    seen_any = False
    for item in records:
        seen_any = True
        if isinstance(item, Reject):
            yield item
            continue
        number, record = item
        try:
            row = to_row(record)
        except ValueError as exc:
            yield Reject(name, number, str(exc), record_snippet(record))
            continue
        row["source_file"] = name
        row["source_line"] = number
        yield row
    if not seen_any:
        yield Reject(name, None, "empty file", "")
