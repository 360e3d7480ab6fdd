"""The light columns of a large run in a SQLite file, so that memory stays flat.

:mod:`analysis.loaders.light` keeps the light columns of every row in memory (about 100 bytes a
row, and as much again while it decides). A run to files that grows past
:data:`analysis.loaders.chunks.LIGHT_ROWS_IN_MEMORY` rows moves them into a :class:`LightStore`
instead: a SQLite file in the run's spill folder (SQLite ships with Python), where the same
decisions are made by SQL, on disk, with a page cache of :data:`CACHE_MIB` MiB. SQLite's own
temporary files (its sorts) go to the spill folder too.

:class:`StoredStructure` decides what :func:`analysis.loaders.light.structure` decides (the same
rows kept, roots, depths, authors' roles, whom a reply answers) and gives
:func:`analysis.loaders.light.finish` the same :class:`~analysis.loaders.light.Piece` of each
chunk; the tests check that both give the same table. It is slower (on the benchmark machine
the main process spent about 20 µs more per row: docs/benchmarks.md, "Ingest"), which is why
smaller runs stay in memory. The files take about 200 bytes per row, sort files included.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from analysis.errors import UserError
from analysis.loaders import light

#: SQLite's page cache for the store, in MiB (its memory apart from Python's).
CACHE_MIB = 8
_INT16_MAX = np.iinfo(np.int16).max
#: SQLite virtual-machine steps between two looks at Python's signals (a look costs well under a
#: microsecond; 100,000 steps take a few milliseconds).
_SIGNAL_STEPS = 100_000

_CREATE = """
CREATE TABLE light (pos INTEGER PRIMARY KEY, uid BLOB NOT NULL, key BLOB NOT NULL, parent BLOB,
                    root BLOB, author BLOB, has_id INTEGER NOT NULL,
                    has_reply_to INTEGER NOT NULL, collected_at INTEGER NOT NULL,
                    role INTEGER NOT NULL)
"""

#: The decisions of :func:`analysis.loaders.light.structure`, in the same order, on positions
#: in the run instead of arrays. ``:matched`` is the code of ``collection_role`` "matched".
_DECIDE = f"""
-- duplicates: one row per uid, the latest collected (ties: the later row), matched if any
-- copy was
CREATE TABLE kept (pos INTEGER PRIMARY KEY, role INTEGER NOT NULL);
INSERT INTO kept
SELECT pos, CASE WHEN matched THEN {light.MATCHED} ELSE role END FROM (
    SELECT pos, role, row_number() OVER newest AS nth,
           max(role = {light.MATCHED}) OVER (newest ROWS BETWEEN UNBOUNDED PRECEDING
                                             AND UNBOUNDED FOLLOWING) AS matched
    FROM light
    WINDOW newest AS (PARTITION BY uid ORDER BY collected_at DESC, pos DESC))
WHERE nth = 1 ORDER BY pos;

