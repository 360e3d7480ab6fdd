"""twarc2 output (Twitter API v2): response pages and flattened tweets, one JSON value per line.

A *response page* is ``{"data": [...], "includes": {"users", "tweets", ...}, "errors": [...],
"meta": {...}, "__twarc": {"retrieved_at": ...}}``; a *flattened* line (``twarc2 flatten``) is
one tweet with its ``author`` and referenced tweets inlined. :func:`row_from_tweet` maps one v2
tweet to a posts-table row; :func:`read` streams a file.

Mapping rules (see docs/schema.md):

- ``kind``/``parent_id`` from ``referenced_tweets``: ``retweeted`` -> repost, ``replied_to`` ->
  reply, ``quoted`` -> quote (a reply that quotes stays a reply); ``parent_id`` is the
  referenced id.
- ``thread_id`` and ``root_id`` from ``conversation_id`` (the id of the conversation's first
  tweet).
- The author's handle comes from ``includes.users`` (pages) or ``author`` (flattened lines).
- ``collected_at`` from ``__twarc.retrieved_at``.
- Tweets in ``data`` are ``matched``; ``includes.tweets`` (and inlined referenced tweets of
  flattened lines) are ``context``. A context tweet that cannot be read (no id or time) is
  skipped: it is not a record the collection asked for, and its line is accounted for by the
  matched tweets.
- Edits: a tweet with ``edit_history_tweet_ids`` gets the id of its latest version (the last of
  that list), and of the versions in one page only the latest is kept. Versions in different pages
  share a uid and collapse in :func:`analysis.loaders.ingest.ingest` (latest ``collected_at``).
  A reply, quote or retweet of an earlier version names that version's id; where the page (or the
  flattened line) holds a version of that tweet with its ``edit_history_tweet_ids``, as twarc2's
  expansions of referenced tweets do, ``parent_id``, ``root_id`` and ``thread_id`` name the
  latest version instead, so the reply joins the tree. Known limit: where no version of the
  edited tweet is in the same page or line, the earlier id stays and the chain is unresolved
  (``depth`` null).
- ``errors`` about tweets (``resource_type`` tweet) become rows without text: ``text_status``
  ``deleted`` (Not Found), ``withheld`` or ``unavailable`` (not authorized, suspended author),
  ``created_at_precision`` missing and no ``kind``: such a notice is no root of a thread, and a
  copy of the tweet with content wins over it whenever collected
  (:func:`analysis.loaders.light.compact`). Errors about users or pinned tweets are not records
  of posts and are ignored.
- ``text``: ``note_tweet.text`` (a long post's whole text), else ``text``, with the API's
  ``&amp;``, ``&lt;`` and ``&gt;`` undone
  (:func:`analysis.loaders.twitter_v1.unescape_tweet_text`).
- Tweets with ``withheld`` get ``text_status = "withheld"`` (their text, if given, is kept).
- Lines from other twarc2 commands (``counts``, ``users``, compliance jobs) are rejected with a
  reason naming what they are.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.loaders.base import (
    LOADER_VERSION,
    LoadOptions,
    NaiveTimeError,
    Reject,
    in_time_range,
    json_count,
    json_type,
    make_uid,
    parse_time,
    shown,
    snippet,
    warn_broken_texts,
)
from analysis.loaders.twitter_v1 import json_records, parse_line, unescape_tweet_text
from analysis.schema import FIRST_TIME, LAST_TIME

FORMAT = "twarc2"
PLATFORM = "twitter"

#: posts-table count field -> key in ``public_metrics``.
COUNT_FIELDS = {
    "like_count": "like_count",
    "reply_count": "reply_count",
    "share_count": "retweet_count",
    "quote_count": "quote_count",
}
#: Twitter's language codes that mean "no language" (undetermined, media only, hashtags only...).
NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst"})
#: Precedence of referenced tweet types when a tweet has several.
REFERENCE_KINDS = (("retweeted", "repost"), ("replied_to", "reply"), ("quoted", "quote"))

_PAGE_START = re.compile(rb'^\s*\{\s*"(data|errors|includes|meta)"\s*:')
_COMPLIANCE = re.compile(rb'^\s*\{\s*"id"\s*:\s*"\d+"\s*,\s*"action"\s*:')
_V2_MARKERS = (b'"conversation_id"', b'"__twarc"', b'"edit_history_tweet_ids"',
               b'"tweet_count"', b'"public_metrics"')


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` looks like twarc2 output (a v2 page, a flattened tweet, or another twarc2
    command's output that :func:`read` rejects with a reason)."""
    if _COMPLIANCE.match(head):
        return True
    if not head.lstrip().startswith(b"{"):
        return False
    if _PAGE_START.match(head):
        return any(marker in head for marker in _V2_MARKERS)
    return b'"__twarc"' in head or (b'"author_id"' in head and b'"conversation_id"' in head)


