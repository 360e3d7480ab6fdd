"""What every loader shares: the records it yields, its options, and safe ways to read input.

A loader module (one per format, see :mod:`analysis.loaders`) is a pure mapping from raw records to
rows of the posts table. It yields, for each input record, either a ``dict`` of posts-table fields
(raw author ids; pseudonymization, reply trees, language and types are applied later by
:mod:`analysis.loaders.ingest`), or a :class:`Reject` saying why the record could not be read. A
loader that finds gold labels (RumourEval) also yields :class:`GoldLabel` records.

Shared pieces, so that every loader reads, maps and rejects the same way:

- reading: :func:`open_binary`, :func:`iter_lines`, :func:`parse_json_line`,
  :func:`iter_json_lines`, :func:`iter_json_values` (JSON lines or one document),
  :func:`iter_json_array` (a streamed JSON array; with ``resume``, a broken element is
  one reject and reading goes on at the next element), :func:`load_json` (a JSON document; lone
  UTF-16 surrogates in its strings become U+FFFD, as in all of these readers, with
  :func:`warn_broken_texts`);
- mapping: :func:`parse_time`, :func:`parse_time_with_precision`, :func:`parse_required_time`,
  :func:`json_id`, :func:`json_count`, :func:`make_uid`;
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
import warnings
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

import pandas as pd

from analysis.errors import UserError
from analysis.schema import FIRST_TIME, LAST_TIME, TIME_RANGE

#: Bumped whenever a loader's output changes for the same input; stored in every row.
LOADER_VERSION = "10"

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
#: Read buffer of :func:`iter_lines_between`. With Python's default (8 KiB), ``readline`` of
#: long lines (a twarc2 response page is about 64 KiB) gathers each line from many small reads:
#: reading the lines of the 84 MB benchmark file took about 0.11 s of CPU, with 1 MiB 0.04 s.
LINE_BUFFER_BYTES = 1 << 20
#: Bytes that were not UTF-8, as ``errors="surrogateescape"`` decodes them.
NOT_UTF8 = re.compile("[\udc80-\udcff]")
#: The reject reason of a CSV record that is not UTF-8: most often a spreadsheet's export in its
#: own code page, whose every record with an accent would be rejected.
CSV_NOT_UTF8 = ("invalid UTF-8: the record is not UTF-8 (a spreadsheet may have saved the file "
                "as Windows-1252; save it as \"CSV UTF-8\" and read it again)")


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


def shown(value: object) -> str:
    """A record's value in a reject reason: a text quoted as Python quotes it (``'2020-13-01'``),
    anything else as JSON writes it (``true``, ``null``, ``{"a": 1}``), as the input held it.

    >>> shown("2020-13-01"), shown(True), shown(None), shown({"a": [1]}), shown(1.5)
    ("'2020-13-01'", 'true', 'null', '{"a": [1]}', '1.5')
    """
    if isinstance(value, str):
        return repr(value)
    try:
        return snippet(json.dumps(value, ensure_ascii=False, allow_nan=True))
    except (TypeError, ValueError):  # not a JSON value (a Parquet cell's timestamp, bytes)
        return snippet(repr(value))


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

#: The first bytes of each compression :func:`open_binary` reads, its name and its suffix.
COMPRESSION_MAGIC = ((b"\x1f\x8b", "gzip", ".gz"), (b"\x28\xb5\x2f\xfd", "zstd", ".zst"),
                     (b"BZh", "bzip2", ".bz2"), (b"\xfd7zXZ\x00", "xz", ".xz"))


def compressed_without_suffix(path: str | os.PathLike, head: bytes) -> str | None:
    """What to do with a file that holds compressed data (``head``: its first bytes) without the
    suffix that :func:`open_binary` decompresses by; None for any other file.

    Examples
    --------
    >>> compressed_without_suffix("tweets.jsonl", gzip.compress(b"{}"))
    'gzip-compressed data without the .gz suffix: rename it to tweets.jsonl.gz'
    >>> compressed_without_suffix("tweets.jsonl", b"{}") is None
    True
    """
    source = Path(path)
    if source.suffix.lower() in COMPRESSED_SUFFIXES:
        return None
    for magic, kind, suffix in COMPRESSION_MAGIC:
        if head.startswith(magic):
            return (f"{kind}-compressed data without the {suffix} suffix: rename it to "
                    f"{source.name}{suffix}")
    return None


def decompresses_to_nothing(path: str | os.PathLike) -> bool:
    """Whether ``path`` reads, whole and undamaged, as no bytes: an empty file, or an empty one
    compressed (a ``.gz`` of nothing is 20 bytes on disk). False for a file that cannot be
    decompressed."""
    try:
        with open_binary(path) as handle:
            return handle.read(1) == b""
    except DECOMPRESSION_ERRORS:
        return False


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
    """Yield ``(line_number, raw_bytes)`` for each non-blank line (1-based; see
    :func:`has_content`), streaming.

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
                elif has_content(raw):
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
                       ) -> Generator[tuple[int, bytes], None, int]:
    """:func:`iter_lines` for the bytes ``[start, end)`` of an uncompressed file, numbering
    lines from 1 at ``start`` (add the lines before ``start`` for the file's numbers).

    ``start`` and ``end`` are line boundaries, as :func:`line_ranges` gives them. Read to the
    end, the generator returns the number of lines it numbered (blank ones too), as
    :func:`count_lines` counts them.
    """
    with open(path, "rb", buffering=LINE_BUFFER_BYTES) as handle:
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
            if has_content(raw):
                yield number, raw
    return number


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


