"""Reply trees: root, depth, whether the author is the original poster, and whom a reply answers.

:func:`add_threads` works on a whole posts table at once (all inputs of one ingest run), with
vectorized pointer jumping: every post follows its ``parent_id`` chain, doubling the step each
round, so a tree of depth *d* takes about log2(*d*) rounds.

- A post without ``parent_id`` is a root: ``depth`` 0, ``root_id`` its own id.
- A post whose chain reaches a root in the table gets that root and its distance as ``depth``.
- A post whose chain breaks (a parent that is not in the table) or loops (a cycle, which real data
  should not have but corrupt exports do) gets ``depth`` null and keeps the ``root_id`` its loader
  gave (for example a twarc2 ``conversation_id``), or null.
- ``thread_id`` left null by the loader becomes the ``root_id``.
- ``author_is_op``: the post's author also wrote the root (null when either author is unknown).
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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Rounds of pointer doubling; 2**MAX_ROUNDS exceeds any real thread depth.
MAX_ROUNDS = 40
_INT16_MAX = np.iinfo(np.int16).max


def _keys(platform: pd.Series, ids: pd.Series) -> pd.Series:
    return platform.astype("object").fillna("").astype(str) + "\x00" + ids.astype("object").fillna(
        "").astype(str)


def add_threads(posts: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``posts`` with ``root_id``, ``depth``, ``thread_id``, ``author_is_op`` and
    ``reply_to_author_id`` filled in from the reply tree.

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
    out = posts.copy()
    n = len(posts)
    platform = posts["platform"]
    own_keys = _keys(platform, posts["id"])
    index = pd.Index(own_keys.to_numpy())
    if not index.is_unique:  # tolerate duplicates: the last copy of an id is the one found
        keep = ~index.duplicated(keep="last")
        placeholders = np.array([f"\x01{i}" for i in range(n)], dtype=object)
        index = pd.Index(np.where(keep, own_keys.to_numpy(), placeholders))
    has_parent = posts["parent_id"].notna().to_numpy()
    parent_keys = _keys(platform, posts["parent_id"])
    parent_pos = np.where(has_parent, index.get_indexer(parent_keys.to_numpy()), -1)
    positions = np.arange(n)
    # Terminals point at themselves: roots (no parent), broken chains (parent not in the table)
    # and self-replies. ``good`` marks terminals that are real roots.
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
    resolved = (anc[anc] == anc) & ~has_parent[anc]
    # A chain ends at a real root only if it stopped at a post without a parent.
    depth = pd.array(np.where(resolved, np.minimum(dist, _INT16_MAX), 0), dtype="Int16")
    depth[~resolved] = pd.NA
    out["depth"] = pd.Series(depth, index=posts.index)

    ids = posts["id"].astype("string")
    chain_root = pd.Series(ids.to_numpy()[anc], index=posts.index, dtype="string")
    given_root = (posts["root_id"].astype("string") if "root_id" in posts
                  else pd.Series(pd.NA, index=posts.index, dtype="string"))
    root_id = chain_root.where(resolved, given_root)
    out["root_id"] = root_id

    given_thread = (posts["thread_id"].astype("string") if "thread_id" in posts
                    else pd.Series(pd.NA, index=posts.index, dtype="string"))
    out["thread_id"] = given_thread.fillna(root_id)

    if "author_id" in posts:
        authors = posts["author_id"].astype("string")
        author_values = authors.to_numpy(dtype=object, na_value=None)
        root_pos = np.where(root_id.notna().to_numpy(),
                            index.get_indexer(_keys(platform, root_id).to_numpy()), -1)
        root_author = pd.Series(
            np.where(root_pos >= 0, author_values[np.maximum(root_pos, 0)], None),
            index=posts.index, dtype="string")
        is_op = pd.Series(authors == root_author, dtype="boolean")
        is_op[authors.isna() | root_author.isna()] = pd.NA
        out["author_is_op"] = is_op
        parent_author = pd.Series(
            np.where(parent_pos >= 0, author_values[np.maximum(parent_pos, 0)], None),
            index=posts.index, dtype="string")
        parent_author[~has_parent | self_loop] = pd.NA
        given_reply_to = (posts["reply_to_author_id"].astype("string")
                          if "reply_to_author_id" in posts
                          else pd.Series(pd.NA, index=posts.index, dtype="string"))
        out["reply_to_author_id"] = given_reply_to.fillna(parent_author)
    return out
