"""RumourEval 2019 / PHEME thread folders, read from a folder or straight from the archive.

Layout (RumourEval 2019, see ``data/raw/rumoureval2019/SOURCE.md``)::

    rumoureval-2019-training-data/
        train-key.json, dev-key.json              gold labels: subtaskaenglish (SDQC per post),
                                                  subtaskbenglish (veracity per thread)
        twitter-english/<event>/<thread>/         Twitter threads, grouped by event
        reddit-training-data/<thread>/            Reddit threads
        reddit-dev-data/<thread>/
    <thread>/source-tweet/<id>.json               the source post (v1.1 tweet, or a Reddit Listing
                                                  wrapping a t3)
    <thread>/replies/<id>.json                    one reply per file (tweet, Reddit t1, or a Reddit
                                                  ``{"kind": "more"}`` stub)
    <thread>/structure.json                       the reply tree {source: {reply: {...}}}; [] is a
                                                  leaf

PHEME folders (``source-tweets/`` and ``reactions/``) are read the same way.

What :func:`read` yields:

- one posts-table row per post file: tweets through
  :func:`analysis.loaders.twitter_v1.row_from_tweet`, Reddit things through
  :func:`analysis.loaders.reddit.row_from_thing`. ``thread_id`` and ``root_id`` are the source
  post's id; ``parent_id`` is the post's own (``in_reply_to_status_id_str`` / ``parent_id``) and
  comes from ``structure.json`` when the post does not name one. Nested ``replies`` inside a Reddit
  reply file and ``raw.json`` repeat posts that have their own file and are not read.
- a :class:`~analysis.loaders.base.Reject` per file that cannot be read, and per Reddit ``more``
  stub (a comment Reddit did not expand when it was collected: no text, no time).
- :class:`~analysis.loaders.base.GoldLabel` records: task ``sdqc`` (support / deny / query /
  comment per post, ``split`` from the key file: ``train-key.json`` -> ``train``), task
  ``veracity`` (true / false / unverified per thread, on the source post's uid) and task
  ``event`` (the event folder such as ``charliehebdo`` for Twitter threads, ``reddit`` for Reddit
  threads, on the source post's uid). Labels are yielded for every id in the key files, including
  the ``more`` stubs that have no row.
- A folder below the dataset root (an event such as ``twitter-english/charliehebdo``, or one
  thread) holds no key files: they are taken from the nearest folder above it that holds one of
  :data:`KEY_SPLITS` (at most :data:`KEY_SEARCH_LEVELS` up), and give labels only for the posts
  and ``more`` stubs read, with the same splits as a read of the whole dataset (ingest's
  manifest lists those key files, :func:`companion_files`, with the inputs). A RumourEval
  folder or archive with no key files in or above it gives ``event`` labels only, and a warning
  says so (PHEME folders, which come without key files, do not warn).

Nodes of ``structure.json`` without a post file (posts the organisers did not distribute) are
tolerated: they give no row, and their children keep them as ``parent_id``.

A lone UTF-16 surrogate in a file's strings (a text cut in the middle of an emoji) becomes U+FFFD
and the post is kept; one warning per folder or archive counts them.

Archives (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.tar.zst``, ``.zip``) are
read member by member in memory, never extracted; the file's first bytes tell the compression.
Members with an absolute path, a ``..`` component, links and special files are refused with a
reject; so are post files larger than :data:`MAX_MEMBER_BYTES`.

Cite: Gorrell et al., "SemEval-2019 Task 7: RumourEval, Determining Rumour Veracity and Support
for Rumours", SemEval 2019, https://aclanthology.org/S19-2147/.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import tarfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from analysis.loaders.base import (
    GoldLabel,
    LoadOptions,
    Reject,
    json_error_reason,
    load_json,
    make_uid,
    record_snippet,
    snippet,
    warn_broken_texts,
)
from analysis.loaders.reddit import row_from_thing
from analysis.loaders.reddit_api import MORE_REASON
from analysis.loaders.twitter_v1 import row_from_tweet

FORMAT = "rumoureval"
LABELER_ID = "rumoureval2019"

#: Folders holding a thread's source post, and its replies (RumourEval names, then PHEME names).
SOURCE_FOLDERS = ("source-tweet", "source-tweets")
REPLY_FOLDERS = ("replies", "reactions")
STRUCTURE_FILE = "structure.json"

#: Key file name -> split. Other ``*-key.json`` files use the part before ``-key``.
KEY_SPLITS = {"train-key.json": "train", "dev-key.json": "dev", "final-eval-key.json": "test",
              "test-key.json": "test"}
#: Key file sections -> task.
KEY_TASKS = {"subtaskaenglish": "sdqc", "subtaskbenglish": "veracity"}
#: How many folders above a folder input to look for key files: a thread folder of the training
#: data is three below the folder holding ``train-key.json`` (``twitter-english/<event>/<id>``),
#: one of the test data four below the folder holding ``final-eval-key.json``.
KEY_SEARCH_LEVELS = 4

#: Event name of Reddit threads (RumourEval groups them in no event).
REDDIT_EVENT = "reddit"
#: PHEME groups threads of an event in these folders; the event is the folder above.
GROUPING_FOLDERS = ("rumours", "non-rumours")

#: Largest post, structure or key file read (bytes); larger members are rejected unread.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
#: Largest total of the files read from one folder or archive (RumourEval 2019 train + dev holds
#: 25 MB); past it the rest is one reject, since every thread is kept until the end (parsed JSON
#: takes several times its bytes in memory).
MAX_TOTAL_BYTES = 1024 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# sniffing


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``path`` is a RumourEval / PHEME folder or an archive holding one.

    A folder qualifies when it (or a folder below it, up to four levels, as PHEME's published
    ``threads/en/<event>/<thread>/`` is; the first 20 subfolders of each) holds a
    ``structure.json`` next to a ``source-tweet(s)/`` folder, or a RumourEval key file. An archive
    qualifies when its first member names (in ``head``, the decompressed start of the file)
    mention ``structure.json``, ``source-tweet`` or a ``-key.json`` file.
    """
    path = Path(path)
    if path.is_dir():
        return _folder_looks_right(path)
    if _is_compressed(head):  # a name open_binary does not know, such as .tgz
        try:
            with _open_decompressed(path) as handle:
                head = handle.read(len(head) or 65536)
        except Exception:  # noqa: BLE001 - unreadable: not ours
            return False
    is_tar = len(head) > 262 and head[257:262] == b"ustar"
    is_zip = head[:4] == b"PK\x03\x04"
    if not (is_tar or is_zip):
        return False
    markers = (b"/structure.json", b"/source-tweet", b"train-key.json", b"dev-key.json",
               b"rumoureval-2019")
    return any(marker in head for marker in markers)