def parse_json_line(name: str, number: int, raw: bytes, broken: Counter | None = None
                    ) -> tuple[int, object] | Reject:
    """``(number, value)`` of one JSON line, or a :class:`Reject` for bad UTF-8 or bad JSON.

    Lone UTF-16 surrogates are replaced by U+FFFD, as :func:`load_json` does. The marks of
    :data:`LINE_START_MARKS` at the start of the line are dropped (:func:`without_line_marks`).

    Parameters
    ----------
    name
        The file, for the reject.
    number
        The line number (1-based).
    raw
        The line's bytes.
    broken
        As for :func:`load_json`.
    """
    try:
        return number, load_json(without_line_marks(raw), broken)
    except UnicodeDecodeError:
        return Reject(name, number, "invalid UTF-8", snippet(raw))
    except json.JSONDecodeError as exc:
        return Reject(name, number, json_error_reason(exc), snippet(raw))
    except RecursionError:
        return Reject(name, number, NESTED_TOO_DEEPLY, snippet(raw))


#: Bytes dropped at the start of a JSON line (:func:`without_line_marks`): a UTF-8 byte order
#: mark (files that each start with one, joined with ``cat``, have one at the start of a later
#: line) and the record separator 0x1e that RFC 7464 JSON text sequences put before every record.
LINE_START_MARKS = (UTF8_BOM, b"\x1e")


def without_line_marks(raw: bytes) -> bytes:
    r"""``raw`` without the :data:`LINE_START_MARKS` it starts with.

    Examples
    --------
    >>> without_line_marks(b'\xef\xbb\xbf{"id": 1}'), without_line_marks(b'\x1e{"id": 1}')
    (b'{"id": 1}', b'{"id": 1}')
    >>> without_line_marks(b'{"id": 1}\x1e')
    b'{"id": 1}\x1e'
    """
    while raw.startswith(LINE_START_MARKS):
        raw = raw[3:] if raw.startswith(UTF8_BOM) else raw[1:]
    return raw


def has_content(raw: bytes) -> bool:
    r"""Whether a line holds more than whitespace and :data:`LINE_START_MARKS`: the line readers
    skip the others as blank (a line of only a byte order mark, left by ``cat`` of a file that
    holds nothing else, is no record cut short).

    >>> has_content(b"\xef\xbb\xbf\n"), has_content(b"\x1e\r\n"), has_content(b"\x1e{}")
    (False, False, True)
    """
    rest = without_line_marks(raw)
    return bool(rest) and not rest.isspace()  # as bool(rest.strip()), without copying the line


#: Whitespace in JSON (RFC 8259); ``str.strip`` strips more (0x1c-0x1f, U+00A0, ...), which a
#: JSON parser reads as text after the value, not as the end of the text.
JSON_SPACE = " \t\r\n"


def json_error_reason(exc: json.JSONDecodeError, *, lines_before: int = 0,
                      column: bool = True) -> str:
    r"""The reject reason of a JSON syntax error, whole: Python's message with the place it
    names (``exc.msg`` alone stops at ``"Unterminated string starting at"``; the place is only
    in ``str(exc)``).

    The place is a column for a text on one line (a JSON line: the reject names the line), and
    a line and column for a document over several lines.

    Parameters
    ----------
    exc
        The error of :func:`json.loads` or :meth:`json.JSONDecoder.raw_decode`.
    lines_before
        Lines of the file before ``exc.doc`` (a part of a file read in blocks).
    column
        False when ``exc.doc`` may start in the middle of a line, so that a column on its
        first line would be wrong: only the line is named there.

    Examples
    --------
    >>> try:
    ...     json.loads('{"id": 1, "text": "a\tb"}')
    ... except json.JSONDecodeError as exc:
    ...     json_error_reason(exc)
    'invalid JSON: invalid control character at column 21'
    >>> try:
    ...     json.loads('{\n  "id": 1\n  "text": ""\n}')
    ... except json.JSONDecodeError as exc:
    ...     json_error_reason(exc)
    "invalid JSON: expecting ',' delimiter (line 3, column 3)"
    >>> try:
    ...     json.loads('{"id": 1, "text": "cut\n')
    ... except json.JSONDecodeError as exc:
    ...     json_error_reason(exc)
    'invalid JSON: cut short: the text ends inside its JSON value at column 23'
    """
    if json_ends_early(exc):
        # the text ends before its value does (a line or file cut short); the decoder reads the
        # line ending of a string cut there as a control character inside it, and places other
        # errors after the line ending (line 2, column 1): name the end of the text instead
        exc = json.JSONDecodeError("cut short: the text ends inside its JSON value at", exc.doc,
                                   len(exc.doc.rstrip(JSON_SPACE)))
    message = exc.msg
    if message == "Extra data":
        message = "extra data after the JSON value"
    if message[1:2].islower():
        message = message[0].lower() + message[1:]
    if lines_before or "\n" in exc.doc.rstrip(JSON_SPACE):
        line = lines_before + exc.lineno
        known_column = column or exc.lineno > 1  # after a newline in the text: a whole line
        where = f"line {line}, column {exc.colno}" if known_column else f"line {line}"
    else:
        where = f"column {exc.colno}"
    if message.endswith(" at"):  # "Unterminated string starting at", "Invalid control ... at"
        return f"invalid JSON: {message} {where}"
    return f"invalid JSON: {message} ({where})"


