"""Run the loaders over files and folders and build one posts table.

:func:`ingest` is the thin layer above the per-format loaders (see :mod:`analysis.loaders`): it
picks a loader per input (``format="auto"`` asks each registered module's ``sniff`` in registry
order), streams each file through it, keeps only the rows (in typed chunks of
:data:`CHUNK_ROWS`), collapses duplicates, builds reply trees, detects languages and
pseudonymizes authors. Every input record ends as a row or a
:class:`~analysis.loaders.base.Reject`; nothing is dropped silently.

:func:`ingest` returns the table; :func:`write_outputs` writes it with its rejects, labels and
manifest; :func:`ingest_to_files` does both without holding the table in memory (the CLI uses
it).

Examples
--------
>>> from pathlib import Path
>>> sample = Path("tests/data/twarc2_samples/two_tweets.jsonl")
>>> result = ingest([sample], keep_authors=True, detect_language=False)  # doctest: +SKIP
>>> result.summary["inputs"][0]["format"]  # doctest: +SKIP
'twarc2'
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import __version__, config, schema
from analysis.errors import UserError, WrongTypeError, check_jobs, worker_count
from analysis.io import (
    NO_ROOM_ERRNOS,
    OutputSet,
    arrow_table,
    check_output,
    json_text,
    sha256_file,
    write_jsonl,
)
from analysis.loaders import REGISTRY, base, chunks, light
from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    GoldLabel,
    LoadOptions,
    Reject,
    check_input,
    open_binary,
)
from analysis.loaders.chunks import (  # noqa: F401 - CHUNK_ROWS and conform_posts are public here
    CHUNK_ROWS,
    Collector,
    MemorySink,
    SpillSink,
    conform_posts,
    guarded,
    new_entry,
    release_freed_memory,
    system_memory,
    to_frame,
)
from analysis.loaders.light_store import StoredStructure
from analysis.loaders.parts import (
    PartReader,
    PartResult,
    PartTask,
    plan_parts,
    shift_lines,
)
from analysis.loaders.table import detect_format as table_format
from analysis.loaders.threads import arrow_strings
from analysis.progress import progress_bar

#: Bytes of (decompressed) input given to ``sniff``.
HEAD_BYTES = 64 * 1024
#: Bytes given to ``sniff`` again when no format takes the first :data:`HEAD_BYTES` and they
#: are the start of a JSON value that goes on (a first record larger than them: a page of
#: tweets with large entities, a long first JSON line). A bound, so that a file that no
#: loader reads is never read whole to say so.
LONG_HEAD_BYTES = 4 * 1024 * 1024
#: Suffixes of the files a column mapping (``--map``) reads as a generic table when no loader
#: recognises them (see :func:`analysis.loaders.table.detect_format`).
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson", ".json")
#: Outputs written next to OUTPUT.parquet: suffix that replaces ``.parquet``.
OUTPUT_SUFFIXES = {"rejects": ".rejects.jsonl", "manifest": ".manifest.json",
                   "labels": ".labels.parquet"}
#: Manifests larger than this are not taken for an ingest manifest (:func:`earlier_outputs`).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass
class IngestResult:
    """What :func:`ingest` returns.

    Attributes
    ----------
    posts
        The posts table, conformed to :data:`analysis.schema.POSTS` (empty when returned by
        :func:`ingest_to_files`, which writes it to OUTPUT.parquet instead).
    rejects
        Every record that could not be read.
    labels
        Gold labels that came with the data (columns of :data:`analysis.schema.LABELS` plus
        ``split``), one per ``uid`` and ``task`` (:func:`collapse_labels`); empty when there
        were none.
    summary
        Counts: rows read / written, duplicates, rejects by reason, format per input, labels
        kept (and, when not 0, ``label_duplicates`` dropped and ``label_conflicts``), seconds.
    """

    posts: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    labels: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)


# --- choosing a loader -------------------------------------------------------------------------

def _module(name: str) -> ModuleType | None:
    """The module of ``--format name``, or None when it is absent or does not import."""
    try:
        module = importlib.import_module(f"analysis.loaders.{REGISTRY[name]}")
    except Exception:  # noqa: BLE001 - a missing or broken loader must not stop the others
        return None
    if not (hasattr(module, "sniff") and hasattr(module, "read")):
        return None
    return module


def available_formats() -> list[str]:
    """The ``--format`` names whose loader modules are present and import."""
    return [name for name in REGISTRY if _module(name) is not None]


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """Up to ``size`` decompressed bytes from the start of ``path`` (less if it is truncated)."""
    blocks: list[bytes] = []
    got = 0
    try:
        with open_binary(path) as handle:
            while got < size:
                block = handle.read(min(8192, size - got))
                if not block:
                    break
                blocks.append(block)
                got += len(block)
    except DECOMPRESSION_ERRORS:
        pass
    except Exception as exc:  # noqa: BLE001 - zstandard errors share no base class
        if not type(exc).__module__.startswith("zstandard"):
            raise
    return b"".join(blocks)


def json_head(head: bytes) -> bytes:
    r"""``head`` as the sniffers see it: without the marks that JSON-line readers drop at the
    start of a line (:func:`~analysis.loaders.base.without_line_marks`: the 0x1e before each
    record of an RFC 7464 JSON text sequence, byte order marks) when a JSON text follows them;
    any other ``head`` as it is.

    Examples
    --------
    >>> json_head(b'\x1e{"id": 1}\n\x1e{"id": 2}\n'), json_head(b"\xef\xbb\xbf\x1e [1]")
    (b'{"id": 1}\n\x1e{"id": 2}\n', b' [1]')
    >>> json_head(b"\x1eid,text\n")
    b'\x1eid,text\n'
    """
    body = base.without_line_marks(head)
    return body if body is not head and body.lstrip()[:1] in (b"{", b"[") else head


def _sniff(module: ModuleType, path: Path, head: bytes) -> bool:
    """Whether ``module`` takes the file whose first bytes are ``head`` (seen past record
    marks: :func:`json_head`)."""
    try:
        return bool(module.sniff(path, json_head(head)))
    except Exception:  # noqa: BLE001 - a sniffer that fails says "not mine"
        return False


def _unfinished_json(head: bytes) -> bool:
    """Whether ``head`` is a full :data:`HEAD_BYTES` that starts a JSON array or object: its
    first record may go on past it."""
    return len(head) >= HEAD_BYTES and json_head(head).lstrip()[:1] in (b"[", b"{")


def detect_format(path: Path, head: bytes | None = None) -> str | None:
    """The first registered format whose ``sniff`` accepts ``path`` (a file or a folder).

    ``head`` is the file's first :data:`HEAD_BYTES` (:func:`read_head`); when no format takes
    them and they are the start of a JSON value that goes on, up to :data:`LONG_HEAD_BYTES`
    are sniffed instead (a first record larger than the head).
    """
    if path.is_dir():
        return _first_sniffed(path, b"")
    if head is None:
        head = read_head(path)
    found = _first_sniffed(path, head)
    if found is None and _unfinished_json(head):
        found = _first_sniffed(path, read_head(path, LONG_HEAD_BYTES))
    return found


def _first_sniffed(path: Path, head: bytes) -> str | None:
    """The first registered format whose ``sniff`` accepts ``path`` with ``head``."""
    seen: set[str] = set()
    for name, module_name in REGISTRY.items():
        if module_name in seen:
            continue
        seen.add(module_name)
        module = _module(name)
        if module is None or not _sniff(module, path, head):
            continue
        # the table loader's name for what it reads (a JSON-lines file without a suffix is
        # jsonl, not csv)
        return table_format(path, head) if module_name == "table" else name
    return None


def _looks_binary(head: bytes, *, nul: bool = True) -> bool:
    """Whether ``head`` is no text: not UTF-8 for the most part, or (with ``nul``) holding a NUL
    byte. Without ``nul`` (a format was named), a NUL in a text leaves the record to its loader."""
    if head.startswith(b"PAR1"):
        return False
    if nul and b"\x00" in head:
        return True
    text = head[:-4].decode("utf-8", errors="replace") if len(head) > 4 else ""
    return bool(text) and text.count("\ufffd") > 0.3 * len(text)


#: Byte order marks of the text encodings other than UTF-8 that editors write (UTF-32 first: its
#: little-endian mark starts with UTF-16's).
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
             (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
#: Bytes looked at to tell UTF-16 without a byte order mark by its NUL bytes.
WIDE_SAMPLE_BYTES = 512


def wide_encoding(head: bytes) -> str | None:
    r"""``UTF-16`` or ``UTF-32`` when ``head`` is text in that encoding: by its byte order mark,
    or by the NUL bytes that ASCII characters have in UTF-16 (every other byte, on one side).

    Examples
    --------
    >>> wide_encoding('id,text\n1,hi\n'.encode("utf-16-le")), wide_encoding(b"id,text")
    ('UTF-16', None)
    >>> wide_encoding('{"id": 1}'.encode("utf-32"))
    'UTF-32'
    """
    for bom, name in WIDE_BOMS:
        if head.startswith(bom):
            return name
    sample = head[:WIDE_SAMPLE_BYTES]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    for nuls, others in ((odd, even), (even, odd)):
        if nuls.count(0) >= 0.9 * len(nuls) and others.count(0) <= 0.1 * len(others):
            return "UTF-16"
    return None


@dataclass
class _Input:
    path: Path
    format: str | None
    detected: bool
    problem: str | None = None  # a reason to reject the whole file instead of reading it


def _folder_files(folder: Path) -> list[Path]:
    """Everything in ``folder`` and its subfolders that is not a folder, sorted, hidden names
    (``.x``) and what is under them left out. Links to folders are followed (each folder once,
    so a link loop ends); a broken link, a pipe or a socket is listed, for :func:`_plan_file`
    to reject by name."""
    files = []
    seen = {os.path.realpath(folder)}
    for root, dirs, names in os.walk(folder, followlinks=True):
        kept = []
        for name in sorted(dirs):
            real = os.path.realpath(os.path.join(root, name))
            if not name.startswith(".") and real not in seen:
                seen.add(real)
                kept.append(name)
        dirs[:] = kept
        files.extend(Path(root, name) for name in names if not name.startswith("."))
    return sorted(files)


def earlier_outputs(files: Iterable[Path]) -> list[Path]:
    """The files among ``files`` (a folder's listing) that an earlier ingest run wrote there:
    each ``X.manifest.json`` that is an ingest manifest whose ``outputs`` name the files next to
    it by the names ingest gives them (``X.parquet``, ``X.rejects.jsonl``,
    ``X.labels.parquet``), and those files. A file named like an output without such a manifest
    beside it is data; so is anything a manifest does not name.

    Examples
    --------
    >>> earlier_outputs([Path("no/such/posts.parquet")])
    []
    """
    files = list(files)
    listed = set(files)
    found: set[Path] = set()
    for path in files:
        named = _manifest_outputs(path)
        if named is not None:
            found.add(path)
            found.update(p for p in named if p in listed)
    return [path for path in files if path in found]


def _manifest_outputs(path: Path) -> list[Path] | None:
    """The files an ingest manifest at ``path`` says its run wrote next to it, or None when
    ``path`` is no such manifest."""
    suffix = OUTPUT_SUFFIXES["manifest"]
    if not path.name.endswith(suffix) or path.name == suffix or not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
        manifest = json.loads(data) if len(data) <= MAX_MANIFEST_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict) or not str(manifest.get("created_by", "")).startswith(
            "analysis ") or not isinstance(manifest.get("outputs"), dict):
        return None
    stem = path.name[:-len(suffix)]
    names = {"posts": f"{stem}.parquet",
             **{name: stem + end for name, end in OUTPUT_SUFFIXES.items()}}
    outputs = manifest["outputs"]
    if "posts" not in outputs or any(
            not isinstance(entry, dict) or entry.get("file") != names.get(name)
            for name, entry in outputs.items()):
        return None
    return [path.with_name(names[name]) for name in outputs]


class InputPlan(list):
    """What :func:`plan_inputs` returns: the inputs to read (a list of ``_Input``), and in
    ``skipped`` the files found in input folders that an earlier ingest run wrote
    (:func:`earlier_outputs`), which are not read."""

    def __init__(self, items: Iterable = (), skipped: Iterable[Path] = ()) -> None:
        super().__init__(items)
        self.skipped: list[Path] = list(skipped)


def _folder_inputs(folder: Path) -> tuple[list[Path], list[Path]]:
    """The entries of ``folder`` to read (:func:`_folder_files`) and the earlier ingest
    outputs among them, which are not read."""
    files = _folder_files(folder)
    skipped = earlier_outputs(files)
    if skipped:
        left_out = set(skipped)
        files = [path for path in files if path not in left_out]
    return files, skipped


def read_folder_files(folder: Path) -> list[Path]:
    """The regular files a run reads in ``folder``: those of :func:`_folder_files` (the other
    entries are rejected unread) without the outputs of an earlier run
    (:func:`earlier_outputs`)."""
    return [path for path in _folder_inputs(folder)[0] if path.is_file()]


def _files_beside(folder: Path, format: str) -> list[Path]:  # noqa: A002
    """The files in ``folder`` that its folder format's loader does not take care of (its
    ``takes_file``): data put next to a RumourEval dataset, read on their own instead of
    dropped without a word."""
    takes = getattr(_module(format), "takes_file", None)
    if takes is None:
        return []
    return [path for path in read_folder_files(folder) if not takes(folder, path)]


def _plan_file(path: Path, format: str, *, inside_folder: bool,  # noqa: A002
               mapped: bool = False) -> _Input:
    """Choose the loader for one file; problems with a named file are errors, inside a folder
    they become a reject of that file. Nothing but a regular file is read: a named pipe,
    ``<(command)`` or ``/dev/stdin`` is refused before any byte is read."""
    def problem(message: str) -> _Input:
        if inside_folder:
            return _Input(path, format if format != "auto" else None, False, message)
        raise UserError(message, path)

    if path.is_symlink() and not path.exists():
        return problem("a link to nothing (broken symbolic link)")
    if not path.is_file():  # read twice (format sniff, then the loader): a pipe would hang
        return problem("not a regular file (a pipe, device or socket); save it to a file "
                       "first")
    head = read_head(path)
    if not head and path.stat().st_size and not base.decompresses_to_nothing(path):
        # bytes on disk, none after decompression: not a readable .gz / .zst / .bz2 / .xz
        # (one that holds nothing, compressed whole, is an empty file)
        return problem(f"cannot decompress this {path.suffix} file (corrupt, truncated "
                       "early, or not really compressed); check the file")
    if not head.strip():
        return problem("empty file; nothing to read")
    detected = detect_format(path, head)
    if detected is None and (format == "auto" or not _sniff(_module(format), path, head)):
        # Archives a loader claims (RumourEval .tar.gz / .zip) are binary but readable.
        if (compressed := base.compressed_without_suffix(path, head)) is not None:
            return problem(compressed)
        if (encoding := wide_encoding(head)) is not None:
            return problem(f"{encoding} text: save it as UTF-8 (e.g. iconv -f {encoding} -t "
                           f"UTF-8 {path.name} > {path.stem}-utf8{path.suffix}, or choose "
                           "UTF-8 when saving) and ingest that")
        if _looks_binary(head, nul=format == "auto"):
            hint = "" if _looks_binary(head, nul=False) else (
                ", or pass --format if it is text with a NUL byte")
            return problem(f"binary data, not a supported export; check the file{hint}")
    if format == "auto":
        if detected is None and mapped and _module("csv") is not None and any(
                s.lower() in TABLE_SUFFIXES for s in path.suffixes):
            detected = table_format(path, head)  # a column mapping means a generic table
        if detected is None:
            return problem("cannot tell the format; pass --format "
                           f"(one of {', '.join(REGISTRY)})")
        return _Input(path, detected, True)
    module = _module(format)
    if not _sniff(module, path, head) and detected is not None and (
            REGISTRY[detected] != REGISTRY[format]):
        return problem(f"does not look like {format} (it looks like {detected}); "
                       f"pass --format {detected} or --format auto")
    return _Input(path, format, False)


def plan_inputs(paths: Iterable[str | os.PathLike], format: str = "auto",  # noqa: A002
                *, mapped: bool = False) -> InputPlan:
    """Expand folders and choose a loader for every input.

    Files in a folder that an earlier ingest run wrote there (its OUTPUT.parquet, rejects,
    labels and manifest: :func:`earlier_outputs`) are not read; the plan's ``skipped`` lists
    them. Named as inputs themselves, they are read.

    With ``mapped`` (a ``--map`` was given), a file that no loader recognises but has a table
    suffix (.csv, .tsv, .jsonl, .ndjson, .json, .parquet) is read as that generic table.
    """
    if format != "auto":
        if format not in REGISTRY:
            raise UserError(f"unknown --format {format!r}; use auto or one of "
                            f"{', '.join(REGISTRY)}")
        if _module(format) is None:
            raise UserError(f"--format {format} is not available in this version; use one of "
                            f"{', '.join(available_formats())}")
    plan: list[_Input] = []
    skipped: list[Path] = []
    for raw in paths:
        path = check_input(raw)
        if path.is_dir():
            chosen = format if format != "auto" and _sniff(_module(format), path, b"") else \
                detect_format(path) if format == "auto" else None
            if chosen is not None:  # a folder format (RumourEval), and the files it leaves
                plan.append(_Input(path, chosen, format == "auto"))
                plan.extend(_plan_file(f, format, inside_folder=True, mapped=mapped)
                            for f in _files_beside(path, chosen))
                continue
            files, outputs = _folder_inputs(path)
            skipped.extend(outputs)
            if not files:
                raise UserError("folder has no files to read" + (
                    " (only the files an earlier ingest run wrote, which are not read)"
                    if outputs else ""), path)
            plan.extend(_plan_file(f, format, inside_folder=True, mapped=mapped)
                        for f in files)
        else:
            plan.append(_plan_file(path, format, inside_folder=False, mapped=mapped))
    if not plan:
        raise UserError("no input files given")
    seen: set[Path] = set()
    once = InputPlan()
    repeated: list[str] = []
    for entry in plan:  # a file given twice, or also inside a folder given, is read once
        where = entry.path.resolve()
        if where not in seen:
            seen.add(where)
            once.append(entry)
        elif str(entry.path) not in repeated:
            repeated.append(str(entry.path))
    if repeated:
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        warnings.warn(f"{', '.join(repeated[:3])}{more}: given more than once (or also inside a "
                      "folder given); each file is read once", UserWarning, stacklevel=2)
    for path in skipped:  # each once, and not when it is read (named as an input too)
        where = path.resolve()
        if where not in seen:
            seen.add(where)
            once.skipped.append(path)
    return once


def _check_thread_id(plan: list[_Input], thread_id: str | None) -> None:
    """Refuse ``--thread-id`` when no input's format reads it (it would be ignored)."""
    if thread_id is None:
        return
    readers = [name for name in REGISTRY
               if getattr(_module(name), "READS_THREAD_ID", False)]
    if not any(entry.format in readers for entry in plan):
        raise UserError(f"--thread-id is read by the {' and '.join(readers)} formats only; for "
                        "a table, name its thread column with --map thread_id=COLUMN")