def _folder_looks_right(path: Path, levels: int = 4) -> bool:
    if (path / STRUCTURE_FILE).is_file() and any((path / f).is_dir() for f in SOURCE_FOLDERS):
        return True
    if any((path / name).is_file() for name in KEY_SPLITS):
        return True
    if levels == 0:
        return False
    try:
        children = sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return False
    return any(_folder_looks_right(child, levels - 1) for child in children[:20])


# ---------------------------------------------------------------------------------------------
# walking a folder or an archive: (display name, relative posix path, bytes) or a Reject


def _check_member_name(name: str) -> str | None:
    """Why a member name is unsafe, or ``None``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in pure.parts:
        return "'..' in path"
    return None


def _wanted(parts: tuple[str, ...]) -> bool:
    """Whether a member is one the loader reads (post, structure or key file)."""
    if not parts or not parts[-1].endswith(".json"):
        return False
    name = parts[-1]
    if name == STRUCTURE_FILE or name.endswith("-key.json"):
        return True
    return len(parts) >= 2 and parts[-2] in SOURCE_FOLDERS + REPLY_FOLDERS


def takes_file(folder: Path, path: Path) -> bool:
    """Whether reading ``folder`` as a RumourEval / PHEME folder takes care of the file ``path``
    inside it: a post, structure or key file it reads, or another file of a thread folder (one
    holding ``structure.json``: ``raw.json``, ``urls.dat``), which belongs to the dataset and is
    left out on purpose. Any other file (data put next to the dataset) is not RumourEval's, and
    ``ingest`` reads it on its own."""
    return _wanted(path.relative_to(folder).parts) or (path.parent / STRUCTURE_FILE).is_file()


#: First bytes of gzip, bzip2, xz and zstd streams.
_MAGIC = {"gz": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00", "zst": b"\x28\xb5\x2f\xfd"}


def _is_compressed(head: bytes) -> bool:
    return any(head.startswith(magic) for magic in _MAGIC.values())


def _open_decompressed(path: Path) -> IO[bytes]:
    """``path`` opened for reading, decompressed as its first bytes say (so ``.tgz`` works)."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    if start.startswith(_MAGIC["gz"]):
        return gzip.open(path, "rb")
    if start.startswith(_MAGIC["bz2"]):
        return bz2.open(path, "rb")
    if start.startswith(_MAGIC["xz"]):
        return lzma.open(path, "rb")
    if start.startswith(_MAGIC["zst"]):
        from analysis.loaders import zst

        return zst.open_checked(path)
    return open(path, "rb")


