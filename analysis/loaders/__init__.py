"""Loaders: every common export into one posts table.

One module per format; :data:`REGISTRY` maps the ``--format`` names to them. Each format module
defines

- ``sniff(path: pathlib.Path, head: bytes) -> bool``: whether a file (``head`` is its first 64 KiB,
  decompressed) looks like this format; used by ``--format auto``;
- ``read(path: pathlib.Path, options: LoadOptions) -> Iterator[dict | Reject | GoldLabel]``: one
  posts-table row (a dict of the fields of :data:`analysis.schema.POSTS` it knows) or one
  :class:`~analysis.loaders.base.Reject` per input record, plus any gold labels.

:mod:`analysis.loaders.ingest` runs them and builds the table (types, reply trees, duplicates,
pseudonyms, language); :func:`load_posts` is its one-call Python entry point.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: ``--format`` name -> module under :mod:`analysis.loaders`, in the order auto-detection tries.
REGISTRY: dict[str, str] = {
    "rumoureval": "rumoureval",
    # before the Twitter formats: a Zeeschuimer X item holds v1.1 fields inside its envelope
    "zeeschuimer": "zeeschuimer",
    "twarc2": "twarc2",
    "twitter-v1": "twitter_v1",
    "twarc-csv": "twarc_csv",
    "pushshift": "pushshift",
    "reddit-api": "reddit_api",
    "instaloader": "instaloader",
    "youtube-comments": "youtube_comments",
    "4cat-csv": "fourcat_csv",
    "csv": "table",
    "jsonl": "table",
    "parquet": "table",
}


def loader_module(name: str) -> ModuleType:
    """The module that implements ``--format name``."""
    return importlib.import_module(f"analysis.loaders.{REGISTRY[name]}")


def load_posts(paths, format: str = "auto", **options):  # noqa: A002 - mirrors --format
    """Load exports into one posts table. See :func:`analysis.loaders.ingest.ingest`."""
    from analysis.loaders.ingest import load_posts as _load_posts

    return _load_posts(paths, format=format, **options)