def _str(value: object) -> str | None:
    if type(value) is str:
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def entity_texts(items: object, key: str, *, skip_media: bool = False) -> list[str]:
    """The non-empty strings under ``key`` of the entity objects ``items`` (``expanded_url``
    falls back to ``url``; with ``skip_media``, media links are left out)."""
    if not isinstance(items, list):
        return []
    fallback = "url" if key == "expanded_url" else None
    return [value for item in items
            if isinstance(item, dict) and not (skip_media and "media_key" in item)
            and isinstance(value := item.get(key) or (fallback and item.get(fallback)), str)
            and value]


#: The table's time range (:func:`~analysis.loaders.base.in_time_range`) in whole microseconds,
#: the precision of a :class:`datetime`: a time in it is a Timestamp in range.
_FIRST_TIME = FIRST_TIME.ceil("us").to_pydatetime()
_LAST_TIME = LAST_TIME.floor("us").to_pydatetime()


def parse_iso_time(value: object) -> pd.Timestamp | None:
    """:func:`~analysis.loaders.base.parse_time`, with a fast path for the API's ISO times.

    A time without a zone raises :class:`ValueError` saying the record is malformed: Twitter
    writes UTC, and the Twitter formats do not read ``--tz``.
    """
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            stamp = None
        if stamp is not None and stamp.tzinfo is not None:  # the API's times: the fast path
            if stamp.tzinfo is not UTC:
                stamp = stamp.astimezone(UTC)
            if _FIRST_TIME <= stamp <= _LAST_TIME:  # as in_time_range, on the datetime
                return pd.Timestamp(stamp)
            return in_time_range(pd.Timestamp(stamp), value)
    try:
        return parse_time(value)
    except NaiveTimeError as exc:
        raise exc.on_utc_platform("Twitter") from None


def parse_created_at(created: object) -> pd.Timestamp | None:
    """:func:`parse_iso_time` of a tweet's ``created_at`` (present), for twarc2 and twarc-csv.

    Raises
    ------
    ValueError
        With the reject reason ``bad created_at: <value> (<why>)``.
    """
    try:
        return parse_iso_time(created)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"bad created_at: {shown(created)} ({exc})") from None


def _collected(value: object) -> pd.Timestamp | None:
    """``__twarc.retrieved_at`` as a UTC Timestamp; anything unreadable gives None."""
    if isinstance(value, pd.Timestamp):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_iso_time(value)
    except (ValueError, TypeError, OverflowError):
        return None


def latest_id(tweet: Mapping) -> str | None:
    """The id of the latest known version of ``tweet`` (last of ``edit_history_tweet_ids``)."""
    return _chain_place(tweet)[0]


def add_versions(versions: dict[str, str], tweet: Mapping) -> None:
    """Record in ``versions`` the latest id of each earlier version of an edited ``tweet``."""
    history = tweet.get("edit_history_tweet_ids")
    if isinstance(history, list) and len(history) > 1:
        latest = _str(history[-1])
        if latest is not None:
            for earlier in history[:-1]:
                if (earlier := _str(earlier)) is not None and earlier != latest:
                    versions[earlier] = latest


def name_latest_versions(row: dict, versions: Mapping[str, str]) -> dict:
    """``row`` with the ids it refers to (parent, root, thread) moved to their latest versions."""
    if not versions:  # no edited tweet here: the common case
        return row
    for name in ("parent_id", "root_id", "thread_id"):
        if row.get(name) in versions:
            row[name] = versions[row[name]]
    return row


