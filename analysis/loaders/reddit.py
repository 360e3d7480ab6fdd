"""Reddit comments (``t1``) and submissions (``t3``): one record to one posts-table row.

:func:`row_from_thing` is the pure mapping shared by the Reddit loaders: the Reddit API
(:mod:`analysis.loaders.reddit_api`), Pushshift / Arctic Shift dumps
(:mod:`analysis.loaders.pushshift`) and the Reddit threads of RumourEval
(:mod:`analysis.loaders.rumoureval`). These sources share most field names; the mapping is:

=====================  ==========================================================================
posts-table field      Reddit field
=====================  ==========================================================================
``id``                 ``id`` (else ``name`` without its ``t1_`` / ``t3_`` prefix)
``kind``               ``comment`` for ``t1``, ``post`` for ``t3``
``thread_id``          the submission: ``link_id`` for a comment, ``id`` for a submission
``root_id``            the same as ``thread_id``
``parent_id``          ``parent_id`` without its prefix (a comment's parent is a comment or the
                       submission); null for a submission
``created_at``         ``created_utc`` (epoch seconds as int, float or numeric string)
``collected_at``       ``retrieved_on`` (Pushshift) or ``retrieved_utc`` (Arctic Shift)
``author_id``          ``author``: the username (see below); null for ``[deleted]``
``author_handle``      ``author``
``text``               ``body`` (comment) or ``selftext`` (submission); ``""`` when empty (a link
                       post); null for a ``[deleted]`` / ``[removed]`` marker or an empty text
                       that ``removed_by_category`` says was removed, and when the field is
                       absent (``text_status`` ``unavailable``)
``title``              ``title`` (submissions)
``text_status``        ``deleted`` / ``removed`` from those markers; for a post with an empty text
                       and no marker, from ``removed_by_category``; else ``ok``
``score``              ``score`` (else ``ups``)
``reply_count``        ``num_comments`` (submissions)
``urls``               the link of a link submission (``url`` when it is not a self post), then
                       the ``http(s)://`` links in the text; null when there is neither
``mentions``           ``u/name`` and ``/u/name`` mentions in the text; null without text
``hashtags``           null (Reddit has none)
=====================  ==========================================================================

``author_id`` is the username, not ``author_fullname`` (``t2_...``): usernames are permanent and
unique on Reddit, and they are present in every generation of dump, while ``author_fullname`` is
missing from Pushshift records before about 2018. Using one key everywhere keeps
``author_is_op`` and ``reply_to_author_id`` right when old and new records meet in one thread.
``edited`` (``false`` or the epoch of the last edit) and ``permalink`` have no column in the posts
table: the text is the version at collection time.

Examples
--------
>>> row = row_from_thing({"id": "c13", "link_id": "t3_17863", "parent_id": "t3_17863",
...                       "created_utc": 1134365188, "author": "frjo", "body": "A look at ...",
...                       "score": 2, "retrieved_on": 1473738411}, "t1")
>>> row["uid"], row["kind"], row["thread_id"], row["parent_id"], row["text_status"]
('reddit:c13', 'comment', '17863', '17863', 'ok')
>>> row["created_at"]
Timestamp('2005-12-12 05:26:28+0000', tz='UTC')
>>> row_from_thing({"id": "x1", "created_utc": "1569888142.0", "title": "Escaping abuse.",
...                 "selftext": "[removed]", "author": "[deleted]"}, "t3")["text_status"]
'removed'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import pandas as pd

from analysis.loaders.base import (
    LOADER_VERSION,
    NaiveTimeError,
    json_type,
    make_uid,
    parse_time,
    shown,
)
from analysis.loaders.counts import CountNotes

PLATFORM = "reddit"

#: Reddit "thing" kind -> posts-table ``kind``.
KINDS = {"t1": "comment", "t3": "post"}

#: The text field of each kind.
TEXT_FIELDS = {"t1": "body", "t3": "selftext"}

#: Prefixes of Reddit fullnames (``t1_abc``): comment, account, link (submission), subreddit.
FULLNAME_PREFIXES = ("t1_", "t2_", "t3_", "t4_", "t5_", "t6_")

#: Text (or author) values that stand for content no longer there, and the ``text_status`` each
#: means. ``[deleted]``: the author deleted it; ``[removed]``: a moderator or Reddit removed it.
DELETED_MARKERS = {
    "[deleted]": "deleted",
    "[removed]": "removed",
    "[ Removed by Reddit ]": "removed",
    "[removed by reddit]": "removed",
}

#: ``removed_by_category`` values that mean the author deleted the post; any other value means
#: a moderator, Reddit or a legal request removed it. Used only when the text carries no marker.
AUTHOR_REMOVALS = ("deleted", "author")

#: Author names that are not an account.
NO_AUTHOR = ("[deleted]", "[removed]", "")

#: Fields holding the time a record was retrieved, in the order tried.
COLLECTED_FIELDS = ("retrieved_on", "retrieved_utc", "_retrieved_on")

_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})\b")
_URL = re.compile(r"https?://(?:[^\s()\[\]<>\"]|\([^\s()<>\"]*\))+")
_URL_TAIL = ".,;:!?*'"


def marked_text(text: str | None, status: str | None) -> tuple[str | None, str | None]:
    """A table row's Reddit ``text`` and ``text_status`` with Reddit's markers read as the
    Reddit loaders read them: a text ``[deleted]`` / ``[removed]`` (:data:`DELETED_MARKERS`)
    is no text, with that status, unless ``status`` (a ``text_status`` column) was given.

    >>> marked_text(" [removed] ", None), marked_text("[deleted]", "ok")
    ((None, 'removed'), ('[deleted]', 'ok'))
    """
    marked = DELETED_MARKERS.get((text or "").strip())
    return (None, marked) if marked is not None and status is None else (text, status)


def account(name: str | None) -> str | None:
    """An author's name, or None for Reddit's markers of no account (:data:`NO_AUTHOR`: every
    deleted user would otherwise be one account).

    >>> account("ann"), account("[deleted]")
    ('ann', None)
    """
    return None if name is None or name.strip() in NO_AUTHOR else name


def strip_fullname(value: object) -> str | None:
    """A Reddit id without its ``t1_`` / ``t3_`` ... prefix; ``None`` for a missing value.

    Examples
    --------
    >>> strip_fullname("t3_17863"), strip_fullname("c13"), strip_fullname(None)
    ('17863', 'c13', None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"not a Reddit id: {shown(value)}")
    value = value.strip()
    if not value:
        return None
    if value[:3] in FULLNAME_PREFIXES:
        return value[3:] or None
    return value