def json_ends_early(exc: json.JSONDecodeError) -> bool:
    """Whether a JSON syntax error is the text ending before its value does (a file or line cut
    short: in a string, after its last value, or inside ``true``, ``false`` or ``null``), not a
    wrong character inside it."""
    rest = exc.doc[exc.pos:].rstrip(JSON_SPACE)
    return (exc.msg.startswith("Unterminated string") or not rest
            or any(word.startswith(rest) and word != rest for word in ("true", "false", "null")))


def json_type(value: object) -> str:
    """The JSON name of a parsed JSON value's type, for reject reasons (``null``, not Python's
    ``NoneType``).

    Examples
    --------
    >>> [json_type(v) for v in (None, True, 1, 1.5, "a", [], {})]
    ['null', 'boolean', 'number', 'number', 'string', 'array', 'object']
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def load_json(data: bytes, broken: Counter | None = None) -> object:
    """The JSON value of UTF-8 ``data``, with every lone UTF-16 surrogate in its strings
    (``"\\ud800"``, a text cut in the middle of an emoji) replaced by U+FFFD: such a string
    cannot be stored or written as UTF-8 (:func:`replace_lone_surrogates`).

    Parameters
    ----------
    data
        A JSON document or line.
    broken
        Where to count (under :data:`BROKEN_TEXTS`) the strings that held a lone surrogate, for
        :func:`warn_broken_texts`.

    Raises
    ------
    UnicodeDecodeError, json.JSONDecodeError, RecursionError
        As :func:`json.loads` of the decoded text does.
    """
    value = json.loads(data.decode("utf-8"))
    if _LONE_SURROGATE_ESCAPE.search(data) is not None:  # rare: the common line takes no walk
        value, count = replace_lone_surrogates(value)
        if broken is not None:
            broken[BROKEN_TEXTS] += count
    return value


#: A UTF-16 surrogate escape in raw JSON that is not half of a pair: a high one (``\\ud800``) not
#: followed by a low one, or a low one not preceded by a high one. Only a line holding one can
#: parse to a string with a lone surrogate (a literal backslash before ``ud800`` matches too;
#: :func:`replace_lone_surrogates` then finds nothing). Starting with the literal ``\\u``, the
#: search skips through a line about 10 times faster than ``json.loads`` reads it.
_LONE_ESCAPE = (r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD])[c-fC-F][0-9a-fA-F]{2})")
_LONE_SURROGATE_ESCAPE = re.compile(_LONE_ESCAPE.encode())
_LONE_SURROGATE_ESCAPE_TEXT = re.compile(_LONE_ESCAPE)
#: A surrogate in a parsed string: the JSON parser pairs escaped surrogates, so one left is lone.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Key of :func:`parse_json_line`'s ``broken`` counter.
BROKEN_TEXTS = "broken texts"


def replace_lone_surrogates(value: object) -> tuple[object, int]:
    """``value`` (parsed JSON, changed in place) with every lone UTF-16 surrogate in its strings,
    keys included, replaced by U+FFFD, and the number of strings that held one.

    Examples
    --------
    >>> replace_lone_surrogates({"text": "cut \\ud83d", "ok": ["\\U0001f495"]})
    ({'text': 'cut \ufffd', 'ok': ['\U0001f495']}, 1)
    """
    count = 0

    def fix(text: str) -> str:
        nonlocal count
        if LONE_SURROGATE.search(text) is None:
            return text
        count += 1
        return LONE_SURROGATE.sub("\ufffd", text)

    if isinstance(value, str):
        return fix(value), count
    stack = [value]
    while stack:  # not recursive: a value may be nested deeper than Python recurses
        current = stack.pop()
        if isinstance(current, dict):
            if any(LONE_SURROGATE.search(key) for key in current):
                items = [(fix(key), item) for key, item in current.items()]
                current.clear()
                current.update(items)
            pairs = current.items()
        elif isinstance(current, list):
            pairs = enumerate(current)
        else:
            continue
        for key, item in pairs:
            if isinstance(item, str):
                current[key] = fix(item)
            elif isinstance(item, dict | list):
                stack.append(item)
    return value, count


class BrokenTextWarning(UserWarning):
    """``count`` strings of the file ``name`` held a lone surrogate (U+FFFD now). A file read in
    parts (:mod:`analysis.loaders.parts`) adds up its parts' counts into one warning."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__(f"{name}: {count} text(s) held a broken character (a lone UTF-16 "
                         "surrogate), replaced by U+FFFD")
        self.name, self.count = name, count


def warn_broken_texts(name: str, broken: Counter) -> None:
    """Warn, when any, how many strings of ``name`` held a lone surrogate (U+FFFD now)."""
    if broken[BROKEN_TEXTS]:
        warnings.warn(BrokenTextWarning(name, broken[BROKEN_TEXTS]), stacklevel=3)


#: Reject reason for JSON nested deeper than Python's parser goes: about 1,000 levels on Python
#: 3.11, several thousand on 3.13 (its parser no longer recurses in Python), so a document between
#: the two (a Reddit thread some hundreds of replies deep) reads on the newer Python only.
NESTED_TOO_DEEPLY = ("JSON nested too deeply to read (deeper than this Python's parser goes: "
                     "about 1,000 levels on Python 3.11)")


def iter_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, object] | Reject]:
    """Yield ``(line_number, parsed_json)`` per line; bad UTF-8 or bad JSON becomes a Reject.

    Warns (:func:`warn_broken_texts`) when texts held lone surrogates (see
    :func:`parse_json_line`).
    """
    name = str(path)
    broken: Counter = Counter()
    for item in iter_lines(path):
        yield item if isinstance(item, Reject) else parse_json_line(name, *item, broken)
    warn_broken_texts(name, broken)


