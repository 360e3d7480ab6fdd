"""Keyed pseudonyms for author identities (HMAC-SHA256).

Author ids, handles, ``reply_to_author_id`` and the handles in ``mentions`` (which would otherwise
name, in the clear, the author a reply answers) are replaced by ``HMAC-SHA256(key, platform,
field, value)``, shortened to :data:`DIGEST_CHARS` hex characters; a mentioned handle gets the
pseudonym that handle has as an ``author_handle``. Texts are left as written, @handles included:
remove those before sharing a table if they matter. The same author gets the same
pseudonym in every run with the same key, so tables from separate runs can be joined; without the
key the mapping cannot be reversed or recomputed from a list of known handles.

A value that already has the form of a pseudonym (:func:`is_pseudonym`: ``u_`` or ``h_`` and
:data:`DIGEST_CHARS` lowercase hex digits) is kept as it is, so ingesting a table that was
pseudonymized before (a posts table, or its 4CAT export) keeps each author's pseudonym instead of
hashing it a second time, and :func:`pseudonymize` warns (:data:`KEPT_PSEUDONYMS`). Its
pseudonyms are comparable only with runs under the key that made them; the table does not say
which key that was (the manifest of the run that made it does; the manifest of a run that
re-ingests it names that run's key).

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
import re
import secrets
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import config
from analysis.errors import UserError

KEY_FILE_NAME = "pseudonym.key"
KEY_BYTES = 32
#: Hex characters kept of each digest: 80 bits, so collisions are negligible for 10^9 authors.
DIGEST_CHARS = 20

#: The form of a pseudonym, whatever its column: ``u_`` (ids) or ``h_`` (handles, mentions) and
#: DIGEST_CHARS lowercase hex digits, 22 characters in all. No real Twitter handle (at most 15
#: characters) or Reddit user name (at most 20) has it, nor any Twitter or Reddit id (digits,
#: ``t2_...``); Instagram, YouTube and TikTok handles may be that long, but one that is exactly
#: ``h_`` and 20 lowercase hex digits is not a name people choose by chance.
PSEUDONYM_FORM = re.compile(rf"[uh]_[0-9a-f]{{{DIGEST_CHARS}}}")

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


def _decode_key(text: str, where: str) -> bytes:
    """The key written as ``text`` (hex, or a passphrase of at least 16 bytes) in ``where``.

    A byte order mark, surrounding whitespace or quotes and a ``0x`` prefix are dropped (they
    come with keys copied from editors and ``.env`` files); text that is all hex digits must be
    whole bytes, so a hex key with a character missing is an error, not another key.
    """
    text = text.strip().lstrip("\ufeff").strip().strip("\"'").strip()
    digits = text[2:] if text[:2].lower() == "0x" else text
    if digits and all(c in "0123456789abcdefABCDEF" for c in digits):
        if len(digits) % 2:
            raise UserError(f"the pseudonym key in {where} looks like hex but has an odd number "
                            f"of digits ({len(digits)}); a character is missing or extra")
        key = bytes.fromhex(digits)
    else:
        key = text.encode("utf-8")
    if len(key) < 16:
        raise UserError(f"the pseudonym key in {where} must be at least 16 bytes (32 hex "
                        "characters); make it longer or remove it")
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
    if isinstance(key, bytes | bytearray | memoryview):
        if len(key) < 16:
            raise UserError("the pseudonym key given must be at least 16 bytes")
        return bytes(key)
    if isinstance(key, str):
        return _decode_key(key, "the key given")
    if key is not None:
        raise UserError(f"the pseudonym key must be bytes or a string, not "
                        f"{type(key).__name__}")
    from_env = os.environ.get(config.PSEUDONYM_KEY_ENV)
    if from_env:
        return _decode_key(from_env, config.PSEUDONYM_KEY_ENV)
    path = key_path()
    _refuse_processed(path)
    if path.exists():
        return _read_key_file(path)
    if not create:
        raise UserError(f"no pseudonym key: set {config.PSEUDONYM_KEY_ENV} or create one", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now
        return _read_key_file(path)
    except OSError as exc:
        raise UserError(f"cannot create the pseudonym key file ({exc.strerror}); set "
                        f"{config.PSEUDONYM_KEY_ENV} or XDG_CONFIG_HOME instead", path) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            "not UTF-8 text"
        raise UserError(f"cannot read the pseudonym key file ({reason}); fix or remove it, or "
                        f"set {config.PSEUDONYM_KEY_ENV}", path) from None
    return _decode_key(text, str(path))


def key_id(key: bytes) -> str:
    """A short public fingerprint of ``key`` (to tell runs with different keys apart)."""
    return hashlib.sha256(b"analysis-pseudonym-key-id\x00" + key).hexdigest()[:12]


#: Warning when some authors were pseudonyms already (:func:`pseudonymize` keeps them).
KEPT_PSEUDONYMS = ("some author ids, handles or mentions were pseudonyms already (a table "
                   "pseudonymized before) and are kept as they are: they match the tables made "
                   "with the key that made them (named in that run's manifest), which need not "
                   "be this run's key")


def is_pseudonym(value: object) -> bool:
    """Whether ``value`` already has the form of a pseudonym (:data:`PSEUDONYM_FORM`).

    Examples
    --------
    >>> is_pseudonym("u_" + "0" * DIGEST_CHARS), is_pseudonym("h_0186687ed5d21a373436")
    (True, True)
    >>> is_pseudonym("alice"), is_pseudonym("u_" + "A" * DIGEST_CHARS), is_pseudonym(None)
    (False, False, False)
    """
    return isinstance(value, str) and PSEUDONYM_FORM.fullmatch(value) is not None


def pseudonym(value: str, key: bytes, *, platform: str = "", namespace: str = "id") -> str:
    """The pseudonym of one value (without its prefix)."""
    message = f"{platform}\x00{namespace}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGEST_CHARS]


class _Hasher:
    """HMAC-SHA256 under one key, made by hand from two SHA-256 states that hold the padded key
    (RFC 2104, as :mod:`hmac` computes it): copying those is about twice as fast per value as
    copying an :class:`hmac.HMAC`, whose ``copy`` is Python code."""

    BLOCK = 64  # SHA-256's block size in bytes

    def __init__(self, key: bytes) -> None:
        if len(key) > self.BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self.BLOCK, b"\x00")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, message: bytes) -> str:
        """``hmac.new(key, message, hashlib.sha256).hexdigest()``."""
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


def _distinct_pairs(platform_codes: np.ndarray, values: object) -> tuple[np.ndarray, list,
                                                                         np.ndarray, np.ndarray]:
    """The distinct (platform, value) pairs of ``values`` (an array or Series, one value per
    entry of ``platform_codes``), as ``(pair of each entry, distinct values, first entry of
    each pair, value code of each entry)``; values and codes as :func:`pandas.factorize` gives
    them (code -1: null)."""
    codes, uniques = pd.factorize(values)
    pairs = platform_codes.astype(np.int64) * (len(uniques) + 1) + (codes + 1)
    _, first, inverse = np.unique(pairs, return_index=True, return_inverse=True)
    return inverse.reshape(-1), uniques.tolist(), first, codes


def pseudonymize(posts: pd.DataFrame, key: bytes | str | None = None) -> pd.DataFrame:
    """Return a copy of ``posts`` with author ids, handles, reply-to ids and mentions
    pseudonymized; values that already are pseudonyms (:func:`is_pseudonym`) stay as they are.

    Each distinct (platform, value) of a column is hashed once, and the pseudonyms are spread
    to the rows by array indexing (values repeat: the same authors post again, and reply to
    each other).

    Parameters
    ----------
    posts
        A posts table (needs ``platform``; the :data:`FIELDS` columns it has are replaced).
    key
        The key; by default :func:`load_key` finds or creates it.

    Returns
    -------
    pandas.DataFrame
        A new frame; nulls stay null, and so do pseudonyms (so pseudonymizing twice changes
        nothing).
    """
    hasher = _Hasher(load_key(key))
    out = posts.copy()
    if "platform" in posts:
        platform_codes, platform_values = pd.factorize(posts["platform"])
        platforms = [str(value) for value in platform_values] + [""]  # code -1 (null): ""
    else:
        platform_codes, platforms = np.full(len(posts), -1, dtype=np.intp), [""]
    cache: dict[tuple[str, str, str], str] = {}
    kept: list[str] = []

    def alias(platform: str, namespace: str, prefix: str, value: object) -> str:
        text = str(value)
        cache_key = (platform, namespace, text)
        found = cache.get(cache_key)
        if found is None:
            if PSEUDONYM_FORM.fullmatch(text):  # is_pseudonym(text), text being a str
                # made by an earlier run: hashing it again would split one author into two
                found = text
                kept.append(text)
            else:
                digest = hasher.hexdigest(f"{platform}\x00{namespace}\x00{text}".encode())
                found = prefix + digest[:DIGEST_CHARS]
            cache[cache_key] = found
        return found

    def aliases(codes: np.ndarray, values: object, namespace: str, prefix: str) -> np.ndarray:
        """The pseudonym of each value (None for null) as an object array; ``codes`` are the
        platform codes of the values."""
        inverse, uniques, first, value_codes = _distinct_pairs(codes, values)
        distinct = np.fromiter((None if value < 0 else
                                alias(platforms[code], namespace, prefix, uniques[value])
                                for code, value in zip(codes[first].tolist(),
                                                       value_codes[first].tolist(), strict=True)),
                               dtype=object, count=len(first))
        return distinct[inverse]

    for column, (namespace, prefix) in FIELDS.items():
        if column in posts:
            hashed = aliases(platform_codes, posts[column], namespace, prefix)
            out[column] = pd.Series(pd.array(hashed, dtype="string"), index=posts.index)
    if "mentions" in posts:
        namespace, prefix = FIELDS["author_handle"]  # a mention is a handle
        mentions = posts["mentions"]
        if isinstance(mentions.dtype, pd.ArrowDtype) and pa.types.is_list(
                mentions.dtype.pyarrow_dtype):
            lists = pa.array(mentions.array)  # Arrow's own array (chunked), not a copy
            if isinstance(lists, pa.ChunkedArray):
                lists = lists.combine_chunks()
            offsets = lists.offsets
            start, end = offsets[0].as_py(), offsets[-1].as_py()
            handles = lists.values.slice(start, end - start)
            owners = np.repeat(platform_codes, np.diff(offsets.to_numpy()))
            # a null handle in a list is pseudonymized as the text "None", as str(None) gives
            handles = pd.arrays.ArrowExtensionArray(pc.fill_null(handles, "None"))
            hashed = pa.array(aliases(owners, handles, namespace, prefix),
                              type=lists.type.value_type)
            rebuilt = pa.ListArray.from_arrays(pc.subtract(offsets, start), hashed,
                                               type=lists.type, mask=lists.is_null())
            out["mentions"] = pd.Series(pd.arrays.ArrowExtensionArray(rebuilt),
                                        index=posts.index)
        else:
            lists = [[alias(platforms[code], namespace, prefix, h) for h in handles]
                     if isinstance(handles, list | tuple) or hasattr(handles, "tolist")
                     else None for code, handles in zip(platform_codes, mentions, strict=True)]
            out["mentions"] = pd.Series(pd.array(lists, dtype=mentions.dtype)
                                        if isinstance(mentions.dtype, pd.ArrowDtype)
                                        else lists, index=posts.index)
    if kept:
        warnings.warn(KEPT_PSEUDONYMS, UserWarning, stacklevel=2)
    return out