class _Tracked:
    """A reader that remembers how far it got and its last bytes (tarfile reads ahead), and
    that ends, keeping every byte before it, where a compressed file is cut short.

    The decompressors raise :class:`EOFError` at a cut; raised inside one ``read`` of tarfile's
    read-ahead, it would take the bytes already decompressed in that call with it, and with them
    the last whole members before the cut. So the stream is read in pieces (``read1``), and at
    the cut ``read`` returns what came before it and then the end of the stream, with the
    decompressor's message in ``cut``.
    """

    TAIL_BYTES = 64 * 1024  # more than tarfile's read-ahead (one 10 KiB record) plus a header

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self._read_some = getattr(raw, "read1", raw.read)
        self.position = 0
        self.tail = b""
        self.cut: str | None = None

    def read(self, size: int = -1) -> bytes:
        pieces: list[bytes] = []
        wanted = size
        try:
            while self.cut is None and (size < 0 or wanted > 0):
                piece = self._read_some(wanted if size >= 0 else 1 << 16)
                if not piece:
                    break
                pieces.append(piece)
                wanted -= len(piece)
        except EOFError as exc:  # a cut .gz, .bz2, .xz or .zst: keep what came before it
            self.cut = str(exc) or type(exc).__name__
        data = b"".join(pieces)
        self.position += len(data)
        self.tail = (self.tail + data)[-self.TAIL_BYTES:]
        return data

    def rest_has_data(self, offset: int) -> bool:
        """Whether anything but NUL bytes follows ``offset`` (read ahead already, or still to)."""
        ahead = self.position - offset
        if 0 < ahead <= len(self.tail) and self.tail[-ahead:].strip(b"\0"):
            return True
        while block := self.raw.read(1 << 16):
            if block.strip(b"\0"):
                return True
        return False


#: Largest long-name or pax header read (tarfile reads such a header's data whole before it
#: knows the member, so a 3 MB .tar.gz claiming a 3 GiB long name would fill the memory).
MAX_HEADER_BYTES = 1024 * 1024


class _BoundedTarInfo(tarfile.TarInfo):
    """A TarInfo that refuses long-name and pax headers over :data:`MAX_HEADER_BYTES`."""

    _LONG_HEADERS = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                     tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)

    def _proc_member(self, archive):  # noqa: ANN001 - tarfile's own hook
        if self.type in self._LONG_HEADERS and self.size > MAX_HEADER_BYTES:
            raise tarfile.ReadError(f"a long-name or pax header of {self.size} bytes (more "
                                    f"than {MAX_HEADER_BYTES}); refused unread")
        return super()._proc_member(archive)


