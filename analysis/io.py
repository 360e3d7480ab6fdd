"""Reading and writing files: atomic writes, tables in CSV / Parquet / JSON lines, checksums.

Every output goes through :func:`atomic_path` or, for files that belong together (a table and its
manifest, a model and its card), :class:`OutputSet`: each is written to a temporary file next to
its destination, and all are renamed into place together only when every one is complete, with
Ctrl-C and SIGTERM held back during the renames. A failed or interrupted run leaves the earlier
outputs as they were and nothing half-written; a full disk or a refused write is a
:class:`~analysis.errors.UserError` naming the output.

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

import collections
import contextlib
import errno
import hashlib
import itertools
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
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

#: errno values of a write the system had no room for (full disk, file-size limit, quota).
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)})
#: errno values of a write the system refused (no room, read-only disk, no permission): inside
#: :func:`atomic_path` / :class:`OutputSet` they become a :class:`UserError` naming the output
#: instead of a traceback.
WRITE_ERRNOS = NO_ROOM_ERRNOS | {errno.EROFS, errno.EACCES, errno.EPERM}
#: Signals held back while an output set is renamed into place.
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Lists that collect the outputs committed while :func:`recording_outputs` is active.
_RECORDERS: list[list[Path]] = []


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
    """Refuse an output that cannot be written, before any work is done.

    Refused: a path under ``data/raw``, one of the input files ``overwrite_guard``, a folder or a
    device / pipe where the file should go, and a folder that cannot be created or written in (a
    file in the way, no permission, a read-only disk). :func:`atomic_path` runs this check; call
    it early so that a bad ``-o`` is refused before the work, and before the first of several
    outputs is written.
    """
    dest = Path(path)
    _refuse_raw(dest)
    if dest.is_dir():
        raise UserError("is a folder, not a file; give a file name", dest)
    if dest.exists() and not dest.is_file():
        raise UserError("is not a regular file (a device, pipe or socket); give a file name",
                        dest)
    for source in overwrite_guard:
        if source is None:
            continue
        if Path(source).exists() and dest.exists() and Path(source).resolve() == dest.resolve():
            raise UserError("output would overwrite an input file; pick another -o", dest)
    _check_folder(dest)


def _check_folder(dest: Path) -> None:
    """Refuse ``dest`` when its folder cannot be created or written in (nothing is created)."""
    folder = dest.parent
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        reason = f"{folder} is a file, not a folder"
    elif not os.access(folder, os.W_OK | os.X_OK):
        reason = os.strerror(errno.EACCES)
    elif hasattr(os, "statvfs") and os.statvfs(folder).f_flag & os.ST_RDONLY:  # not on Windows
        reason = os.strerror(errno.EROFS)
    else:
        return
    raise _folder_error(dest, reason)


def _folder_error(dest: Path, reason: str) -> UserError:
    verb = "write in" if dest.parent.is_dir() else "create"
    return UserError(f"cannot {verb} the folder {dest.parent} ({reason}); pick another -o", dest)


def make_parent(path: str | os.PathLike) -> None:
    """Create the folder ``path`` goes in; a path the system refuses is a :class:`UserError`."""
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission, read-only disk
        blocking = next((p for p in dest.parents if p.is_file()), None)
        raise _folder_error(dest, f"{blocking} is a file, not a folder" if blocking
                            else exc.strerror) from exc


def staging_folder(dest: Path) -> Path:
    """A new, empty hidden folder next to ``dest``, to be filled and then put in place with
    :func:`swap_folders`. It has the mode of the folder ``dest`` it replaces (a folder only its
    owner may read stays so; the owner keeps the right to fill it), else a folder's normal mode
    (``mkdtemp`` makes it owner-only)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    if dest.is_dir():
        tmp.chmod(stat.S_IMODE(dest.stat().st_mode) | stat.S_IRWXU)
    else:
        tmp.chmod(0o777 & ~_umask())
    return tmp


