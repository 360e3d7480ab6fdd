"""Zeeschuimer exports: NDJSON, one captured item per line.

Each line, as the Zeeschuimer browser extension exports it::

    {"nav_index": "1:2:0", "item_id": "7261...", "timestamp_collected": 1690000000000,
     "source_platform": "tiktok.com", "source_platform_url": "https://www.tiktok.com/...",
     "source_url": "https://www.tiktok.com/api/...", "user_agent": "...", "data": {...}}

``data`` is the platform's own object, different per platform and changing with the platform's
web interface. This loader maps only the ones whose structure is documented by 4CAT's import code
(``datasources/<platform>/search_*.py``, ``map_item``) and by Zeeschuimer's modules:

- ``tiktok.com``: a TikTok item (``id``, ``desc``, ``createTime``, ``author``, ``stats``,
  ``textExtra``) -> ``kind = "post"``;
- ``tiktok-comments``: a TikTok comment (``cid``, ``aweme_id``, ``reply_id``,
  ``reply_to_reply_id``, ``create_time``, ``user``, ``digg_count``) -> ``kind = "comment"``; the
  parent is ``reply_to_reply_id``, else ``reply_id``, else (``"0"``) the video ``aweme_id``,
  which is the comment's ``root_id`` (so depths count from the video also when it is not a row);
- ``instagram.com``: an Instagram post in the graph shape (``__typename``, ``shortcode``,
  ``taken_at_timestamp``) or the item-list shape (``code``, ``taken_at``, ``caption.text``) ->
  ``kind = "post"`` whose id is the shortcode, as in 4CAT;
- ``instagram-comments``: an Instagram comment as Zeeschuimer's module stores it (``id``,
  ``text``, ``created_at``, ``user``, ``post_id``, ``post_shortcode``, ``parent_comment_id``) ->
  ``kind = "comment"`` in the thread of ``post_shortcode`` (else ``post_id``), its ``root_id``;
- ``twitter.com`` / ``x.com``: an X/Twitter GraphQL tweet (``rest_id``, ``legacy`` with the v1.1
  fields, ``core.user_results``) -> mapped by :func:`analysis.loaders.twitter_v1.row_from_tweet`
  on ``legacy``, ``thread_id`` from ``conversation_id_str``; the text of a long post is its whole
  text (``note_tweet.note_tweet_results.result.text``), not ``legacy.full_text``, which X cuts
  to about 280 characters.

Any other platform (LinkedIn, 9gag, Imgur, Douyin, Gab, Threads, ...) is rejected per line with a
reason naming the platform; Instagram ads are rejected as ads. ``collected_at`` is
``timestamp_collected`` (milliseconds).

Examples
--------
>>> item = {"source_platform": "tiktok-comments", "timestamp_collected": 1690000000000,
...         "data": {"cid": "72", "aweme_id": "71", "reply_id": "0", "text": "ok",
...                  "create_time": 1689999000, "user": {"uid": "5"}}}
>>> row = row_from_item(item)
>>> row["uid"], row["parent_id"], row["thread_id"], str(row["collected_at"])
('tiktok:72', '71', '71', '2023-07-22 04:26:40+00:00')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pandas as pd

from analysis.loaders.base import (
    LOADER_VERSION,
    LoadOptions,
    Reject,
    iter_json_lines,
    json_count,
    json_type,
    make_uid,
    parse_required_time,
    rows_from_records,
)

FORMAT = "zeeschuimer"

#: Keys of one exported line.
ITEM_KEYS = ("nav_index", "item_id", "timestamp_collected", "source_platform",
             "source_platform_url", "source_url", "user_agent", "data")

#: TikTok ``stats`` key -> posts-table count field.
TIKTOK_STATS = {"diggCount": "like_count", "commentCount": "reply_count",
                "shareCount": "share_count"}

_HASHTAG = re.compile(r"#(\w+)")
_MENTION = re.compile(r"@([\w.]+)")


def _str_id(value: object) -> str | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _time(value: object, what: str, platform: str) -> pd.Timestamp:
    """The required time ``what`` of an item of ``platform`` (which writes UTC: --tz is not
    read)."""
    if value in (None, "") or isinstance(value, bool):
        raise ValueError(f"missing time: item has no {what}")
    return parse_required_time(value, what, utc_platform=platform)


def _row(platform: str, post_id: str, **fields: object) -> dict:
    row: dict = {
        "platform": platform,
        "id": post_id,
        "uid": make_uid(platform, post_id),
        "created_at_precision": "second",
        "collection_role": "matched",
        "source_format": FORMAT,
        "loader_version": LOADER_VERSION,
    }
    row.update(fields)
    text = row.get("text")
    row.setdefault("text_status", "ok" if isinstance(text, str) else "unavailable")
    return row


def row_from_tiktok_post(data: Mapping) -> dict:
    """Map a TikTok item (as 4CAT's ``SearchTikTok.map_item`` reads it) to a post row."""
    post_id = _str_id(data.get("id"))
    if post_id is None:
        raise ValueError("missing id: TikTok item has no id")
    author = data.get("author")
    if isinstance(author, Mapping):
        author_id, handle = _str_id(author.get("id")), author.get("uniqueId") or None
    else:
        author_id, handle = None, author if isinstance(author, str) and author else None
    stats = data.get("stats") if isinstance(data.get("stats"), Mapping) else {}
    extras = data.get("textExtra") if isinstance(data.get("textExtra"), list) else []
    hashtags = [e["hashtagName"] for e in extras
                if isinstance(e, Mapping) and isinstance(e.get("hashtagName"), str)
                and e["hashtagName"]]
    mentions = [e["userUniqueId"] for e in extras
                if isinstance(e, Mapping) and isinstance(e.get("userUniqueId"), str)
                and e["userUniqueId"]]
    text = data.get("desc")
    row = _row("tiktok", post_id, kind="post", thread_id=post_id, parent_id=None,
               created_at=_time(data.get("createTime"), "createTime", "TikTok"),
               author_id=author_id, author_handle=handle,
               text=text if isinstance(text, str) else None,
               hashtags=hashtags, mentions=mentions)
    for key, field in TIKTOK_STATS.items():
        row[field] = json_count(stats.get(key))
    return row


def row_from_tiktok_comment(data: Mapping) -> dict:
    """Map a TikTok comment (``cid``, ``aweme_id``, ``reply_id``, ...) to a comment row."""
    cid = _str_id(data.get("cid"))
    if cid is None:
        raise ValueError("missing id: TikTok comment has no cid")
    video = _str_id(data.get("aweme_id"))
    if video is None:
        raise ValueError("missing thread: TikTok comment has no aweme_id (video id)")
    parent = None
    for key in ("reply_to_reply_id", "reply_id"):
        candidate = _str_id(data.get(key))
        if candidate not in (None, "0"):
            parent = candidate
            break
    user = data.get("user") if isinstance(data.get("user"), Mapping) else {}
    text = data.get("text")
    lang = data.get("comment_language")
    return _row("tiktok", cid, kind="comment", thread_id=video, root_id=video,
                parent_id=parent or video,
                created_at=_time(data.get("create_time"), "create_time", "TikTok"),
                author_id=_str_id(user.get("uid")) or _str_id(user.get("id")),
                author_handle=user.get("unique_id") or None,
                text=text if isinstance(text, str) else None,
                lang=lang if isinstance(lang, str) and lang and lang != "un" else None,
                like_count=json_count(data.get("digg_count")),
                reply_count=json_count(data.get("reply_comment_total")))


def _instagram_user(data: Mapping) -> tuple[str | None, str | None]:
    for key in ("user", "owner"):
        user = data.get(key)
        if isinstance(user, Mapping) and user:
            user_id = _str_id(user.get("pk")) or _str_id(user.get("id")) \
                or _str_id(user.get("pk_id"))
            handle = user.get("username") or user.get("unique_id") or None
            return user_id, handle
    return None, None


def _tweet_result(data: Mapping) -> Mapping:
    """Unwrap ``TweetWithVisibilityResults`` (``{"tweet": {...}}``) and ``{"result": ...}``."""
    for _ in range(3):
        if "rest_id" in data or "legacy" in data:
            return data
        inner = data.get("tweet") or data.get("result")
        if not isinstance(inner, Mapping):
            return data
        data = inner
    return data


def _screen_name(tweet: Mapping) -> str | None:
    user = ((tweet.get("core") or {}).get("user_results") or {}).get("result") or {}
    for part in ("legacy", "core"):
        name = (user.get(part) or {}).get("screen_name")
        if isinstance(name, str) and name:
            return name
    return None


def _note_text(tweet: Mapping) -> str | None:
    """The whole text of a long post (``note_tweet.note_tweet_results.result.text``), or None."""
    note = tweet.get("note_tweet")
    for key in ("note_tweet_results", "result"):
        note = note.get(key) if isinstance(note, Mapping) else None
    text = note.get("text") if isinstance(note, Mapping) else None
    return text if isinstance(text, str) and text else None


def row_from_x_tweet(data: Mapping) -> dict:
    """Map an X/Twitter GraphQL tweet (``rest_id``, ``legacy``, ``core``; as 4CAT's
    ``SearchTwitterViaZeeschuimer.map_item_modern`` reads it) to a row.

    ``legacy`` is a Twitter v1.1 tweet without its user, so it goes through
    :func:`analysis.loaders.twitter_v1.row_from_tweet`; ``thread_id`` is ``conversation_id_str``;
    a retweet (``legacy.retweeted_status_result``) is a ``repost`` of the retweeted tweet. A long
    post's text is its ``note_tweet`` text (``legacy.full_text`` holds its first ~280 characters).
    """
    from analysis.loaders.twitter_v1 import row_from_tweet

    tweet = _tweet_result(data)
    if tweet.get("__typename") == "TweetTombstone" or not isinstance(tweet.get("legacy"), Mapping):
        raise ValueError("missing id: not a tweet (tombstone or no legacy object)")
    legacy = dict(tweet["legacy"])
    tweet_id = _str_id(tweet.get("rest_id")) or _str_id(legacy.get("id_str"))
    if tweet_id is None:
        raise ValueError("missing id: tweet has no rest_id")
    legacy["id_str"] = tweet_id
    legacy["user"] = {"id_str": legacy.get("user_id_str"), "screen_name": _screen_name(tweet)}
    note = _note_text(tweet)
    if note is not None:
        legacy["full_text"] = note
    retweeted = legacy.pop("retweeted_status_result", None)
    legacy.pop("retweeted_status", None)
    if legacy.get("created_at") in (None, ""):
        raise ValueError("missing time: tweet has no legacy.created_at")
    try:
        row = row_from_tweet(legacy)
    except ValueError as exc:
        if "created_at" in str(exc):
            raise ValueError(f"bad time: {exc}") from None
        raise
    if isinstance(retweeted, Mapping):
        original = _tweet_result(retweeted)
        original_id = _str_id(original.get("rest_id"))
        if original_id is not None:
            row["kind"], row["parent_id"], row["reply_to_author_id"] = "repost", original_id, None
    row["thread_id"] = _str_id(legacy.get("conversation_id_str")) or row.get("thread_id")
    row["source_format"] = FORMAT
    return row


def row_from_instagram_post(data: Mapping) -> dict:
    """Map an Instagram post, graph or item-list shape (as 4CAT's ``SearchInstagram``) to a row."""
    link = data.get("link") or ""
    if data.get("product_type") == "ad" or (
            isinstance(link, str) and link.startswith("https://www.facebook.com/ads/ig_redirect")):
        raise ValueError("Instagram ad: not a post")
    graph = "__typename" in data and data["__typename"] not in ("XDTMediaDict",)
    if graph:
        code = data.get("shortcode")
        edges = (data.get("edge_media_to_caption") or {}).get("edges") or []
        caption = (edges[0].get("node") or {}).get("text") if edges and isinstance(
            edges[0], Mapping) else None
        created = _time(data.get("taken_at_timestamp"), "taken_at_timestamp", "Instagram")
        likes = (data.get("edge_media_preview_like") or {}).get("count")
        comments = (data.get("edge_media_preview_comment") or {}).get("count")
    else:
        code = data.get("code")
        caption_node = data.get("caption")
        caption = caption_node.get("text") if isinstance(caption_node, Mapping) else None
        created = _time(data.get("taken_at"), "taken_at", "Instagram")
        likes = data.get("like_count")
        comments = data.get("comment_count")
    post_id = _str_id(code)
    if post_id is None:
        raise ValueError("missing id: Instagram post has no shortcode")
    author_id, handle = _instagram_user(data)
    text = caption if isinstance(caption, str) else None
    if text is None and ("caption" in data or "edge_media_to_caption" in data):
        text = ""  # a post without a caption: its text is empty, not unavailable
    return _row("instagram", post_id, kind="post", thread_id=post_id, parent_id=None,
                created_at=created, author_id=author_id, author_handle=handle, text=text,
                hashtags=_HASHTAG.findall(text or ""), mentions=_MENTION.findall(text or ""),
                like_count=json_count(likes), reply_count=json_count(comments))


def row_from_instagram_comment(data: Mapping) -> dict:
    """Map an Instagram comment as Zeeschuimer's ``instagram-comments`` module stores it."""
    comment_id = _str_id(data.get("id")) or _str_id(data.get("pk"))
    if comment_id is None:
        raise ValueError("missing id: Instagram comment has no id")
    thread = _str_id(data.get("post_shortcode")) or _str_id(data.get("post_id"))
    if thread is None:
        raise ValueError("missing thread: Instagram comment has no post_shortcode or post_id")
    created = data.get("created_at")
    if created in (None, ""):
        created = data.get("created_at_utc")
    author_id, handle = _instagram_user(data)
    text = data.get("text")
    return _row("instagram", comment_id, kind="comment", thread_id=thread, root_id=thread,
                parent_id=_str_id(data.get("parent_comment_id")) or thread,
                created_at=_time(created, "created_at", "Instagram"),
                author_id=author_id,
                author_handle=handle, text=text if isinstance(text, str) else None,
                like_count=json_count(data.get("comment_like_count")),
                reply_count=json_count(data.get("child_comment_count")))


#: ``source_platform`` -> mapping of its ``data``.
MAPPERS: dict[str, Callable[[Mapping], dict]] = {
    "tiktok.com": row_from_tiktok_post,
    "tiktok-comments": row_from_tiktok_comment,
    "instagram.com": row_from_instagram_post,
    "instagram-comments": row_from_instagram_comment,
    "twitter.com": row_from_x_tweet,
    "x.com": row_from_x_tweet,
}


def row_from_item(item: dict) -> dict:
    """Map one Zeeschuimer line (envelope with ``data``) to a posts-table row.

    Raises
    ------
    ValueError
        For an unsupported platform, a missing id or time, or a wrong shape; the message is a
        reject reason.
    """
    if not isinstance(item, Mapping):
        raise ValueError(f"wrong shape: not a Zeeschuimer item but a JSON {json_type(item)}")
    platform = item.get("source_platform")
    if not isinstance(platform, str) or not platform:
        raise ValueError("wrong shape: item has no source_platform")
    mapper = MAPPERS.get(platform)
    if mapper is None:
        raise ValueError(f"unsupported platform {platform!r}: only {', '.join(MAPPERS)} items "
                         "can be mapped")
    data = item.get("data")
    if not isinstance(data, Mapping):
        raise ValueError("wrong shape: item has no data object")
    try:
        row = mapper(data)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"wrong shape: unexpected {platform} data ({exc!r})") from None
    collected = item.get("timestamp_collected")
    if isinstance(collected, int | float) and not isinstance(collected, bool):
        try:
            row["collected_at"] = pd.Timestamp(collected, unit="ms", tz="UTC")
        except (ValueError, OverflowError):  # out of range: the record stays, its time unknown
            row["collected_at"] = None
    return row


def sniff(path: Path, head: bytes) -> bool:
    """Whether the first line of ``head`` is a Zeeschuimer item (envelope keys + ``data``)."""
    first = head.lstrip().split(b"\n", 1)[0]
    return (first.startswith(b"{") and b'"source_platform"' in first
            and b'"timestamp_collected"' in first and b'"data"' in first)


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield one row or :class:`Reject` per line."""
    yield from rows_from_records(str(path), iter_json_lines(path), row_from_item)
