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
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import __version__, config, schema
from analysis.errors import UserError
from analysis.io import atomic_path, sha256_file
from analysis.loaders import REGISTRY
from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    GoldLabel,
    LoadOptions,
    Reject,
    check_input,
    make_uid,
    open_binary,
)

#: Rows converted to a typed DataFrame at a time (raw records are never kept).
CHUNK_ROWS = 5_000
#: Bytes of (decompressed) input given to ``sniff``.
HEAD_BYTES = 64 * 1024
#: File suffix -> generic table format (for the table loader, which serves csv/jsonl/parquet).
TABLE_FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".jsonl": "jsonl",
                 ".ndjson": "jsonl", ".json": "jsonl"}
#: Outputs written next to OUTPUT.parquet: suffix that replaces ``.parquet``.
OUTPUT_SUFFIXES = {"rejects": ".rejects.jsonl", "manifest": ".manifest.json",
                   "labels": ".labels.parquet"}


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
        ``split``); empty when there were none.
    summary
        Counts: rows read / written, duplicates, rejects by reason, format per input, seconds.
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
    chunks: list[bytes] = []
    got = 0
    try:
        with open_binary(path) as handle:
            while got < size:
                block = handle.read(min(8192, size - got))
                if not block:
                    break
                chunks.append(block)
                got += len(block)
    except DECOMPRESSION_ERRORS:
        pass
    except Exception as exc:  # noqa: BLE001 - zstandard errors share no base class
        if not type(exc).__module__.startswith("zstandard"):
            raise
    return b"".join(chunks)


def _sniff(module: ModuleType, path: Path, head: bytes) -> bool:
    try:
        return bool(module.sniff(path, head))
    except Exception:  # noqa: BLE001 - a sniffer that fails says "not mine"
        return False


def _table_name(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    for suffix in reversed(suffixes):
        if suffix in TABLE_FORMATS:
            return TABLE_FORMATS[suffix]
    return "csv"


def detect_format(path: Path, head: bytes | None = None) -> str | None:
    """The first registered format whose ``sniff`` accepts ``path`` (a file or a folder)."""
    if path.is_dir():
        head = b""
    elif head is None:
        head = read_head(path)
    seen: set[str] = set()
    for name, module_name in REGISTRY.items():
        if module_name in seen:
            continue
        seen.add(module_name)
        module = _module(name)
        if module is not None and _sniff(module, path, head):
            return _table_name(path) if module_name == "table" else name
    return None


def _looks_binary(head: bytes) -> bool:
    if head.startswith(b"PAR1"):
        return False
    if b"\x00" in head:
        return True
    text = head[:-4].decode("utf-8", errors="replace") if len(head) > 4 else ""
    return bool(text) and text.count("\ufffd") > 0.3 * len(text)


@dataclass
class _Input:
    path: Path
    format: str | None
    detected: bool
    problem: str | None = None  # a reason to reject the whole file instead of reading it


def _folder_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(part.startswith(".") for part in parts):
            files.append(path)
    return files


def _plan_file(path: Path, format: str, *, inside_folder: bool,  # noqa: A002
               mapped: bool = False) -> _Input:
    """Choose the loader for one file; problems with a named file are errors, inside a folder
    they become a reject of that file."""
    def problem(message: str) -> _Input:
        if inside_folder:
            return _Input(path, format if format != "auto" else None, False, message)
        raise UserError(message, path)

    head = read_head(path)
    if not head and path.stat().st_size:
        # bytes on disk, none after decompression: not a readable .gz / .zst / .bz2 / .xz
        return problem(f"cannot decompress this {path.suffix} file (corrupt, truncated "
                       "early, or not really compressed); check the file")
    if not head.strip():
        return problem("empty file; nothing to read")
    detected = detect_format(path, head)
    if _looks_binary(head) and detected is None and (
            format == "auto" or not _sniff(_module(format), path, head)):
        # Archives a loader claims (RumourEval .tar.gz / .zip) are binary but readable.
        return problem("binary data, not a supported export; check the file")
    if format == "auto":
        if detected is None and mapped and _module("csv") is not None and any(
                s.lower() in TABLE_FORMATS for s in path.suffixes):
            detected = _table_name(path)  # a column mapping means a generic table
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
                *, mapped: bool = False) -> list[_Input]:
    """Expand folders and choose a loader for every input.

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
    for raw in paths:
        path = check_input(raw)
        if path.is_dir():
            if format != "auto" and _sniff(_module(format), path, b""):
                plan.append(_Input(path, format, False))
                continue
            if format == "auto":
                chosen = detect_format(path)
                if chosen is not None:
                    plan.append(_Input(path, chosen, True))
                    continue
            files = _folder_files(path)
            if not files:
                raise UserError("folder has no files to read", path)
            plan.extend(_plan_file(f, format, inside_folder=True, mapped=mapped)
                        for f in files)
        else:
            plan.append(_plan_file(path, format, inside_folder=False, mapped=mapped))
    if not plan:
        raise UserError("no input files given")
    return plan


# --- reading -----------------------------------------------------------------------------------

class _NotFast(Exception):
    """A chunk that the fast column builder cannot type; the careful path decides."""


def _fast_column(values: list, dtype: object) -> pd.api.extensions.ExtensionArray:
    """``values`` as an array of ``dtype`` the quick way, accepting what
    :func:`analysis.schema.conform` accepts; anything doubtful raises (the careful path
    decides)."""
    if isinstance(dtype, pd.CategoricalDtype):
        array = pd.Categorical(values, dtype=dtype)
        if (array.codes == -1).sum() != sum(v is None for v in values):
            raise _NotFast  # a value outside the categories: conform reports it
        return array
    if isinstance(dtype, pd.DatetimeTZDtype):
        if not all(v is None or (isinstance(v, datetime) and v.tzinfo is not None)
                   for v in values):
            raise _NotFast
        return pd.array(pd.to_datetime(values, utc=True), dtype=dtype)
    if dtype == schema.STRING_LIST:
        return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.list_(pa.string())))
    if dtype == schema.STRING or dtype in ("Int16", "Int64", "Float64", "boolean"):
        return pd.array(values, dtype=dtype)
    raise _NotFast


def _fast_frame(rows: list[dict]) -> pd.DataFrame:
    columns = {}
    for name, dtype in schema.POSTS.items():
        columns[name] = _fast_column([row.get(name) for row in rows], dtype)
    return pd.DataFrame(columns)


def conform_posts(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.schema.conform` to the posts table, skipping columns already typed."""
    out = {}
    for name, dtype in schema.POSTS.items():
        if name in frame.columns and frame[name].dtype == dtype:
            out[name] = frame[name].reset_index(drop=True)
        else:
            part = frame[[name]] if name in frame.columns else pd.DataFrame(index=frame.index)
            out[name] = schema.conform(part, {name: dtype})[name]
    return pd.DataFrame(out)