-- the last kept row of each key (platform NUL id): what a parent or root id names
CREATE TABLE keys (key BLOB PRIMARY KEY, pos INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO keys SELECT l.key, max(l.pos) FROM kept JOIN light AS l USING (pos) GROUP BY l.key;

-- each kept row's parent among the kept rows (null: none named, or not in the run)
CREATE TABLE node (pos INTEGER PRIMARY KEY, parent_pos INTEGER, has_parent INTEGER NOT NULL);
INSERT INTO node
SELECT l.pos, k.pos, l.parent IS NOT NULL
FROM kept JOIN light AS l USING (pos) LEFT JOIN keys AS k ON k.key = l.parent;
CREATE INDEX node_parent ON node (parent_pos);

-- the chains that reach a real root (a row without a parent), walked down from the roots: a
-- broken chain, a cycle or a self-reply is never reached; and those that reach the thread's
-- known root that is not a row (threads.via_known_root), walked down from the rows that answer
-- it (their missing parent is their given root) at depth 1, which count where a row names the
-- same root (known_root; null on chains to a real root)
CREATE TABLE chain (pos INTEGER PRIMARY KEY, anc INTEGER NOT NULL, depth INTEGER NOT NULL,
                    known_root BLOB);
INSERT INTO chain
WITH RECURSIVE walk (pos, anc, depth, known_root) AS (
    SELECT pos, pos, 0, NULL FROM node WHERE NOT has_parent
    UNION ALL
    SELECT n.pos, n.pos, 1, l.root FROM node AS n JOIN light AS l USING (pos)
    WHERE n.has_parent AND n.parent_pos IS NULL AND l.parent = l.root
    UNION ALL
    SELECT node.pos, walk.anc, walk.depth + 1, walk.known_root
    FROM walk JOIN node ON node.parent_pos = walk.pos)
SELECT w.pos, w.anc, w.depth, w.known_root FROM walk AS w JOIN light AS l USING (pos)
WHERE w.known_root IS NULL OR l.root = w.known_root;

-- the plan of each kept row (see light.Structure); root_key names the root whose author
-- decides author_is_op: the chain's root by its id, else the given root unless that is the
-- row itself
CREATE TABLE plan (pos INTEGER PRIMARY KEY, depth INTEGER, author_is_op INTEGER,
                   role INTEGER NOT NULL, root_from INTEGER NOT NULL,
                   author_from INTEGER NOT NULL);
INSERT INTO plan
SELECT pos, min(depth, {_INT16_MAX}),
       CASE WHEN author IS NOT NULL THEN
           author = (SELECT r.author FROM keys AS k JOIN light AS r USING (pos)
                     WHERE k.key = root_key) END,
       role,
       CASE WHEN resolved THEN anc WHEN own_root THEN {light.NO_ROOT} ELSE -1 END,
       CASE WHEN parent_pos IS NOT NULL AND parent_pos != pos AND NOT has_reply_to
            THEN parent_pos ELSE -1 END
FROM (
    SELECT n.pos, n.parent_pos, c.anc, c.depth, kept.role, l.author, l.has_reply_to,
           c.pos IS NOT NULL AND c.known_root IS NULL AS resolved,
           l.root IS NOT NULL AND l.has_id AND l.root = l.key AS own_root,
           CASE WHEN c.pos IS NOT NULL AND c.known_root IS NULL
                    THEN (SELECT a.key FROM light AS a WHERE a.pos = c.anc AND a.has_id)
                WHEN NOT (l.has_id AND l.root = l.key) THEN l.root END AS root_key
    FROM node AS n JOIN kept USING (pos) JOIN light AS l USING (pos)
    LEFT JOIN chain AS c USING (pos));

-- the rows whose strings other rows take: the roots they name, and the parents whose
-- author fills their reply_to_author_id (filled in by StoredStructure.gather)
CREATE TABLE root_ids (pos INTEGER PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO root_ids (pos)
SELECT root_from FROM plan WHERE root_from >= 0 AND root_from != pos;
CREATE TABLE parent_authors (pos INTEGER PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO parent_authors (pos) SELECT author_from FROM plan WHERE author_from >= 0;
"""

_PIECE = """
SELECT p.pos, p.depth, p.author_is_op, p.role, p.root_from, r.value, a.value
FROM plan AS p LEFT JOIN root_ids AS r ON r.pos = p.root_from
LEFT JOIN parent_authors AS a ON a.pos = p.author_from
WHERE p.pos >= ? AND p.pos < ? ORDER BY p.pos
"""

#: The strings :meth:`StoredStructure.gather` fills in: table -> column of the chunks.
_WANTED = {"root_ids": "id", "parent_authors": "author_id"}


def _values(column: pa.Array) -> list:
    """A light column as Python values for SQLite (None where null), through NumPy: ten times
    as fast as Arrow's ``to_pylist``. NumPy's ``S16`` drops a hash's trailing NUL bytes, which
    keeps distinct hashes distinct (they all have 16 bytes)."""
    if not pa.types.is_fixed_size_binary(column.type):  # flags, times and roles: never null
        return column.to_numpy(zero_copy_only=False).tolist()
    values = light.hash_values(column).tolist()
    if column.null_count:
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        values = [value if ok else None for value, ok in zip(values, valid, strict=True)]
    return values


def _write_errors_are_user_errors(method):
    """SQLite's "database or disk is full" and its I/O errors (a file-size limit or a quota
    gives one) as one clear line naming the store's file, not a traceback."""
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code == sqlite3.SQLITE_INTERRUPT:  # Ctrl-C, seen by _let_signals_in
                raise KeyboardInterrupt from exc
            if code is None or (code & 0xFF) not in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
                raise
            raise UserError(f"no room for the temporary file of a large run's reply trees "
                            f"({exc}: a full disk, a file-size limit or a quota); free some "
                            "space and run again", self.path) from exc
    return wrapped


def _let_signals_in() -> int:
    """SQLite's progress handler: calling Python code lets Python run a pending signal handler,
    so Ctrl-C raises KeyboardInterrupt here, which stops the SQL statement (SQLite then reports
    it as interrupted) instead of waiting for its end, minutes away on a large run."""
    return 0


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)  # transactions as written below
    # a scratch file, deleted with the spill folder: nothing to recover after a crash; SQLite's
    # own temporary files (sorts) go to the same folder, not to the system's
    folder = str(path.parent).replace("'", "''")
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE",
                   "temp_store = FILE", f"cache_size = -{CACHE_MIB * 1024}",
                   f"temp_store_directory = '{folder}'"):
        db.execute(f"PRAGMA {pragma}")
    db.set_progress_handler(_let_signals_in, _SIGNAL_STEPS)
    return db