def swap_folders(news: list[Path], targets: list[Path]) -> None:
    """Rename each finished folder of ``news`` onto its target, all or none: if a rename fails,
    the targets already replaced get their old folders back, and the old folders are removed
    only once every new one is in place. Ctrl-C and SIGTERM wait until it is done
    (:func:`signals_deferred`)."""
    with signals_deferred():
        olds = [new.with_name(new.name + ".old") for new in news]
        done: list[int] = []
        try:
            for index, (new, target, old) in enumerate(zip(news, targets, olds, strict=True)):
                if target.exists():
                    target.rename(old)
                done.append(index)
                new.rename(target)
        except BaseException:
            for index in reversed(done):
                if not news[index].exists() and targets[index].exists():
                    targets[index].rename(news[index])  # the new folder goes back, removed later
                if olds[index].exists():
                    olds[index].rename(targets[index])
            raise
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)


def recording_outputs() -> contextlib.AbstractContextManager[list[Path]]:
    """A context that collects, in a list it yields, every output committed inside it (so that
    an interrupted command can say which outputs it had written whole)."""
    return _recording()


@contextlib.contextmanager
def _recording() -> Iterator[list[Path]]:
    written: list[Path] = []
    _RECORDERS.append(written)
    try:
        yield written
    finally:
        _RECORDERS.remove(written)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold back Ctrl-C and SIGTERM inside the block; a signal that came is delivered after it.

    Only the main thread can set signal handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {number: signal.signal(number, lambda n, _frame: received.append(n))
                for number in DEFERRED_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if received:
            signal.raise_signal(received[0])


class OutputSet:
    """Files written together: all are renamed into place when the block succeeds, or none is.

    :meth:`add` checks a destination (as :func:`check_output`), creates its folder and returns a
    temporary file next to it to write; :meth:`remove` marks a stale file of an earlier run to
    be removed along. Check every destination (call :meth:`add` for all of them) before writing
    the first, so that a bad one is refused before any work. When the block ends without an
    exception, the set is committed in one short step with Ctrl-C and SIGTERM held back: each
    earlier file is set aside, each new file renamed into place, and if a rename fails the
    earlier files are put back. On an exception the temporary files are removed and the
    destinations are left as they were; an :class:`OSError` of a refused write
    (:data:`WRITE_ERRNOS`: full disk, file-size limit, ...) becomes a :class:`UserError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet() as outputs:
    ...     table, manifest = outputs.add(folder / "t.csv"), outputs.add(folder / "t.json")
    ...     _ = table.write_text("a\\n1\\n"), manifest.write_text("{}")
    >>> sorted(p.name for p in folder.iterdir())
    ['t.csv', 't.json']
    """

    def __init__(self, *, overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
        self.overwrite_guard = [Path(p) for p in overwrite_guard if p is not None]
        self._pending: list[tuple[Path | None, Path]] = []  # (temporary file or None, dest)

    def add(self, path: str | os.PathLike) -> Path:
        """Check ``path`` and return the temporary file to write it to."""
        dest = Path(path)
        check_output(dest, overwrite_guard=self.overwrite_guard)
        make_parent(dest)
        try:
            tmp = _temporary(dest, ".tmp")
        except OSError as exc:
            raise UserError(f"cannot write in this folder ({exc.strerror}); pick another -o",
                            dest) from exc
        self._pending.append((tmp, dest))  # at once: an interrupt from here on removes it
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it owner-only; give it a normal file's mode
        return tmp

    def remove(self, path: str | os.PathLike) -> None:
        """Remove ``path`` (if it is there) when the set is committed."""
        dest = Path(path)
        check_output(dest, overwrite_guard=self.overwrite_guard)
        self._pending.append((None, dest))

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc is None:
                self._commit()
            elif self._refused_write(exc):
                raise UserError(f"cannot write the output ({os.strerror(exc.errno)}); it was "
                                "left as it was", self._named(exc)) from exc
        finally:
            for tmp, _dest in self._pending:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)

    def _temporaries(self) -> list[Path]:
        return [tmp for tmp, _dest in self._pending if tmp is not None]

    def _refused_write(self, exc: BaseException | None) -> bool:
        """Whether ``exc`` is the system refusing a write of this set (not, say, an input file
        that could not be read)."""
        return (isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS and bool(self._pending)
                and (exc.filename is None or Path(exc.filename) in self._temporaries()))

    def _named(self, exc: OSError) -> Path:
        """The destination an error is about (the first one when the error does not say)."""
        for tmp, dest in self._pending:
            if tmp is not None and exc.filename is not None and Path(exc.filename) == tmp:
                return dest
        return self._pending[0][1]

    def _commit(self) -> None:
        steps: list[tuple[Path | None, Path, Path | None]] = []  # (new file, dest, set aside)
        with signals_deferred():
            try:
                for tmp, dest in self._pending:
                    aside = _temporary(dest, ".old") if dest.exists() else None
                    steps.append((tmp, dest, aside))
                    if aside is not None:
                        os.replace(dest, aside)
                    if tmp is not None:
                        os.replace(tmp, dest)
            except BaseException as exc:  # the set is replaced whole or not at all
                _put_back(steps)
                if isinstance(exc, OSError):
                    raise UserError(f"cannot write the output ({exc.strerror}); the earlier "
                                    "files were left as they were; pick another -o",
                                    steps[-1][1] if steps else None) from exc
                raise
            for tmp, dest, aside in steps:
                if aside is not None:
                    aside.unlink(missing_ok=True)
                if tmp is not None:
                    for written in _RECORDERS:
                        written.append(dest)


def _temporary(dest: Path, suffix: str) -> Path:
    """A new empty hidden file next to ``dest``."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix, dir=dest.parent)
    os.close(fd)
    return Path(name)


def _put_back(steps: list[tuple[Path | None, Path, Path | None]]) -> None:
    """Undo a commit that stopped half-way, from what is on disk: each new file that was moved
    into place goes back to its temporary name, each earlier file back to its place."""
    for tmp, dest, aside in reversed(steps):
        if tmp is not None and not tmp.exists() and dest.exists():
            os.replace(dest, tmp)  # removed with the other temporary files
        if aside is not None:
            if dest.exists():  # it was never set aside
                aside.unlink(missing_ok=True)
            else:
                os.replace(aside, dest)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *,
                overwrite_guard: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    An :class:`OutputSet` of one file: see there for what happens on errors and interrupts.

    Parameters
    ----------
    path
        The destination. Its folder is created if needed. Paths under ``data/raw`` are refused.
    overwrite_guard
        Input files of the run: writing onto one of them is refused.
    """
    with OutputSet(overwrite_guard=overwrite_guard) as outputs:
        yield outputs.add(path)


def json_text(obj: Mapping | list) -> str:
    """``obj`` as indented, key-sorted JSON with a final newline (stable across runs)."""
    return json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"


def check_table_suffix(path: str | os.PathLike) -> None:
    """A :class:`UserError` naming ``path`` unless its suffix is a table type that
    :func:`write_table` writes (:data:`TABLE_SUFFIXES`): call it with :func:`check_output`
    before the work, so that ``-o trend.png`` is refused before the estimation, not after."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise UserError(f"unknown table type {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}",
                        path)


def check_table_output(path: str | os.PathLike, *,
                       overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
    """:func:`check_output` and :func:`check_table_suffix` for a command's table output: call it
    before the work, so that a bad ``-o`` (``trend.png``, a folder) is refused first."""
    check_output(path, overwrite_guard=overwrite_guard)
    check_table_suffix(path)


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
    check_table_suffix(dest)
    guard = [Path(p) for p in overwrite_guard if p is not None]
    with atomic_path(dest, overwrite_guard=guard) as tmp:
        if suffix == ".parquet":
            pq.write_table(arrow_table(frame), tmp)
        elif suffix == ".csv":
            frame.to_csv(tmp, index=False, lineterminator=CSV_LINE_END)
        else:
            frame.to_json(tmp, orient="records", lines=True, date_format="iso")


def arrow_table(frame: pd.DataFrame, *, nthreads: int | None = None) -> pa.Table:
    """``frame`` as an Arrow table whose pandas metadata plain ``pandas.read_parquet`` can read.

    pandas records Arrow-backed columns (the posts table's lists) under a dtype name it cannot
    parse back; those columns are recorded as ``object``, so they come back as arrays of strings.
    ``nthreads`` is :meth:`pyarrow.Table.from_pandas`'s (default: its choice; 1 converts the
    columns in this thread, which for a chunk of a few thousand rows takes less CPU time).
    """
    table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=nthreads)
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:
        if str(column.get("numpy_type", "")).endswith("[pyarrow]"):
            column["numpy_type"] = "object"
    return table.replace_schema_metadata({**table.schema.metadata,
                                          b"pandas": json.dumps(meta).encode()})


def read_table(path: str | os.PathLike, columns: list[str] | None = None, *,
               delimiter: str = ",") -> pd.DataFrame:
    """Read a Parquet, CSV or JSON-lines table; a missing or unreadable file is a UserError.

    Parquet files are read without pandas' stored metadata, so pass the result through
    :func:`analysis.schema.conform` to get the project's types back. Id columns are exact text
    in every format (CSV: every cell is text); a floating-point id that may have been rounded
    is a UserError. ``delimiter`` separates a CSV file's fields (see
    :func:`analysis.loaders.table.guess_delimiter` to sniff it). A CSV or JSON-lines file that
    is not UTF-8 is a UserError naming the first bad byte, its offset and line.
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
            check_column_names(pd.read_csv(source, header=None, nrows=1, dtype=str,
                                           keep_default_na=False, sep=delimiter).iloc[0], source)
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""],
                                sep=delimiter)
        elif suffix in (".jsonl", ".ndjson"):
            frame = _read_json_lines(source)
        else:
            raise UserError(f"unknown table type {suffix!r}; use one of "
                            f"{', '.join(TABLE_SUFFIXES)}", source)
        frame = ids_as_text(frame)
    except UserError:
        raise
    except UnicodeDecodeError as exc:  # before ValueError, of which it is one
        raise UserError(f"cannot read table: {not_utf8(source)}", source) from exc
    except pd.errors.ParserError as exc:
        raise UserError(f"cannot read table: {_first_line(exc)} (fields read as separated by "
                        f"{delimiter!r}; check the file's delimiter and quoting)",
                        source) from exc
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise UserError(f"cannot read table: {_first_line(exc)}", source) from exc
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", source)
        frame = frame[columns]
    return frame