#: The options that only the generic tables (module ``table``: csv, jsonl, parquet) and 4CAT read:
#: ``ingest`` argument -> (its CLI flag, the loader modules that read it). Every other format
#: ignores them (its records name their fields and platform, and its platform writes UTC), so
#: they are refused when no input's format reads them, as ``--thread-id`` is.
TABLE_OPTIONS = {
    "field_map": ("--map", ("table",)),
    "platform": ("--platform", ("table", "fourcat_csv")),
    "tz": ("--tz", ("table", "fourcat_csv")),
}


def _check_table_options(plan: list[_Input], **given: object) -> None:
    """Refuse ``field_map`` / ``platform`` / ``tz`` (see :data:`TABLE_OPTIONS`) when no input's
    format reads it: it would be ignored without a word."""
    found = list(dict.fromkeys(entry.format for entry in plan if entry.format is not None))
    if not found:
        return  # nothing will be read
    for option, value in given.items():
        flag, modules = TABLE_OPTIONS[option]
        if value is None or (option == "field_map" and not value):
            continue
        if any(REGISTRY[name] in modules for name in found):
            continue
        readers = [name for name in REGISTRY if REGISTRY[name] in modules]
        inputs = (f"the input is {found[0]}" if len(found) == 1
                  else f"the inputs are {', '.join(found[:-1])} and {found[-1]}")
        hint = {"field_map": f"drop --map ({' and '.join(found)} records name their own "
                             "fields)",
                "platform": "the platform comes from the records; drop --platform",
                "tz": "the records' times are in UTC (their platform writes them so); drop "
                      "--tz"}[option]
        raise UserError(f"{flag} is read by the {', '.join(readers[:-1])} and {readers[-1]} "
                        f"formats only, and {inputs}; {hint}")


