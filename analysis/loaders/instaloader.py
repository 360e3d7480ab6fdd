"""instaloader comment files: ``*_comments.json`` (or ``.json.xz``) of ``instaloader --comments``.

instaloader (``Instaloader.update_comments``) writes one JSON array per post; each element is a
top-level comment with its replies nested under ``answers``::

    [{"id": 17890, "created_at": 1601500000, "text": "...", "likes_count": 3,
      "owner": {"id": "123", "username": "someone", ...},
      "answers": [{"id": 17891, "created_at": 1601500100, "text": "...", "likes_count": 0,
                   "owner": {...}}]}]

``created_at`` is Unix epoch seconds (UTC). Top-level comments answer the post (``parent_id`` is
the post), answers answer their comment. All rows are ``kind = "comment"`` on ``instagram``.
Every comment's ``root_id`` is the post (``thread_id``), so their trees have a root (top-level
comments ``depth`` 1, answers 2) even when the post itself is not a row (no metadata file next to
the comments, see :mod:`analysis.loaders.threads`); ``author_is_op`` is then null.

Which post (``thread_id``)? The comment file does not say, so, in this order:

1. ``--thread-id`` (``LoadOptions.thread_id``) when given: it applies to every file of the run;
2. the shortcode in the post's metadata file next to the comments (``<prefix>.json.xz`` or
   ``<prefix>.json``, written by instaloader unless ``--no-metadata-json``); that post is also
   yielded as a ``context`` row (``kind = "post"``), so replies have a root and a target text;
3. the file name: ``<shortcode>_comments.json`` (``--filename-pattern={shortcode}``) or
   ``<date>_UTC_<shortcode>_comments.json``. The default name ``<date>_UTC_comments.json`` holds
   no post id; without 1. or 2. such a file is refused with a one-line error.

A post metadata file given as an input itself (e.g. when a whole instaloader folder is ingested)
yields its post as a ``matched`` row; the copy read next to the comments collapses into it.

Instagram post ids here are shortcodes (as in the post's URL and in 4CAT / Zeeschuimer exports).

The array is read element by element (no whole-file read, see
:func:`~analysis.loaders.base.iter_json_array`). A top-level comment with bad UTF-8 is one
reject; one with a syntax error (a cut or garbled comment) is one reject naming the line it
starts on, with its answers, and reading resumes with the next top-level comment (an object with
``answers``), so no good comment after it is lost. A lone
UTF-16 surrogate in the comments or the post's metadata (a text cut in the middle of an emoji)
becomes U+FFFD, with one warning per file.

Examples
--------
>>> row = row_from_comment({"id": 5, "created_at": 1601500000, "text": "so sorry",
...                         "owner": {"id": "9", "username": "a"}, "likes_count": 2},
...                        thread_id="CF1abcDEF", parent_id="CF1abcDEF")
>>> row["uid"], row["parent_id"], row["like_count"], str(row["created_at"])
('instagram:5', 'CF1abcDEF', 2, '2020-09-30 21:06:40+00:00')
>>> row["root_id"]
'CF1abcDEF'
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from analysis.errors import UserError
from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    LOADER_VERSION,
    MAX_ELEMENT_CHARS,
    LoadOptions,
    Reject,
    iter_json_array,
    json_count,
    json_error_reason,
    json_id,
    json_type,
    load_json,
    make_uid,
    open_binary,
    parse_required_time,
    parse_time,
    read_whole,
    record_snippet,
    snippet,
    warn_broken_texts,
)

#: This format reads ``--thread-id`` (see :func:`analysis.loaders.ingest.ingest`).
READS_THREAD_ID = True
FORMAT = "instaloader"
PLATFORM = "instagram"

#: Keys of one comment (and of one answer, which lacks ``answers``), per instaloader.
COMMENT_KEYS = ("id", "created_at", "text", "owner", "likes_count", "answers")

#: Suffixes of a comments file; the part of the name before them is instaloader's post prefix.
COMMENT_SUFFIXES = ("_comments.json", "_comments.json.xz")

#: Where the post's metadata may sit next to the comments file (``<prefix>`` + suffix).
METADATA_SUFFIXES = (".json.xz", ".json")

#: instaloader's default ``{date_utc}_UTC`` prefix: no post id in it.
_DATE_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC$")
_DATE_THEN_CODE = re.compile(r"^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC_([A-Za-z0-9_-]{5,64})$")
_SHORTCODE = re.compile(r"^[A-Za-z0-9_-]{5,64}$")


def _is_top_level_comment(value: dict) -> bool:
    """Whether an object found after a broken comment is a top-level comment, where reading
    resumes: it has ``answers``, which answers lack, and an ``id`` (the tail of the broken
    comment itself, cut after its id, does not)."""
    return "answers" in value and "id" in value


def _is_metadata(head: bytes) -> bool:
    """instaloader's metadata JSON: ``{"node": {...}, "instaloader": {"node_type": ...}}``."""
    return (head.lstrip()[:1] == b"{" and b'"instaloader"' in head and b'"node_type"' in head
            and b'"node"' in head)


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` looks like an instaloader comments array (``answers``, ``owner``) or an
    instaloader metadata file (``node`` + ``instaloader.node_type``)."""
    start = head.lstrip()[:1]
    return (start == b"[" and b'"answers"' in head and b'"owner"' in head
            and b'"created_at"' in head and b'"likes_count"' in head) or _is_metadata(head)


def row_from_comment(comment: dict, *, thread_id: str, parent_id: str | None) -> dict:
    """Map one instaloader comment (or answer) to a posts-table row, without its answers.

    Parameters
    ----------
    comment
        One element of a comments file, or one of its ``answers``.
    thread_id
        The post's shortcode.
    parent_id
        The post (for a top-level comment) or the comment an answer belongs to.

    Returns
    -------
    dict
        Posts-table fields with the raw owner id and username; ``source_file`` and
        ``source_line`` are left for the caller.

    Raises
    ------
    ValueError
        When the record is not a comment or lacks its id or time; the message is a reject reason.
    """
    if not isinstance(comment, Mapping):
        raise ValueError(f"wrong shape: not a comment object but a JSON {json_type(comment)}")
    comment_id = json_id(comment.get("id"), "id")
    if comment_id is None:
        raise ValueError("missing id: comment has no id")
    created = comment.get("created_at")
    if created in (None, ""):
        raise ValueError("missing time: comment has no created_at")
    created_at = parse_required_time(created, "created_at", utc_platform="Instagram")
    owner = comment.get("owner") if isinstance(comment.get("owner"), Mapping) else {}
    text = comment.get("text")
    text = text if isinstance(text, str) else None
    return {
        "platform": PLATFORM,
        "id": comment_id,
        "uid": make_uid(PLATFORM, comment_id),
        "kind": "comment",
        "thread_id": thread_id,
        "root_id": thread_id,  # the post: known, though maybe not a row (threads.add_threads)
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": "second",
        "author_id": json_id(owner.get("id"), "owner.id"),
        "author_handle": owner.get("username") or None,
        "text": text,
        "text_status": "ok" if text is not None else "unavailable",
        "like_count": json_count(comment.get("likes_count")),
        "reply_count": len(comment["answers"]) if isinstance(comment.get("answers"), list)
        else None,
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }


def rows_from_comment(comment: dict, *, thread_id: str) -> list[dict | tuple[str, object]]:
    """The row of a top-level comment, then per answer a row or ``(reject reason, answer)``.

    A comment that is rejected (no time, say) is ``(reason, comment)`` and its answers are
    still read, under its id (their parent, then missing from the table: ``depth`` null); when
    it has no id, its answers cannot be placed in the thread and are rejected with it.

    Raises
    ------
    ValueError
        When ``comment`` is not a comment object (its answers cannot be found).
    """
    if not isinstance(comment, Mapping):
        raise ValueError(f"wrong shape: not a comment object but a JSON {json_type(comment)}")
    out: list[dict | tuple[str, object]] = []
    try:
        out.append(row_from_comment(comment, thread_id=thread_id, parent_id=thread_id))
        parent = out[0]["id"]
    except ValueError as exc:
        try:
            parent = json_id(comment.get("id"), "id")
        except ValueError:
            parent = None
        if parent is None:
            raise
        out.append((str(exc), {k: v for k, v in comment.items() if k != "answers"}))
    answers = comment.get("answers")
    if answers is None:
        return out
    if not isinstance(answers, list):
        out.append((f"wrong shape: answers of comment {parent} is not a JSON array but a "
                    f"JSON {json_type(answers)}", answers))
        return out
    for answer in answers:
        try:
            out.append(row_from_comment(answer, thread_id=thread_id, parent_id=parent))
        except ValueError as exc:
            out.append((f"{exc} (an answer to comment {parent})", answer))
    return out


def row_from_post(node: Mapping) -> dict:
    """Map the ``node`` of an instaloader post metadata file to a ``context`` post row."""
    shortcode = node.get("shortcode")
    if not isinstance(shortcode, str) or not shortcode:
        raise ValueError("post metadata has no shortcode")
    created = node.get("taken_at_timestamp")
    try:
        created_at = parse_time(created) if created not in (None, "") else None
    except (ValueError, TypeError, OverflowError):
        created_at = None
    if created_at is pd.NaT:
        created_at = None
    edges = (node.get("edge_media_to_caption") or {}).get("edges") or []
    # a post without a caption (no caption edge) has an empty text, not an unavailable one
    caption = "" if "edge_media_to_caption" in node else None
    if edges and isinstance(edges[0], Mapping):
        caption = (edges[0].get("node") or {}).get("text")
    owner = node.get("owner") if isinstance(node.get("owner"), Mapping) else {}
    likes = node.get("edge_media_preview_like") or node.get("edge_liked_by") or {}
    comments = node.get("edge_media_to_comment") or node.get("edge_media_preview_comment") or {}
    return {
        "platform": PLATFORM,
        "id": shortcode,
        "uid": make_uid(PLATFORM, shortcode),
        "kind": "post",
        "thread_id": shortcode,
        "parent_id": None,
        "created_at": created_at,
        "created_at_precision": "second" if created_at is not None else "missing",
        "author_id": json_id(owner.get("id"), "owner.id"),
        "author_handle": owner.get("username") or None,
        "text": caption if isinstance(caption, str) else None,
        "text_status": "ok" if isinstance(caption, str) else "unavailable",
        "like_count": json_count(likes.get("count")) if isinstance(likes, Mapping) else None,
        "reply_count": (json_count(comments.get("count")) if isinstance(comments, Mapping)
                        else None),
        "collection_role": "context",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }


def post_prefix(path: Path) -> str | None:
    """instaloader's prefix of a comments file name (the part before ``_comments.json``)."""
    for suffix in COMMENT_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)]
    return None


def _read_metadata(path: Path) -> Mapping | None:
    """The post metadata next to the comments file ``path``: ``{"node": ..., "file": ...,
    "broken": ...}`` (``broken`` counts its texts that held a lone surrogate, U+FFFD now, for
    :func:`~analysis.loaders.base.warn_broken_texts`), or None."""
    prefix = post_prefix(path)
    if prefix is None:
        return None
    for suffix in METADATA_SUFFIXES:
        candidate = path.with_name(prefix + suffix)
        if not candidate.is_file():
            continue
        broken: Counter = Counter()
        try:
            raw = read_whole(candidate)
            data = load_json(raw, broken) if raw is not None else None
        except (*DECOMPRESSION_ERRORS, UnicodeDecodeError, json.JSONDecodeError):
            continue
        node = data.get("node") if isinstance(data, Mapping) else None
        if isinstance(node, Mapping) and isinstance(node.get("shortcode"), str):
            return {"node": node, "file": str(candidate), "broken": broken}
    return None


def companion_files(path: Path) -> list[Path]:
    """Files outside the input ``path`` that :func:`read` reads: the post's metadata file next
    to a comments file (ingest's manifest records it with the inputs)."""
    metadata = _read_metadata(Path(path))
    return [Path(metadata["file"])] if metadata is not None else []


def shortcode_from_name(path: Path) -> str | None:
    """The post shortcode in a comments file name, or ``None`` (e.g. for the default date name).

    Examples
    --------
    >>> shortcode_from_name(Path("CF1abcDEF_comments.json"))
    'CF1abcDEF'
    >>> shortcode_from_name(Path("2020-09-30_21-05-12_UTC_CF1abcDEF_comments.json.xz"))
    'CF1abcDEF'
    >>> shortcode_from_name(Path("2020-09-30_21-05-12_UTC_comments.json")) is None
    True
    """
    prefix = post_prefix(path)
    if prefix is None or _DATE_PREFIX.match(prefix):
        return None
    match = _DATE_THEN_CODE.match(prefix)
    if match:
        return match.group(1)
    return prefix if _SHORTCODE.match(prefix) else None


def resolve_thread(path: Path, options: LoadOptions) -> tuple[str, Mapping | None]:
    """The post shortcode for a comments file, and the post's metadata when found next to it.

    Raises
    ------
    UserError
        When neither ``--thread-id``, a metadata file nor the file name gives the post.
    """
    metadata = _read_metadata(path)
    if options.thread_id:
        return str(options.thread_id), metadata if (
            metadata and metadata["node"].get("shortcode") == options.thread_id) else None
    if metadata is not None:
        return metadata["node"]["shortcode"], metadata
    code = shortcode_from_name(path)
    if code is not None:
        return code, None
    raise UserError("cannot tell which Instagram post these comments belong to (no post id in "
                    "the file name and no post metadata .json.xz next to it); pass --thread-id "
                    "SHORTCODE", path)


def _read_metadata_file(path: Path) -> Iterator[dict | Reject]:
    """A post metadata file given as input: its post as a ``matched`` row (other nodes: reject)."""
    name = str(path)
    try:
        with open_binary(path) as handle:
            raw = handle.read(MAX_ELEMENT_CHARS + 1)
    except DECOMPRESSION_ERRORS as exc:
        yield Reject(name, None, f"truncated or corrupt compressed file: {exc}", "")
        return
    broken: Counter = Counter()
    try:
        data = load_json(raw, broken)
    except UnicodeDecodeError:
        yield Reject(name, 1, "invalid UTF-8", snippet(raw))
        return
    except json.JSONDecodeError as exc:
        yield Reject(name, exc.lineno, json_error_reason(exc), snippet(raw))
        return
    node = data.get("node") if isinstance(data, Mapping) else None
    kind = ((data.get("instaloader") or {}).get("node_type") if isinstance(data, Mapping)
            else None)
    if not isinstance(node, Mapping) or kind != "Post":
        yield Reject(name, 1, f"not a post: instaloader metadata of a {kind or 'unknown'} node",
                     snippet(raw))
        return
    try:
        row = row_from_post(node)
    except ValueError as exc:
        yield Reject(name, 1, f"missing id: {exc}", snippet(raw))
        return
    warn_broken_texts(name, broken)
    row["collection_role"] = "matched"
    row["source_file"] = name
    row["source_line"] = 1
    yield row


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield the post (when its metadata is next to the file), then one row per comment/answer.

    ``source_line`` is the line where the top-level comment starts; answers share it. A post
    metadata file given as input yields its post (``collection_role = "matched"``), so a whole
    instaloader folder can be ingested.
    """
    path = Path(path)
    name = str(path)
    if post_prefix(path) is None:
        try:
            with open_binary(path) as handle:
                head = handle.read(4096)
        except DECOMPRESSION_ERRORS:
            head = b""
        if _is_metadata(head):
            yield from _read_metadata_file(path)
            return
    thread_id, metadata = resolve_thread(path, options)
    if metadata is not None:
        try:
            post = row_from_post(metadata["node"])
        except ValueError:
            post = None
        if post is not None:
            warn_broken_texts(metadata["file"], metadata["broken"])
            post["source_file"] = metadata["file"]
            post["source_line"] = None
            yield post
    comments = iter_json_array(path, resume=_is_top_level_comment,
                               skipped="the comment (with its answers) is skipped")
    for item in comments:
        if isinstance(item, Reject):
            yield item
            continue
        number, element = item
        try:
            rows = rows_from_comment(element, thread_id=thread_id)  # type: ignore[arg-type]
        except ValueError as exc:
            yield Reject(name, number, str(exc),
                         record_snippet(element))
            continue
        for row in rows:
            if isinstance(row, tuple):
                reason, raw = row
                yield Reject(name, number, reason,
                             record_snippet(raw))
                continue
            row["source_file"] = name
            row["source_line"] = number
            yield row