def check_column_names(names: Iterable[object], path: str | os.PathLike) -> None:
    """A :class:`UserError` naming ``path`` when a table's header names a column more than once:
    a reader would keep only one of its values (pandas renames the copies ``x.1``, a dict keeps
    the last), and the others would be lost without a word. Empty header cells (a spreadsheet's
    after the last column) name no column and may repeat.

    >>> check_column_names(["id", "text", "", ""], "x.csv")
    >>> check_column_names(["id", "text", "date", "text"], "x.csv")
    Traceback (most recent call last):
    ...
    analysis.errors.UserError: x.csv: the header names the column 'text' 2 times (columns 2 and 4); rename or remove the copies, so that no values are lost
    """  # noqa: E501 - a doctest's output is one line
    names = ["" if n is None else str(n).strip() for n in names]
    for name, count in collections.Counter(n for n in names if n).items():
        if count > 1:
            where = [str(i) for i, n in enumerate(names, 1) if n == name]
            raise UserError(f"the header names the column {name!r} {count} times (columns "
                            f"{', '.join(where[:-1])} and {where[-1]}); rename or remove the "
                            "copies, so that no values are lost", path)


def not_utf8(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Why a file does not decode as UTF-8, for an error message: its first bad byte, that
    byte's offset (from 0) and line, and what to do (read in chunks; the file is not loaded
    whole).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_bytes(b"text\\ncaf\\xe9\\n")  # Latin-1
    >>> not_utf8(path)  # doctest: +ELLIPSIS
    'not UTF-8: invalid byte 0xe9 at offset 8 (line 2); ...: re-save the file as UTF-8'
    """
    import codecs

    with open(path, "rb") as handle:
        start = handle.read(2)
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):  # Excel's "Unicode text"
        return ("not UTF-8 but UTF-16 (it starts with a UTF-16 byte order mark, as Excel's "
                "'Unicode text' files do): re-save the file as UTF-8 (CSV UTF-8)")
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the file before ``chunk``
    newlines = 0  # line ends in them
    advice = ("it may be Latin-1 / Windows-1252, as some spreadsheet programs save CSV: "
              "re-save the file as UTF-8")
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(chunk_size)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                held = len(exc.object) - len(chunk)  # an unfinished character of the last chunk
                at = offset - held + exc.start
                line = newlines + chunk.count(b"\n", 0, max(0, at - offset)) + 1
                return (f"not UTF-8: invalid byte 0x{exc.object[exc.start]:02x} at offset "
                        f"{at} (line {line}); {advice}")
            if not chunk:
                return f"not UTF-8; {advice}"
            offset += len(chunk)
            newlines += chunk.count(b"\n")


def integer_ids_as_text(table: pa.Table) -> pa.Table:
    """``table`` with its integer id columns (:func:`analysis.schema.is_id_column`) cast to
    strings in Arrow, exactly: pandas would turn an integer column with nulls into floats."""
    for index, field in enumerate(table.schema):
        if is_id_column(field.name) and pa.types.is_integer(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table


#: One decoder for every line (``json.loads`` would check its arguments per call); ``strict=False``
#: reads a raw control character in a text, as pandas wrote some.
_JSON_LINE = json.JSONDecoder(strict=False)


def _read_json_lines(source: Path) -> pd.DataFrame:
    """A JSON-lines table, one object per line; numbers in id columns are turned into text
    before pandas sees them (it would turn integers beside nulls into floats)."""
    records = []
    decode = _JSON_LINE.decode
    with open(source, encoding="utf-8-sig", newline="\n") as handle:  # a CR in a text is no end
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = decode(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number} is not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"line {number} is not a JSON object")
            records.append(record)
    return _records_frame(records)


def _records_frame(records: list[dict]) -> pd.DataFrame:
    """JSON records as a frame, id columns as exact text: they are made column by column (not
    record by record, which took a third of the read) and kept out of pandas' number inference."""
    if not records:
        return pd.DataFrame()
    columns = list(dict.fromkeys(itertools.chain.from_iterable(records)))
    id_columns = [name for name in columns if is_id_column(name)]
    exact = {name: _exact_ids(records, name) for name in id_columns}
    frame = pd.DataFrame.from_records(records, exclude=id_columns)
    if len(frame.columns) == 0:  # only id columns: from_records gives no rows
        frame = pd.DataFrame(index=pd.RangeIndex(len(records)))
    for name in id_columns:
        frame[name] = pd.Series(exact[name], index=frame.index)
    return frame[columns]