def _chain_place(tweet: Mapping) -> tuple[str | None, int]:
    """The id of the latest version of ``tweet`` (its edit chain: the last of
    ``edit_history_tweet_ids``, else its own id) and its place in that chain (the position of
    its own id in that list, 0 when not there), reading the history once."""
    history = tweet.get("edit_history_tweet_ids")
    own = _str(tweet.get("id"))
    if isinstance(history, list) and history:
        return _str(history[-1]) or own, history.index(own) if own in history else 0
    return own, 0


def row_from_tweet(tweet: dict, users: Mapping[str, Mapping] | None = None, *,
                   collected_at: object = None, role: str = "matched") -> dict:
    """Map one API v2 tweet to a posts-table row.

    Parameters
    ----------
    tweet
        A v2 tweet object (``id``, ``created_at``, ``text``, ``author_id``, ...), as in a page's
        ``data`` or a flattened line (whose ``author`` is used when present).
    users
        ``includes.users`` by id, for the author's handle.
    collected_at
        ``__twarc.retrieved_at`` (a string or Timestamp) or None.
    role
        ``matched`` or ``context``.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        When the record is not a tweet or lacks its id or time; the message is a reject reason.
    """
    if not isinstance(tweet, dict):
        raise ValueError(f"not a tweet object but a JSON {json_type(tweet)}")
    post_id = latest_id(tweet)
    if post_id is None:
        raise ValueError("tweet has no id")
    created = tweet.get("created_at")
    if created in (None, ""):
        raise ValueError("tweet has no created_at")
    created_at = parse_created_at(created)

    kind, parent_id = "post", None
    refs = tweet.get("referenced_tweets")
    if isinstance(refs, list) and refs:
        by_type = {r["type"]: _str(r.get("id")) for r in refs
                   if isinstance(r, dict) and isinstance(r.get("type"), str)}
        for ref_type, ref_kind in REFERENCE_KINDS:
            if by_type.get(ref_type):
                kind, parent_id = ref_kind, by_type[ref_type]
                break

    author_id = _str(tweet.get("author_id"))
    author = tweet.get("author")
    if not isinstance(author, dict):
        author = (users or {}).get(author_id) if author_id else None
    if isinstance(author, dict):
        author_id = author_id or _str(author.get("id"))
        handle = author.get("username") or None
    else:
        handle = None

    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) and note.get("text") else None
    if text is None and not isinstance(text := tweet.get("text"), str):
        text = None
    if isinstance(text, str):
        text = unescape_tweet_text(text)
    withheld = tweet.get("withheld")
    if isinstance(withheld, dict) and withheld:
        status = "withheld"
    elif text is None:
        status = "unavailable"
    else:
        status = "ok"
    if not isinstance(entities := tweet.get("entities"), dict):
        entities = {}
    if not isinstance(metrics := tweet.get("public_metrics"), dict):
        metrics = {}
    lang = tweet.get("lang")
    conversation = _str(tweet.get("conversation_id"))
    collected_at = _collected(collected_at)
    row = {
        "platform": PLATFORM,
        "id": post_id,
        "uid": make_uid(PLATFORM, post_id),
        "kind": kind,
        "thread_id": conversation,
        "root_id": conversation,
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": "second",
        "collected_at": collected_at,
        "author_id": author_id,
        "author_handle": handle,
        "reply_to_author_id": _str(tweet.get("in_reply_to_user_id")) if kind == "reply" else None,
        "text": text,
        "text_status": status,
        "lang": lang if isinstance(lang, str) and lang and lang not in NO_LANGUAGE else None,
        "hashtags": entity_texts(entities.get("hashtags"), "tag"),
        "mentions": entity_texts(entities.get("mentions"), "username"),
        "urls": entity_texts(entities.get("urls"), "expanded_url", skip_media=True),
        "collection_role": role,
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    for field, key in COUNT_FIELDS.items():
        row[field] = json_count(metrics.get(key))
    return row


def _error_status(error: Mapping) -> str:
    text = " ".join(str(error.get(k, "")) for k in ("title", "detail", "type")).lower()
    if "suspended" in text:
        return "unavailable"
    if "withheld" in text:
        return "withheld"
    if "not found" in text or "could not find" in text:
        return "deleted"
    return "unavailable"


def row_from_error(error: Mapping, *, collected_at: object = None,
                   role: str = "context") -> dict | None:
    """A text-less row for an API error about a tweet, or None for errors about anything else."""
    if not isinstance(error, dict) or error.get("resource_type") != "tweet":
        return None
    if error.get("parameter") == "pinned_tweet_id":
        return None
    post_id = _str(error.get("resource_id")) or _str(error.get("value"))
    if post_id is None or not post_id.isdigit():
        return None
    collected_at = _collected(collected_at)
    return {
        "platform": PLATFORM, "id": post_id, "uid": make_uid(PLATFORM, post_id),
        "created_at": None, "created_at_precision": "missing", "collected_at": collected_at,
        "text": None, "text_status": _error_status(error), "collection_role": role,
        "source_format": FORMAT, "loader_version": LOADER_VERSION,
        "hashtags": None, "mentions": None, "urls": None, **_NOT_KNOWN_OF_ERRORS,
    }


#: The other fields of a tweet's row, unknown for an error's row: named (as null) so that the
#: rows of a page all have the same fields, which a chunk reads fastest
#: (:func:`analysis.loaders.chunks.typed_chunk`).
_NOT_KNOWN_OF_ERRORS = dict.fromkeys((
    "kind", "thread_id", "root_id", "parent_id", "author_id", "author_handle",
    "reply_to_author_id", "lang", *COUNT_FIELDS))


def _what_is(item: Mapping) -> str | None:
    """Name of the non-tweet twarc2 output an item belongs to, or None for tweets."""
    if "tweet_count" in item and "start" in item:
        return "tweet counts (twarc2 counts)"
    if "username" in item and "text" not in item:
        return "user objects (twarc2 users / followers / following)"
    if "action" in item and "text" not in item:
        return "a compliance event (twarc2 compliance)"
    return None


def _page_rows(page: Mapping, number: int, name: str) -> Iterator[dict | Reject]:
    """Rows of one response page: matched tweets, context tweets, errors about tweets."""
    meta = page.get("__twarc") if isinstance(page.get("__twarc"), dict) else {}
    retrieved = _collected(meta.get("retrieved_at"))
    data = page.get("data")
    if isinstance(data, dict):
        data = [data]
    if data is not None and not isinstance(data, list):
        yield Reject(name, number, "page 'data' is neither a JSON array nor an object but a "
                     f"JSON {json_type(data)}", "")
        return
    data = data or []
    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    if data and isinstance(data[0], dict) and (what := _what_is(data[0])):
        yield Reject(name, number, f"not tweets: {what}", snippet(json.dumps(data[0])))
        return
    users = {}
    for user in _list(includes.get("users")):
        if isinstance(user, dict) and (user_id := _str(user.get("id"))):
            users[user_id] = user
    extra = includes.get("tweets") if isinstance(includes.get("tweets"), list) else []

    # One entry per edit chain: the latest version seen in this page, matched if any was.
    chains: dict[str, tuple[int, Mapping, str]] = {}
    order: list[str] = []
    problems: list[Reject] = []
    versions: dict[str, str] = {}  # earlier version's id -> latest, of the edited tweets here
    for role, tweets in (("matched", data), ("context", extra)):
        for tweet in tweets:
            if not isinstance(tweet, dict):
                problems.append(Reject(name, number, f"tweet is not an object but a JSON "
                                       f"{json_type(tweet)}", snippet(json.dumps(tweet))))
                continue
            add_versions(versions, tweet)
            key, rank = _chain_place(tweet)
            if key is None:
                if role == "matched":
                    problems.append(Reject(name, number, "tweet has no id",
                                           snippet(json.dumps(tweet))))
                continue
            if key not in chains:
                chains[key] = (rank, tweet, role)
                order.append(key)
                continue
            old_rank, old_tweet, old_role = chains[key]
            best = tweet if rank >= old_rank else old_tweet
            chains[key] = (max(rank, old_rank), best,
                           "matched" if "matched" in (role, old_role) else "context")
    yield from problems
    rejected = bool(problems)  # a record of this page was rejected: the page is accounted for
    emitted = set()
    for key in order:
        _, tweet, role = chains[key]
        try:
            row = row_from_tweet(tweet, users, collected_at=retrieved, role=role)
        except ValueError as exc:
            if role == "matched":
                rejected = True
                yield Reject(name, number, str(exc), snippet(json.dumps(tweet)))
            continue
        emitted.add(key)
        row["source_file"] = name
        row["source_line"] = number
        yield name_latest_versions(row, versions)
    for error in _list(page.get("errors")):
        row = row_from_error(error, collected_at=retrieved,
                             role="matched" if isinstance(error, dict)
                             and error.get("parameter") == "ids" else "context")
        if row is None or row["id"] in emitted:
            continue
        emitted.add(row["id"])
        row["source_file"] = name
        row["source_line"] = number
        yield row
    if not emitted and not rejected:  # no tweet record at all: the page itself is the reject
        count = page.get("meta", {}).get("result_count") if isinstance(
            page.get("meta"), dict) else None
        yield Reject(name, number, "no tweets in this response page"
                     + (f" (meta.result_count {count})" if count is not None else ""),
                     snippet(json.dumps(page)[:400]))


def _flat_rows(tweet: Mapping, number: int, name: str) -> Iterator[dict | Reject]:
    """Rows of one flattened tweet: the tweet and the referenced tweets inlined in it."""
    meta = tweet.get("__twarc") if isinstance(tweet.get("__twarc"), dict) else {}
    retrieved = _collected(meta.get("retrieved_at"))
    try:
        row = row_from_tweet(tweet, collected_at=retrieved)  # type: ignore[arg-type]
    except ValueError as exc:
        yield Reject(name, number, str(exc), snippet(json.dumps(tweet)))
        return
    row["source_file"] = name
    row["source_line"] = number
    refs = [ref for ref in _list(tweet.get("referenced_tweets")) if isinstance(ref, dict)]
    versions: dict[str, str] = {}
    for version in (tweet, *refs):
        add_versions(versions, version)
    yield name_latest_versions(row, versions)
    for ref in refs:
        if "text" not in ref or "created_at" not in ref:
            continue
        try:
            context = row_from_tweet(ref, collected_at=retrieved,  # type: ignore[arg-type]
                                     role="context")
        except ValueError:
            continue
        context["source_file"] = name
        context["source_line"] = number
        yield name_latest_versions(context, versions)


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield rows and rejects for every line of a twarc2 file (pages or flattened tweets)."""
    yield from _rows_of_values(str(path), json_records(Path(path)))


def read_lines(path: Path, lines: Iterable[tuple[int, bytes]], options: LoadOptions
               ) -> Iterator[dict | Reject]:
    """:func:`read` for some lines of a file read as JSON lines (a part of a large file, see
    :mod:`analysis.loaders.parts`); ``lines`` are ``(line number, raw bytes)``."""
    name = str(path)
    broken: Counter = Counter()
    yield from _rows_of_values(name, (parse_line(name, number, raw, broken)
                                      for number, raw in lines))
    warn_broken_texts(name, broken)


def _rows_of_values(name: str, values: Iterable[tuple[int, object] | Reject]
                    ) -> Iterator[dict | Reject]:
    for item in values:
        if isinstance(item, Reject):
            yield item
            continue
        number, value = item
        if not isinstance(value, dict):
            yield Reject(name, number, f"not a twarc2 page or tweet but a JSON "
                         f"{json_type(value)}", snippet(json.dumps(value)))
            continue
        if "id" in value and ("text" in value or "created_at" in value) and "data" not in value:
            what = _what_is(value)
            if what:
                yield Reject(name, number, f"not tweets: {what}", snippet(json.dumps(value)))
            else:
                yield from _flat_rows(value, number, name)
        elif any(key in value for key in ("data", "errors", "includes", "meta")):
            yield from _page_rows(value, number, name)
        else:
            what = _what_is(value) or "not a twarc2 page or tweet"
            yield Reject(name, number, what if what.startswith("not") else f"not tweets: {what}",
                         snippet(json.dumps(value)))
