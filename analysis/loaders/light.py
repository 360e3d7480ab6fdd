"""The light columns of a run as compact fixed-width numbers: duplicates and reply trees.

To collapse duplicates and build reply trees, an ingest run needs a few columns of every row
until the end (:func:`analysis.loaders.ingest.ingest_to_files` spills the rest). Kept as strings
they cost a few hundred bytes per row; :func:`compact` keeps them instead as 128-bit hashes
(uid, ``platform NUL id`` and the same for parent and root ids, author), the collection time as
int64 nanoseconds and the collection role as a small code: about 90 bytes per row. Each chunk is
made compact where it is typed (in the worker process that read it, for a file read in parts).

:func:`structure` decides on those arrays what :func:`analysis.loaders.ingest.collapse_duplicates`
and :func:`analysis.loaders.threads.add_threads` decide on strings (the same rows kept, roots,
depths, authors' roles); where a row's final values are strings of another row (the root's id,
the parent's author) it returns that row's position, and :func:`finish` fills them in from the
chunks in a last pass, keeping only the strings of rows that some other row refers to.
A run too large to keep its light columns in memory keeps them in a SQLite file instead, where
:mod:`analysis.loaders.light_store` makes the same decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pandas.util import hash_array

from analysis import schema
from analysis.loaders.threads import ancestors, via_known_root

#: Bytes per hash: two 64-bit SipHash-2-4 values of the string under two independent keys
#: (:func:`pandas.util.hash_array`, which runs in C; hashlib's blake2b called per string from
#: Python took twice as long and made ingest about 10% slower). 128 bits: among n distinct
#: strings the chance that any two share both values is about n**2 / 2**129, e.g. 1.5e-21 for
#: 10**9 strings (a billion rows), so a collision (which would merge two posts or link a reply
#: to the wrong parent) is practically impossible.
HASH_BYTES = 16
#: The two SipHash keys (16 bytes each; any two different keys will do).
_HASH_KEYS = ("analysis.light/1", "analysis.light/2")
_HASH = pa.binary(HASH_BYTES)
_SEPARATOR = pa.scalar("\x00", type=pa.large_string())
#: ``collection_role`` codes (positions in :data:`analysis.schema.COLLECTION_ROLES`); null: -1.
_ROLES = pa.array(schema.COLLECTION_ROLES, type=pa.large_string())
MATCHED = schema.COLLECTION_ROLES.index("matched")
CONTEXT = schema.COLLECTION_ROLES.index("context")
_NAT = np.iinfo(np.int64).min  # pandas' NaT: sorts before every time, as na_position="first"
#: :attr:`Structure.root_from` of a row whose ``root_id`` becomes null.
NO_ROOT = -2
#: The compact light columns of each row.
SCHEMA = pa.schema([("uid", _HASH), ("key", _HASH), ("parent", _HASH), ("root", _HASH),
                    ("author", _HASH), ("has_id", pa.bool_()), ("has_reply_to", pa.bool_()),
                    ("collected_at", pa.int64()), ("role", pa.int8())])


def hash_strings(values: pa.Array) -> pa.Array:
    """A :data:`HASH_BYTES` hash of each string as ``fixed_size_binary``; nulls stay null. Each
    distinct value is hashed once."""
    encoded = pc.dictionary_encode(values)
    # as bytes, which pandas hashes as it hashes a str (its UTF-8 bytes), without decoding each
    # into a Python str and encoding it again for each key: a third of the time
    texts = encoded.dictionary.cast(pa.large_binary()).to_numpy(zero_copy_only=False)
    digests = np.empty((len(texts), 2), dtype=np.uint64)
    for column, key in enumerate(_HASH_KEYS):
        digests[:, column] = hash_array(texts, hash_key=key, categorize=False)
    dictionary = pa.FixedSizeBinaryArray.from_buffers(
        _HASH, len(texts), [None, pa.py_buffer(digests)])
    return dictionary.take(encoded.indices)


def as_strings(table: pa.Table, name: str) -> pa.Array:
    """The column ``name`` of ``table`` as one Arrow ``large_string`` array (nulls stay null)."""
    column = table[name].combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column.cast(pa.large_string())


def _keys(platform: pa.Array, ids: pa.Array) -> pa.Array:
    """Hashes of ``platform NUL id`` (the key :mod:`analysis.loaders.threads` matches on), null
    where ``ids`` is null."""
    return hash_strings(pc.binary_join_element_wise(platform, ids, _SEPARATOR))


#: The parent of a row whose place in its thread is unknown (:func:`compact`): a key no row has.
_UNPLACED = pa.scalar("\x00\x01unplaced", type=pa.large_string())


def compact(table: pa.Table) -> pa.Table:
    """The light columns of a typed chunk (see :data:`SCHEMA`).

    A row without a ``kind`` is an API error's notice about a post (a tweet not found, say: see
    :func:`analysis.loaders.twarc2.row_from_error`), which does not say where the post was in
    its thread. Its parent is a key no row has, so it is no root and the chains through it are
    broken (``depth`` null) rather than rooted at it; and its ``collected_at`` sorts before
    every copy of the post with content (those without a collection time too), so such a copy
    wins the duplicate rule over the notice: what was collected is not lost to a later "not
    found".
    """
    platform = pc.fill_null(as_strings(table, "platform"), "")
    ids = as_strings(table, "id")
    role = pc.index_in(as_strings(table, "collection_role"), value_set=_ROLES)
    notice = pc.is_null(table["kind"].combine_chunks())
    parents = pc.if_else(notice, _UNPLACED, as_strings(table, "parent_id"))
    times = pc.fill_null(table["collected_at"].combine_chunks().cast(pa.int64()), _NAT + 1)
    return pa.table([
        hash_strings(pc.fill_null(as_strings(table, "uid"), "")),  # never null (see Collector)
        _keys(platform, pc.fill_null(ids, "")),  # a null id matches as empty, as in threads
        _keys(platform, parents),
        _keys(platform, as_strings(table, "root_id")),
        hash_strings(as_strings(table, "author_id")),
        pc.is_valid(ids),
        pc.is_valid(table["reply_to_author_id"].combine_chunks()),
        pc.if_else(notice, _NAT, times),
        pc.fill_null(role, -1).cast(pa.int8()),
    ], schema=SCHEMA)


def empty() -> pa.Table:
    """A light table without rows."""
    return SCHEMA.empty_table()


@dataclass
class Structure:
    """What :func:`structure` decides for the kept rows (in input order).

    Attributes
    ----------
    positions
        Position in the run of each kept row (ascending).
    depth, author_is_op
        Arrow arrays (nulls where undecided).
    role
        ``collection_role`` codes (-1: null).
    root_from
        Position of the row whose ``id`` is the ``root_id`` (a real root the chain reaches),
        -1 to keep the row's own ``root_id``, -2 (``NO_ROOT``) for a null ``root_id`` (an
        unresolved chain whose given root is the row itself).
    author_from
        Position of the parent whose ``author_id`` fills a null ``reply_to_author_id``; -1 when
        none does.
    duplicates
        Rows dropped as duplicates.
    """

    positions: np.ndarray
    depth: pa.Array
    author_is_op: pa.Array
    role: np.ndarray
    root_from: np.ndarray
    author_from: np.ndarray
    duplicates: int
    #: What :meth:`gather` found: (positions by column, strings by column).
    strings: tuple = ()

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def context(self) -> int:
        """Kept rows collected as context."""
        return int((self.role == CONTEXT).sum())

    def gather(self, tables: Iterable[tuple[int, pa.Table]]) -> None:
        """Keep the ids of the roots and the authors of the parents that the kept rows name
        (only those strings), read from the chunks ``(offset, table)``."""
        own = self.root_from == self.positions
        wanted = {"id": np.unique(self.root_from[(self.root_from >= 0) & ~own]),
                  "author_id": np.unique(self.author_from[self.author_from >= 0])}
        self.strings = (wanted, _gather(tables, wanted))

    def piece(self, offset: int, rows: int) -> Piece | None:
        """The plan for the chunk of ``rows`` rows at ``offset`` (None: no row of it is kept)."""
        wanted, strings = self.strings
        lo, hi = np.searchsorted(self.positions, [offset, offset + rows])
        if hi == lo:
            return None
        positions = self.positions[lo:hi]
        root_from = self.root_from[lo:hi]
        return Piece(rows=positions - offset, depth=self.depth.slice(lo, hi - lo),
                     author_is_op=self.author_is_op.slice(lo, hi - lo), role=self.role[lo:hi],
                     root_from=root_from,
                     root_id=_lookup(strings["id"], wanted["id"],
                                     np.where(root_from == positions, -1, root_from)),
                     parent_author=_lookup(strings["author_id"], wanted["author_id"],
                                           self.author_from[lo:hi]))


def _hashes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A hash column as numpy ``S16`` values (zeros where null), and where it is valid.

    Numpy compares, sorts and searches ``S16`` values as the 16-byte strings they are, and frees
    its large arrays when they are dropped (Arrow's hash tables over them cost about 100 bytes
    per row, which its allocator keeps).
    """
    parts = [hash_values(chunk) for chunk in column.chunks if len(chunk)]
    values = np.concatenate(parts) if parts else np.empty(0, dtype=f"S{HASH_BYTES}")
    valid = _flags(column.is_valid())
    values[~valid] = b""
    return values, valid