def _exact_ids(records: list[dict], name: str) -> list[str | None]:
    """The ``name`` values of ``records`` as exact text (see :func:`analysis.schema.id_text`)."""
    out: list[str | None] = []
    for value in (record.get(name) for record in records):
        kind = type(value)
        out.append(value if kind is str or value is None else
                   str(value) if kind is int else id_text(value, name))
    return out


def write_json(obj: Mapping | list, path: str | os.PathLike, *,
               overwrite_guard: Iterable[str | os.PathLike | None] = ()) -> None:
    """Write ``obj`` atomically as indented, key-sorted JSON (stable across runs).

    ``overwrite_guard``: input files not to write onto, as in :func:`write_table`.
    """
    guard = [Path(p) for p in overwrite_guard if p is not None]
    with atomic_path(path, overwrite_guard=guard) as tmp:
        tmp.write_text(json_text(obj), encoding="utf-8")


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` atomically as UTF-8."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_jsonl(records: Iterable[Mapping], path: str | os.PathLike) -> int:
    """Write ``records`` atomically as JSON lines (UTF-8; a string that is no UTF-8, such as a
    lone surrogate in a reject's snippet, as its escape ``\\udXXX``, as ``ingest`` writes its
    rejects); return how many were written."""
    count = 0
    with (atomic_path(path) as tmp,
          open(tmp, "w", encoding="utf-8", errors="backslashreplace") as handle):
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