class LightStore:
    """The light columns of a run, appended chunk by chunk, in ``folder/light.sqlite``."""

    @_write_errors_are_user_errors
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "light.sqlite"
        self.db = _connect(self.path)
        self.db.execute(_CREATE)
        self.db.execute("BEGIN")
        self.rows = 0

    @_write_errors_are_user_errors
    def append(self, table: pa.Table) -> None:
        """Add the light table (:func:`analysis.loaders.light.compact`) of the next rows."""
        columns = [_values(table[name].combine_chunks()) for name in light.SCHEMA.names]
        positions = range(self.rows, self.rows + len(table))
        self.db.executemany("INSERT INTO light VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            zip(positions, *columns, strict=True))
        self.rows += len(table)

    @_write_errors_are_user_errors
    def structure(self) -> StoredStructure:
        """Decide duplicates and reply trees (see :data:`_DECIDE`)."""
        self.db.execute("COMMIT")
        self.db.executescript(_DECIDE)
        (kept,) = self.db.execute("SELECT count(*) FROM plan").fetchone()
        (context,) = self.db.execute("SELECT count(*) FROM plan WHERE role = ?",
                                     (light.CONTEXT,)).fetchone()
        return StoredStructure(self.db, self.path, kept=kept, context=context,
                               duplicates=self.rows - kept)

    def close(self) -> None:
        # temp_store_directory is SQLite's for the whole process: back to the system's
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA temp_store_directory = ''")
        self.db.close()


class StoredStructure:
    """What :func:`analysis.loaders.light.structure` decides, kept in a :class:`LightStore`'s
    file and read a chunk at a time (:func:`analysis.loaders.light.finish` takes either)."""

    def __init__(self, db: sqlite3.Connection, path: Path, *, kept: int, context: int,
                 duplicates: int) -> None:
        self.db = db
        self.path = path
        self.kept = kept
        self.context = context
        self.duplicates = duplicates

    def __len__(self) -> int:
        return self.kept

    @_write_errors_are_user_errors
    def gather(self, tables: Iterable[tuple[int, pa.Table]]) -> None:
        """Store the ids of the roots and the authors of the parents that the kept rows name,
        read from the chunks ``(offset, table)``."""
        self.db.execute("BEGIN")
        for offset, table in tables:
            for name, column in _WANTED.items():
                positions = [pos for (pos,) in self.db.execute(
                    f"SELECT pos FROM {name} WHERE pos >= ? AND pos < ?",
                    (offset, offset + len(table)))]
                if positions:
                    rows = pa.array(np.array(positions, dtype=np.int64) - offset)
                    values = light.as_strings(table.select([column]).take(rows), column)
                    self.db.executemany(f"UPDATE {name} SET value = ? WHERE pos = ?",
                                        zip(values.to_pylist(), positions, strict=True))
        self.db.execute("COMMIT")

    @_write_errors_are_user_errors
    def piece(self, offset: int, rows: int) -> light.Piece | None:
        """The plan for the chunk of ``rows`` rows at ``offset`` (None: no row of it is kept)."""
        found = self.db.execute(_PIECE, (offset, offset + rows)).fetchall()
        if not found:
            return None
        pos, depth, is_op, role, root_from, root_id, parent_author = zip(*found, strict=True)
        return light.Piece(
            rows=np.array(pos, dtype=np.int64) - offset,
            depth=pa.array(depth, type=pa.int16()),
            author_is_op=pa.array(is_op, type=pa.int8()).cast(pa.bool_()),
            role=np.array(role, dtype=np.int8),
            root_from=np.array(root_from, dtype=np.int64),
            root_id=pa.array(root_id, type=pa.large_string()),
            parent_author=pa.array(parent_author, type=pa.large_string()))
