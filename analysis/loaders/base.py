"""What every loader shares: the records it yields, its options, and safe ways to read input.

A loader module (one per format, see :mod:`analysis.loaders`) is a pure mapping from raw records to
rows of the posts table. It yields, for each input record, either a ``dict`` of posts-table fields
(raw author ids; pseudonymization, reply trees, language and types are applied later by
:mod:`analysis.loaders.ingest`), or a :class:`Reject` saying why the record could not be read. A
loader that finds gold labels (RumourEval) also yields :class:`GoldLabel` records.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import pandas as pd

from analysis.errors import UserError

#: Bumped whenever a loader's output changes for the same input; stored in every row.
LOADER_VERSION = "2"

SNIPPET_CHARS = 200


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
    """Open a file for reading bytes, decompressing ``.gz``, ``.bz2``, ``.xz`` and ``.zst``.

    Zstandard streams are read with a 2**31 window, as Pushshift / Arctic Shift dumps need.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix == ".gz":
        return gzip.open(source, "rb")
    if suffix == ".bz2":
        return bz2.open(source, "rb")
    if suffix == ".xz":
        return lzma.open(source, "rb")
    if suffix == ".zst":
        import zstandard

        handle = open(source, "rb")
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(
            handle, closefd=True)
        return io.BufferedReader(reader)
    return open(source, "rb")


DECOMPRESSION_ERRORS = (EOFError, OSError, lzma.LZMAError, gzip.BadGzipFile)


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes] | Reject]:
    """Yield ``(line_number, raw_bytes)`` for each non-blank line (1-based), streaming.

    A file that ends in the middle of a compressed stream yields a :class:`Reject` for the rest
    instead of raising. Lines are split on ``\\n`` in bytes, so a UTF-8 character split across
    decompression chunks is never broken.
    """
    name = str(path)
    number = 0
    try:
        with open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):  # noqa: B007
                if raw.strip():
                    yield number, raw
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(name, number + 1, f"truncated or corrupt compressed file: {exc}", "")
    except Exception as exc:  # zstandard.ZstdError has no common base with the others
        if type(exc).__module__.startswith("zstandard"):
            yield Reject(name, number + 1, f"truncated or corrupt compressed file: {exc}", "")
        else:
            raise


def iter_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, object] | Reject]:
    """Yield ``(line_number, parsed_json)`` per line; bad UTF-8 or bad JSON becomes a Reject."""
    for item in iter_lines(path):
        if isinstance(item, Reject):
            yield item
            continue
        number, raw = item
        try:
            yield number, json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield Reject(str(path), number, "invalid UTF-8", snippet(raw))
        except json.JSONDecodeError as exc:
            yield Reject(str(path), number, f"invalid JSON: {exc.msg}", snippet(raw))


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
        return pd.Timestamp(seconds, unit="s", tz="UTC")
    if isinstance(value, str) and len(value) == 30 and value[3] == " " and value[19] == " ":
        stamp = pd.Timestamp(datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y"))
    else:
        stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is None:
        if tz is None:
            raise ValueError(f"naive time {value!r} has no time zone; pass --tz")
        stamp = stamp.tz_localize(tz)
    return stamp.tz_convert("UTC")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def require(record: Mapping, *keys: str) -> None:
    """Raise :class:`KeyError` naming the first of ``keys`` missing or empty in ``record``."""
    for key in keys:
        if record.get(key) in (None, ""):
            raise KeyError(key)


def check_input(path: str | os.PathLike) -> Path:
    """A readable input file or folder, or a :class:`UserError` naming it."""
    source = Path(path)
    if not source.exists():
        raise UserError("no such file or folder", source)
    return source
