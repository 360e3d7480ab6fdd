"""Twitter API v1.1 tweet objects: one per line (JSON lines), one per file, a JSON array, a
JSON array per line (statuses/lookup responses), or search pages (search/tweets responses).

The core is :func:`row_from_tweet`, a pure mapping from one v1.1 tweet to one posts-table row;
other loaders (RumourEval, PHEME) reuse it. :func:`read` streams a file through it.

Mapping rules (see docs/schema.md):

- ``kind``: ``repost`` for a retweet (``retweeted_status``), ``reply`` when
  ``in_reply_to_status_id_str`` is set, ``quote`` for a quote tweet, else ``post``.
- ``parent_id``: the replied-to tweet; for a quote that is not a reply, the quoted tweet; for a
  retweet, the retweeted tweet. ``kind`` tells the three apart.
- ``text``: ``full_text`` (extended mode), else ``extended_tweet.full_text`` (streaming API), else
  ``text``, with the API's ``&amp;``, ``&lt;`` and ``&gt;`` turned back into ``&``, ``<`` and ``>``
  (:func:`unescape_tweet_text`). A retweet keeps its own text (``RT @user: ...``), not the
  original's.
- ``text_status``: ``withheld`` when the tweet carries ``withheld_in_countries``,
  ``withheld_copyright`` or ``withheld_scope``; the text, if present, is kept.
- Retweeted and quoted tweets embedded in a record are yielded by :func:`read` as extra rows with
  ``collection_role = "context"``.

Examples
--------
>>> row = row_from_tweet({"id_str": "5", "created_at": "Tue Mar 24 10:45:36 +0000 2015",
...                       "text": "hi #there", "in_reply_to_status_id_str": "4",
...                       "user": {"id_str": "9", "screen_name": "someone"},
...                       "entities": {"hashtags": [{"text": "there"}]}})
>>> row["uid"], row["kind"], row["parent_id"], row["hashtags"]
('twitter:5', 'reply', '4', ['there'])
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    ENDS_INSIDE_ARRAY,
    LOADER_VERSION,
    NESTED_TOO_DEEPLY,
    LoadOptions,
    NaiveTimeError,
    Reject,
    iter_json_array,
    iter_json_values,
    json_count,
    json_ends_early,
    json_error_reason,
    json_id,
    json_type,
    load_json,
    make_uid,
    parse_json_line,
    parse_time,
    read_whole,
    record_snippet,
    shown,
    snippet,
    warn_broken_texts,
)

FORMAT = "twitter-v1"
PLATFORM = "twitter"

#: Keys whose presence marks a tweet as withheld somewhere.
WITHHELD_KEYS = ("withheld_in_countries", "withheld_copyright", "withheld_scope")

#: posts-table count field -> v1.1 key.
COUNT_FIELDS = {
    "like_count": "favorite_count",
    "share_count": "retweet_count",
    "reply_count": "reply_count",
    "quote_count": "quote_count",
}

# ``"created_at": "Tue Mar 24 10:45:36 +0000 2015"`` next to an ``id_str``: a v1.1 object.
_V1_TIME = re.compile(
    rb'"created_at"\s*:\s*"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [+-]\d{4}')


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` looks like v1.1 tweets (a v1.1 ``created_at`` and an ``id_str``)."""
    start = head.lstrip()[:1]
    return start in (b"{", b"[") and b'"id_str"' in head and bool(_V1_TIME.search(head))


def _str_id(record: Mapping, key_str: str, key_int: str | None = None) -> str | None:
    value = record.get(key_str)
    if value in (None, "") and key_int is not None:
        value = record.get(key_int)
    return json_id(value, key_str)


def _entity_texts(items: object, *keys: str) -> list[str]:
    out: list[str] = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for key in keys:
            value = item.get(key)
            if isinstance(value, str) and value:
                out.append(value)
                break
    return out