def _text(value: object) -> tuple[str | None, str]:
    """The text (HTML entities decoded) and its ``text_status``.

    Reddit stores ``body``, ``selftext`` and ``title`` with ``&``, ``<`` and ``>`` escaped as
    HTML entities (``&amp;``, ``&lt;``, ``&gt;``), in the API and in the dumps alike. An empty
    text (a link post's ``selftext``) is ``""``; a text that is not there (no field, a marker)
    is ``None``.
    """
    if not isinstance(value, str):
        return None, "unavailable"
    status = DELETED_MARKERS.get(value.strip())
    if status is not None:
        return None, status
    return html.unescape(value), "ok"


def _author(data: Mapping) -> str | None:
    author = data.get("author")
    if isinstance(author, Mapping):  # some scrapers nest the account
        author = author.get("name")
    if isinstance(author, int) and not isinstance(author, bool):
        author = str(author)  # rare in dumps, but an account all the same
    return account(author) if isinstance(author, str) else None


def _link_url(data: Mapping) -> list[str]:
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return []
    if data.get("is_self") is True:
        return []
    permalink = data.get("permalink")
    if isinstance(permalink, str) and permalink and url.endswith(permalink):
        return []
    return [url]


def _urls(data: Mapping, kind: str, text: str | None) -> list[str] | None:
    links = _link_url(data) if kind == "t3" else []
    if text is not None:
        for match in _URL.findall(text):
            url = match.rstrip(_URL_TAIL)
            if url not in links:
                links.append(url)
    elif not links:
        return None
    return links