def _walk_tar(path: Path) -> Iterator[tuple[str, tuple[str, ...], bytes] | Reject]:
    """Members of a tar archive (any compression :func:`open_binary` knows), streamed."""
    name = str(path)
    try:
        stream = _open_decompressed(path)
    except OSError as exc:
        yield Reject(name, None, f"cannot read file: {exc}", "")
        return
    with stream:
        tracked = _Tracked(stream)
        try:
            archive = tarfile.open(fileobj=tracked, mode="r|", tarinfo=_BoundedTarInfo)
        except Exception as exc:  # noqa: BLE001 - any decompression error: not readable
            yield Reject(name, None, f"not a readable tar archive: {exc}", "")
            return
        try:
            for member in archive:
                where = f"{name}!{member.name}"
                problem = _check_member_name(member.name)
                parts = PurePosixPath(member.name.replace("\\", "/")).parts
                if problem is None and (member.issym() or member.islnk()):
                    problem = f"link to {member.linkname!r}"
                elif problem is None and not (member.isfile() or member.isdir()):
                    problem = "special file"
                if problem is not None:
                    yield Reject(where, None, f"unsafe archive member refused: {problem}", "")
                    continue
                if not member.isfile() or not _wanted(parts):
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    yield Reject(where, None, f"member larger than {MAX_MEMBER_BYTES} bytes", "")
                    continue
                handle = archive.extractfile(member)
                try:
                    data = handle.read() if handle is not None else b""
                except tarfile.ReadError:
                    if tracked.cut is None:
                        raise
                    yield Reject(where, None, "truncated: the archive ends inside this member",
                                 "")
                    break
                yield where, parts, data
            if tracked.cut is not None:
                yield _cut_reject(name, tracked.cut)
            # tarfile ends quietly at a damaged header; anything but zero padding after the last
            # member it read (``archive.offset``) means the rest could not be read.
            elif tracked.rest_has_data(archive.offset):
                yield Reject(name, None, "corrupt archive: a damaged member header ends the "
                             "readable part; the rest is missing", "")
        except Exception as exc:  # noqa: BLE001 - gzip/bz2/xz/zstd errors share no base class
            yield (_cut_reject(name, tracked.cut) if tracked.cut is not None else
                   Reject(name, None, f"truncated or corrupt archive: {type(exc).__name__}: "
                          f"{exc}", ""))


def _cut_reject(name: str, why: str) -> Reject:
    """The reject of an archive whose compressed file is cut short: the members before the cut
    were read."""
    return Reject(name, None, f"truncated archive: the compressed file ends early ({why}); the "
                  "members before the cut are read, the rest is missing", "")


def _walk_zip(path: Path) -> Iterator[tuple[str, tuple[str, ...], bytes] | Reject]:
    name = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Reject(name, None, f"not a readable zip archive: {exc}", "")
        return
    with archive:
        for info in archive.infolist():
            where = f"{name}!{info.filename}"
            problem = _check_member_name(info.filename)
            if problem is None and (info.external_attr >> 16) & 0o170000 == 0o120000:
                problem = "symbolic link"
            if problem is not None:
                yield Reject(where, None, f"unsafe archive member refused: {problem}", "")
                continue
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or not _wanted(parts):
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                yield Reject(where, None, f"member larger than {MAX_MEMBER_BYTES} bytes", "")
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                yield Reject(where, None, f"corrupt archive member: {exc}", "")
                continue
            yield where, parts, data


def _walk_folder(path: Path) -> Iterator[tuple[str, tuple[str, ...], bytes] | Reject]:
    root = path.resolve()
    base = root.parent
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        here = Path(folder)
        for name in [d for d in dirs if (here / d).is_symlink()]:  # os.walk would skip it
            yield Reject(str(here / name), None, "linked folder not followed: copy the folder "
                         "in, or give it as an input of its own", "")
        for file_name in sorted(files):
            full = here / file_name
            parts = full.relative_to(base).parts
            if not _wanted(parts):
                continue
            if full.is_symlink() and not full.resolve().is_relative_to(root):
                yield Reject(str(full), None, "unsafe link refused: it points outside the folder",
                             "")
                continue
            try:
                if full.stat().st_size > MAX_MEMBER_BYTES:
                    yield Reject(str(full), None, f"file larger than {MAX_MEMBER_BYTES} bytes", "")
                    continue
                data = full.read_bytes()
            except OSError as exc:
                yield Reject(str(full), None, f"cannot read file: {exc}", "")
                continue
            yield str(full), parts, data


