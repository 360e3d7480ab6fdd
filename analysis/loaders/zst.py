"""Zstandard (``.zst``) files: read across frames with a 2**31 window, and told apart when cut.

Pushshift / Arctic Shift dumps are compressed with ``zstd --long=31`` and often in many frames;
a decompressor holds up to one window of history, so memory grows with the file up to that
window, as with ``zstd --long=31``. A decompressor that runs out of input in the middle of a
frame just stops, so a cut download would look like a whole, shorter file: :func:`frames_complete`
walks the frame and block headers to tell them apart.

- :func:`lines`: the lines of a ``.zst`` file as bytes (a UTF-8 character split across
  decompressed blocks stays whole); a file cut inside a frame keeps every complete line before
  the cut and ends with one :class:`~analysis.loaders.base.Reject` for the rest (the half line is
  its snippet); a damaged block keeps every line before it, likewise.
  :func:`analysis.loaders.base.iter_lines` uses it for ``.zst`` files.
- :func:`open_checked`: a readable binary stream of the decompressed bytes that raises
  :class:`EOFError` at its end when the file was cut
  (:func:`analysis.loaders.base.open_binary` uses it for ``.zst`` files).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from analysis.loaders import base
from analysis.loaders.base import LONG_LINE, Reject, snippet

#: Window Pushshift / Arctic Shift dumps were compressed with (``zstd --long=31``).
ZSTD_MAX_WINDOW = 2**31
#: Decompressed bytes read at a time from a ``.zst`` file.
ZSTD_READ_BYTES = 1 << 18

TRUNCATED_REASON = "truncated .zst: the file ends inside a compressed frame; the rest is missing"


def _reader(path: Path) -> IO[bytes]:
    import zstandard

    context = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    return context.stream_reader(open(path, "rb"), read_across_frames=True, closefd=True)


def lines(path: Path) -> Iterator[tuple[int, bytes] | Reject]:
    """``(line_number, raw)`` for each non-blank line of a ``.zst`` file; a Reject when cut."""
    import zstandard

    name = str(path)
    pending = b""
    number = 0
    done = 0  # decompressed bytes read so far
    skipping = False  # inside a line over MAX_LINE_BYTES, already rejected
    error: Exception | None = None
    with _reader(path) as reader:
        while True:
            try:
                block = reader.read(ZSTD_READ_BYTES)
            except zstandard.ZstdError as exc:
                error = exc
                break
            if not block:
                break
            done += len(block)
            if skipping:
                end = block.find(b"\n")
                if end < 0:
                    continue
                block, skipping = block[end + 1:], False
            pending += block
            if b"\n" in block:
                complete = pending.split(b"\n")
                pending = complete.pop()
                for raw in complete:
                    number += 1
                    if len(raw) > base.MAX_LINE_BYTES:
                        yield Reject(name, number, LONG_LINE, snippet(raw))
                    elif base.has_content(raw):
                        yield number, raw
            if len(pending) > base.MAX_LINE_BYTES:  # a line too long: reject it, skip its rest
                number += 1
                yield Reject(name, number, LONG_LINE, snippet(pending))
                pending, skipping = b"", True
    if error is not None:
        pending += _readable_after(path, done)
        complete = pending.split(b"\n")
        for raw in complete[:-1]:
            number += 1
            if base.has_content(raw):
                yield number, raw
        yield Reject(name, number + 1, f"corrupt .zst: {error}; the rest is missing",
                     snippet(complete[-1]))
        return
    if not frames_complete(path):
        yield Reject(name, number + 1, TRUNCATED_REASON, snippet(pending))
    elif base.has_content(pending):
        yield number + 1, pending


def _readable_after(path: Path, done: int) -> bytes:
    """The bytes that still decompress after the first ``done``, up to a damaged block.

    The failed read may have dropped the good end of the block before the damage; reading again
    one byte at a time from ``done`` gets all of it back.
    """
    import zstandard

    out = bytearray()
    try:
        with _reader(path) as reader:
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


class _Checked(io.RawIOBase):
    """The decompressed bytes of a ``.zst`` file; :class:`EOFError` at the end if it was cut,
    :class:`OSError` for damaged data (the errors the loaders catch for every compression)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._reader = _reader(path)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        import zstandard

        try:
            count = self._reader.readinto(buffer)
        except zstandard.ZstdError as exc:
            raise OSError(f"corrupt .zst: {exc}") from None
        if not count and len(buffer) and not frames_complete(self._path):
            raise EOFError(TRUNCATED_REASON)
        return count

    def close(self) -> None:
        if not self.closed:
            self._reader.close()
        super().close()


def open_checked(path: str | Path) -> IO[bytes]:
    """The decompressed bytes of the ``.zst`` file ``path`` (across frames), buffered; reading
    past the end of a file cut inside a frame raises :class:`EOFError` with
    :data:`TRUNCATED_REASON`."""
    return io.BufferedReader(_Checked(Path(path)))
