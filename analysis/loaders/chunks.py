"""Typed chunks of the posts table: from loader records to schema-typed DataFrames, and where
the chunks go while a run reads its inputs.

:class:`Collector` turns the records a loader yields (rows, rejects, gold labels) into typed
chunks of :data:`CHUNK_ROWS` rows (with the detected language and pseudonymized authors when
asked: both depend on the row alone) and hands them to a sink as Arrow tables:
:class:`MemorySink` keeps them (for :func:`analysis.loaders.ingest.ingest`), :class:`SpillSink`
writes them to temporary Arrow (IPC) files; both keep the light columns that reply trees
and duplicates need, as compact numbers (:func:`analysis.loaders.light.compact`). The same
collector runs in the worker processes that read parts of a large file
(:mod:`analysis.loaders.parts`), so a file read in parts gives the same chunks as one read whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from itertools import repeat
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import schema
from analysis.errors import UserError
from analysis.io import arrow_table
from analysis.loaders import light
from analysis.loaders.base import LOADER_VERSION, GoldLabel, Reject, make_uid, record_snippet
from analysis.loaders.light_store import LightStore

#: Rows converted to a typed DataFrame at a time (raw records are never kept).
CHUNK_ROWS = 5_000
#: Rows whose light columns a run to files keeps in memory (about 100 bytes a row, and more
#: while duplicates and reply trees are decided: a run of 990,000 rows peaked at 337 MiB in the
#: main process, docs/benchmarks.md); the light columns of a larger run go to a SQLite file in
#: its spill folder (:mod:`analysis.loaders.light_store`), so that its memory stays flat (230 MiB
#: at 1.5 and at 3 million rows).
LIGHT_ROWS_IN_MEMORY = 1_000_000
_NAT = np.iinfo(np.int64).min  # what NaT is as int64 nanoseconds
#: Threads that convert a typed chunk to Arrow (:func:`analysis.io.arrow_table`): one. Arrow's
#: default handed the columns of each chunk to a thread pool, which cost more than it saved: on
#: a chunk of 5,000 twarc2 rows about 8.5 ms of CPU instead of 6 (the workers that read parts
#: of a file keep every core busy anyway).
CHUNK_THREADS = 1


@contextlib.contextmanager
def system_memory() -> Iterator[None]:
    """Allocate Arrow memory with the C library's allocator meanwhile (an ingest run to files,
    and each part a worker reads).

    Arrow's default allocator (mimalloc) keeps pages it has freed. Measured with
    benchmarks/ingest.py on its 4x file, with it the main process's last pass (every chunk read
    back and written to Parquet) peaked about 50 MiB higher, and the workers grew from part to
    part (122 MiB at 1x, 135 at 4x; about 103 at both with the system allocator), for about
    the same CPU time. Buffers remember their allocator, so those made before are freed
    correctly.
    """
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def release_freed_memory() -> None:
    """Hand memory the process has freed back to the system, where the C library allows it
    (glibc's ``malloc_trim``; elsewhere nothing happens).

    glibc keeps large freed blocks in its heap once it has raised its threshold for giving them
    back. Measured with benchmarks/ingest.py on its 4x file, the main process's reply-tree pass
    left about 25 MiB freed but kept, on top of which the last pass (every chunk read back and
    written to Parquet) then peaked: 173 MiB; trimmed after the reply-tree pass, 163 MiB.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    """glibc's ``malloc_trim`` from the symbols already loaded (no library search: that would
    run ``ldconfig`` in a subprocess), or None."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


class _NotFast(Exception):
    """A chunk that the fast column builder cannot type; the careful path decides."""


def _fast_column(values: list, dtype: object) -> pd.api.extensions.ExtensionArray:
    """``values`` as an array of ``dtype`` the quick way, accepting what
    :func:`analysis.schema.conform` accepts; anything doubtful raises (the careful path
    decides)."""
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.fromiter(map(_category_codes(dtype).get, values, repeat(-2)),
                            dtype=np.int16, count=len(values))
        if (codes == -2).any():
            raise _NotFast  # a value outside the categories: conform reports it
        return pd.Categorical.from_codes(codes, dtype=dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        if all(v is None or (type(v) is pd.Timestamp and v.tzinfo is not None)
               for v in values):
            # what the loaders give: nanoseconds since the epoch, UTC, without parsing again
            nanos = np.fromiter((_NAT if v is None else v.value for v in values),
                                dtype=np.int64, count=len(values))
            return pd.array(pd.DatetimeIndex(nanos.view("M8[ns]")).tz_localize("UTC"),
                            dtype=dtype)
        if not all(v is None or (isinstance(v, datetime) and v.tzinfo is not None)
                   for v in values):
            raise _NotFast
        return pd.array(pd.to_datetime(values, utc=True), dtype=dtype)
    if dtype == schema.STRING_LIST:
        return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.list_(pa.string())))
    if dtype == schema.STRING:
        # Arrow builds it from str and None directly; anything else raises (careful path)
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
    if dtype in _MASKED:
        return pd.array(values, dtype=dtype)
    raise _NotFast


#: The posts table's nullable numbers and booleans (pandas' masked arrays).
_MASKED = ("Int16", "Int64", "Float64", "boolean")


def _null_column(size: int, dtype: object) -> pd.api.extensions.ExtensionArray:
    """A column of ``size`` nulls (one that no row has: ``depth``, ``score``... of most
    formats); a masked array is made as its values and mask, without reading ``size`` Nones
    (about 1.7 ms per column of 5,000 rows)."""
    if dtype in _MASKED:
        masked = pd.api.types.pandas_dtype(dtype)  # the schema names some by their string
        return masked.construct_array_type()(np.zeros(size, dtype=masked.numpy_dtype),
                                             np.ones(size, dtype=bool))
    return _fast_column([None] * size, dtype)


@cache
def _category_codes(dtype: pd.CategoricalDtype) -> dict[str | None, int]:
    """Code of each category of ``dtype``, and -1 (null) for None."""
    return {None: -1, **{value: code for code, value in enumerate(dtype.categories)}}


def _fast_frame(rows: list[dict]) -> pd.DataFrame:
    values = _column_values(rows)
    columns = {}
    for name, dtype in schema.POSTS.items():
        column = values.get(name)
        columns[name] = (_null_column(len(rows), dtype) if column is None
                         else _fast_column(column, dtype))
    return pd.DataFrame(columns)


def _column_values(rows: list[dict]) -> dict[str, list]:
    """The values of each posts-table column in ``rows`` (a column no row has may be left out).

    When every row has the same posts-table fields and no others (a chunk of one loader's
    rows, as a large file gives), they are read with one ``itemgetter`` call per row, about
    twice as fast as a ``get`` per value; other chunks take the ``get`` per value.
    """
    names = [name for name in schema.POSTS if rows and name in rows[0]]
    size = len(names)
    if size > 1 and size == len(rows[0]) and all(len(row) == size for row in rows):
        try:
            by_row = map(itemgetter(*names), rows)  # a tuple of the values of each row
            by_column = zip(*by_row, strict=True)
            return {name: list(values) for name, values in zip(names, by_column, strict=True)}
        except KeyError:  # a row with other fields
            pass
    return {name: [row.get(name) for row in rows] for name in schema.POSTS}


def conform_posts(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`analysis.schema.conform` to the posts table (or to its ``columns``), skipping
    columns already typed."""
    out = {}
    for name in schema.POSTS if columns is None else columns:
        dtype = schema.POSTS[name]
        if name in frame.columns and frame[name].dtype == dtype:
            out[name] = frame[name].reset_index(drop=True)
        else:
            part = frame[[name]] if name in frame.columns else pd.DataFrame(index=frame.index)
            out[name] = schema.conform(part, {name: dtype})[name]
    return pd.DataFrame(out)


#: An id as a spreadsheet writes a long number (``1.37765E+18``, ``1,37765E+18`` with a decimal
#: comma; pandas: ``1.3e+18``): rounded, and the form of no platform's ids (Reddit's base-36
#: ids, which may read ``1e5``, have no ``+``).
SCIENTIFIC_ID = r"^\s*\d+(?:[.,]\d+)?[eE]\+\d+\s*$"
#: The posts table's id columns (``uid`` is made from ``platform`` and ``id``).
_ID_COLUMNS = tuple(name for name in schema.POSTS if schema.is_id_column(name) and name != "uid")


def scientific_ids(frame: pd.DataFrame) -> dict[int, str]:
    """The rows of a typed chunk with an id in scientific notation (:data:`SCIENTIFIC_ID`), by
    position, each with its reject reason: a spreadsheet that saved ids as numbers rounded them
    to a few digits, so distinct posts (or authors) would share one id and collapse as
    duplicates (or share a pseudonym) without a word."""
    found: dict[int, str] = {}
    for name in _ID_COLUMNS:
        values = frame[name]
        hits = pc.match_substring_regex(pa.array(values, type=pa.large_string()), SCIENTIFIC_ID)
        for position in np.flatnonzero(hits.fill_null(False).to_numpy(zero_copy_only=False)):
            found.setdefault(int(position), (
                f"bad id: {name} {values.iloc[position]!r} is a number in scientific notation, "
                "rounded (a spreadsheet or pandas saved the ids as numbers); export the ids as "
                "text"))
    return found


def typed_chunk(rows: list[dict], rejects: list[Reject]) -> tuple[pd.DataFrame, list[int]]:
    """Rows as a DataFrame conformed to the posts schema; rows that do not fit become rejects
    (appended to ``rejects``; their snippet is the row as JSON).

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
                                  record_snippet(row)))
    if not good:
        return schema.empty(schema.POSTS), failed
    return pd.concat(good, ignore_index=True), failed


def guarded(records: Iterable[dict | Reject | GoldLabel], path: Path, format: str,  # noqa: A002
            state: dict | None = None) -> Iterator[dict | Reject | GoldLabel]:
    """``records`` of a loader; an exception other than :class:`UserError` ends them with a
    ``loader ... stopped`` reject (and sets ``state["stopped"]``) instead of ending the run."""
    try:
        yield from records
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - keep what was read, reject the rest with a reason
        if state is not None:
            state["stopped"] = True
        yield Reject(str(path), None, f"loader {format} stopped: {type(exc).__name__}: {exc}", "")


def new_entry(path: Path, format: str | None, detected: bool) -> dict:  # noqa: A002
    """The per-input counts of a run's summary."""
    return {"path": str(path), "format": format, "detected": detected,
            "rows": 0, "rejects": 0, "labels": 0}


class Collector:
    """Loader records -> typed chunks for ``sink``, rejects, gold labels and per-input counts.

    Rows of all inputs share one buffer (many small files make few chunks); :meth:`flush` types
    the buffer (rows that do not fit the posts table become rejects) and hands it to the sink.

    Parameters
    ----------
    sink
        A :class:`MemorySink` or :class:`SpillSink`.
    detect_language
        Fill ``lang_detected`` and ``lang_confidence`` of each chunk.
    key
        Pseudonymize the authors of each chunk with this key
        (:func:`analysis.loaders.pseudonym.pseudonymize`); None keeps them.
    bar
        A tqdm progress bar, or None.
    """

    def __init__(self, sink, *, detect_language: bool, key: bytes | None = None,
                 bar=None) -> None:
        self.sink = sink
        self.detect_language = detect_language
        self.key = key
        self.bar = bar
        self.rejects: list[Reject] = []
        self.labels: list[GoldLabel] = []
        self.matched = 0
        self._rows: list[dict] = []
        self._owners: list[dict] = []

    def reject(self, reject: Reject, entry: dict) -> None:
        self.rejects.append(reject)
        entry["rejects"] += 1

    def add(self, records: Iterable[dict | Reject | GoldLabel], entry: dict, path: Path,
            format: str) -> None:  # noqa: A002
        """Take every record of one input (``entry`` counts them)."""
        name = str(path)
        for record in records:
            if isinstance(record, dict):
                if not record.get("uid"):
                    if record.get("platform") and record.get("id"):
                        record["uid"] = make_uid(record["platform"], str(record["id"]))
                    else:
                        self.reject(Reject(name, record.get("source_line"), "record has no id",
                                           record_snippet(record)), entry)
                        continue
                record.setdefault("source_file", name)
                record.setdefault("source_format", format)
                record.setdefault("loader_version", LOADER_VERSION)
                self._rows.append(record)
                self._owners.append(entry)
                entry["rows"] += 1
                if len(self._rows) >= CHUNK_ROWS:
                    self.flush()
            elif isinstance(record, Reject):
                self.reject(record, entry)
            elif isinstance(record, GoldLabel):
                self.labels.append(record)
                entry["labels"] += 1

    def flush(self) -> None:
        """Type the buffered rows and hand them to the sink."""
        if not self._rows:
            return
        rows, owners = self._rows, self._owners
        self._rows, self._owners = [], []
        frame, failed = typed_chunk(rows, self.rejects)
        rounded = scientific_ids(frame)
        if rounded:
            dropped = set(failed)
            kept = [i for i in range(len(rows)) if i not in dropped]  # the frame's rows
            for position, reason in rounded.items():
                row = rows[kept[position]]
                shown = {k: v for k, v in row.items() if v is not None and k != "source_file"}
                self.rejects.append(Reject(str(row.get("source_file")), row.get("source_line"),
                                           reason, record_snippet(shown)))
                failed.append(kept[position])
            frame = frame.drop(index=list(rounded)).reset_index(drop=True)
        for position in failed:
            owners[position]["rows"] -= 1
            owners[position]["rejects"] += 1
        if len(frame):
            if self.detect_language:
                from analysis.loaders.language import detect_languages

                frame["lang_detected"], frame["lang_confidence"] = detect_languages(
                    frame["text"])
            if self.key is not None:
                from analysis.loaders.pseudonym import pseudonymize

                frame = pseudonymize(frame, self.key)
            self.sink.add(frame)
        self.matched += int((frame["collection_role"] != "context").sum())
        if self.bar is not None:
            self.bar.update(len(rows))


class _Sink:
    """What both sinks share: the chunks as Arrow tables, and their light columns (compact:
    :mod:`analysis.loaders.light`)."""

    def __init__(self) -> None:
        self.lights: list[pa.Table] = []
        self.rows = 0

    def _keep_light(self, table: pa.Table) -> None:
        self.lights.append(table)

    def light_table(self) -> pa.Table:
        """The light columns of every row so far, as one Arrow table (rows in order)."""
        if not self.lights:
            return light.empty()
        return pa.concat_tables(self.lights)

    def pop_light(self) -> dict[str, pa.ChunkedArray]:
        """The columns of :meth:`light_table` by name, no longer kept here (so that
        :func:`analysis.loaders.light.structure` can free each one once it has read it)."""
        table = self.light_table()
        self.lights = []
        return {name: table[name] for name in table.column_names}

    def structure(self):
        """Duplicates and reply trees of every row so far (a
        :class:`analysis.loaders.light.Structure`; the light columns are let go)."""
        return light.structure(self.pop_light())

    def tables_with_offsets(self, columns: list[str] | None = None
                            ) -> Iterator[tuple[int, pa.Table]]:
        """:meth:`tables`, each with the position of its first row in the run."""
        offset = 0
        for table in self.tables(columns):
            yield offset, table
            offset += len(table)

    def tables(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The typed chunks as Arrow tables, in order (only ``columns`` of them, when given)."""
        raise NotImplementedError


class MemorySink(_Sink):
    """Keeps the typed chunks in memory (for :func:`analysis.loaders.ingest.ingest`)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[pa.Table] = []

    def add(self, frame: pd.DataFrame) -> None:
        self._add_table(arrow_table(frame, nthreads=CHUNK_THREADS))

    def _add_table(self, table: pa.Table) -> None:
        self.chunks.append(table)
        self._keep_light(light.compact(table))
        self.rows += len(table)

    def add_part(self, path: Path, light: pa.Table, rows: int, line_offset: int) -> None:
        """Take the chunks a worker wrote to ``path`` (see :meth:`SpillSink.add_part`)."""
        for table in _read_spill(path, line_offset):
            self._add_table(table)

    def tables(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        for table in self.chunks:
            yield table if columns is None else table.select(columns)


def _arrow_types(arrow_type: pa.DataType) -> object:
    if arrow_type in (pa.string(), pa.large_string()):
        return schema.STRING
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return schema.STRING_LIST
    return {pa.int64(): pd.Int64Dtype(), pa.int16(): pd.Int16Dtype(),
            pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}.get(arrow_type)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A table of typed chunks back as a posts DataFrame."""
    return conform_posts(table.to_pandas(types_mapper=_arrow_types, ignore_metadata=True))


def _read_spill(path: Path, line_offset: int = 0, columns: list[str] | None = None
                ) -> Iterator[pa.Table]:
    """The typed chunks of a spill file (Arrow IPC, one record batch at a time), with
    ``source_line`` moved on by ``line_offset`` (the lines before the part a worker read).

    With ``columns``, only those columns are read (the others' bytes are skipped: reading two
    columns of the benchmark's chunks took about a fifth of the time of reading them whole).
    """
    with pa.OSFile(str(path)) as source:  # read, not memory-mapped: mapped pages stay resident
        reader = pa.ipc.open_file(source)
        if columns is not None:
            fields = [reader.schema.get_field_index(name) for name in columns]
            reader = pa.ipc.open_file(source,
                                      options=pa.ipc.IpcReadOptions(included_fields=fields))
        for index in range(reader.num_record_batches):
            table = pa.Table.from_batches([reader.get_batch(index)])
            if line_offset and "source_line" in table.column_names:
                column = table.schema.get_field_index("source_line")
                table = table.set_column(column, "source_line",
                                         pc.add(table["source_line"], line_offset))
            yield table


class SpillSink(_Sink):
    """Writes typed chunks to temporary Arrow files in ``folder`` and keeps only the light
    columns (as Arrow tables), so memory does not grow with the text of the rows (for
    :func:`analysis.loaders.ingest.ingest_to_files`).

    With ``light_rows``, once more rows than that have come the light columns move to a
    :class:`analysis.loaders.light_store.LightStore` in ``folder`` (and so do those of the rows
    after them), so memory does not grow with the number of rows either.
    """

    def __init__(self, folder: Path, prefix: str = "chunks-",
                 light_rows: int | None = None) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.prefix = prefix
        self.light_rows = light_rows
        self.store: LightStore | None = None
        self.segments: list[tuple[Path, int]] = []  # spill file, lines before its part
        self.writer: pa.ipc.RecordBatchFileWriter | None = None

    def _keep_light(self, table: pa.Table) -> None:
        if self.store is not None:
            self.store.append(table)
            return
        super()._keep_light(table)
        if self.light_rows is not None and self.rows + len(table) > self.light_rows:
            self.store = LightStore(self.folder)
            for kept in self.lights:
                self.store.append(kept)
            self.lights = []
            release_freed_memory()  # what they took, for the rest of the run

    def structure(self):
        """As :meth:`_Sink.structure`; decided on disk (a
        :class:`analysis.loaders.light_store.StoredStructure`) once the store is in use."""
        if self.store is None:
            return super().structure()
        return self.store.structure()

    def __enter__(self) -> SpillSink:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        """Close the spill file being written and the light store's file (both are removed
        with ``folder``). When an error is under way, a spill file that cannot be closed (on
        the full disk that error may be about) does not replace it."""
        try:
            if exc_type is None:
                self.close()
            else:
                with contextlib.suppress(OSError):
                    self.close()
        finally:
            if self.store is not None:
                self.store.close()

    def add(self, frame: pd.DataFrame) -> None:
        table = arrow_table(frame, nthreads=CHUNK_THREADS)
        if self.writer is None:
            path = self.folder / f"{self.prefix}{len(self.segments):05d}.arrow"
            # Arrow IPC, uncompressed: a temporary file read once, as fast as it can be
            self.writer = pa.ipc.new_file(str(path), table.schema)
            self.segments.append((path, 0))
        self.writer.write_table(table)
        self._keep_light(light.compact(table))
        self.rows += len(frame)

    def add_part(self, path: Path, light: pa.Table, rows: int, line_offset: int) -> None:
        """Take a spill file a worker wrote (its rows come after those added so far)."""
        self.close()
        if rows:
            self.segments.append((Path(path), line_offset))
            self._keep_light(light)
            self.rows += rows

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def tables(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        self.close()
        for path, line_offset in self.segments:
            yield from _read_spill(path, line_offset, columns)