# --- reading -----------------------------------------------------------------------------------

def _reason_key(reason: str) -> str:
    """The part of a reject reason before its details, which follow a colon or a semicolon (for
    counting by reason)."""
    return re.split("[:;]", reason, maxsplit=1)[0].strip()


def collapse_duplicates(light: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per uid (the latest ``collected_at`` wins; ties: the later input); matched if any
    copy was matched. A copy without a ``kind`` (an API error's notice about the post, see
    :func:`analysis.loaders.light.compact`) loses to every copy with one, whenever collected.
    ``light`` has a ``_pos`` column (position in the run); the result is in ``_pos`` order."""
    # Arrow's hash table over the Arrow strings: no Python string per row
    encoded = pc.dictionary_encode(arrow_strings(light["uid"]))
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()
    duplicated = pd.Series(np.bincount(codes)[codes] > 1, index=light.index)
    if not duplicated.any():
        return light, 0
    matched_uids = set(light.loc[duplicated & (light["collection_role"] == "matched"), "uid"])
    placed = light["kind"].notna() if "kind" in light else pd.Series(True, index=light.index)
    keys = pd.DataFrame({"placed": placed, "time": light["collected_at"].where(placed),
                         "pos": light["_pos"]})
    order = light.loc[keys.sort_values(["placed", "time", "pos"], kind="stable",
                                       na_position="first").index]
    kept = order.drop_duplicates("uid", keep="last").sort_values("_pos", kind="stable")
    kept = kept.reset_index(drop=True)
    fix = kept["uid"].isin(matched_uids)
    if fix.any():
        kept.loc[fix, "collection_role"] = "matched"
    return kept, len(light) - len(kept)


def _structure(sink) -> light.Structure | StoredStructure:
    """Kept rows and their reply trees, decided on the compact light columns (the same as
    :func:`collapse_duplicates` and :func:`analysis.loaders.threads.add_threads` decide), in
    memory or in the sink's light store; what the pass freed is handed back to the system."""
    structure = sink.structure()
    release_freed_memory()
    return structure


def _finish_tables(sink, structure: light.Structure | StoredStructure) -> Iterator[pa.Table]:
    """The final posts table, chunk by chunk: the kept rows with their reply-tree columns
    (languages and pseudonyms were filled in when the chunks were typed)."""
    return light.finish(sink.tables_with_offsets, structure,
                        some_columns=sink.tables_with_offsets)


#: A label's rank when its input holds no copy of the post (a Reddit ``more`` stub, a rejected
#: post): below every input that does.
_NO_COPY = (0, 0, 0)


def collapse_labels(labels: list[GoldLabel], label_inputs: list[int],
                    copies: Mapping[tuple[str, int], tuple[int, int]] | None = None,
                    ) -> tuple[list[GoldLabel], int, list[tuple[str, str, list[tuple[int, str]]]]]:
    """One gold label per ``(uid, task)``, as duplicate posts collapse.

    Copies that are the same (label, labeler, split) are kept once. When they differ, the label
    kept is that of the input whose copy of the post :func:`collapse_duplicates` keeps among
    the inputs that gave one: the latest ``collected_at``, on a tie the later copy; an input
    without a copy of the post (a ``more`` stub) ranks below those with one, and among such
    inputs the later one wins. Within that input, its first label of the post and task wins.

    Parameters
    ----------
    labels
        The labels of the run, in input order.
    label_inputs
        The input (its index in the run) of each label.
    copies
        ``(uid, input) -> (collected_at as int64 nanoseconds, position in the run)`` of the
        copy of the post each input would keep (:func:`_post_copies`), for the uids of
        labels that differ; None or missing: no copy.

    Returns
    -------
    tuple
        The labels kept (each where its post and task first came), the number dropped, and
        the conflicts: ``(uid, task, [(input, label), ...])`` for each post and task whose
        copies gave different labels.

    Examples
    --------
    >>> a, b = GoldLabel("t:1", "sdqc", "support", "x"), GoldLabel("t:1", "sdqc", "deny", "x")
    >>> kept, dropped, conflicts = collapse_labels([a, a, b], [0, 1, 2])
    >>> [g.label for g in kept], dropped, conflicts
    (['deny'], 2, [('t:1', 'sdqc', [(0, 'support'), (1, 'support'), (2, 'deny')])])
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault((label.uid, label.task), []).append(index)
    if len(groups) == len(labels):
        return list(labels), 0, []
    copies = copies or {}
    kept: list[GoldLabel] = []
    conflicts = []
    for (uid, task), members in groups.items():
        first = labels[members[0]]
        if all(labels[m] == first for m in members[1:]):
            kept.append(first)
            continue

        def rank(member: int, uid: str = uid) -> tuple[tuple[int, int, int], int]:
            where = label_inputs[member]
            copy = copies.get((uid, where))
            return ((1, *copy) if copy is not None else _NO_COPY), where

        best = max(members, key=rank)  # max keeps the first of equal ranks: one input's first
        winner = label_inputs[best]
        kept.append(labels[next(m for m in members if label_inputs[m] == winner)])
        if len({labels[m].label for m in members}) > 1:
            conflicts.append((uid, task, [(label_inputs[m], labels[m].label) for m in members]))
    return kept, len(labels) - len(kept), conflicts


def _label_inputs(inputs: list[dict]) -> list[int]:
    """The input of each label of a run (labels come in input order; ``labels`` counts them)."""
    return [index for index, entry in enumerate(inputs) for _ in range(entry["labels"])]


def _post_copies(sink, inputs: list[dict], uids: set[str]
                 ) -> dict[tuple[str, int], tuple[int, int]]:
    """For each of ``uids`` and each input that holds a copy of that post: the
    ``(collected_at, position)`` of the copy :func:`collapse_duplicates` would prefer (the
    latest ``collected_at``, NaT lowest; then the later position). One pass over the run's
    ``uid`` and ``collected_at`` columns."""
    ends = np.cumsum([entry["rows"] for entry in inputs])
    if not uids or not len(ends) or ends[-1] != sink.rows:
        return {}  # never expected: rows and inputs disagree; every input then ranks alike
    wanted = pa.array(sorted(uids), type=pa.large_string())
    found: dict[tuple[str, int], tuple[int, int]] = {}
    for offset, table in sink.tables_with_offsets(["uid", "collected_at"]):
        uid = light.as_strings(table, "uid")
        hits = np.flatnonzero(pc.is_in(uid, value_set=wanted).to_numpy(zero_copy_only=False))
        if not len(hits):
            continue
        times = table["collected_at"].combine_chunks().cast(pa.int64())
        times = pc.fill_null(times, light._NAT).to_numpy()
        for at in hits:
            position = offset + int(at)
            key = (uid[int(at)].as_py(), int(np.searchsorted(ends, position, side="right")))
            copy = (int(times[at]), position)
            if copy > found.get(key, (light._NAT, -1)):
                found[key] = copy
    return found


def _collapse_run_labels(collected: dict, sink) -> None:
    """Replace ``collected["labels"]`` by one label per post and task (:func:`collapse_labels`),
    with ``label_duplicates`` and ``label_conflicts`` counted; warn when copies disagreed."""
    labels = collected["labels"]
    if not labels:
        return
    where = _label_inputs(collected["inputs"])
    if len(where) != len(labels):  # never expected; keep every label rather than guess
        return
    contested: set[str] = set()  # posts whose copies of a label differ: ranked by their copies
    seen: dict[tuple[str, str], GoldLabel] = {}
    for label in labels:
        other = seen.setdefault((label.uid, label.task), label)
        if other != label:
            contested.add(label.uid)
    copies = _post_copies(sink, collected["inputs"], contested) if contested else None
    kept, dropped, conflicts = collapse_labels(labels, where, copies)
    collected["labels"] = kept
    collected["label_duplicates"] = dropped
    collected["label_conflicts"] = len(conflicts)
    if conflicts:
        uid, task, said = conflicts[0]
        paths = [entry["path"] for entry in collected["inputs"]]
        first = said[0]
        other = next(pair for pair in said if pair[1] != first[1])
        if first[0] == other[0]:  # two files of one input (a RumourEval folder's key files)
            example = f"{first[1]!r} and {other[1]!r} in {paths[first[0]]}"
        else:
            example = " but ".join(f"{label!r} in {paths[index]}"
                                   for index, label in (first, other))
        warnings.warn(f"{len(conflicts)} post(s) have different gold labels in the inputs "
                      f"(first: {uid} {task} {example}); kept the label of the input whose copy "
                      "of the post is kept (the latest collected_at; on a tie, the later input)",
                      UserWarning, stacklevel=3)


def _labels_frame(labels: list[GoldLabel]) -> pd.DataFrame:
    frame = pd.DataFrame({
        "uid": [g.uid for g in labels],
        "task": [g.task for g in labels],
        "label": [g.label for g in labels],
        "labeler_type": ["human"] * len(labels),
        "labeler_id": [g.labeler_id for g in labels],
        "split": pd.array([g.split for g in labels], dtype="string"),
    })
    return schema.conform(frame, schema.LABELS, extra=True)


def ingest(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    format: str = "auto",  # noqa: A002 - mirrors --format
    *,
    field_map: Mapping[str, str] | None = None,
    tz: str | None = None,
    thread_id: str | None = None,
    platform: str | None = None,
    keep_authors: bool = False,
    pseudonym_key: bytes | str | None = None,
    detect_language: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
) -> IngestResult:
    """Load exports (files or folders) into one posts table.

    Parameters
    ----------
    paths
        Files or folders (``str``, :class:`os.PathLike` or ``bytes``; one or a list, see
        :func:`input_paths`). A folder is read whole by a format that takes folders
        (RumourEval); otherwise every file inside it is read.
    format
        ``auto`` (sniff each input) or a name from :data:`analysis.loaders.REGISTRY`.
    field_map
        Posts-table field -> input column, for the generic table formats.
    tz
        IANA time zone for naive times in the generic table formats and 4cat-csv; without it
        naive times are rejected (the other formats' platforms write UTC). A date without a
        time of day is the first instant of that day there.
    thread_id
        The thread / post / video id, for formats whose records do not say.
    platform
        Platform for the generic table formats and 4cat-csv.

    ``field_map``, ``tz``, ``platform`` and ``thread_id`` are refused (:class:`UserError`)
    when no input's format reads them (:data:`TABLE_OPTIONS`).
    keep_authors
        Keep raw author ids and handles instead of keyed pseudonyms. This and
        ``detect_language`` must be booleans (``progress``: a boolean or None); anything else
        is a :class:`UserError` (:func:`check_flags`).
    pseudonym_key
        The key (default: environment variable or the user's key file, see
        :mod:`analysis.loaders.pseudonym`).
    detect_language
        Fill ``lang_detected`` / ``lang_confidence`` with py3langid.
    progress
        Show a progress bar on a terminal (default: when stderr is a terminal).
    jobs
        Worker processes for large uncompressed JSON-lines files, which are read in parts (see
        :mod:`analysis.loaders.parts`); default (or -1): one per CPU core. Smaller, compressed
        and other files are read in this process. The table does not depend on ``jobs``.

    Returns
    -------
    IngestResult
    """
    started = time.perf_counter()
    paths = input_paths(paths)
    check_flags(keep_authors=keep_authors, detect_language=detect_language, progress=progress)
    options = load_options(field_map, tz, thread_id, platform)
    plan = plan_inputs(paths, format, mapped=bool(field_map))
    _check_thread_id(plan, thread_id)
    _check_table_options(plan, field_map=field_map, platform=platform, tz=tz)
    key, key_fingerprint = _key(keep_authors, pseudonym_key)
    sink = MemorySink()
    with tempfile.TemporaryDirectory(prefix="analysis-ingest-") as tmp, _gc_paused():
        collected = _read_inputs(plan, options, sink, progress=progress,
                                 detect_language=detect_language, key=key, jobs=jobs,
                                 spill_dir=Path(tmp))
    structure = _structure(sink)
    _collapse_run_labels(collected, sink)
    with _gc_paused():
        finished = list(_finish_tables(sink, structure))
    posts = (to_frame(pa.concat_tables(finished, promote_options="permissive")) if finished
             else conform_posts(schema.empty(schema.POSTS)))
    summary = _summary(collected, structure, keep_authors=keep_authors,
                       key_fingerprint=key_fingerprint, detect_language=detect_language,
                       started=started)
    labels = _labels_frame(collected["labels"]) if collected["labels"] else pd.DataFrame()
    return IngestResult(posts=posts, rejects=collected["rejects"], labels=labels,
                        summary=summary)


def input_paths(paths: object) -> list[str | os.PathLike]:
    """The inputs of :func:`ingest` as a list: one path (``str``, :class:`os.PathLike` or
    ``bytes``, decoded as :func:`os.fsdecode` does) or an iterable of them; anything else is a
    :class:`~analysis.errors.WrongTypeError` naming what was given.

    Examples
    --------
    >>> input_paths(b"posts.csv"), input_paths(["a.csv", Path("b.csv")])
    (['posts.csv'], ['a.csv', PosixPath('b.csv')])
    >>> input_paths(3)
    Traceback (most recent call last):
    ...
    analysis.errors.WrongTypeError: paths must be a file or folder path (str or os.PathLike) or a list of them, not int
    """  # noqa: E501 - a doctest's output is one line
    def one(path: object) -> str | os.PathLike | None:
        if isinstance(path, bytes):
            return os.fsdecode(path)
        return path if isinstance(path, str | os.PathLike) else None

    single = one(paths)
    if single is not None:
        return [single]
    given = paths
    if isinstance(paths, Iterable) and not isinstance(paths, Mapping | pd.DataFrame | pd.Series):
        # (a table iterates over its column names: they are not files)
        paths = list(paths)
        found = [one(path) for path in paths]
        bad = [path for path, path_ok in zip(paths, found, strict=True) if path_ok is None]
        if not bad:
            return found
        given = bad[0]
    raise WrongTypeError("paths must be a file or folder path (str or os.PathLike) or a list of "
                         f"them, not {type(given).__name__}")


def check_flags(**flags: object) -> None:
    """A :class:`UserError` naming the first of ``flags`` that is not a boolean (Python's or
    NumPy's; ``progress`` may also be None): a string such as ``"no"`` is true in Python, so
    ``keep_authors="no"`` would keep raw authors."""
    for name, value in flags.items():
        if isinstance(value, bool | np.bool_) or (name == "progress" and value is None):
            continue
        raise UserError(f"{name} must be True or False, not {value!r}")


def load_options(field_map, tz, thread_id, platform) -> LoadOptions:
    """The :class:`LoadOptions` of an ingest run, or a :class:`UserError` for an unknown time
    zone, an unknown platform (case does not matter) or a ``field_map`` that is not a mapping
    (a study file's sources are checked so too)."""
    if platform is not None:
        name = platform.strip().lower() if isinstance(platform, str) else platform
        if name not in schema.PLATFORMS:
            raise UserError(f"unknown platform {platform!r}; use one of "
                            f"{', '.join(schema.PLATFORMS)}")
        platform = name
    if tz is not None:
        try:
            if not isinstance(tz, str):  # pandas reads a number as an offset in seconds
                raise TypeError(tz)
            pd.Timestamp("2020-01-01").tz_localize(tz)
        except Exception as exc:  # noqa: BLE001 - pytz / zoneinfo raise different types
            raise UserError(f"unknown time zone {tz!r}; use an IANA name such as "
                            f"Europe/Berlin") from exc
    if field_map is not None and not isinstance(field_map, Mapping):
        raise UserError(f"field_map must map posts-table fields to columns, e.g. "
                        f"{{'text': 'message'}}, not a {type(field_map).__name__}")
    return LoadOptions(field_map=dict(field_map or {}), tz=tz, thread_id=thread_id,
                       platform=platform)


def _key(keep_authors: bool, pseudonym_key: bytes | str | None) -> tuple[bytes | None,
                                                                          str | None]:
    if keep_authors:
        return None, None
    from analysis.loaders.pseudonym import key_id, load_key

    key = load_key(pseudonym_key)
    return key, key_id(key)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are made and dropped.

    Parsing creates millions of short-lived dicts and lists without reference cycles; the
    collector's scans of them cost about a fifth of the run time (measured with
    benchmarks/ingest.py) and free nothing. Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_inputs(plan: list[_Input], options: LoadOptions, sink, *, progress: bool | None,
                 detect_language: bool, key: bytes | None, jobs: int | None,
                 spill_dir: Path) -> dict:
    """Run the loaders over the plan; typed chunks go to ``sink``; returns rejects, labels and
    per-input counts.

    Large JSON-lines files are read in parts (:mod:`analysis.loaders.parts`) by ``jobs``
    worker processes; their results are merged in input order, so the outcome does not depend on
    ``jobs``.
    """
    inputs_summary = []
    parts_so_far = 0
    if jobs is not None:
        check_jobs(jobs)
    workers = worker_count(jobs)
    with progress_bar(total=None, unit=" records", progress=progress) as bar, \
            PartReader(workers) as reader:
        collector = Collector(sink, detect_language=detect_language, key=key, bar=bar)
        for item in plan:
            entry = new_entry(item.path, item.format, item.detected)
            inputs_summary.append(entry)
            if item.problem is not None:
                collector.reject(Reject(str(item.path), None, item.problem, ""), entry)
                continue
            parts = plan_parts(item.path, item.format)
            if not parts:
                records = _module(item.format).read(item.path, options)
                collector.add(guarded(records, item.path, item.format), entry, item.path,
                              item.format)
                continue
            collector.flush()  # the rows before this file make their own chunk
            tasks = [PartTask(str(item.path), item.format, start, end, str(spill_dir), number,
                              options, detect_language, key)
                     for number, (start, end) in enumerate(parts, start=parts_so_far)]
            parts_so_far += len(parts)
            _merge_parts(reader.read(tasks), collector, entry)
        collector.flush()
    rows_read = sum(entry["rows"] for entry in inputs_summary)
    return {"rejects": collector.rejects, "labels": collector.labels, "inputs": inputs_summary,
            "rows_read": rows_read, "rows_read_matched": collector.matched,
            "skipped_outputs": [str(path) for path in getattr(plan, "skipped", [])]}


def _merge_parts(results: Iterator[PartResult], collector: Collector, entry: dict) -> None:
    """Add the parts of one file, in order, as if the file had been read in one go."""
    lines_before = 0
    for result in results:
        for name in ("rows", "rejects", "labels"):
            entry[name] += result.counts[name]
        collector.rejects.extend(shift_lines(result.rejects, lines_before))
        collector.labels.extend(result.labels)
        collector.matched += result.matched
        for spill in result.spill:
            collector.sink.add_part(Path(spill), result.light, result.rows, lines_before)
        if collector.bar is not None:
            collector.bar.update(result.rows_read)
        lines_before += result.lines
        if result.stopped:
            break  # a serial read stops where the loader failed


def _summary(collected: dict, structure: light.Structure | StoredStructure, *,
             keep_authors: bool,
             key_fingerprint: str | None, detect_language: bool, started: float) -> dict:
    rejects = collected["rejects"]
    reasons = Counter(_reason_key(r.reason) for r in rejects)
    formats: Counter = Counter()
    for entry in collected["inputs"]:
        if entry["format"]:
            formats[entry["format"]] += entry["rows"]
    summary = {
        "inputs": collected["inputs"],
        "rows_read": collected["rows_read"],
        "rows_read_matched": collected["rows_read_matched"],
        "rows_written": len(structure),
        "rows_context": structure.context,
        "duplicates": structure.duplicates,
        "rejects": len(rejects),
        "rejects_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "labels": len(collected["labels"]),
        "rows_by_format": dict(sorted(formats.items())),
        "pseudonymized": not keep_authors,
        "pseudonym_key_id": key_fingerprint,
        "language_detection": bool(detect_language),
        "loader_version": LOADER_VERSION,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if collected.get("skipped_outputs"):  # only then: the summary of other runs is unchanged
        summary["skipped_outputs"] = collected["skipped_outputs"]
    for name in ("label_duplicates", "label_conflicts"):  # likewise
        if collected.get(name):
            summary[name] = collected[name]
    return summary


def load_posts(paths, format: str = "auto", **options) -> pd.DataFrame:  # noqa: A002
    """Load exports into one posts table (see :func:`ingest` for the options).

    Warns (:class:`UserWarning`) when records were rejected; use :func:`ingest` to get them.
    When every record was rejected it raises a :class:`UserError` naming the first reject, as
    ``python -m analysis ingest`` stops (an empty table would look like a successful load).
    Save the table with :func:`analysis.io.write_table` (``write_table(posts, "posts.parquet")``):
    pandas' own ``DataFrame.to_parquet`` records the list columns (``hashtags``, ``mentions``,
    ``urls``) under a dtype name that ``pandas.read_parquet`` cannot read back.
    """
    _check_options(options)
    result = ingest(paths, format=format, **options)
    _refuse_all_rejected(result, "no table to return")
    if result.rejects:
        top = ", ".join(f"{k} ({v})" for k, v in list(
            result.summary["rejects_by_reason"].items())[:3])
        warnings.warn(f"{len(result.rejects)} record(s) could not be read: {top}; "
                      "use analysis.loaders.ingest.ingest() to see them", UserWarning,
                      stacklevel=_caller_stacklevel())
    return result.posts


def _check_options(options: Mapping[str, object]) -> None:
    """A :class:`~analysis.errors.WrongTypeError` naming an option :func:`ingest` does not take,
    and the one meant when it is close (``map`` -> ``field_map``), instead of Python's bare
    "unexpected keyword argument"."""
    import difflib
    import inspect

    known = [name for name, parameter in inspect.signature(ingest).parameters.items()
             if parameter.kind is inspect.Parameter.KEYWORD_ONLY]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5) or \
                [k for k in known if name in k.split("_")]
            hint = f"; did you mean {close[0]}=?" if close else ""
            raise WrongTypeError(f"load_posts() has no option {name!r}{hint} (options: "
                                 f"{', '.join(known)})")


def _refuse_all_rejected(result: IngestResult, outcome: str) -> None:
    """A :class:`UserError` naming the first reject when every record was rejected (a truncated
    archive, the wrong format, naive times without a zone): an empty posts table would look like
    a successful run. ``outcome`` says what the caller does instead."""
    if result.rejects and not result.summary["rows_read"]:
        first = result.rejects[0]
        where = "" if first.line is None else f", line {first.line}"
        raise UserError(f"no record could be read ({len(result.rejects)} rejected; "
                        f"first{where}: {first.reason}); {outcome}", first.file)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of a warning from the function that calls this one that names the line
    of its caller outside :mod:`analysis.loaders` (``analysis.load_posts`` and
    ``analysis.loaders.load_posts`` call :func:`load_posts` through one more frame)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in (__name__,
                                                                     "analysis.loaders"):
        level += 1
        frame = frame.f_back
    return level


# --- writing -----------------------------------------------------------------------------------

def output_paths(output: Path) -> dict[str, Path]:
    """OUTPUT.parquet and the files written next to it."""
    output = Path(output)
    if output.suffix.lower() != ".parquet":
        raise UserError("the output must be a .parquet file", output)
    try:
        output.resolve().relative_to(config.DATA_RAW.resolve())
    except ValueError:
        pass
    else:
        raise UserError("refusing to write under data/raw/ (raw data is read-only); pick "
                        "another -o", output)
    stem = output.with_suffix("")
    paths = {"posts": output}
    for name, suffix in OUTPUT_SUFFIXES.items():
        paths[name] = stem.with_name(stem.name + suffix)
    return paths


def _input_files(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    files: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            outputs = set(earlier_outputs(_folder_files(path)))  # not inputs: may be replaced
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p not in outputs)
        elif path.exists():
            files.append(path)
    return files


def describe_input(path: Path) -> dict:
    """An input as the manifest records it: a file's sha256, or a folder's ``sha256_of_file_list``
    (relative paths and contents of the files the loaders read in it); reproduce's run id too."""
    if path.is_dir():
        files = read_folder_files(path)
        digest = sha256_lines(f"{f.relative_to(path).as_posix()}  {sha256_file(f)}"
                              for f in files)
        return {"path": str(path), "kind": "folder", "files": len(files),
                "sha256_of_file_list": digest}
    return {"path": str(path), "kind": "file", "bytes": path.stat().st_size,
            "sha256": sha256_file(path)}


def _companion_files(inputs: Iterable[Mapping]) -> list[Path]:
    """Files outside the inputs that their loaders read (a loader module's optional
    ``companion_files(path)``), for the summary's ``inputs`` entries; each once."""
    found: list[Path] = []
    for entry in inputs:
        module = _module(entry["format"]) if entry.get("format") else None
        companions = getattr(module, "companion_files", None)
        if companions is not None:
            found.extend(p for p in companions(Path(entry["path"])) if p not in found)
    return found


def _describe_inputs(inputs: Iterable[str | os.PathLike], summary: Mapping) -> dict:
    """The manifest's ``inputs`` (with checksums) and, when any, ``companion_files``."""
    described = {"inputs": [describe_input(Path(p)) for p in inputs]}
    companions = _companion_files(summary.get("inputs", []))
    if companions:
        described["companion_files"] = [describe_input(p) for p in companions]
    return described


def sha256_lines(lines: Iterable[str]) -> str:
    """sha256 of lines joined by newlines (for a folder's file list with checksums)."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def write_outputs(result: IngestResult, output: str | os.PathLike,
                  inputs: Iterable[str | os.PathLike]) -> dict[str, Path]:
    """Write OUTPUT.parquet, OUTPUT.rejects.jsonl (when any), OUTPUT.labels.parquet (when any)
    and OUTPUT.manifest.json, all or nothing.

    Stale rejects / labels files of an earlier run with the same OUTPUT are removed, so the files
    next to OUTPUT always describe the same run.

    Returns
    -------
    dict
        ``posts``, ``manifest`` and, when written, ``rejects`` and ``labels`` -> path.
    """
    def write_posts(tmp: Path) -> int:
        pq.write_table(arrow_table(result.posts), tmp)
        return len(result.posts)

    return _write_files(result, output, inputs, write_posts)


def _check_outputs(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]
                   ) -> tuple[dict[str, Path], list[Path]]:
    """The output files and the input files they may not overwrite; every output is checked
    (:func:`analysis.io.check_output`: a folder in the way, a folder that cannot be written)
    before anything is read."""
    paths = output_paths(Path(output))
    guard = _input_files(inputs)
    guard_resolved = {p.resolve() for p in guard}
    for dest in paths.values():
        if dest.resolve() in guard_resolved:
            raise UserError("output would overwrite an input file; pick another -o", dest)
        check_output(dest)
    return paths, guard


def _input_states(inputs: Iterable[str | os.PathLike]) -> dict[Path, tuple[int, int]]:
    """Size and modification time of every file the loaders read (to tell if one changes while
    read): in a folder, the files a run reads (:func:`read_folder_files`), not hidden ones such
    as the run's own spill files when the output goes into an input folder."""
    states = {}
    for raw in inputs:
        path = Path(raw)
        for file in (read_folder_files(path) if path.is_dir()
                     else [path] if path.exists() else []):
            info = file.stat()
            states[file] = (info.st_size, info.st_mtime_ns)
    return states


def _check_unchanged(before: Mapping[Path, tuple[int, int]],
                     inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse to go on when an input file changed (grew, was rewritten) since ``before``: the
    rows and the manifest's checksum would describe different data."""
    after = _input_states(inputs)
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            raise UserError("changed while it was read; nothing written; run again when it is "
                            "complete", path)


def _write_files(result: IngestResult, output: str | os.PathLike,
                 inputs: Iterable[str | os.PathLike], write_posts,
                 before: Mapping[Path, tuple[int, int]] | None = None) -> dict[str, Path]:
    """Write the output set (posts, rejects and labels when any, manifest) whole or not at all.

    ``before``: the inputs' :func:`_input_states` when they were first read (default: now); an
    input that changed since is an error and nothing is written.
    """
    inputs = list(inputs)
    paths, guard = _check_outputs(output, inputs)
    if before is None:
        before = _input_states(inputs)
    manifest = {
        "created_by": f"analysis {__version__}",
        "loader_version": LOADER_VERSION,
        "summary": {k: v for k, v in result.summary.items() if k != "seconds"},
        "outputs": {},
    }
    counts = {"posts": 0, "rejects": len(result.rejects), "labels": len(result.labels)}
    names = ["posts", *(name for name in ("rejects", "labels") if counts[name]), "manifest"]
    written = {name: paths[name] for name in names}
    with OutputSet(overwrite_guard=guard) as outputs, ThreadPoolExecutor(max_workers=1) as hasher:
        tmp = {name: outputs.add(path) for name, path in written.items()}
        for name in ("rejects", "labels"):
            if name not in written:
                outputs.remove(paths[name])  # a stale file of an earlier run
        # the inputs' sha256 (hashlib lets other threads run) while the posts are written
        described = hasher.submit(_describe_inputs, inputs, result.summary)
        counts["posts"] = write_posts(tmp["posts"])
        if "rejects" in tmp:
            # the one JSON-lines writer (reproduce writes its rejects with it too): a string
            # that is no UTF-8 (a lone surrogate) is written as its escape, never a crash
            write_jsonl((reject.as_dict() for reject in result.rejects), tmp["rejects"])
        if "labels" in tmp:
            pq.write_table(arrow_table(result.labels), tmp["labels"])
        manifest.update(described.result())
        _check_unchanged(before, inputs)
        manifest["outputs"] = {name: {"file": paths[name].name, "rows": counts[name]}
                               for name in written if name != "manifest"}
        tmp["manifest"].write_text(json_text(manifest), encoding="utf-8")
    return written


@contextlib.contextmanager
def _no_room_is_a_user_error(folder: Path) -> Iterator[None]:
    """A full disk or a file-size limit met by the temporary (spill) files in ``folder`` is a
    :class:`UserError`, not a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_ROOM_ERRNOS:
            raise
        raise UserError(f"no room for the temporary files of the run "
                        f"({os.strerror(exc.errno)}); free some space and run again",
                        folder) from exc


def ingest_to_files(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    output: str | os.PathLike,
    format: str = "auto",  # noqa: A002 - mirrors --format
    *,
    field_map: Mapping[str, str] | None = None,
    tz: str | None = None,
    thread_id: str | None = None,
    platform: str | None = None,
    keep_authors: bool = False,
    pseudonym_key: bytes | str | None = None,
    detect_language: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
    strict: bool = False,
) -> tuple[IngestResult, dict[str, Path]]:
    """:func:`ingest` + :func:`write_outputs` without holding the posts table in memory.

    Typed chunks are spilled to temporary Arrow files (next to ``output`` when its folder
    exists); only the columns that reply trees and duplicates need stay in memory, as compact
    numbers (:mod:`analysis.loaders.light`). The output is the same as
    ``write_outputs(ingest(paths, ...), output, paths)``.

    Parameters
    ----------
    paths, format, field_map, tz, thread_id, platform, keep_authors, pseudonym_key,
    detect_language, progress, jobs
        As for :func:`ingest`.
    output
        OUTPUT.parquet; the rejects, labels and manifest files go next to it.
    strict
        When any record is rejected, write nothing and return an empty dict of written files
        (the summary's ``rows_written`` is 0 then).

    Raises
    ------
    UserError
        Besides bad inputs and options: an output that cannot be written (checked before any
        input is read), a full disk, and an input file that changed (grew, was rewritten) while
        it was read or hashed; nothing is written then.

    Returns
    -------
    tuple
        The :class:`IngestResult` (its ``posts`` is empty: read OUTPUT.parquet) and the written
        files by name.
    """
    started = time.perf_counter()
    paths = input_paths(paths)
    check_flags(keep_authors=keep_authors, detect_language=detect_language, progress=progress,
                strict=strict)
    options = load_options(field_map, tz, thread_id, platform)
    _check_outputs(output, paths)
    before = _input_states(paths)
    plan = plan_inputs(paths, format, mapped=bool(field_map))
    _check_thread_id(plan, thread_id)
    _check_table_options(plan, field_map=field_map, platform=platform, tz=tz)
    parent = Path(output).parent
    spill_dir = parent if parent.is_dir() else None
    try:
        spill = tempfile.TemporaryDirectory(prefix=".ingest-spill-", dir=spill_dir)
    except OSError as exc:  # a folder one cannot write in (/proc, a read-only mount)
        raise UserError(f"cannot write in the output's folder ({exc.strerror}); pick another -o",
                        parent) from None
    with (system_memory(), spill as tmp,
          SpillSink(Path(tmp), light_rows=chunks.LIGHT_ROWS_IN_MEMORY) as sink):
        key, key_fingerprint = _key(keep_authors, pseudonym_key)
        with _gc_paused(), _no_room_is_a_user_error(Path(tmp).parent):
            collected = _read_inputs(plan, options, sink, progress=progress,
                                     detect_language=detect_language, key=key, jobs=jobs,
                                     spill_dir=Path(tmp))
            sink.close()  # the last spill file's footer: a full disk shows here too
        _check_unchanged(before, paths)
        structure = _structure(sink)
        _collapse_run_labels(collected, sink)
        summary = _summary(collected, structure, keep_authors=keep_authors,
                           key_fingerprint=key_fingerprint, detect_language=detect_language,
                           started=started)
        labels = (_labels_frame(collected["labels"]) if collected["labels"]
                  else pd.DataFrame())
        result = IngestResult(posts=conform_posts(schema.empty(schema.POSTS)),
                              rejects=collected["rejects"], labels=labels, summary=summary)
        if strict and result.rejects:
            summary["rows_written"] = summary["rows_context"] = 0  # nothing written
            return result, {}
        _refuse_all_rejected(result, "nothing written")

        def write_posts(dest: Path) -> int:
            writer = None
            count = 0
            try:
                for table in _finish_tables(sink, structure):
                    if writer is None:
                        writer = pq.ParquetWriter(dest, table.schema)
                    writer.write_table(table)
                    count += len(table)
                if writer is None:
                    empty = conform_posts(schema.empty(schema.POSTS))
                    pq.write_table(arrow_table(empty), dest)
            finally:
                if writer is not None:
                    writer.close()
            return count

        with _gc_paused():
            written = _write_files(result, output, paths, write_posts, before)
        result.summary["seconds"] = round(time.perf_counter() - started, 3)
    return result, written