#: The only escapes Twitter's API (v1.1 and v2) puts in a tweet's text, in the order they are
#: undone: ``&amp;`` last, so that a typed ``&lt;`` (sent as ``&amp;lt;``) comes back as ``&lt;``.
TWEET_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape_tweet_text(text: str) -> str:
    """A tweet's text as written: Twitter's API sends ``&``, ``<`` and ``>`` as ``&amp;``,
    ``&lt;`` and ``&gt;`` (and nothing else escaped); this undoes exactly those three.

    Shared by the Twitter loaders (v1.1, twarc2, twarc-csv, and through them RumourEval, PHEME and
    Zeeschuimer's X items), for texts only: urls and hashtags are not escaped.

    Examples
    --------
    >>> unescape_tweet_text("ok &lt;/3 fish &amp; chips")
    'ok </3 fish & chips'
    >>> unescape_tweet_text("typed: &amp;amp; &amp;lt; &copy;")
    'typed: &amp; &lt; &copy;'
    """
    if "&" not in text:  # most texts: no work
        return text
    for escaped, character in TWEET_ESCAPES:
        text = text.replace(escaped, character)
    return text


def _full_text(tweet: Mapping) -> tuple[str | None, Mapping]:
    """The tweet's full text (escapes undone) and the entities that go with it."""
    extended = tweet.get("extended_tweet")
    if isinstance(tweet.get("full_text"), str):
        return unescape_tweet_text(tweet["full_text"]), tweet.get("entities") or {}
    if isinstance(extended, Mapping) and isinstance(extended.get("full_text"), str):
        return (unescape_tweet_text(extended["full_text"]),
                extended.get("entities") or tweet.get("entities") or {})
    text = tweet.get("text")
    text = unescape_tweet_text(text) if isinstance(text, str) else None
    return text, tweet.get("entities") or {}


def _is_withheld(tweet: Mapping) -> bool:
    for key in WITHHELD_KEYS:
        value = tweet.get(key)
        if value not in (None, False, [], ""):
            return True
    return False


