"""Reply trees: root, depth, whether the author is the original poster, and whom a reply answers.

:func:`add_threads` works on a whole posts table at once (all inputs of one ingest run), with
vectorized pointer jumping: every post follows its ``parent_id`` chain, doubling the step each
round, so a tree of depth *d* takes about log2(*d*) rounds.

- A post without ``parent_id`` is a root: ``depth`` 0, ``root_id`` its own id.
- A post whose chain reaches a root in the table gets that root and its distance as ``depth``.
- A post whose chain reaches a post that answers the thread's known root (its ``parent_id`` is
  its loader-given ``root_id``) that is not in the table gets that root, and its distance to it
  as ``depth``, when it names the same root: the video or post a collection of comments was made
  from is known (youtube-comment-downloader with ``--thread-id``, instaloader) but not a row.
  ``root_id`` and ``depth`` are the same as with the root in the table; ``author_is_op`` and a
  top-level comment's ``reply_to_author_id`` need the root's author, so they stay null. Any other
  missing parent still breaks the chain (below).
- A post whose chain breaks (a parent that is not in the table) or loops (a cycle, which real data
  should not have but corrupt exports do) gets ``depth`` null and keeps the ``root_id`` its loader
  gave (for example a twarc2 ``conversation_id``), or null; null also where that ``root_id`` is
  the post's own id (a post with a parent is not its own root: twarc2 gives a retweet, and a
  quote that is not a reply, its own id as ``conversation_id``).
- ``thread_id`` left null by the loader becomes the ``root_id``.
- ``author_is_op``: the post's author also wrote the root (null when either author or the root
  is unknown).
- ``reply_to_author_id``: the parent's author, where the loader did not already say.

Parent and root ids are the platform's ids; they are matched within the row's platform.

Examples
--------
>>> posts = pd.DataFrame({"platform": ["twitter"] * 4, "id": ["1", "2", "3", "4"],
...                       "parent_id": [None, "1", "2", "99"], "author_id": ["a", "b", "a", "c"]})
>>> out = add_threads(posts)
>>> out["depth"].tolist()
[0, 1, 2, <NA>]
>>> out["root_id"].tolist()
['1', '1', '1', <NA>]
>>> out["author_is_op"].tolist()
[True, False, True, <NA>]

Comments on a video that is not a row, whose loader names it as their root:

>>> comments = pd.DataFrame({"platform": ["youtube"] * 3, "id": ["c1", "c1.r", "c9.r"],
...                          "parent_id": ["vid", "c1", "c9"], "root_id": ["vid"] * 3})
>>> add_threads(comments)["depth"].tolist()
[1, 2, <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Rounds of pointer doubling; 2**MAX_ROUNDS exceeds any real thread depth.
MAX_ROUNDS = 40
_INT16_MAX = np.iinfo(np.int16).max
_SEPARATOR = pa.scalar("\x00", type=pa.large_string())


def arrow_strings(column: pd.Series) -> pa.Array:
    """A column as an Arrow string array (nulls stay null)."""
    values = pa.array(column.astype("string").array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.large_string())


def _keys(platform: pa.Array, ids: pd.Series) -> pa.Array:
    """``platform NUL id`` per row, as Arrow strings (a null id counts as empty)."""
    return pc.binary_join_element_wise(platform, pc.fill_null(arrow_strings(ids), ""),
                                       _SEPARATOR)


def _finder(keys: pa.Array):
    """``find(other) -> positions``: the position in ``keys`` of each of ``other`` (the last one
    when a key repeats), -1 where it is absent."""
    n = len(keys)
    backwards = keys.take(pa.array(np.arange(n - 1, -1, -1)))

    def find(other: pa.Array) -> np.ndarray:
        found = pc.index_in(other, value_set=backwards)
        valid = found.is_valid().to_numpy(zero_copy_only=False)
        at = pc.fill_null(found, 0).to_numpy().astype(np.int64)
        return np.where(valid, n - 1 - at, -1)

    return find


def ancestors(has_parent: np.ndarray, parent_pos: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each post's parent chain ends, by pointer jumping.

    Parameters
    ----------
    has_parent
        Whether each post names a parent.
    parent_pos
        Position of each post's parent, -1 where it is not in the table.

    Returns
    -------
    tuple
        ``anc`` (position where the chain stops), ``dist`` (steps to it), ``resolved`` (the chain
        stops at a real root: a post without a parent) and ``self_loop`` (the post names itself).
    """
    positions = np.arange(len(has_parent))
    # Terminals point at themselves: roots (no parent), broken chains (parent not in the table)
    # and self-replies.
    missing = has_parent & (parent_pos < 0)
    self_loop = has_parent & (parent_pos == positions)
    terminal = ~has_parent | missing | self_loop
    anc = np.where(terminal, positions, parent_pos)
    dist = np.where(terminal, 0, 1).astype(np.int64)
    for _ in range(MAX_ROUNDS):
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        dist = dist + dist[anc]
        anc = nxt
    # A chain ends at a real root only if it stopped at a post without a parent.
    resolved = (anc[anc] == anc) & ~has_parent[anc]
    return anc, dist, resolved, self_loop