def iter_json_values(
    path: str | os.PathLike,
    whole_document: Callable[[Path, bytes, tuple[int, object] | Reject],
                             Iterable[tuple[int, object] | Reject] | None],
    *,
    parse_line: Callable[[str, int, bytes, Counter], tuple[int, object] | Reject]
    = parse_json_line,
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
        ``(file name, line number, raw line, broken) -> (line, value) | Reject``, counting in
        ``broken`` as :func:`parse_json_line` does (warned of at the end of a file read line by
        line).
    """
    name = str(path)
    broken: Counter = Counter()
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        yield Reject(name, None, "empty file", "")
        return
    if isinstance(first, Reject):
        yield first
        return
    number, raw = first
    parsed = parse_line(name, number, raw, broken)
    document = whole_document(Path(path), raw, parsed)
    if document is not None:
        lines.close()
        yield from document
        return
    yield parsed
    for item in lines:
        yield item if isinstance(item, Reject) else parse_line(name, *item, broken)
    warn_broken_texts(name, broken)


#: Reject reason of a JSON array that the end of its file cuts short between its elements (and
#: of an element it cuts short, for Twitter v1.1 files; see :func:`iter_json_array`).
ENDS_INSIDE_ARRAY = "truncated: the file ends inside the JSON array"
#: Reject reason of an element of a JSON array that the end of its file cuts short.
ENDS_INSIDE_ELEMENT = ("invalid JSON: cut short, the file ends inside this element of the "
                       "JSON array")
#: What :meth:`_Window.decode` returns for a value the end of the file cuts short.
_ENDS_EARLY = "ends early"


def iter_json_array(path: Path, *, key: str | None = None,
                    resume: Callable[[dict], bool] | None = None,
                    skipped: str = "the element is skipped",
                    ends_inside: str = ENDS_INSIDE_ELEMENT,
                    ) -> Iterator[tuple[int, object] | Reject]:
    """Yield ``(line, element)`` for each element of a JSON array, streaming (memory holds one
    element and one read block).

    Parameters
    ----------
    path
        A file holding a JSON array (``key=None``), or an object whose first member ``key`` is
        the array (``{"comments": [...]}``); decompressed as :func:`open_binary` does.
    key
        The member that holds the array, when the file is an object.
    resume
        Without it, a syntax error (or an element over :data:`MAX_ELEMENT_CHARS`) ends the file
        with one reject. With it, that element is one reject (its reason ends with
        ``; <skipped>``) and reading resumes at the next top-level element: the next object
        for which ``resume(object)`` is true and that a ``,`` or ``]`` follows (an instaloader
        comment has ``answers``, which its answers lack).
    skipped
        What the reject of a skipped element says about it (with ``resume``).
    ends_inside
        The reason of the reject of an element the end of the file cuts short (the last one
        of the file: nothing is skipped). Twitter v1.1 files say ``truncated``, as a
        pretty-printed tweet cut short does (:data:`ENDS_INSIDE_ARRAY`).

    An element with invalid UTF-8 is rejected alone; a truncated file or a wrong shape ends the
    file with one reject naming the line, as does text after the array (``key=None``). The line
    of an element (or of its reject) is the line its first character is on. Lone surrogates are
    replaced and warned of as by :func:`parse_json_line` and :func:`iter_json_lines`.
    """
    name = str(path)
    decoder = json.JSONDecoder()
    broken: Counter = Counter()
    with open_binary(path) as handle:
        window = _Window(handle)
        try:
            problem = _open_array(window, name, key)
            if problem is not None:
                yield problem
                return
            while (char := window.next_char()) != "]":
                if char == "":
                    yield Reject(name, window.line, ENDS_INSIDE_ARRAY, "")
                    return
                if char == ",":
                    window.advance(window.pos + 1)
                    continue
                start_line = window.line
                found = window.decode(decoder)
                if found is _ENDS_EARLY:
                    yield Reject(name, start_line, ends_inside, window.snippet())
                    return
                if isinstance(found, str):
                    text = window.snippet()
                    resumed = resume is not None and _skip_to_element(window, decoder, resume)
                    yield Reject(name, start_line, found if resume is None else
                                 f"{found}; {skipped}", text)
                    if not resumed:  # no resume, or the broken element was the last
                        return
                    continue
                element, end = found
                raw = window.buffer[window.pos:end]
                window.advance(end)
                if NOT_UTF8.search(raw):
                    yield Reject(name, start_line, "invalid UTF-8",
                                 snippet(raw.encode("utf-8", "replace")))
                    continue
                if _LONE_SURROGATE_ESCAPE_TEXT.search(raw):
                    element, count = replace_lone_surrogates(element)
                    broken[BROKEN_TEXTS] += count
                yield start_line, element
            if key is None:
                window.advance(window.pos + 1)
                if window.next_char() != "":
                    yield Reject(name, window.line, "extra data: text after the JSON array; the "
                                 "rest of the file is not read", window.snippet())
        except _Truncated as exc:
            yield Reject(name, window.line, f"truncated or corrupt compressed file: {exc}", "")
        finally:
            warn_broken_texts(name, broken)


def _open_array(window: _Window, name: str, key: str | None) -> Reject | None:
    """Move past the ``[`` that opens the array (after ``{"<key>":`` with ``key``); the reject
    when the file is empty or has another shape."""
    first = window.next_char()
    if first == "":
        return Reject(name, None, "empty file", "")
    if key is not None:
        for expected in ("{", json.dumps(key), ":"):
            window.next_char()
            if not window.buffer.startswith(expected, window.pos):
                return Reject(name, window.line, f"wrong shape: expected an object with "
                              f"{json.dumps(key)} first", window.snippet())
            window.advance(window.pos + len(expected))
        first = window.next_char()
    if first != "[":
        kind = "a JSON object" if first == "{" else "not JSON"
        return Reject(name, window.line, f"wrong shape: expected a JSON array, found {kind}",
                      window.snippet())
    window.advance(window.pos + 1)
    return None


#: A syntax error this close to the end of the text read so far may be the end of the read block
#: cutting a token (the longest, ``-Infinity`` or a ``\\uXXXX\\uXXXX`` pair, is shorter), not
#: the element's own: more is read before it counts.
_TOKEN_SLACK = 16
_SPACE = " \t\r\n"


class _Truncated(Exception):
    pass


class _Window:
    """The decoded text of a binary stream, read block by block, for :func:`iter_json_array`:
    ``buffer[pos:]`` is not read yet, ``line`` is the line at ``pos``. Bad UTF-8 stays in as
    ``surrogateescape`` characters (:data:`NOT_UTF8`)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.buffer = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.starts_line = True  # whether ``buffer`` starts at the start of a line

    def more(self) -> bool:
        """Read the next block onto the unread text (dropping the read text); False when no
        more text came (the end of the file). A compressed file cut short raises
        :class:`_Truncated`."""
        if self.eof:
            return False
        try:
            block = self.handle.read(_CHUNK)
        except DECOMPRESSION_ERRORS as exc:
            raise _Truncated(str(exc)) from None
        self.eof = not block
        text = self.decoder.decode(block, final=self.eof)
        if self.pos:
            self.starts_line = self.buffer[self.pos - 1] == "\n"
        self.buffer = self.buffer[self.pos:] + text
        self.pos = 0
        return not self.eof or bool(text)

    def advance(self, end: int) -> None:
        """Move ``pos`` to ``end``, counting the lines passed."""
        self.line += self.buffer.count("\n", self.pos, end)
        self.pos = end

    def snippet(self) -> str:
        """The text at ``pos``, for a reject."""
        return snippet(self.buffer[self.pos:self.pos + SNIPPET_CHARS])

    def next_char(self, start: int | None = None) -> str:
        """The first character after spaces from ``start`` (default ``pos``, which moves past
        the spaces then), reading more as needed; ``""`` at the end of the file."""
        offset = (self.pos if start is None else start) - self.pos
        while True:
            index = self.pos + offset
            while index < len(self.buffer) and self.buffer[index] in _SPACE:
                index += 1
            offset = index - self.pos
            if index < len(self.buffer):
                if start is None:
                    self.advance(index)
                return self.buffer[index]
            if not self.more():
                if start is None:
                    self.advance(len(self.buffer))
                return ""

    def decode(self, decoder: json.JSONDecoder) -> tuple[object, int] | str:
        """The JSON value at ``pos`` and where it ends, reading more while the text may be cut
        by the end of a block; the reject reason when it is not JSON (naming the file's line of
        the error) or is over :data:`MAX_ELEMENT_CHARS`, and :data:`_ENDS_EARLY` when the end of
        the file cuts it short."""
        while True:
            try:
                value, end = decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                cut = (exc.msg.startswith("Unterminated string")
                       or exc.pos >= len(self.buffer) - _TOKEN_SLACK)
                if len(self.buffer) - self.pos > MAX_ELEMENT_CHARS:
                    return "too large: an array element is over the size limit"
                if cut and self.more():
                    continue
                if self.eof and json_ends_early(exc):
                    return _ENDS_EARLY
                lines_before = self.line - 1 - self.buffer.count("\n", 0, self.pos)
                return json_error_reason(exc, lines_before=lines_before,
                                         column=self.starts_line)
            if end >= len(self.buffer) and self.more():
                continue  # a number at the end of the block may go on in the next one
            return value, end


def _skip_to_element(window: _Window, decoder: json.JSONDecoder,
                     resume: Callable[[dict], bool]) -> bool:
    """Move past the broken element at ``pos`` to the next top-level element: an object for
    which ``resume`` is true, that follows a ``,`` or ``[`` and is followed by ``,`` or ``]`` (or
    the end of a cut file): an array element, not the value of an object's member (a tweet's
    ``"quoted_status": {...}``). False, at the end of the file, when there is none."""
    start = window.pos + 1
    carried = ""  # the last character before the buffer, when the read text was dropped
    while True:
        brace = window.buffer.find("{", start)
        if brace < 0:
            carried = _char_before(window.buffer, len(window.buffer)) or carried
            window.advance(len(window.buffer))
            if not window.more():
                return False
            start = 0
            continue
        before = _char_before(window.buffer, brace) or carried
        window.advance(brace)
        if before not in (",", "["):
            start = brace + 1
            continue
        found = window.decode(decoder)
        if not isinstance(found, str) and resume(found[0]) and window.next_char(
                found[1]) in (",", "]", ""):
            return True
        start = window.pos + 1


def _char_before(text: str, index: int) -> str:
    """The last character before ``text[index]`` that is not a space; ``""`` when none."""
    while index > 0 and text[index - 1] in _SPACE:
        index -= 1
    return text[index - 1] if index > 0 else ""


#: Numbers below this are refused as Unix epoch seconds. 10**8 seconds is 1973-03-03, older than
#: any post the loaders read, while dates written as numbers fall below it and would otherwise
#: become times in 1970 without a word: ``20200930`` (YYYYMMDD; 1970-08-22 as seconds), a year
#: (``2020``), a spreadsheet serial day (``44104.5``, Excel's 2020-09-30 12:00).
MIN_EPOCH_SECONDS = 10**8

#: Words that pandas reads as the clock at the moment of reading (``now``, ``today``) and their
#: kin: in a data file they say nothing about when the post was written.
RELATIVE_WORDS = frozenset({"now", "today", "yesterday", "tomorrow"})

#: Resolutions of pandas' reading of a text (the start of its frequency) that are coarser than a
#: day: the text names no day, and pandas would give the first day of the span at midnight.
COARSER_THAN_DAY = {"Y": "year", "Q": "quarter", "M": "month", "W": "week"}

#: A clock time (``12:00``) in a time's text: it names more than a day.
_CLOCK = re.compile(r"\d:\d\d")
#: An ISO date without a time of day.
_ISO_DAY = re.compile(r"\s*\d{4}-\d\d-\d\d\s*")
#: A text that starts with a whole ISO date (``2020-09-30T12:00``): it names a year and a day.
_ISO_START = re.compile(r"\s*\d{4}-\d\d-\d\d")
#: A date written as numbers with its day and month first, in either order (``30/09/2020``,
#: ``9.30.2020``, ``Wed 09-10-2020 12:00``, ``12:00 09/10/2020``), anywhere in a text (with
#: ``.search``); not a part of a longer run of numbers and separators, so a year-first date
#: (``2020/09/30``, ``2020-09-30``) is not one.
_DAY_MONTH_DATE = re.compile(r"(?<![\d/.:-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
#: The year pandas gives a text that names none (``Sep 30``, ``12:00``).
_NO_YEAR = 1


def parse_time(value: object, *, tz: str | None = None) -> pd.Timestamp | None:
    """Parse a timestamp into a tz-aware UTC :class:`pandas.Timestamp`.

    Accepts ISO-8601 strings, Twitter's ``Tue Mar 24 10:45:36 +0000 2015``, other texts pandas
    reads (``Wed, 30 Sep 2020 12:00:00 +0000``, ``Sep 30 2020``), and Unix epoch seconds as int,
    float or numeric string. Naive times are localized to ``tz``; without ``tz`` they raise
    :class:`ValueError`, as do unparseable values. ``None`` and empty strings give ``None``.

    Also a :class:`ValueError`, for values that would otherwise give a wrong time without a word:

    - numbers below :data:`MIN_EPOCH_SECONDS` (before 1973): dates written as numbers
      (``20200930``, ``2020``, a spreadsheet serial such as ``44104.5``);
    - dates written as numbers, day and month first, that read both ways (``09/10/2020``: 9 October
      or 10 September?). ``30/09/2020`` and ``09/30/2020`` have one reading and are read; a
      two-digit year (``30/09/20``) is refused too (which century, and is it year-first?);
    - a month, quarter or year without a day (``2020-09``, ``Sep 2020``; see
      :data:`COARSER_THAN_DAY`);
    - :data:`RELATIVE_WORDS` (``now``, ``today``), which pandas would read as the clock.

    Examples
    --------
    >>> parse_time("Tue Mar 24 10:45:36 +0000 2015")
    Timestamp('2015-03-24 10:45:36+0000', tz='UTC')
    >>> parse_time("1134345600")
    Timestamp('2005-12-12 00:00:00+0000', tz='UTC')
    >>> parse_time("2020-09-30 21:00", tz="America/Los_Angeles")
    Timestamp('2020-10-01 04:00:00+0000', tz='UTC')
    >>> parse_time("30/09/2020 12:00", tz="UTC")
    Timestamp('2020-09-30 12:00:00+0000', tz='UTC')
    >>> parse_time("09/10/2020", tz="UTC")
    Traceback (most recent call last):
    ValueError: ambiguous date '09/10/2020': day/month or month/day; write dates as YYYY-MM-DD
    >>> parse_time(float("nan")) is None
    True
    """
    return parse_time_with_precision(value, tz=tz)[0]


class NaiveTimeError(ValueError):
    """A time without a time zone and no ``tz`` to place it in; its message says to pass
    ``--tz``. Loaders of formats that ignore ``--tz`` (their platform writes UTC) catch it and
    say that the record is malformed instead. ``value`` is the time as read."""

    def __init__(self, value: object) -> None:
        super().__init__(f"naive time {value!r} has no time zone; pass --tz")
        self.value = value

    def on_utc_platform(self, platform: str) -> ValueError:
        """The reason for a format whose ``platform`` always writes UTC (``--tz`` is not read).

        Examples
        --------
        >>> NaiveTimeError("2020-09-30 12:00").on_utc_platform("Reddit")
        ValueError("naive time '2020-09-30 12:00' has no time zone, but Reddit's times are always UTC; the record is malformed")
        """  # noqa: E501 - a doctest's output is one line
        return ValueError(f"naive time {self.value!r} has no time zone, but {platform}'s times "
                          "are always UTC; the record is malformed")


def parse_time_with_precision(value: object, *, tz: str | None = None
                              ) -> tuple[pd.Timestamp | None, str]:
    """:func:`parse_time`, and the precision of what it read as ``created_at_precision`` holds
    it: ``day`` for a date without a time of day (``2020-09-30``, ``30/09/2020``,
    ``Sep 30 2020``, a :class:`datetime.date`), ``second`` for other times, ``missing`` with
    ``None``.

    A naive date is the first instant of that day in ``tz``, also when the clocks changed at
    its midnight (:func:`start_of_local_day`); a naive time of day that did not exist or
    happened twice in ``tz`` raises :class:`ValueError` (:func:`daylight_saving_problem`).

    Examples
    --------
    >>> parse_time_with_precision("Sep 30 2020", tz="UTC")
    (Timestamp('2020-09-30 00:00:00+0000', tz='UTC'), 'day')
    >>> parse_time_with_precision("30.09.2020 12:00", tz="UTC")[1]
    'second'
    >>> parse_time_with_precision("Sep 2020", tz="UTC")
    Traceback (most recent call last):
    ValueError: not a time: 'Sep 2020' names a month, not a day; write dates as YYYY-MM-DD
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "missing"
    if isinstance(value, bool):
        raise ValueError(f"not a time: {shown(value)}")
    if isinstance(value, int | float) or (isinstance(value, str) and (
            _is_number(value) or _SCIENTIFIC_SECONDS.fullmatch(value))):
        stamp = _from_epoch_seconds(value)
        return stamp, "missing" if stamp is None else "second"
    if isinstance(value, str):
        stamp, precision = _parse_text(value)
    elif isinstance(value, Mapping | list):  # parsed JSON: say so, not pandas' words for it
        raise ValueError(f"not a time but a JSON {json_type(value)}")
    else:
        stamp = pd.Timestamp(value)
        is_day = isinstance(value, date) and not isinstance(value, datetime)
        precision = "day" if is_day else "second"
    if stamp is pd.NaT:
        return None, "missing"
    if stamp.tzinfo is None:
        if tz is None:
            raise NaiveTimeError(value)
        try:
            stamp = stamp.tz_localize(tz)
        except ValueError:
            if precision != "day":
                raise ValueError(daylight_saving_problem(stamp, tz, value)) from None
            stamp = start_of_local_day(stamp, tz)
    return in_time_range(stamp.tz_convert("UTC"), value), precision


def start_of_local_day(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    """The first instant of the naive date ``day`` in ``tz``, also on a day whose midnight did
    not exist there (the clocks went forward at 00:00, as in America/Sao_Paulo on 2018-11-04:
    the day starts at 01:00) or happened twice (the earlier one).

    Examples
    --------
    >>> start_of_local_day(pd.Timestamp("2018-11-04"), "America/Sao_Paulo")
    Timestamp('2018-11-04 01:00:00-0200', tz='America/Sao_Paulo')
    """
    return day.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


#: Seconds in scientific notation as text: the digits after the point and the exponent.
_SCIENTIFIC_SECONDS = re.compile(r"\s*\d(?:[.,](\d+))?[eE]\+?(\d+)\s*")


def _from_epoch_seconds(value: int | float | str) -> pd.Timestamp | None:
    """Unix epoch seconds (a number or its text) as a UTC timestamp; ``None`` for NaN.

    Text in scientific notation that cannot hold every second (``1.6014998E+09`` is to the
    nearest 100 s: a spreadsheet saved the times as numbers) is refused rather than read as
    exact seconds."""
    scientific = _SCIENTIFIC_SECONDS.fullmatch(value) if isinstance(value, str) else None
    if scientific is not None:
        step = 10 ** (int(scientific[2]) - len(scientific[1] or ""))
        if step > 1:
            raise ValueError(f"not a time: {value.strip()!r} is seconds since 1970 in scientific "
                             f"notation, to the nearest {step:,} s (a spreadsheet saved the times "
                             "as numbers); export them as whole seconds or ISO 8601 text")
        value = value.replace(",", ".")  # a decimal comma, as a European spreadsheet writes it
    seconds = float(value)
    if seconds != seconds:  # NaN: a missing time, as pandas writes it
        return None
    if seconds in (float("inf"), float("-inf")):
        raise ValueError(f"not a time: {shown(value)}")
    if seconds < MIN_EPOCH_SECONDS:
        raise ValueError(f"not a time: {str(value).strip()} is too small for seconds since 1970 "
                         "(before 1973); it looks like a date written as a number (YYYYMMDD, a "
                         "year, a spreadsheet serial); write dates as YYYY-MM-DD")
    if seconds > _LAST_SECOND:
        raise ValueError(f"time out of range: {shown(value)} seconds since 1970 is outside the "
                         f"years {TIME_RANGE} that the table holds (numbers are read as "
                         "seconds, not milliseconds)")
    # to the microsecond: no source is finer, and float seconds carry binary noise below it
    # (1700000000.123456 would be ...20.123456001)
    return pd.Timestamp(round(seconds * 1_000_000), unit="us", tz="UTC").as_unit("ns")


def _parse_text(value: str) -> tuple[pd.Timestamp, str]:
    """A time's text (not a number) as a timestamp, naive or not, and its precision."""
    if len(value) == 30 and value[3] == " " and value[19] == " ":  # Twitter's created_at
        return pd.Timestamp(datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")), "second"
    if value.strip().lower() in RELATIVE_WORDS:
        raise ValueError(f"not a time: {value.strip()!r} is relative to when it is read")
    text = _with_iso_date(value)
    precision = _text_precision(text)
    try:
        return pd.Timestamp(text), precision
    except ValueError as exc:
        if not str(exc).startswith(_PANDAS_UNKNOWN):
            raise
        # pandas' message repeats the text, which the reason names already
        if not any(char.isdigit() for char in text):
            raise ValueError("not a time: no digits; a header row repeated in the file reads "
                             "so") from None
        raise ValueError("not a time: a format this reader does not know; write times as "
                         "YYYY-MM-DD HH:MM") from None


#: The start of pandas' message for a text it cannot read as a time, which goes on to repeat it.
_PANDAS_UNKNOWN = "Unknown datetime string format"


def _with_iso_date(value: str) -> str:
    """``value`` with its date written as numbers day and month first (``30/09/2020``) rewritten
    as ``2020-09-30``, when just one reading is possible: one of the two is over 12, or both are
    the same. Other texts come back as they are.

    Examples
    --------
    >>> _with_iso_date("30/09/2020 12:00"), _with_iso_date("9.30.2020")
    ('2020-09-30 12:00', '2020-09-30')
    >>> _with_iso_date("2020/09/30")
    '2020/09/30'
    """
    match = _DAY_MONTH_DATE.search(value)
    if match is None:
        return value
    first, second, year = int(match[1]), int(match[3]), match[4]
    if len(year) == 2:
        raise ValueError(f"ambiguous date {value!r}: two-digit year; write dates as YYYY-MM-DD")
    if first > 12 and second > 12:
        raise ValueError(f"not a time: {value!r} has no month ({first} and {second} are both "
                         "over 12)")
    if first != second and max(first, second) <= 12:
        raise ValueError(f"ambiguous date {value!r}: day/month or month/day; write dates as "
                         "YYYY-MM-DD")
    day, month = max(first, second), min(first, second)
    return f"{value[:match.start(1)]}{year}-{month:02d}-{day:02d}{value[match.end():]}"


def _text_precision(text: str) -> str:
    """``second`` when a time's text names a time of day, ``day`` when it names a day only; a
    text naming a longer span (``2020-09``, ``Sep 2020``), or no year (``Sep 30``, ``12:00``,
    which pandas would place in year 1 or today), raises :class:`ValueError`."""
    if _ISO_DAY.fullmatch(text):
        return "day"
    if _ISO_START.match(text):  # a whole date first (the common naive time): a time of day too
        return "second"
    try:
        period = pd.Period(text)  # pandas' reading of the text, at the resolution it names
    except (ValueError, TypeError, OverflowError):
        return "second"  # reading it as a Timestamp gives pandas' own error, or a time
    if period is pd.NaT:
        return "missing"
    if period.year == _NO_YEAR and "0001" not in text:
        raise ValueError(f"not a time: {text.strip()!r} names no year (or no date); write times "
                         "as YYYY-MM-DD HH:MM")
    unit = period.freqstr.split("-")[0]
    if unit in COARSER_THAN_DAY:
        raise ValueError(f"not a time: {text.strip()!r} names a {COARSER_THAN_DAY[unit]}, not a "
                         "day; write dates as YYYY-MM-DD")
    return "day" if unit == "D" and not _CLOCK.search(text) else "second"


def daylight_saving_problem(stamp: pd.Timestamp, tz: str, value: object) -> str:
    """Why the naive ``stamp`` has no single time in ``tz``: a clock change."""
    try:
        stamp.tz_localize(tz, ambiguous=True)
    except ValueError:
        return (f"local time {value!r} does not exist in {tz} (the clocks went forward "
                "then); give such times with their UTC offset")
    return (f"local time {value!r} happened twice in {tz} (the clocks went back then); give "
            "such times with their UTC offset")


_LAST_SECOND = LAST_TIME.timestamp()


def in_time_range(stamp: pd.Timestamp, value: object) -> pd.Timestamp:
    """``stamp`` (tz-aware), or :class:`ValueError` when the table cannot hold it (pandas would
    wrap such a time around to a wrong one when storing it in nanoseconds)."""
    if not FIRST_TIME <= stamp <= LAST_TIME:
        raise ValueError(f"time out of range: {shown(value)} is outside the years {TIME_RANGE} "
                         "that the table holds")
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
        raise ValueError(f"{what} is not an id: {shown(value)}")
    return str(value)


def json_count(value: object) -> int | None:
    """A count from a JSON value: an integer or a string of ASCII digits; anything else
    (``"²"`` or ``"٣"`` too, which ``str.isdigit`` takes for digits), and a number too large
    for the table's 64-bit count columns, gives ``None``.

    Examples
    --------
    >>> json_count(3), json_count("12"), json_count(True), json_count(1.5), json_count("-1")
    (3, 12, None, None, None)
    >>> json_count("²"), json_count("٣")
    (None, None)
    >>> json_count(10**20) is None
    True
    """
    if type(value) is int:  # the common case first (a bool is an int but not of this type)
        return value if _INT64_MIN <= value <= _INT64_MAX else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return in_count_range(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return in_count_range(int(value))
    return None


def in_count_range(number: int) -> int | None:
    """``number``, or ``None`` when the table's 64-bit count columns cannot hold it."""
    return number if _INT64_MIN <= number <= _INT64_MAX else None


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_required_time(value: object, what: str, *, tz: str | None = None,
                        utc_platform: str | None = None) -> pd.Timestamp:
    """:func:`parse_time` for a time a record must have (the caller checks it is present).

    Parameters
    ----------
    value
        The raw time.
    what
        Its field name, for the reason.
    tz
        As for :func:`parse_time`.
    utc_platform
        For a format that does not read ``--tz``: the platform whose times are always UTC, named
        in the reason for a naive time (see :meth:`NaiveTimeError.on_utc_platform`) instead of
        advice to pass ``--tz``.

    Raises
    ------
    ValueError
        With a reject reason starting ``bad time:`` when ``value`` is no time.
    """
    try:
        stamp = parse_time(value, tz=tz)
    except NaiveTimeError as exc:
        reason = exc.on_utc_platform(utc_platform) if utc_platform else exc
        raise ValueError(f"bad time: {what} {shown(value)} ({reason})") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"bad time: {what} {shown(value)} ({exc})") from None
    if stamp is None or stamp is pd.NaT:
        raise ValueError(f"bad time: {what} {shown(value)} is not a time")
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