def hash_values(array: pa.Array) -> np.ndarray:
    """A hash array's values as numpy ``S16`` (without a copy; null slots hold whatever bytes
    they hold)."""
    return np.frombuffer(array.buffers()[1], dtype=f"S{HASH_BYTES}", count=len(array),
                         offset=array.offset * HASH_BYTES)


def _flags(column: pa.ChunkedArray) -> np.ndarray:
    return column.to_numpy().astype(bool) if len(column) else np.empty(0, dtype=bool)


def _finder(keys: np.ndarray):
    """``find(other, valid) -> positions``: the position in ``keys`` of each of ``other`` (the
    last one when a key repeats, as in :func:`analysis.loaders.threads.add_threads`), -1 where
    it is absent or not ``valid``."""
    sorter = np.argsort(keys, kind="stable")
    ordered = keys[sorter]

    def find(other: np.ndarray, valid: np.ndarray | bool = True) -> np.ndarray:
        if not len(ordered):
            return np.full(len(other), -1, dtype=np.int64)
        at = np.searchsorted(ordered, other, side="right") - 1
        hit = valid & (at >= 0) & (ordered[np.maximum(at, 0)] == other)
        return np.where(hit, sorter[np.maximum(at, 0)], -1)

    return find


def _kept(uid: np.ndarray, times: np.ndarray, role: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows kept (one per uid: the latest ``collected_at``, ties: the later
    row) and their role (matched if any copy was)."""
    n = len(uid)
    order = np.lexsort((np.arange(n), times, uid))
    grouped = uid[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    ends = np.ones(n, dtype=bool)
    ends[:-1] = starts[1:]
    group = np.cumsum(starts) - 1
    any_matched = np.zeros(int(starts.sum()), dtype=bool)
    any_matched[group[role[order] == MATCHED]] = True
    last = order[ends]
    roles = np.where(any_matched[group[ends]], MATCHED, role[last]).astype(np.int8)
    by_position = np.argsort(last)
    return last[by_position], roles[by_position]


def _masked(positions: np.ndarray) -> pa.Array:
    """``positions`` as Arrow indices, null where negative (a ``take`` gives null there)."""
    return pa.array(positions, mask=positions < 0, type=pa.int64())


def structure(columns: dict[str, pa.ChunkedArray]) -> Structure:
    """Duplicates and reply trees from the light columns of every row of a run (in order).

    ``columns`` are the light table's columns by name (as
    :meth:`analysis.loaders.chunks.SpillSink.pop_light` gives them). The dict is emptied as its
    columns are used, so that each column's memory goes as soon as it has been read, and so do
    the working arrays, which keeps the peak of this step lower on large runs.
    """
    n = len(columns["uid"])
    uid, _ = _hashes(columns.pop("uid"))
    kept, role = _kept(uid, columns.pop("collected_at").to_numpy(),
                       columns.pop("role").to_numpy())
    del uid
    every = len(kept) == n

    def column(name: str) -> tuple[np.ndarray, np.ndarray]:
        values, valid = _hashes(columns.pop(name))
        return (values, valid) if every else (values[kept], valid[kept])

    def flags(name: str) -> np.ndarray:
        return _flags(columns.pop(name))[kept]

    key, _ = column("key")
    find = _finder(key)
    parent, has_parent = column("parent")
    parent_pos = find(parent, has_parent)
    anc, dist, resolved, self_loop = ancestors(has_parent, parent_pos)
    # the root whose author decides author_is_op: the chain's root by its id, else the given one
    # unless that is the row itself (a row with a parent is not its own root; see threads)
    has_id = flags("has_id")
    by_chain = resolved & has_id[anc]
    root_pos = np.full(len(kept), -1, dtype=np.int64)
    root_pos[by_chain] = find(key[anc[by_chain]])
    del by_chain
    root, has_root = column("root")
    # a chain to the thread's known root that is not a row (see threads.via_known_root)
    known = via_known_root(has_parent, parent_pos, has_parent & has_root & (parent == root), anc,
                           resolved, has_root & has_root[anc] & (root == root[anc]))
    del parent
    reached = resolved | known
    depth = pa.array(np.minimum(dist + known, np.iinfo(np.int16).max).astype(np.int16),
                     mask=~reached)
    del dist, known, reached
    own_root = ~resolved & has_root & has_id & (root == key)
    del key, has_id
    by_given = ~resolved & has_root & ~own_root
    root_pos[by_given] = find(root[by_given])
    del root, has_root, by_given, find
    root_from = np.where(resolved, kept[anc], np.where(own_root, NO_ROOT, -1))
    del anc, own_root
    author, has_author = column("author")
    at = np.maximum(root_pos, 0)
    author_is_op = pa.array(author == author[at],
                            mask=~(has_author & (root_pos >= 0) & has_author[at]))
    del author, has_author, at, root_pos
    asks = has_parent & ~self_loop & (parent_pos >= 0) & ~flags("has_reply_to")
    return Structure(positions=kept, depth=depth, author_is_op=author_is_op, role=role,
                     root_from=root_from,
                     author_from=np.where(asks, kept[np.maximum(parent_pos, 0)], -1),
                     duplicates=n - len(kept))


@dataclass
class Piece:
    """What a plan says of the kept rows of one chunk (:func:`finish` completes them).

    Attributes
    ----------
    rows
        Positions in the chunk of its kept rows (ascending).
    depth, author_is_op, role, root_from
        :class:`Structure`'s, for these rows.
    root_id
        The ``id`` of the row at ``root_from`` (null where that is negative; not used where it
        is the row itself, which has its own ``id``).
    parent_author
        The ``author_id`` of the row at :attr:`Structure.author_from` (null where that is -1).
    """

    rows: np.ndarray
    depth: pa.Array
    author_is_op: pa.Array
    role: np.ndarray
    root_from: np.ndarray
    root_id: pa.Array
    parent_author: pa.Array


def _gather(tables: Iterable[tuple[int, pa.Table]], wanted: dict[str, np.ndarray]
            ) -> dict[str, pa.Array]:
    """``column -> values`` at the (sorted, distinct) positions ``wanted[column]``, in one pass
    over the chunks ``(offset, table)``."""
    found: dict[str, list[pa.Array]] = {name: [] for name in wanted}
    for offset, table in tables:
        for name, positions in wanted.items():
            lo, hi = np.searchsorted(positions, [offset, offset + len(table)])
            if hi > lo:
                rows = pa.array(positions[lo:hi] - offset)
                found[name].append(as_strings(table.select([name]).take(rows), name))
    return {name: pa.concat_arrays(parts) if parts else pa.array([], pa.large_string())
            for name, parts in found.items()}


def _lookup(values: pa.Array, wanted: np.ndarray, sources: np.ndarray) -> pa.Array:
    """``values`` (at positions ``wanted``) for each of ``sources``; null where it is -1."""
    at = np.searchsorted(wanted, sources)
    return values.take(_masked(np.where(sources >= 0, at, -1)))


def _completed(table: pa.Table, offset: int, piece: Piece) -> pa.Table:
    """The kept rows of ``table`` (whose first row is at ``offset`` in the run) with their
    reply-tree columns."""
    # the kept rows (ascending, distinct): all of them when as many (no copy of the chunk)
    rows = table if len(piece.rows) == len(table) else table.take(pa.array(piece.rows))
    root_from = piece.root_from
    own = root_from == piece.rows + offset
    chain = pc.if_else(pa.array(own), as_strings(rows, "id"), piece.root_id)
    given = pc.if_else(pa.array(root_from == NO_ROOT), pa.scalar(None, pa.large_string()),
                       as_strings(rows, "root_id"))
    root_id = pc.if_else(pa.array(root_from >= 0), chain, given)
    roles = pa.DictionaryArray.from_arrays(
        _masked(piece.role.astype(np.int64)).cast(pa.int8()), _ROLES)
    values = {
        "thread_id": pc.coalesce(as_strings(rows, "thread_id"), root_id),
        "root_id": root_id,
        "depth": piece.depth,
        "author_is_op": piece.author_is_op,
        "reply_to_author_id": pc.coalesce(as_strings(rows, "reply_to_author_id"),
                                          piece.parent_author),
        "collection_role": roles,
    }
    for name, column in values.items():
        index = rows.schema.get_field_index(name)
        field = rows.schema.field(index)
        rows = rows.set_column(index, field, column.cast(field.type))
    return rows


def finish(tables: Callable[[], Iterator[tuple[int, pa.Table]]], plan,
           some_columns: Callable[[list[str]], Iterator[tuple[int, pa.Table]]] | None = None
           ) -> Iterator[pa.Table]:
    """The kept rows of the chunks ``tables()`` yields (``(offset, table)``, twice: once to
    gather the strings rows refer to, once to finish), with their reply-tree columns.

    ``plan`` is a :class:`Structure` or an
    :class:`analysis.loaders.light_store.StoredStructure` (the same decisions, kept on disk):
    what both have is ``gather(chunks)`` and ``piece(offset, rows) -> Piece | None``.
    ``some_columns(names)``, when given, yields the same chunks with only the columns
    ``names``, for the pass that gathers strings (a spill reads them without the other
    columns' bytes: :meth:`analysis.loaders.chunks.SpillSink.tables_with_offsets`).
    """
    names = ["id", "author_id"]
    plan.gather(tables() if some_columns is None else some_columns(names))
    for offset, table in tables():
        piece = plan.piece(offset, len(table))
        if piece is not None:
            yield _completed(table, offset, piece)
