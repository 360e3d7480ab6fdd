"""Which posts are responses: one rule for trends, study summaries and hand-coding samples.

A share of support or criticism is a share of *responses*: posts that answer a thread's root in
words of their own. Left out by default:

- **thread roots** (``depth`` 0; else, where the table has ``parent_id``, no parent; else a
  ``uid`` or ``id`` equal to the ``root_id``): the posts responded to. A post with a parent is a
  response even when its parent's chain is broken and its ``root_id`` is its own id (twarc2 files
  a quote tweet under a conversation of its own);
- **context** rows (``collection_role = "context"``): posts a collection brought along, such as
  the tweets a twarc2 page quotes, which nobody sampled as responses;
- **reposts** (``kind = "repost"``, e.g. retweets): they repeat another post's words, so their
  label would count that post's stance once more for every repost;
- posts **without text** (``text_status`` other than ``ok``: deleted, removed, withheld,
  unavailable; or, where the table has a ``text`` column, a null or blank text and no ``title``):
  there is nothing to label, and a classifier's label for them is a guess.

Columns a table lacks are not used (a table without ``kind`` has no reposts to leave out).

Examples
--------
>>> posts = pd.DataFrame({"uid": ["x:1", "x:2", "x:3", "x:4"], "id": ["1", "2", "3", "4"],
...                       "root_id": ["1", "1", "1", "1"], "kind": ["post", "reply", "repost",
...                       "reply"], "text_status": ["ok", "ok", "ok", "deleted"]})
>>> reasons = left_out(posts)
>>> reasons.tolist()
['root', <NA>, 'repost', 'no text']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Why a post is not a response (the values of :func:`left_out`).
ROOT, CONTEXT, REPOST, NO_TEXT = "root", "context", "repost", "no text"
#: The post columns the rule reads (where present).
COLUMNS = ("uid", "id", "root_id", "parent_id", "depth", "collection_role", "kind", "text_status",
           "text", "title")


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def is_root(posts: pd.DataFrame) -> pd.Series:
    """True for thread roots: ``depth`` 0; else, where the table has ``parent_id``, no parent;
    else (a table without reply links) ``uid`` or ``id`` equal to ``root_id``."""
    root = pd.Series(False, index=posts.index)
    if "depth" in posts.columns:
        root |= (pd.to_numeric(posts["depth"], errors="coerce") == 0).fillna(False).astype(bool)
    if "parent_id" in posts.columns:
        return root | posts["parent_id"].isna().to_numpy()
    root_id = _text(posts, "root_id")
    for column in ("uid", "id"):
        root |= (_text(posts, column) == root_id).fillna(False).astype(bool)
    return root


def left_out(posts: pd.DataFrame, *, include_roots: bool = False,
             include_context: bool = False) -> pd.Series:
    """Why each post is not a response (:data:`REPOST`, :data:`CONTEXT`, :data:`ROOT`,
    :data:`NO_TEXT`), null for responses; the first reason that applies, in that order (a
    retweet whose original is not in the table looks like a root of its own: it is a repost).

    ``include_roots`` / ``include_context`` count roots / context rows as responses.
    """
    reason = pd.Series(pd.NA, index=posts.index, dtype="string")
    status = _text(posts, "text_status")
    no_text = (status.notna() & (status != "ok")).to_numpy(dtype=bool)
    if "text" in posts.columns:
        blank = _text(posts, "text").str.strip().fillna("") == ""
        if "title" in posts.columns:  # a Reddit submission may say it all in its title
            blank &= _text(posts, "title").str.strip().fillna("") == ""
        no_text |= blank.to_numpy(dtype=bool)
    rules = [(NO_TEXT, no_text),
             (ROOT, np.zeros(len(posts), dtype=bool) if include_roots else
              is_root(posts).to_numpy(dtype=bool)),
             (CONTEXT, np.zeros(len(posts), dtype=bool) if include_context else
              (_text(posts, "collection_role") == "context").fillna(False).to_numpy(dtype=bool)),
             (REPOST, (_text(posts, "kind") == "repost").fillna(False).to_numpy(dtype=bool))]
    for name, mask in rules:  # a later rule overrides an earlier one
        reason = reason.mask(mask, name)
    return reason


def responses(posts: pd.DataFrame, **options: bool) -> pd.DataFrame:
    """The rows of ``posts`` that are responses (see :func:`left_out` for ``options``)."""
    return posts.loc[left_out(posts, **options).isna().to_numpy()]
