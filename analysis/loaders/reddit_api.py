"""Reddit API JSON: Listings, bare t1 / t3 things, nested ``replies``, and ``more`` stubs.

A file holds either one JSON document (pretty-printed or not) or one document per line. A document
is any of

- a ``Listing`` (``{"kind": "Listing", "data": {"children": [...]}}``),
- a list of documents, as the API returns for a thread (``/comments/<id>.json``: the submission's
  Listing, then the comments' Listing),
- a bare thing: ``{"kind": "t1" | "t3", "data": {...}}``.

Every ``t1`` (comment) and ``t3`` (submission) becomes a row through
:func:`analysis.loaders.reddit.row_from_thing`, including the comments nested in a comment's
``replies`` Listing, in document order (parents before their replies). A ``{"kind": "more"}`` stub
(comments Reddit did not expand when the page was fetched: no text, no time) becomes a
:class:`~analysis.loaders.base.Reject` saying so, as does any other kind of thing.

Examples
--------
>>> import json, tempfile, pathlib
>>> doc = {"kind": "Listing", "data": {"children": [
...     {"kind": "t1", "data": {"id": "a1", "parent_id": "t3_s", "link_id": "t3_s",
...      "created_utc": 1375869448.0, "body": "hi", "replies": {"kind": "Listing", "data": {
...         "children": [{"kind": "more", "data": {"id": "b2", "children": ["b2"]}}]}}}}]}}
>>> path = pathlib.Path(tempfile.mkdtemp()) / "listing.json"
>>> _ = path.write_text(json.dumps(doc))
>>> [getattr(item, "reason", None) or item["uid"] for item in read(path, LoadOptions())]
['reddit:a1', "Reddit 'more' stub: comments not expanded when collected"]
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

from analysis.loaders.base import (
    DECOMPRESSION_ERRORS,
    NESTED_TOO_DEEPLY,
    LoadOptions,
    Reject,
    iter_json_values,
    json_error_reason,
    load_json,
    read_whole,
    snippet,
    warn_broken_texts,
)
from analysis.loaders.counts import CountNotes
from analysis.loaders.reddit import row_from_thing

FORMAT = "reddit-api"

#: Thing kinds that are posts.
POST_KINDS = ("t1", "t3")

#: Reject reason for a ``{"kind": "more"}`` stub (its ``data`` is in the snippet).
MORE_REASON = "Reddit 'more' stub: comments not expanded when collected"

_KIND = re.compile(rb'"kind"\s*:\s*"(?:Listing|t1|t3|more)"')


def sniff(path: Path, head: bytes) -> bool:
    """Whether ``head`` looks like Reddit API JSON: an object or list with a Listing / t1 / t3."""
    start = head.lstrip()[:1]
    return start in (b"{", b"[") and bool(_KIND.search(head)) and b'"data"' in head


def _json_values(path: Path) -> Iterator[tuple[int, object] | Reject]:
    """The JSON documents of a file, with their line: one per line, or the whole file as one.

    A file whose first line parses is read line by line (a bad line is a reject for that line).
    Otherwise the file is tried as one document (pretty-printed); when that fails too, a file
    that starts like a pretty-printed document (``{`` or ``[`` alone on the first line) is one
    reject, and any other file is read line by line, so one broken first line cannot hide the
    good lines after it.
    """
    return iter_json_values(path, _whole_document)


def _whole_document(path: Path, first_line: bytes, first: tuple[int, object] | Reject
                    ) -> list[tuple[int, object] | Reject] | None:
    """The file as one JSON document, a Reject for a broken one, or None to read it by lines.

    Only tried when the first line does not parse. Lone surrogates in the document's strings
    become U+FFFD, with a warning (:func:`~analysis.loaders.base.load_json`).
    """
    if not isinstance(first, Reject):
        return None
    name = str(path)
    pretty = first_line.strip() in (b"{", b"[", b"[{")
    try:
        data = read_whole(path)
    except DECOMPRESSION_ERRORS as exc:
        return [Reject(name, 1, f"truncated or corrupt compressed file: {exc}", "")]
    if data is None:
        if pretty:
            return [Reject(name, 1, "JSON document too large to read whole; convert it to JSON "
                           "lines", snippet(first_line))]
        return None
    broken: Counter = Counter()
    try:
        document = load_json(data, broken)
    except UnicodeDecodeError:
        return [Reject(name, 1, "invalid UTF-8", snippet(data))] if pretty else None
    except json.JSONDecodeError as exc:
        if pretty:
            return [Reject(name, exc.lineno, json_error_reason(exc), snippet(data))]
        return None
    except RecursionError:  # a thread hundreds of replies deep
        return [Reject(name, 1, NESTED_TOO_DEEPLY, snippet(data))]
    warn_broken_texts(name, broken)
    return [(1, document)]


def _dump(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:1000]
    except (TypeError, ValueError):
        return repr(value)[:1000]


def things(document: object) -> Iterator[tuple[str, Mapping] | tuple[None, object]]:
    """Walk a Reddit API document: ``(kind, data)`` per thing, parents before their replies.

    Listings and lists are opened; a t1's ``replies`` Listing is walked after the t1 itself. A
    value that is not a thing comes out as ``(None, value)``.

    Examples
    --------
    >>> doc = [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "s"}}]}},
    ...        {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"id": "c",
    ...         "replies": {"kind": "Listing", "data": {"children": [
    ...             {"kind": "more", "data": {"id": "m"}}]}}}}]}}]
    >>> [(kind, data["id"]) for kind, data in things(doc)]
    [('t3', 's'), ('t1', 'c'), ('more', 'm')]
    """
    stack: list[object] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
            continue
        if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
            yield None, value
            continue
        data = value.get("data")
        if not isinstance(data, Mapping):
            yield None, value
            continue
        if value["kind"] == "Listing":
            children = data.get("children")
            if isinstance(children, list):
                stack.extend(reversed(children))
            elif children is not None:
                yield None, value
            continue
        yield value["kind"], data
        replies = data.get("replies")
        if isinstance(replies, Mapping | list) and replies:
            stack.append(replies)


def read(path: Path, options: LoadOptions) -> Iterator[dict | Reject]:
    """Yield a row per comment or submission and a :class:`Reject` per stub or unreadable part.

    ``source_line`` is the line of the document in a JSON-lines file, 1 for a whole-file
    document. Warns when counts were no count (:class:`~analysis.loaders.counts.CountNotes`).
    """
    name = str(path)
    notes = CountNotes()
    for item in _json_values(Path(path)):
        if isinstance(item, Reject):
            yield item
            continue
        number, document = item
        for kind, data in things(document):
            if kind in POST_KINDS:
                try:
                    row = row_from_thing(dict(data), kind, notes)  # type: ignore[arg-type]
                except ValueError as exc:
                    yield Reject(name, number, str(exc), _dump(data))
                    continue
                row["source_format"] = FORMAT
                row["source_file"] = name
                row["source_line"] = number
                yield row
            elif kind == "more":
                yield Reject(name, number, MORE_REASON, _dump(data))
            elif kind is None:
                yield Reject(name, number, "not a Reddit thing or Listing", _dump(data))
            else:
                yield Reject(name, number, f"Reddit {kind} is not a comment or submission",
                             _dump(data))
    notes.warn(name)