def _walk(path: Path) -> Iterator[tuple[str, tuple[str, ...], bytes] | Reject]:
    """The wanted files of a folder or archive, until :data:`MAX_TOTAL_BYTES` of them are read
    (a folder's threads are kept until the end, so the total is what memory must hold)."""
    if path.is_dir():
        items = _walk_folder(path)
    elif path.name.lower().endswith(".zip") or zipfile.is_zipfile(path):
        items = _walk_zip(path)
    else:
        items = _walk_tar(path)
    total = 0
    for item in items:
        if not isinstance(item, Reject):
            total += len(item[2])
            if total > MAX_TOTAL_BYTES:
                yield Reject(str(path), None, f"more than {MAX_TOTAL_BYTES // 2**20} MiB of posts "
                             "and structures; the rest is not read (split the collection)", "")
                return
        yield item


# ---------------------------------------------------------------------------------------------
# collecting threads


@dataclass
class Thread:
    """One thread folder: its posts (rows), its tree, and where it sits."""

    folder: tuple[str, ...]
    rows: list[dict] = field(default_factory=list)
    stub_ids: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)
    structure: object = None
    platform: str | None = None

    def parents(self) -> dict[str, str | None]:
        """Node id -> parent id (``None`` for the root) from ``structure.json``."""
        out: dict[str, str | None] = {}
        if not isinstance(self.structure, Mapping):
            return out
        stack: list[tuple[Mapping, str | None]] = [(self.structure, None)]
        while stack:
            tree, parent = stack.pop()
            for key, value in tree.items():
                node = str(key)
                out.setdefault(node, parent)
                if isinstance(value, Mapping):
                    stack.append((value, node))
        return out

    def missing_nodes(self) -> list[str]:
        """Ids in ``structure.json`` without a post file (nor a ``more`` stub)."""
        have = {row["id"] for row in self.rows} | set(self.stub_ids)
        return sorted(node for node in self.parents() if node not in have)

    @property
    def source_id(self) -> str | None:
        if self.source_ids:
            return self.source_ids[0]
        if isinstance(self.structure, Mapping) and len(self.structure) == 1:
            return str(next(iter(self.structure)))
        return self.folder[-1] if self.folder else None

    @property
    def event(self) -> str | None:
        if self.platform == "reddit":
            return REDDIT_EVENT
        above = [p for p in self.folder[:-1] if p not in GROUPING_FOLDERS]
        return above[-1] if above else None


@dataclass
class Collection:
    """Everything read from one input: threads, key files, and rejects, in input order."""

    threads: dict[tuple[str, ...], Thread] = field(default_factory=dict)
    keys: list[tuple[str, str, dict]] = field(default_factory=list)  # (file, split, content)
    rejects: list[Reject] = field(default_factory=list)
    #: Names of the source folders met (RumourEval's ``source-tweet``, PHEME's ``source-tweets``).
    source_folders: set[str] = field(default_factory=set)
    #: Texts that held a lone UTF-16 surrogate (:func:`~analysis.loaders.base.load_json`).
    broken: Counter = field(default_factory=Counter)

    def add_key(self, where: str, file_name: str, value: object) -> None:
        """Keep a decoded key file (a reject when it is not a JSON object)."""
        if isinstance(value, Mapping):
            self.keys.append((where, _split_of(file_name), dict(value)))
        else:
            self.rejects.append(Reject(where, 1, "key file is not a JSON object", ""))

    def thread(self, folder: tuple[str, ...]) -> Thread:
        if folder not in self.threads:
            self.threads[folder] = Thread(folder)
        return self.threads[folder]