def _typed_chunk(rows: list[dict], rejects: list[Reject]) -> tuple[pd.DataFrame, list[int]]:
    """Rows as a DataFrame conformed to the posts schema; rows that do not fit become rejects.

    Returns the frame and the positions (in ``rows``) of the rows that were rejected.
    """
    try:
        return _fast_frame(rows), []
    except (_NotFast, TypeError, ValueError, pa.ArrowException, OverflowError):
        pass
    try:
        return schema.conform(pd.DataFrame.from_records(rows), schema.POSTS), []
    except (TypeError, ValueError, pa.ArrowException, OverflowError):
        pass
    good = []
    failed = []
    for position, row in enumerate(rows):
        try:
            good.append(schema.conform(pd.DataFrame.from_records([row]), schema.POSTS))
        except (TypeError, ValueError, pa.ArrowException, OverflowError) as exc:
            failed.append(position)
            rejects.append(Reject(str(row.get("source_file")), row.get("source_line"),
                                  f"row does not fit the posts table: {exc}",
                                  str(row.get("text") or "")))
    if not good:
        return schema.empty(schema.POSTS), failed
    return pd.concat(good, ignore_index=True), failed


def _iter_items(item: _Input, options: LoadOptions) -> Iterator[dict | Reject | GoldLabel]:
    module = _module(item.format)
    try:
        yield from module.read(item.path, options)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - keep what was read, reject the rest with a reason
        yield Reject(str(item.path), None,
                     f"loader {item.format} stopped: {type(exc).__name__}: {exc}", "")


def _reason_key(reason: str) -> str:
    """The part of a reject reason before its details (for counting by reason)."""
    return reason.split(":", 1)[0].strip()


