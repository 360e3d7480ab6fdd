"""Reading and writing files: atomic writes, tables in CSV / Parquet / JSON lines, checksums.

Every output goes through :func:`atomic_path`: it is written to a temporary file next to its
destination and renamed into place only when complete, so a failed run leaves nothing half-written.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> write_table(pd.DataFrame({"a": [1, 2]}), out)
>>> read_table(out)["a"].tolist()  # CSV cells are read as text: ids stay strings
['1', '2']

Id columns (``id``, ``uid``, ``*_id``; see :func:`analysis.schema.is_id_column`) are read as
exact text from every format: JSON-lines and Parquet numbers become their digits without passing
through a float, so ``552783667052167168`` stays ``'552783667052167168'`` also in a column with
nulls.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.config import DATA_RAW
from analysis.errors import UserError
from analysis.schema import id_text, ids_as_text, is_id_column

TABLE_SUFFIXES = (".parquet", ".csv", ".jsonl", ".ndjson")

#: Line end of every CSV the project writes (RFC 4180): with it Python's CSV writer quotes every
#: field that holds a CR or LF (with "\n" alone it leaves a lone CR unquoted, and a reader such
#: as ``pandas.read_csv`` ends the record there, splitting one row into two).
CSV_LINE_END = "\r\n"


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _refuse_raw(path: Path) -> None:
    try:
        path.resolve().relative_to(DATA_RAW.resolve())
    except ValueError:
        return
    raise UserError("refusing to write under data/raw/ (raw data is read-only); pick another -o",
                    path)


def check_output(path: str | os.PathLike, *,
                 overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
    """Refuse an output under ``data/raw`` or onto one of the input files ``overwrite_guard``.

    :func:`atomic_path` runs this check; call it early to refuse before any work is done or
    before the first of several outputs is written.
    """
    dest = Path(path)
    _refuse_raw(dest)
    if dest.is_dir():
        raise UserError("is a folder, not a file; give a file name", dest)
    for source in overwrite_guard:
        if source is None:
            continue
        if Path(source).exists() and dest.exists() and Path(source).resolve() == dest.resolve():
            raise UserError("output would overwrite an input file; pick another -o", dest)


def make_parent(path: str | os.PathLike) -> None:
    """Create the folder ``path`` goes in; a path the system refuses is a :class:`UserError`."""
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission, read-only disk
        blocking = next((p for p in dest.parents if p.is_file()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else exc.strerror
        raise UserError(f"cannot create the folder {dest.parent} ({reason}); pick another -o",
                        dest) from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *,
                overwrite_guard: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    Parameters
    ----------
    path
        The destination. Its folder is created if needed. Paths under ``data/raw`` are refused.
    overwrite_guard
        Input files of the run: writing onto one of them is refused.
    """
    dest = Path(path)
    check_output(dest, overwrite_guard=overwrite_guard)
    make_parent(dest)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise UserError(f"cannot write in this folder ({exc.strerror}); pick another -o",
                        dest) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes it owner-only; give it a normal file's mode
    try:
        yield tmp
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise UserError(f"cannot write the output ({exc.strerror}); pick another -o",
                            dest) from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *,
                overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
    """Write ``frame`` atomically as Parquet, CSV or JSON lines, chosen by the file's suffix.

    CSV lines end in :data:`CSV_LINE_END`, so every text (also one holding a lone carriage
    return) reads back as the same rows. ``overwrite_guard`` lists the run's input files
    (``None`` entries are skipped): writing onto one of them is a :class:`UserError`, as in
    :func:`atomic_path`.
    """
    dest = Path(path)
    suffix = dest.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise UserError(f"unknown table type {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}",
                        dest)
    guard = [Path(p) for p in overwrite_guard if p is not None]
    with atomic_path(dest, overwrite_guard=guard) as tmp:
        if suffix == ".parquet":
            pq.write_table(arrow_table(frame), tmp)
        elif suffix == ".csv":
            frame.to_csv(tmp, index=False, lineterminator=CSV_LINE_END)
        else:
            frame.to_json(tmp, orient="records", lines=True, date_format="iso")


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table whose pandas metadata plain ``pandas.read_parquet`` can read.

    pandas records Arrow-backed columns (the posts table's lists) under a dtype name it cannot
    parse back; those columns are recorded as ``object``, so they come back as arrays of strings.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:
        if str(column.get("numpy_type", "")).endswith("[pyarrow]"):
            column["numpy_type"] = "object"
    return table.replace_schema_metadata({**table.schema.metadata,
                                          b"pandas": json.dumps(meta).encode()})


def read_table(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet, CSV or JSON-lines table; a missing or unreadable file is a UserError.

    Parquet files are read without pandas' stored metadata, so pass the result through
    :func:`analysis.schema.conform` to get the project's types back. Id columns are exact text
    in every format (CSV: every cell is text); a floating-point id that may have been rounded
    is a UserError.
    """
    source = Path(path)
    if source.is_dir():
        raise UserError("is a folder, not a table file", source)
    if not source.is_file():
        raise UserError("no such file", source)
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            table = integer_ids_as_text(pq.read_table(source, columns=columns))
            frame = table.to_pandas(ignore_metadata=True)
        elif suffix == ".csv":
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
        elif suffix in (".jsonl", ".ndjson"):
            frame = _read_json_lines(source)
        else:
            raise UserError(f"unknown table type {suffix!r}; use one of "
                            f"{', '.join(TABLE_SUFFIXES)}", source)
        frame = ids_as_text(frame)
    except UserError:
        raise
    except (ValueError, OSError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read table: {_first_line(exc)}", source) from exc
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", source)
        frame = frame[columns]
    return frame


def integer_ids_as_text(table: pa.Table) -> pa.Table:
    """``table`` with its integer id columns (:func:`analysis.schema.is_id_column`) cast to
    strings in Arrow, exactly: pandas would turn an integer column with nulls into floats."""
    for index, field in enumerate(table.schema):
        if is_id_column(field.name) and pa.types.is_integer(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table


def _read_json_lines(source: Path) -> pd.DataFrame:
    """A JSON-lines table, one object per line; numbers in id columns are turned into text
    before pandas sees them (it would turn integers beside nulls into floats)."""
    records = []
    with open(source, encoding="utf-8-sig", newline="\n") as handle:  # a CR in a text is no end
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, strict=False)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number} is not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"line {number} is not a JSON object")
            for name, value in record.items():
                if is_id_column(name) and not isinstance(value, str):
                    record[name] = id_text(value, name)
            records.append(record)
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def write_json(obj: Mapping | list, path: str | os.PathLike, *,
               overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
    """Write ``obj`` atomically as indented, key-sorted JSON (stable across runs).

    ``overwrite_guard``: input files not to write onto, as in :func:`write_table`.
    """
    guard = [Path(p) for p in overwrite_guard if p is not None]
    with atomic_path(path, overwrite_guard=guard) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n",
                       encoding="utf-8")


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` atomically as UTF-8."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_jsonl(records: Iterable[Mapping], path: str | os.PathLike) -> int:
    """Write ``records`` atomically as JSON lines; return how many were written."""
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