def _decode(where: str, data: bytes, broken: Counter) -> object | Reject:
    """The JSON value of one file (lone surrogates replaced and counted in ``broken``), or a
    reject."""
    try:
        return load_json(data, broken)
    except UnicodeDecodeError:
        return Reject(where, 1, "invalid UTF-8", snippet(data))
    except json.JSONDecodeError as exc:
        return Reject(where, exc.lineno, json_error_reason(exc), snippet(data))


def _split_of(file_name: str) -> str:
    if file_name in KEY_SPLITS:
        return KEY_SPLITS[file_name]
    return file_name[: -len("-key.json")]


def _reddit_thing(value: object) -> tuple[str, Mapping] | None:
    """(kind, data) of the thing in a Reddit file: a bare thing, or the first in a Listing."""
    if isinstance(value, list) and value:  # [submission Listing, comments Listing]
        value = value[0]
    if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
        return None
    if value["kind"] == "Listing":
        children = (value.get("data") or {}).get("children") or []
        if not children or not isinstance(children[0], Mapping):
            return None
        value = children[0]
    data = value.get("data")
    return (value["kind"], data) if isinstance(data, Mapping) else None


def _post_row(where: str, value: object, thread: Thread) -> dict | Reject | None:
    """The row of one post file; ``None`` for a ``more`` stub (recorded on the thread)."""
    thing = _reddit_thing(value)
    if thing is not None:
        kind, data = thing
        thread.platform = thread.platform or "reddit"
        if kind == "more":
            return None
        try:
            return row_from_thing(dict(data), kind)
        except ValueError as exc:
            return Reject(where, 1, str(exc), record_snippet(value))
    if isinstance(value, Mapping) and ("id_str" in value or "created_at" in value):
        try:
            row = row_from_tweet(dict(value))
        except ValueError as exc:
            return Reject(where, 1, str(exc), record_snippet(value))
        thread.platform = thread.platform or "twitter"
        return row
    return Reject(where, 1, "neither a tweet nor a Reddit thing",
                  record_snippet(value))


def collect(path: Path) -> Collection:
    """Read every post, structure and key file of a folder or archive (no output yet).

    Parameters
    ----------
    path
        A RumourEval / PHEME folder (the whole dataset, one event or one thread) or an archive.

    Returns
    -------
    Collection
        Threads keyed by their folder path, the key files, the rejects met on the way, and
        the count of texts that held a lone surrogate (U+FFFD now).
    """
    out = Collection()
    for item in _walk(Path(path)):
        if isinstance(item, Reject):
            out.rejects.append(item)
            continue
        where, parts, data = item
        value = _decode(where, data, out.broken)
        if isinstance(value, Reject):
            out.rejects.append(value)
            continue
        if parts[-1].endswith("-key.json") and parts[-1] != STRUCTURE_FILE:
            out.add_key(where, parts[-1], value)
            continue
        if parts[-1] == STRUCTURE_FILE:
            out.thread(parts[:-1]).structure = value
            continue
        thread = out.thread(parts[:-2])
        row = _post_row(where, value, thread)
        if row is None:
            stub_id = parts[-1][: -len(".json")]
            thread.stub_ids.append(stub_id)
            out.rejects.append(Reject(where, 1, MORE_REASON,
                                      record_snippet(value)))
            continue
        if isinstance(row, Reject):
            out.rejects.append(row)
            continue
        row["source_file"] = where
        row["source_line"] = 1
        if parts[-2] in SOURCE_FOLDERS:
            thread.source_ids.append(row["id"])
            out.source_folders.add(parts[-2])
        thread.rows.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# output


def _finish_rows(thread: Thread) -> Iterator[dict]:
    parents = thread.parents()
    source = thread.source_id
    for row in thread.rows:
        row["source_format"] = FORMAT
        row["thread_id"] = source
        row["root_id"] = source
        if row["id"] == source:
            row["parent_id"] = None
        elif row.get("parent_id") is None or (
                row["platform"] == "twitter" and row["kind"] != "reply"):
            # No reply-to in the post itself (or only a quoted tweet): the tree says.
            row["parent_id"] = parents.get(row["id"], row.get("parent_id"))
        yield row