def row_from_tweet(tweet: dict) -> dict:
    """Map one Twitter v1.1 tweet object to a posts-table row.

    Parameters
    ----------
    tweet
        A v1.1 tweet (``id_str``/``id``, ``created_at``, ``user``, ``text`` or ``full_text``, ...).

    Returns
    -------
    dict
        Posts-table fields with the raw author id and handle; ``thread_id``, ``root_id``,
        ``depth``, ``source_file`` and ``source_line`` are left for the caller.

    Raises
    ------
    ValueError
        When the record is not a tweet or lacks its id or time; the message is a reject reason.
    """
    if not isinstance(tweet, Mapping):
        raise ValueError(f"not a tweet object but a JSON {json_type(tweet)}")
    if "delete" in tweet and "id_str" not in tweet:
        raise ValueError("deletion notice, not a tweet")
    post_id = _str_id(tweet, "id_str", "id")
    if post_id is None:
        raise ValueError("tweet has no id_str or id")
    created = tweet.get("created_at")
    if created in (None, ""):
        raise ValueError("tweet has no created_at")
    try:
        try:
            created_at = parse_time(created)
        except NaiveTimeError as exc:  # Twitter writes UTC; --tz is not read
            raise exc.on_utc_platform("Twitter") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"bad created_at: {shown(created)} ({exc})") from None

    user = tweet.get("user") if isinstance(tweet.get("user"), Mapping) else {}
    text, entities = _full_text(tweet)
    if not isinstance(entities, Mapping):
        entities = {}

    reply_to = _str_id(tweet, "in_reply_to_status_id_str", "in_reply_to_status_id")
    retweeted = tweet.get("retweeted_status")
    quoted_id = _str_id(tweet, "quoted_status_id_str", "quoted_status_id")
    if quoted_id is None and isinstance(tweet.get("quoted_status"), Mapping):
        quoted_id = _str_id(tweet["quoted_status"], "id_str", "id")
    if isinstance(retweeted, Mapping):
        kind = "repost"
        parent_id = _str_id(retweeted, "id_str", "id")
    elif reply_to is not None:
        kind, parent_id = "reply", reply_to
    elif quoted_id is not None and tweet.get("is_quote_status", True):
        kind, parent_id = "quote", quoted_id
    else:
        kind, parent_id = "post", None

    withheld = _is_withheld(tweet)
    if withheld:
        status = "withheld"
    elif text is None:
        status = "unavailable"
    else:
        status = "ok"
    lang = tweet.get("lang")
    row = {
        "platform": PLATFORM,
        "id": post_id,
        "uid": make_uid(PLATFORM, post_id),
        "kind": kind,
        "parent_id": parent_id,
        "created_at": created_at,
        "created_at_precision": "second",
        "author_id": _str_id(user, "id_str", "id"),
        "author_handle": user.get("screen_name") or None,
        "reply_to_author_id": _str_id(tweet, "in_reply_to_user_id_str", "in_reply_to_user_id")
        if kind == "reply" else None,
        "text": text,
        "text_status": status,
        "lang": lang if isinstance(lang, str) and lang and lang != "und" else None,
        "hashtags": _entity_texts(entities.get("hashtags"), "text", "tag"),
        "mentions": _entity_texts(entities.get("user_mentions"), "screen_name"),
        "urls": _entity_texts(entities.get("urls"), "expanded_url", "url"),
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    for field, key in COUNT_FIELDS.items():
        row[field] = json_count(tweet.get(key))
    return row


def rows_from_tweet(tweet: dict) -> list[dict]:
    """The row of ``tweet`` followed by context rows for the tweets embedded in it.

    Embedded ``retweeted_status`` and ``quoted_status`` objects (also inside a retweeted status)
    become rows with ``collection_role = "context"``; ones that cannot be read are skipped, since
    they are not records of the input.
    """
    rows = [row_from_tweet(tweet)]
    stack = [tweet]
    seen = {rows[0]["id"]}
    while stack:
        current = stack.pop()
        for key in ("retweeted_status", "quoted_status"):
            inner = current.get(key)
            if not isinstance(inner, Mapping):
                continue
            try:
                row = row_from_tweet(inner)
            except ValueError:
                continue
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            row["collection_role"] = "context"
            rows.append(row)
            stack.append(inner)
    return rows


try:  # orjson parses about twice as fast; optional, the standard library decides on errors
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = None


def parse_line(name: str, number: int, raw: bytes, broken: Counter | None = None
               ) -> tuple[int, object] | Reject:
    """:func:`~analysis.loaders.base.parse_json_line`, with orjson when it is installed.

    orjson refuses lone surrogates, so only the lines that hold one (or are bad) take the slower
    path that replaces them (and counts them in ``broken``).
    """
    if _fast_loads is not None:
        try:
            return number, _fast_loads(raw)
        except ValueError:
            pass  # let the standard library parse it or say what is wrong, as without orjson
    return parse_json_line(name, number, raw, broken)


def _is_record(value: dict) -> bool:
    """Whether an object found after a broken array element is a record, where reading resumes
    (:func:`~analysis.loaders.base.iter_json_array`): a v1.1 tweet (``id_str``, ``created_at``
    and a ``user``, which a user object and an entity lack), or, for
    :mod:`~analysis.loaders.twarc2`, which reads through :func:`json_records`, a twarc2 page or
    flattened tweet (``__twarc``, or ``data`` with ``includes`` or ``meta``), which the tweets
    of a page's ``data`` lack. An embedded tweet is the value of a member, never taken."""
    return ("id_str" in value and "created_at" in value and "user" in value) or (
        "__twarc" in value or ("data" in value and ("includes" in value or "meta" in value)))


#: A first line that opens a pretty-printed JSON object: the file is one document.
_PRETTY_OBJECT = b"{"


def _whole_document(path: Path, first_line: bytes, first: tuple[int, object] | Reject,
                    *, array_lines: bool = False
                    ) -> Iterable[tuple[int, object] | Reject] | None:
    """The values of a file that is not JSON lines, or None to read it line by line.

    - A first line that is a JSON object: JSON lines (None). With ``array_lines``, so is a
      first line that is a whole non-empty JSON array (JSON lines of API responses, as saved
      from statuses/lookup; a one-line array file is such a file of one line).
    - A file that starts with ``[``: a JSON array, streamed element by element with the line
      each element starts on; a broken element is one reject and reading resumes at the next
      record (:func:`~analysis.loaders.base.iter_json_array`).
    - A pretty-printed object (``{`` alone on the first line): one document, read whole; when
      it cannot be read (cut short, broken, too large) it is one reject at its first line.
    - Any other file is tried as one document, and read line by line when that fails (a broken
      first line of JSON lines must not hide the good lines after it).
    """
    if not isinstance(first, Reject) and (
            isinstance(first[1], Mapping) or (array_lines and isinstance(first[1], list)
                                              and first[1])):
        return None
    if first_line.lstrip().startswith(b"["):
        return iter_json_array(path, resume=_is_record, skipped="the record is skipped",
                               ends_inside=ENDS_INSIDE_ARRAY)
    line = first.line if isinstance(first, Reject) else first[0]
    pretty = first_line.strip() == _PRETTY_OBJECT
    name = str(path)

    def reject(reason: str, text: bytes = first_line) -> list[Reject] | None:
        return [Reject(name, line, reason, snippet(text.lstrip()))] if pretty else None

    try:
        data = read_whole(path)
    except DECOMPRESSION_ERRORS as exc:
        return reject(f"truncated or corrupt compressed file: {exc}")
    if data is None:
        return reject("JSON document too large to read whole; convert it to JSON lines")
    broken: Counter = Counter()
    try:
        value = load_json(data, broken)
    except UnicodeDecodeError:
        return reject("invalid UTF-8", data)
    except json.JSONDecodeError as exc:
        if json_ends_early(exc):
            return reject("truncated: the file ends inside the JSON document", data)
        return reject(json_error_reason(exc), data)
    except RecursionError:
        return reject(NESTED_TOO_DEEPLY, data)
    warn_broken_texts(name, broken)
    return [(line, value)]


def json_records(path: Path, *, array_lines: bool = False
                 ) -> Iterator[tuple[int, object] | Reject]:
    """JSON values of a file with the line each starts on.

    JSON lines are read one line at a time (a bad line is a :class:`Reject` for that line). A
    JSON array is streamed element by element (a broken element is one reject); a
    pretty-printed object is one document (one reject when it cannot be read). With
    ``array_lines``, a file whose first line is a whole JSON array is JSON lines too (each such
    line is one value, the array). See :func:`_whole_document`.
    """
    def whole_document(path: Path, first_line: bytes, first: tuple[int, object] | Reject
                       ) -> Iterable[tuple[int, object] | Reject] | None:
        return _whole_document(path, first_line, first, array_lines=array_lines)

    return iter_json_values(path, whole_document, parse_line=parse_line)


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield a row (plus context rows for embedded tweets) or a :class:`Reject` per record.

    ``source_line`` is the line number for JSON lines, the first line of a one-tweet file, and the
    line an element starts on for a JSON array.

    A JSON line that holds a non-empty array of tweets (a statuses/lookup response, one per line)
    or a search page (``{"statuses": [...], "search_metadata": {...}}``, a search/tweets
    response; also as a whole file) gives a row or reject per tweet, each with the line's
    number; the reason of an element's reject names its place after a ``;`` (``...; element 2 of
    3 in the line's JSON array``), so that the ingest summary counts it under its reason. A
    search page without statuses is one reject; so is any other value that is no object (an
    empty array too).
    """
    name = str(path)
    for item in json_records(Path(path), array_lines=True):
        if isinstance(item, Reject):
            yield item
            continue
        number, value = item
        records, where = _statuses(value)
        if where is None:
            yield from _tweet_rows(name, number, value)
        elif not records:
            yield Reject(name, number, "a search page without statuses (no tweets)",
                         record_snippet(value))
        for index, record in enumerate(records, 1):
            place = f"; element {index} of {len(records)} in the line's {where}"
            yield from _tweet_rows(name, number, record, place)


def _statuses(value: object) -> tuple[list, str | None]:
    """The tweets of an API response that holds several: a non-empty JSON array
    (statuses/lookup), or a search page (``{"statuses": [...], "search_metadata": ...}``),
    with what to call them in a reject; else ``([], None)`` (the value is one record)."""
    if isinstance(value, list) and value:
        return value, "JSON array"
    if (isinstance(value, Mapping) and isinstance(value.get("statuses"), list)
            and "search_metadata" in value):
        return value["statuses"], "statuses"
    return [], None


def _tweet_rows(name: str, number: int, record: object, place: str = ""
                ) -> Iterator[dict | Reject]:
    """The rows of one record of the file ``name`` at line ``number`` (:func:`rows_from_tweet`),
    or its reject, whose reason ends with ``place``."""
    try:
        rows = rows_from_tweet(record)  # type: ignore[arg-type]
    except ValueError as exc:
        yield Reject(name, number, f"{exc}{place}", record_snippet(record))
        return
    for row in rows:
        row["source_file"] = name
        row["source_line"] = number
        yield row