def _progress(progress: bool | None):
    show = (progress is None or progress) and sys.stderr.isatty()
    if not show:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=None, unit=" records", file=sys.stderr, mininterval=0.5, leave=False)


#: Columns that reply trees and duplicates need; kept in memory while the rest may be spilled.
LIGHT_COLUMNS = ("uid", "platform", "id", "parent_id", "thread_id", "root_id", "author_id",
                 "reply_to_author_id", "collected_at", "collection_role")
#: Columns that :func:`_structure` decides for every kept row.
STRUCTURE_COLUMNS = ("thread_id", "root_id", "depth", "author_is_op", "reply_to_author_id",
                     "collection_role")


def collapse_duplicates(light: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per uid (the latest ``collected_at`` wins; ties: the later input); matched if any
    copy was matched. ``light`` has a ``_pos`` column (position in the run); the result is in
    ``_pos`` order."""
    duplicated = light["uid"].duplicated(keep=False)
    if not duplicated.any():
        return light, 0
    matched_uids = set(light.loc[duplicated & (light["collection_role"] == "matched"), "uid"])
    order = light.sort_values(["collected_at", "_pos"], kind="stable", na_position="first")
    kept = order.drop_duplicates("uid", keep="last").sort_values("_pos", kind="stable")
    kept = kept.reset_index(drop=True)
    fix = kept["uid"].isin(matched_uids)
    if fix.any():
        kept.loc[fix, "collection_role"] = "matched"
    return kept, len(light) - len(kept)


def _structure(light: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Kept rows (``_pos``) with their reply-tree columns, and the number of duplicates."""
    from analysis.loaders.threads import add_threads

    kept, duplicates = collapse_duplicates(light)
    threaded = add_threads(kept)
    return threaded[["_pos", *STRUCTURE_COLUMNS]].reset_index(drop=True), duplicates


class _MemorySink:
    """Keeps the typed chunks in memory (for :func:`ingest`)."""

    def __init__(self) -> None:
        self.chunks: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, frame: pd.DataFrame) -> None:
        self.chunks.append(frame)
        self.rows += len(frame)

    def light(self) -> pd.DataFrame:
        frames = [c[list(LIGHT_COLUMNS)] for c in self.chunks]
        light = (pd.concat(frames, ignore_index=True) if frames
                 else schema.empty(schema.POSTS)[list(LIGHT_COLUMNS)])
        return light.assign(_pos=np.arange(len(light)))

    def chunks_with_offsets(self) -> Iterator[tuple[int, pd.DataFrame]]:
        offset = 0
        for chunk in self.chunks:
            yield offset, chunk
            offset += len(chunk)


def _arrow_types(arrow_type: pa.DataType) -> object:
    if arrow_type in (pa.string(), pa.large_string()):
        return schema.STRING
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return schema.STRING_LIST
    return {pa.int64(): pd.Int64Dtype(), pa.int16(): pd.Int16Dtype(),
            pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}.get(arrow_type)