def row_from_thing(data: dict, kind: str, notes: CountNotes | None = None) -> dict:
    """Map one Reddit comment (``t1``) or submission (``t3``) data dict to a posts-table row.

    Parameters
    ----------
    data
        The ``data`` of a Reddit API thing, or one Pushshift / Arctic Shift record.
    kind
        ``"t1"`` (comment) or ``"t3"`` (submission).
    notes
        Where to count the counts that are no count (null in the row; a ``score`` that is none
        falls back to ``ups``); without it they are null without a note.

    Returns
    -------
    dict
        Posts-table fields with the raw author name; ``depth``, ``source_format``,
        ``source_file`` and ``source_line`` are left for the caller.

    Raises
    ------
    ValueError
        When ``kind`` is not ``t1``/``t3`` or the record lacks its id or time, or they do not
        parse; the message is the reject reason.
    """
    if kind not in KINDS:
        raise ValueError(f"not a Reddit comment (t1) or submission (t3): kind {shown(kind)}")
    if not isinstance(data, Mapping):
        raise ValueError(f"not a Reddit {kind} object but a JSON {json_type(data)}")
    post_id = strip_fullname(data.get("id")) or strip_fullname(data.get("name"))
    if post_id is None:
        raise ValueError(f"missing id: Reddit {kind} without id or name")
    created = data.get("created_utc", data.get("created"))
    try:
        try:
            created_at = parse_time(created)
        except NaiveTimeError as exc:  # Reddit writes UTC; --tz is not read
            raise exc.on_utc_platform("Reddit") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(
            f"bad created_utc: {shown(created)} in Reddit {kind} {post_id} ({exc})") from None
    if created_at is None or pd.isna(created_at):
        raise ValueError(f"missing created_utc: Reddit {kind} {post_id}")
    collected_at = None
    for key in COLLECTED_FIELDS:
        if data.get(key) not in (None, ""):
            try:
                collected_at = parse_time(data[key])
            except (ValueError, TypeError, OverflowError):
                collected_at = None
            if collected_at is not None and pd.isna(collected_at):
                collected_at = None
            break

    if kind == "t1":
        parent_id = strip_fullname(data.get("parent_id"))
        thread_id = strip_fullname(data.get("link_id"))
        if thread_id is None and str(data.get("parent_id") or "").startswith("t3_"):
            thread_id = parent_id
    else:
        parent_id = None
        thread_id = post_id

    text, text_status = _text(data.get(TEXT_FIELDS[kind]))
    category = data.get("removed_by_category")
    if not (text or "").strip() and text_status in ("ok", "unavailable") \
            and isinstance(category, str) and category:
        text, text_status = None, "deleted" if category in AUTHOR_REMOVALS else "removed"
    title = data.get("title") if kind == "t3" else None
    title = html.unescape(title) if isinstance(title, str) and title else None
    author = _author(data)
    notes = CountNotes() if notes is None else notes
    score = notes.read(data.get("score"), "score")
    if score is None:
        score = notes.read(data.get("ups"), "score")

    return {
        "uid": make_uid(PLATFORM, post_id),
        "platform": PLATFORM,
        "id": post_id,
        "kind": KINDS[kind],
        "thread_id": thread_id,
        "parent_id": parent_id,
        "root_id": thread_id,
        "created_at": created_at,
        "created_at_precision": "second",
        "collected_at": collected_at,
        "author_id": author,
        "author_handle": author,
        "text": text,
        "title": title,
        "text_status": text_status,
        "score": score,
        "reply_count": notes.read(data.get("num_comments"), "reply_count")
        if kind == "t3" else None,
        "hashtags": None,
        "mentions": _MENTION.findall(text) if text is not None else None,
        "urls": _urls(data, kind, text),
        "collection_role": "matched",
        "loader_version": LOADER_VERSION,
    }


def kind_of(data: Mapping) -> str | None:
    """Guess ``t1`` or ``t3`` for a record without a ``kind`` (Pushshift lines), else ``None``.

    A record with ``body`` or a ``t1_``/``t3_`` ``parent_id`` is a comment; one with ``title``,
    ``selftext`` or ``num_comments`` is a submission.

    Examples
    --------
    >>> kind_of({"body": "hi", "parent_id": "t3_x"}), kind_of({"title": "t"}), kind_of({})
    ('t1', 't3', None)
    """
    name = data.get("name")
    if isinstance(name, str) and name[:3] in ("t1_", "t3_"):
        return name[:2]
    if "body" in data or "parent_id" in data:
        return "t1"
    if "title" in data or "selftext" in data or "num_comments" in data:
        return "t3"
    return None