def _key_files_above(path: Path) -> list[Path]:
    """The :data:`KEY_SPLITS` files of the nearest folder above the folder ``path`` (at most
    :data:`KEY_SEARCH_LEVELS` up) that holds any, in name order (as a read of that folder takes
    them)."""
    for folder in path.resolve().parents[:KEY_SEARCH_LEVELS]:
        found = [folder / name for name in sorted(KEY_SPLITS) if (folder / name).is_file()]
        if found:
            return found
    return []


def companion_files(path: Path) -> list[Path]:
    """Files outside the input ``path`` that :func:`read` reads: the key files above a folder
    that holds none (ingest's manifest records them with the inputs)."""
    path = Path(path)
    if not path.is_dir() or any(path.rglob("*-key.json")):
        return []
    return _key_files_above(path)


def _add_keys_above(path: Path, collection: Collection) -> bool:
    """Add the key files of :func:`_key_files_above` to ``collection``; whether there were
    any."""
    files = _key_files_above(path)
    for file in files:
        if file.stat().st_size > MAX_MEMBER_BYTES:
            collection.rejects.append(Reject(str(file), None,
                                             f"file larger than {MAX_MEMBER_BYTES} bytes", ""))
            continue
        value = _decode(str(file), file.read_bytes(), collection.broken)
        if isinstance(value, Reject):
            collection.rejects.append(value)
        else:
            collection.add_key(str(file), file.name, value)
    return bool(files)


def _labels(collection: Collection, *, only_read: bool = False) -> Iterator[GoldLabel]:
    """The gold labels: every id of the key files, or with ``only_read`` only the posts and
    ``more`` stubs read (key files of the whole dataset, for a part of it)."""
    platform_of: dict[str, str] = {}
    split_of: dict[str, str] = {}
    for thread in collection.threads.values():
        for row in thread.rows:
            platform_of[row["id"]] = row["platform"]
        for stub in thread.stub_ids:
            platform_of[stub] = "reddit"
    for _, split, content in collection.keys:
        for section, task in KEY_TASKS.items():
            labels = content.get(section)
            if not isinstance(labels, Mapping):
                continue
            for post_id, label in labels.items():
                post_id = str(post_id)
                if only_read and post_id not in platform_of:
                    continue
                platform = platform_of.get(post_id) or ("twitter" if post_id.isdigit()
                                                        else "reddit")
                if task == "sdqc":
                    split_of.setdefault(post_id, split)
                yield GoldLabel(make_uid(platform, post_id), task, str(label), LABELER_ID, split)
    for thread in collection.threads.values():
        source = thread.source_id
        if not thread.rows or source is None or thread.event is None:
            continue
        if thread.platform is None:
            continue
        yield GoldLabel(make_uid(thread.platform, source), "event", thread.event, LABELER_ID,
                        split_of.get(source))


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject | GoldLabel]:
    """Yield the rows, rejects and gold labels of a RumourEval / PHEME folder or archive.

    Parameters
    ----------
    path
        A folder or an archive (``.tar.gz``, ``.zip``, ...). A folder without key files takes
        them from the nearest folder above it that has them (see the module docstring).
    options
        Not used: RumourEval says everything the loader needs.

    Yields
    ------
    dict or Reject or GoldLabel
        Rows thread by thread (in input order), then the rejects, then the
        labels.
    """
    path = Path(path)
    collection = collect(path)
    above = not collection.keys and path.is_dir() and _add_keys_above(path, collection)
    if not collection.keys and SOURCE_FOLDERS[0] in collection.source_folders:
        where = "in or above the folder" if path.is_dir() else "in the archive"
        warnings.warn(f"{path}: no RumourEval key file ({', '.join(KEY_SPLITS)}) {where}: "
                      "no sdqc or veracity labels", stacklevel=2)
    warn_broken_texts(str(path), collection.broken)
    for thread in collection.threads.values():
        yield from _finish_rows(thread)
    yield from collection.rejects
    yield from _labels(collection, only_read=above)