class _SpillSink:
    """Writes typed chunks to a temporary Parquet file and keeps only the light columns, so
    memory does not grow with the text of the rows (for :func:`ingest_to_files`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None
        self.lights: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)
        self.lights.append(frame[list(LIGHT_COLUMNS)])
        self.rows += len(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def light(self) -> pd.DataFrame:
        light = (pd.concat(self.lights, ignore_index=True) if self.lights
                 else schema.empty(schema.POSTS)[list(LIGHT_COLUMNS)])
        self.lights = []
        return light.assign(_pos=np.arange(len(light)))

    def chunks_with_offsets(self) -> Iterator[tuple[int, pd.DataFrame]]:
        self.close()
        if not self.rows:
            return
        parquet = pq.ParquetFile(self.path)
        offset = 0
        for group in range(parquet.num_row_groups):
            frame = parquet.read_row_group(group).to_pandas(types_mapper=_arrow_types,
                                                            ignore_metadata=True)
            frame = conform_posts(frame)
            yield offset, frame
            offset += len(frame)


def _finish_chunks(sink, structure: pd.DataFrame, *, detect_language: bool,
                   key: bytes | None) -> Iterator[pd.DataFrame]:
    """The final posts table, chunk by chunk: kept rows, reply-tree columns, language,
    pseudonyms, schema types."""
    positions = structure["_pos"].to_numpy()
    for offset, chunk in sink.chunks_with_offsets():
        lo, hi = np.searchsorted(positions, [offset, offset + len(chunk)])
        if hi == lo:
            continue
        part = structure.iloc[lo:hi]
        rows = chunk.iloc[positions[lo:hi] - offset].reset_index(drop=True)
        for column in STRUCTURE_COLUMNS:
            rows[column] = part[column].to_numpy()
        if detect_language:
            from analysis.loaders.language import detect_languages

            rows["lang_detected"], rows["lang_confidence"] = detect_languages(rows["text"])
        if key is not None:
            from analysis.loaders.pseudonym import pseudonymize

            rows = pseudonymize(rows, key)
        yield conform_posts(rows)


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
) -> IngestResult:
    """Load exports (files or folders) into one posts table.

    Parameters
    ----------
    paths
        Files or folders. A folder is read whole by a format that takes folders (RumourEval);
        otherwise every file inside it is read.
    format
        ``auto`` (sniff each input) or a name from :data:`analysis.loaders.REGISTRY`.
    field_map
        Posts-table field -> input column, for the generic table formats.
    tz
        IANA time zone for naive times; without it naive times are rejected.
    thread_id
        The thread / post / video id, for formats whose records do not say.
    platform
        Platform for the generic table formats.
    keep_authors
        Keep raw author ids and handles instead of keyed pseudonyms.
    pseudonym_key
        The key (default: environment variable or the user's key file, see
        :mod:`analysis.loaders.pseudonym`).
    detect_language
        Fill ``lang_detected`` / ``lang_confidence`` with py3langid.
    progress
        Show a progress bar on a terminal (default: when stderr is a terminal).

    Returns
    -------
    IngestResult
    """
    started = time.perf_counter()
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    options = _options(field_map, tz, thread_id, platform)
    plan = plan_inputs(list(paths), format, mapped=bool(field_map))
    sink = _MemorySink()
    with _gc_paused():
        collected = _read_inputs(plan, options, sink, progress)
    key, key_fingerprint = _key(keep_authors, pseudonym_key)
    structure, duplicates = _structure(sink.light())
    with _gc_paused():
        chunks = list(_finish_chunks(sink, structure, detect_language=detect_language,
                                     key=key))
    posts = (pd.concat(chunks, ignore_index=True) if chunks
             else conform_posts(schema.empty(schema.POSTS)))
    summary = _summary(collected, structure, duplicates, keep_authors=keep_authors,
                       key_fingerprint=key_fingerprint, detect_language=detect_language,
                       started=started)
    labels = _labels_frame(collected["labels"]) if collected["labels"] else pd.DataFrame()
    return IngestResult(posts=posts, rejects=collected["rejects"], labels=labels,
                        summary=summary)


def _options(field_map, tz, thread_id, platform) -> LoadOptions:
    if tz is not None:
        try:
            pd.Timestamp("2020-01-01").tz_localize(tz)
        except Exception as exc:  # noqa: BLE001 - pytz / zoneinfo raise different types
            raise UserError(f"unknown time zone {tz!r}; use an IANA name such as "
                            f"Europe/Berlin") from exc
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


def _read_inputs(plan: list[_Input], options: LoadOptions, sink, progress: bool | None) -> dict:
    """Run the loaders over the plan; typed chunks go to ``sink``; returns rejects, labels and
    per-input counts."""
    rejects: list[Reject] = []
    labels: list[GoldLabel] = []
    inputs_summary = []
    matched_read = 0

    # Rows of all inputs share one buffer (many small files make few chunks); ``owners`` says
    # which input each buffered row came from, for the per-input counts.
    rows: list[dict] = []
    owners: list[dict] = []

    def flush(bar) -> None:
        nonlocal matched_read, rows, owners
        frame, failed = _typed_chunk(rows, rejects)
        for position in failed:
            owners[position]["rows"] -= 1
            owners[position]["rejects"] += 1
        if len(frame):
            sink.add(frame)
        matched_read += int((frame["collection_role"] != "context").sum())
        if bar is not None:
            bar.update(len(rows))
        rows, owners = [], []

    with _progress(progress) as bar:
        for item in plan:
            entry = {"path": str(item.path), "format": item.format, "detected": item.detected,
                     "rows": 0, "rejects": 0, "labels": 0}
            inputs_summary.append(entry)
            if item.problem is not None:
                rejects.append(Reject(str(item.path), None, item.problem, ""))
                entry["rejects"] += 1
                continue
            for record in _iter_items(item, options):
                if isinstance(record, dict):
                    if not record.get("uid"):
                        if record.get("platform") and record.get("id"):
                            record["uid"] = make_uid(record["platform"], str(record["id"]))
                        else:
                            rejects.append(Reject(str(item.path), record.get("source_line"),
                                                  "record has no id", str(record.get("text"))))
                            entry["rejects"] += 1
                            continue
                    record.setdefault("source_file", str(item.path))
                    record.setdefault("source_format", item.format)
                    record.setdefault("loader_version", LOADER_VERSION)
                    rows.append(record)
                    owners.append(entry)
                    entry["rows"] += 1
                    if len(rows) >= CHUNK_ROWS:
                        flush(bar)
                elif isinstance(record, Reject):
                    rejects.append(record)
                    entry["rejects"] += 1
                elif isinstance(record, GoldLabel):
                    labels.append(record)
                    entry["labels"] += 1
        if rows:
            flush(bar)
    rows_read = sum(entry["rows"] for entry in inputs_summary)
    return {"rejects": rejects, "labels": labels, "inputs": inputs_summary,
            "rows_read": rows_read, "rows_read_matched": matched_read}


def _summary(collected: dict, structure: pd.DataFrame, duplicates: int, *, keep_authors: bool,
             key_fingerprint: str | None, detect_language: bool, started: float) -> dict:
    rejects = collected["rejects"]
    reasons = Counter(_reason_key(r.reason) for r in rejects)
    formats: Counter = Counter()
    for entry in collected["inputs"]:
        if entry["format"]:
            formats[entry["format"]] += entry["rows"]
    return {
        "inputs": collected["inputs"],
        "rows_read": collected["rows_read"],
        "rows_read_matched": collected["rows_read_matched"],
        "rows_written": len(structure),
        "rows_context": int((structure["collection_role"] == "context").sum()),
        "duplicates": duplicates,
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


def load_posts(paths, format: str = "auto", **options) -> pd.DataFrame:  # noqa: A002
    """Load exports into one posts table (see :func:`ingest` for the options).

    Warns (:class:`UserWarning`) when records were rejected; use :func:`ingest` to get them.
    """
    result = ingest(paths, format=format, **options)
    if result.rejects:
        top = ", ".join(f"{k} ({v})" for k, v in list(
            result.summary["rejects_by_reason"].items())[:3])
        warnings.warn(f"{len(result.rejects)} record(s) could not be read: {top}; "
                      "use analysis.loaders.ingest.ingest() to see them", UserWarning,
                      stacklevel=2)
    return result.posts


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
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.exists():
            files.append(path)
    return files


def _describe_input(path: Path) -> dict:
    if path.is_dir():
        files = _folder_files(path)
        digest = sha256_lines(f"{f.relative_to(path).as_posix()}  {sha256_file(f)}"
                              for f in files)
        return {"path": str(path), "kind": "folder", "files": len(files),
                "sha256_of_file_list": digest}
    return {"path": str(path), "kind": "file", "bytes": path.stat().st_size,
            "sha256": sha256_file(path)}


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
        pq.write_table(pa.Table.from_pandas(result.posts, preserve_index=False), tmp)
        return len(result.posts)

    return _write_files(result, output, inputs, write_posts)


def _check_outputs(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]
                   ) -> tuple[dict[str, Path], list[Path]]:
    paths = output_paths(Path(output))
    guard = _input_files(inputs)
    guard_resolved = {p.resolve() for p in guard}
    for dest in paths.values():
        if dest.resolve() in guard_resolved:
            raise UserError("output would overwrite an input file; pick another -o", dest)
    return paths, guard


def _write_files(result: IngestResult, output: str | os.PathLike,
                 inputs: Iterable[str | os.PathLike], write_posts) -> dict[str, Path]:
    inputs = list(inputs)
    paths, guard = _check_outputs(output, inputs)
    manifest = {
        "created_by": f"analysis {__version__}",
        "loader_version": LOADER_VERSION,
        "inputs": [_describe_input(Path(p)) for p in inputs],
        "summary": {k: v for k, v in result.summary.items() if k != "seconds"},
        "outputs": {},
    }
    written: dict[str, Path] = {}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(paths["posts"], overwrite_guard=guard))
        rows = write_posts(tmp)
        written["posts"] = paths["posts"]
        manifest["outputs"]["posts"] = {"file": paths["posts"].name, "rows": rows}
        if result.rejects:
            tmp = stack.enter_context(atomic_path(paths["rejects"], overwrite_guard=guard))
            with open(tmp, "w", encoding="utf-8") as handle:
                for reject in result.rejects:
                    handle.write(json.dumps(reject.as_dict(), ensure_ascii=False) + "\n")
            written["rejects"] = paths["rejects"]
            manifest["outputs"]["rejects"] = {"file": paths["rejects"].name,
                                              "rows": len(result.rejects)}
        if len(result.labels):
            tmp = stack.enter_context(atomic_path(paths["labels"], overwrite_guard=guard))
            pq.write_table(pa.Table.from_pandas(result.labels, preserve_index=False), tmp)
            written["labels"] = paths["labels"]
            manifest["outputs"]["labels"] = {"file": paths["labels"].name,
                                             "rows": len(result.labels)}
        tmp = stack.enter_context(atomic_path(paths["manifest"], overwrite_guard=guard))
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n",
                       encoding="utf-8")
        written["manifest"] = paths["manifest"]
    for name in ("rejects", "labels"):
        if name not in written and paths[name].exists():
            paths[name].unlink()
    return written


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
    strict: bool = False,
) -> tuple[IngestResult, dict[str, Path]]:
    """:func:`ingest` + :func:`write_outputs` without holding the posts table in memory.

    Typed chunks are spilled to a temporary Parquet file (next to ``output`` when its folder
    exists); only the columns that reply trees and duplicates need stay in memory. The output is
    the same as ``write_outputs(ingest(paths, ...), output, paths)``.

    Parameters
    ----------
    paths, format, field_map, tz, thread_id, platform, keep_authors, pseudonym_key,
    detect_language, progress
        As for :func:`ingest`.
    output
        OUTPUT.parquet; the rejects, labels and manifest files go next to it.
    strict
        When any record is rejected, write nothing and return an empty dict of written files.

    Returns
    -------
    tuple
        The :class:`IngestResult` (its ``posts`` is empty: read OUTPUT.parquet) and the written
        files by name.
    """
    started = time.perf_counter()
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = list(paths)
    options = _options(field_map, tz, thread_id, platform)
    _check_outputs(output, paths)
    plan = plan_inputs(paths, format, mapped=bool(field_map))
    parent = Path(output).parent
    spill_dir = parent if parent.is_dir() else None
    with tempfile.TemporaryDirectory(prefix=".ingest-spill-", dir=spill_dir) as tmp:
        sink = _SpillSink(Path(tmp) / "chunks.parquet")
        try:
            with _gc_paused():
                collected = _read_inputs(plan, options, sink, progress)
        finally:
            sink.close()
        key, key_fingerprint = _key(keep_authors, pseudonym_key)
        structure, duplicates = _structure(sink.light())
        summary = _summary(collected, structure, duplicates, keep_authors=keep_authors,
                           key_fingerprint=key_fingerprint, detect_language=detect_language,
                           started=started)
        labels = (_labels_frame(collected["labels"]) if collected["labels"]
                  else pd.DataFrame())
        result = IngestResult(posts=conform_posts(schema.empty(schema.POSTS)),
                              rejects=collected["rejects"], labels=labels, summary=summary)
        if strict and result.rejects:
            return result, {}
        if result.rejects and not summary["rows_read"]:
            # every record was rejected (a truncated archive, the wrong --format): an empty
            # posts table would look like a successful run
            first = result.rejects[0]
            raise UserError(f"no record could be read ({len(result.rejects)} rejected; first, "
                            f"line {first.line}: {first.reason}); nothing written",
                            first.file)

        def write_posts(dest: Path) -> int:
            writer = None
            count = 0
            try:
                for chunk in _finish_chunks(sink, structure, detect_language=detect_language,
                                            key=key):
                    table = pa.Table.from_pandas(chunk, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(dest, table.schema)
                    writer.write_table(table)
                    count += len(chunk)
                if writer is None:
                    empty = conform_posts(schema.empty(schema.POSTS))
                    pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), dest)
            finally:
                if writer is not None:
                    writer.close()
            return count

        with _gc_paused():
            written = _write_files(result, output, paths, write_posts)
        result.summary["seconds"] = round(time.perf_counter() - started, 3)
    return result, written