def via_known_root(has_parent: np.ndarray, parent_pos: np.ndarray, parent_is_root: np.ndarray,
                   anc: np.ndarray, resolved: np.ndarray, same_root: np.ndarray) -> np.ndarray:
    """Which unresolved chains end at the thread's known root, though it is not in the table.

    Parameters
    ----------
    has_parent, parent_pos
        As for :func:`ancestors`.
    parent_is_root
        Whether each post's ``parent_id`` equals its given ``root_id`` (both named).
    anc, resolved
        From :func:`ancestors`.
    same_root
        Whether each post's given ``root_id`` equals that of the post at ``anc`` (both named).

    Returns
    -------
    numpy.ndarray
        True where the chain is not resolved but stops at a post whose parent is missing and is
        its given root, and the post names the same root: such a chain reaches that root, one
        step beyond ``anc`` (so ``depth`` is ``dist + 1``). A missing parent that is not the
        given root leaves the chain broken.
    """
    answers_root = has_parent & (parent_pos < 0) & parent_is_root
    return ~resolved & answers_root[anc] & same_root


def add_threads(posts: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``posts`` with ``root_id``, ``depth``, ``thread_id``, ``author_is_op`` and
    ``reply_to_author_id`` filled in from the reply tree.

    Keys and lookups are Arrow strings and hash tables, not Python objects, so the memory this
    takes grows by tens of bytes per post.

    Parameters
    ----------
    posts
        A posts table with at least ``platform``, ``id`` and ``parent_id``; ``author_id``,
        ``root_id``, ``thread_id`` and ``reply_to_author_id`` are used when present. Ids must be
        unique per platform (collapse duplicates first).

    Returns
    -------
    pandas.DataFrame
        A new frame with the index of ``posts``.
    """
    out = posts.copy(deep=False)  # copy-on-write (pandas 3): ``posts`` is never changed
    platform = pc.fill_null(arrow_strings(posts["platform"]), "")
    find = _finder(_keys(platform, posts["id"]))
    named = posts["parent_id"].notna().to_numpy()
    # a row without a kind (an API error's notice about a post) does not say where the post was:
    # it is no root, and chains through it are broken, as in analysis.loaders.light.compact
    unplaced = posts["kind"].isna().to_numpy() if "kind" in posts else np.zeros(len(posts), bool)
    has_parent = named | unplaced
    parent_pos = np.where(named & ~unplaced, find(_keys(platform, posts["parent_id"])), -1)
    anc, dist, resolved, self_loop = ancestors(has_parent, parent_pos)
    given_root = (posts["root_id"].astype("string") if "root_id" in posts
                  else pd.Series(pd.NA, index=posts.index, dtype="string"))
    parent_is_root = (posts["parent_id"].astype("string") == given_root).fillna(False) & ~unplaced
    same_root = (given_root == pd.Series(given_root.array.take(anc), index=posts.index)
                 ).fillna(False)
    # a chain to the thread's known root that is not a row (the video of a comment download):
    # one step more than to the post that answers it; its root_id is the given one
    known = via_known_root(has_parent, parent_pos, parent_is_root.to_numpy(dtype=bool), anc,
                           resolved, same_root.to_numpy(dtype=bool))
    reached = resolved | known
    depth = pd.array(np.where(reached, np.minimum(dist + known, _INT16_MAX), 0), dtype="Int16")
    depth[~reached] = pd.NA
    out["depth"] = pd.Series(depth, index=posts.index)

    ids = posts["id"].astype("string")
    chain_root = pd.Series(ids.array.take(anc), index=posts.index)
    # a post with a parent is never its own root (twarc2 gives a retweet or a quote that is not
    # a reply its own id as conversation_id): an unresolved chain leaves such a root unknown
    own_root = (given_root == ids).fillna(False).to_numpy(dtype=bool)
    root_id = chain_root.where(resolved, given_root.mask(own_root))
    out["root_id"] = root_id

    given_thread = (posts["thread_id"].astype("string") if "thread_id" in posts
                    else pd.Series(pd.NA, index=posts.index, dtype="string"))
    out["thread_id"] = given_thread.fillna(root_id)

    if "author_id" in posts:
        authors = posts["author_id"].astype("string")
        root_pos = np.where(root_id.notna().to_numpy(), find(_keys(platform, root_id)), -1)
        root_author = pd.Series(authors.array.take(root_pos, allow_fill=True),
                                index=posts.index)
        is_op = pd.Series(authors == root_author, dtype="boolean")
        is_op[authors.isna() | root_author.isna()] = pd.NA
        out["author_is_op"] = is_op
        parent_author = pd.Series(authors.array.take(parent_pos, allow_fill=True),
                                  index=posts.index)
        parent_author[~has_parent | self_loop] = pd.NA
        given_reply_to = (posts["reply_to_author_id"].astype("string")
                          if "reply_to_author_id" in posts
                          else pd.Series(pd.NA, index=posts.index, dtype="string"))
        out["reply_to_author_id"] = given_reply_to.fillna(parent_author)
    return out
