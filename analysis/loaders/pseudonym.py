"""Keyed pseudonyms for author identities (HMAC-SHA256).

Author ids, handles and ``reply_to_author_id`` are replaced by ``HMAC-SHA256(key, platform, field,
value)``, shortened to :data:`DIGEST_CHARS` hex characters. The same author gets the same
pseudonym in every run with the same key, so tables from separate runs can be joined; without the
key the mapping cannot be reversed or recomputed from a list of known handles.

The key comes from the environment variable ``ANALYSIS_PSEUDONYM_KEY``
(:data:`analysis.config.PSEUDONYM_KEY_ENV`), or from the file ``pseudonym.key`` in
:func:`analysis.config.user_config_dir`, which is created (mode 0600, 32 random bytes as hex) on
first use. It is never written under ``data/processed``.

Examples
--------
>>> import pandas as pd
>>> posts = pd.DataFrame({"platform": ["twitter", "twitter"], "author_id": ["1", "1"],
...                       "author_handle": ["a", "a"], "reply_to_author_id": [None, "1"]})
>>> out = pseudonymize(posts, key=b"k" * 32)
>>> out.loc[0, "author_id"] == out.loc[1, "author_id"] == out.loc[1, "reply_to_author_id"]
True
>>> out.loc[0, "author_id"] != "1"
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import UserError

KEY_FILE_NAME = "pseudonym.key"
KEY_BYTES = 32
#: Hex characters kept of each digest: 80 bits, so collisions are negligible for 10^9 authors.
DIGEST_CHARS = 20

#: Column -> (namespace in the hashed message, prefix of the pseudonym). ``reply_to_author_id``
#: shares the ``id`` namespace so it matches the parent's ``author_id``.
FIELDS = {
    "author_id": ("id", "u_"),
    "reply_to_author_id": ("id", "u_"),
    "author_handle": ("handle", "h_"),
}


def key_path() -> Path:
    """Where the key file lives when the environment variable is not set."""
    return config.user_config_dir() / KEY_FILE_NAME


def _decode_key(text: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = text.encode("utf-8")
    if len(key) < 16:
        raise UserError(f"the pseudonym key must be at least 16 bytes (32 hex characters); "
                        f"set {config.PSEUDONYM_KEY_ENV} to a longer value or remove it")
    return key


def _refuse_processed(path: Path) -> None:
    try:
        path.resolve().relative_to(config.DATA_PROCESSED.resolve())
    except ValueError:
        return
    raise UserError("the pseudonym key must not live under data/processed; "
                    "set XDG_CONFIG_HOME or the key variable to somewhere else", path)


def load_key(key: bytes | str | None = None, *, create: bool = True) -> bytes:
    """The pseudonymization key: ``key`` if given, else the environment, else the key file.

    Parameters
    ----------
    key
        Bytes, or a string (hex, or any text of at least 16 bytes).
    create
        Create the key file when there is none.

    Returns
    -------
    bytes
    """
    if isinstance(key, bytes):
        if len(key) < 16:
            raise UserError("the pseudonym key must be at least 16 bytes")
        return key
    if isinstance(key, str):
        return _decode_key(key)
    from_env = os.environ.get(config.PSEUDONYM_KEY_ENV)
    if from_env:
        return _decode_key(from_env)
    path = key_path()
    _refuse_processed(path)
    if path.exists():
        return _decode_key(path.read_text(encoding="utf-8"))
    if not create:
        raise UserError(f"no pseudonym key: set {config.PSEUDONYM_KEY_ENV} or create one", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now
        return _decode_key(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot create the pseudonym key file ({exc.strerror}); set "
                        f"{config.PSEUDONYM_KEY_ENV} instead", path) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return _decode_key(path.read_text(encoding="utf-8"))


def key_id(key: bytes) -> str:
    """A short public fingerprint of ``key`` (to tell runs with different keys apart)."""
    return hashlib.sha256(b"analysis-pseudonym-key-id\x00" + key).hexdigest()[:12]


def pseudonym(value: str, key: bytes, *, platform: str = "", namespace: str = "id") -> str:
    """The pseudonym of one value (without its prefix)."""
    message = f"{platform}\x00{namespace}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def pseudonymize(posts: pd.DataFrame, key: bytes | str | None = None) -> pd.DataFrame:
    """Return a copy of ``posts`` with author ids, handles and reply-to ids pseudonymized.

    Parameters
    ----------
    posts
        A posts table (needs ``platform``; the :data:`FIELDS` columns it has are replaced).
    key
        The key; by default :func:`load_key` finds or creates it.

    Returns
    -------
    pandas.DataFrame
        A new frame; nulls stay null.
    """
    secret = load_key(key)
    base = hmac.new(secret, digestmod=hashlib.sha256)
    out = posts.copy()
    platforms = (posts["platform"].astype("object").fillna("").astype(str).tolist()
                 if "platform" in posts else [""] * len(posts))
    cache: dict[tuple[str, str, str], str] = {}
    for column, (namespace, prefix) in FIELDS.items():
        if column not in posts:
            continue
        values = posts[column]
        raw = values.astype("object").where(values.notna(), None).tolist()
        hashed: list[str | None] = []
        for platform, value in zip(platforms, raw, strict=True):
            if value is None:
                hashed.append(None)
                continue
            cache_key = (platform, namespace, str(value))
            alias = cache.get(cache_key)
            if alias is None:
                mac = base.copy()
                mac.update(f"{platform}\x00{namespace}\x00{value}".encode())
                alias = cache[cache_key] = prefix + mac.hexdigest()[:DIGEST_CHARS]
            hashed.append(alias)
        out[column] = pd.Series(pd.array(hashed, dtype="string"), index=posts.index)
    return out
