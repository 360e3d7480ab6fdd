"""Tests for the ingest speed-ups: each fast path gives what the path it replaced gave.

- :func:`analysis.loaders.chunks._column_values` reads the columns of rows that share their
  fields with one ``itemgetter`` call per row; other chunks take a ``get`` per value;
- twarc2 rows of API errors have the same fields as tweet rows (null where unknown), so a page
  with errors keeps the fast path;
- a part read by a worker counts its lines while the loader reads them
  (:class:`analysis.loaders.parts._CountedLines`) instead of reading the part again;
- the last pass gathers the strings rows refer to from those two columns of the chunks only
  (:func:`analysis.loaders.light.finish` with ``some_columns``);
- a column no row of a chunk has is made null whole (:func:`analysis.loaders.chunks._null_column`)
  and categories are looked up with ``None`` among them;
- lines are read with a large buffer and tested for content without copying them
  (:func:`analysis.loaders.base.has_content`);
- a twarc2 tweet's edit history is read once for its chain and rank
  (:func:`analysis.loaders.twarc2._chain_place`), and an ISO time in the table's range becomes
  a Timestamp without the range check on the Timestamp;
- the light columns hash strings from their UTF-8 bytes
  (:func:`analysis.loaders.light.hash_strings`), and the last pass finishes a chunk that keeps
  all its rows without taking them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import schema
from analysis.loaders import chunks, light, parts, twarc2
from analysis.loaders.base import (
    LINE_BUFFER_BYTES,
    LoadOptions,
    count_lines,
    has_content,
    in_time_range,
    iter_lines_between,
    line_ranges,
    without_line_marks,
)
from analysis.loaders.chunks import Collector, MemorySink, SpillSink, new_entry

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"


def _rows(path: Path) -> list[dict]:
    return [r for r in twarc2.read(path, LoadOptions()) if isinstance(r, dict)]


def _by_get(rows: list[dict]) -> dict[str, list]:
    """What the typing step read before the fast path: one ``get`` per value."""
    return {name: [row.get(name) for row in rows] for name in schema.POSTS}


def _generated_page_with_errors() -> dict:
    """The first real page of two_tweets.jsonl with two API errors about tweets added."""
    with open(SAMPLES / "two_tweets.jsonl", encoding="utf-8") as handle:
        page = json.loads(handle.readline())
    page["errors"] = [
        {"value": "123", "detail": "Could not find tweet with ids: [123].",
         "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
         "resource_id": "123"},
        {"value": "456", "detail": "Sorry, you are not authorized to see the Tweet.",
         "title": "Authorization Error", "resource_type": "tweet",
         "parameter": "referenced_tweets.id", "resource_id": "456"},
    ]
    return page


def _same_columns(got: dict[str, list], want: dict[str, list], size: int) -> None:
    for name in schema.POSTS:
        assert got.get(name, [None] * size) == want[name], name


@pytest.mark.parametrize("name", ["brexit.jsonl", "flat.jsonl", "noflat.jsonl"])
def test_column_values_of_real_rows_are_those_read_one_value_at_a_time(name):
    rows = _rows(SAMPLES / name)
    assert len({frozenset(row) for row in rows}) == 1  # the fast path is taken
    _same_columns(chunks._column_values(rows), _by_get(rows), len(rows))


def test_rows_with_different_fields_fall_back_to_one_value_at_a_time():
    rows = _rows(SAMPLES / "flat.jsonl")[:50]
    rows[3] = {key: value for key, value in rows[3].items() if key != "lang"}
    rows[7] = {**rows[7], "title": "an extra field"}
    rows[9] = {key: value for key, value in rows[9].items() if key != "text"} | {"score": 3}
    got = chunks._column_values(rows)
    _same_columns(got, _by_get(rows), len(rows))
    assert got["title"][7] == "an extra field" and got["score"][9] == 3
    assert got["text"][9] is None and got["lang"][3] is None


def test_rows_of_api_errors_have_the_fields_of_tweet_rows(tmp_path):
    path = tmp_path / "generated_page_with_errors.jsonl"
    path.write_text(json.dumps(_generated_page_with_errors()) + "\n", encoding="utf-8")
    rows = _rows(path)
    errors = [row for row in rows if row["created_at_precision"] == "missing"]
    assert {row["id"] for row in errors} == {"123", "456"}
    assert len({frozenset(row) for row in rows}) == 1
    assert all(errors[0][name] is None for name in ("kind", "author_id", "like_count", "lang"))
    frame, failed = chunks.typed_chunk(rows, [])
    assert failed == []
    want = chunks.schema.conform(pd.DataFrame.from_records(rows), schema.POSTS)
    pd.testing.assert_frame_equal(frame, want)


def _generated_lines(tmp_path: Path) -> Path:
    """A generated file of JSON lines with blank lines, a UTF-8 BOM and no final newline."""
    path = tmp_path / "generated_lines.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}\n\n{"b": 2}\n   \n' * 40 + b'{"c": 3}')
    return path


@pytest.mark.parametrize("size", [10, 50, 1_000_000])
def test_lines_read_between_return_their_count(tmp_path, size):
    path = _generated_lines(tmp_path)
    for start, end in line_ranges(path, size):
        lines = parts._CountedLines(path, start, end)
        assert list(lines) == list(iter_lines_between(path, start, end))
        assert lines.count() == count_lines(path, start, end)


def test_lines_not_read_to_the_end_are_counted_by_reading_them(tmp_path):
    path = _generated_lines(tmp_path)
    lines = parts._CountedLines(path, 0, path.stat().st_size)
    first = next(iter(lines))
    assert first[0] == 1
    assert lines.count() == count_lines(path, 0, path.stat().st_size) == 161


def _real_chunks(sink) -> None:
    collector = Collector(sink, detect_language=False)
    for name in ("brexit.jsonl", "flat.jsonl", "noflat.jsonl", "brexit.jsonl"):
        path = SAMPLES / name
        collector.add(twarc2.read(path, LoadOptions()), new_entry(path, "twarc2", True), path,
                      "twarc2")
    collector.flush()


def test_spill_reads_some_columns_as_the_whole_chunks_hold_them(tmp_path):
    sink = SpillSink(tmp_path)
    _real_chunks(sink)
    whole = list(sink.tables_with_offsets())
    some = list(sink.tables_with_offsets(["id", "author_id"]))
    assert [offset for offset, _ in some] == [offset for offset, _ in whole]
    for (_, table), (_, part) in zip(whole, some, strict=True):
        assert part.column_names == ["id", "author_id"]
        assert part.equals(table.select(["id", "author_id"]))


@pytest.mark.parametrize("spill", [False, True])
def test_finish_gathering_from_two_columns_gives_the_same_table(tmp_path, spill):
    sink = SpillSink(tmp_path) if spill else MemorySink()
    _real_chunks(sink)
    plan = light.structure(sink.pop_light())
    assert plan.duplicates > 100  # brexit.jsonl twice
    want = pa.concat_tables(light.finish(sink.tables_with_offsets, plan))
    got = pa.concat_tables(light.finish(sink.tables_with_offsets, plan,
                                        some_columns=sink.tables_with_offsets))
    assert got.equals(want)
    assert got["root_id"].null_count < len(got) and got["reply_to_author_id"].null_count < len(got)


@pytest.mark.parametrize("name", list(schema.POSTS))
def test_a_column_no_row_has_is_the_column_of_as_many_nones(name):
    dtype = schema.POSTS[name]
    for size in (0, 1, 7):
        got = chunks._null_column(size, dtype)
        want = chunks._fast_column([None] * size, dtype)
        assert got.dtype == want.dtype
        pd.testing.assert_extension_array_equal(got, want)
        assert pa.array(got).equals(pa.array(want))


def test_a_chunk_of_rows_without_some_columns_is_typed_as_with_them_null():
    rows = _rows(SAMPLES / "brexit.jsonl")[:40]
    assert "depth" not in rows[0] and "score" not in rows[0]
    frame, _ = chunks.typed_chunk(rows, [])
    filled = [dict.fromkeys(schema.POSTS) | row for row in rows]
    want, _ = chunks.typed_chunk(filled, [])
    pd.testing.assert_frame_equal(frame, want)
    assert frame["depth"].isna().all() and frame["author_is_op"].isna().all()


def test_categories_are_read_with_none_as_null_and_others_refused():
    dtype = schema.POSTS["kind"]
    column = chunks._fast_column(["post", None, "reply"], dtype)
    assert column.tolist()[0] == "post" and pd.isna(column[1]) and column[2] == "reply"
    for bad in (["post", "not a kind"], ["post", float("nan")]):
        with pytest.raises(chunks._NotFast):
            chunks._fast_column(bad, dtype)


_LINE_BYTES = st.sampled_from([b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\x1e",
                               b"\xef\xbb\xbf", b"\xa0", b"\x1c", b"{", b"x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE_BYTES, max_size=6))
def test_a_line_has_content_as_when_it_was_stripped(pieces):
    # Generated by hypothesis: whitespace, line marks and other bytes in any order
    raw = b"".join(pieces)
    assert has_content(raw) == bool(without_line_marks(raw).strip())


def test_lines_longer_than_the_read_buffer_come_whole(tmp_path):
    path = tmp_path / "generated_long_lines.jsonl"
    lines = [b'{"a": "' + b"x" * (LINE_BUFFER_BYTES * 2 + 5) + b'"}\n', b"\n",
             b'{"b": 1}\n', b'{"c": "' + b"y" * LINE_BUFFER_BYTES + b'"}']
    path.write_bytes(b"".join(lines))
    size = path.stat().st_size
    assert list(iter_lines_between(path, 0, size)) == [(1, lines[0]), (3, lines[2]),
                                                      (4, lines[3])]
    first_end = len(lines[0])
    assert list(iter_lines_between(path, first_end, size)) == [(2, lines[2]), (3, lines[3])]


@pytest.mark.parametrize("tweet", [
    {"id": "5"}, {"id": "5", "edit_history_tweet_ids": ["5"]},
    {"id": "5", "edit_history_tweet_ids": ["4", "5", "6"]},
    {"id": "5", "edit_history_tweet_ids": ["4", "6"]},
    {"id": "5", "edit_history_tweet_ids": []}, {"id": "5", "edit_history_tweet_ids": "5"},
    {"id": 5, "edit_history_tweet_ids": [5, 7]}, {"id": "5", "edit_history_tweet_ids": ["5", ""]},
    {"id": "5", "edit_history_tweet_ids": ["5", None]}, {"edit_history_tweet_ids": [None, "8"]},
    {"edit_history_tweet_ids": ["8"]}, {"id": ""}, {},
])
def test_a_tweets_chain_and_rank_are_those_read_one_at_a_time(tweet):
    # what latest_id and the rank of a version were, each reading the history
    history = tweet.get("edit_history_tweet_ids")
    own = twarc2._str(tweet.get("id"))
    latest = (twarc2._str(history[-1]) if isinstance(history, list) and history
              and twarc2._str(history[-1]) else own)
    rank = history.index(own) if isinstance(history, list) and own in history else 0
    assert twarc2._chain_place(tweet) == (latest, rank)
    assert twarc2.latest_id(tweet) == latest


@pytest.mark.parametrize("value", [
    "2022-03-01T12:34:56.000Z", "2022-03-01T12:34:56.123456+02:00",
    "1677-09-21T00:12:43.145225Z", "1677-09-21T00:12:43.145224Z", "1677-09-20T00:00:00Z",
    "2262-04-11T23:47:16.854775Z", "2262-04-11T23:47:16.854776Z", "2262-04-12T00:00:00Z",
    "3000-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59Z",
])
def test_an_iso_time_is_in_range_as_the_range_check_says(value):
    def checked() -> pd.Timestamp:  # what the fast path did before: every time checked
        from datetime import UTC, datetime

        return in_time_range(pd.Timestamp(datetime.fromisoformat(value).astimezone(UTC)),
                             value)

    try:
        want = checked()
    except (ValueError, OverflowError) as exc:
        with pytest.raises(type(exc)) as got:
            twarc2.parse_iso_time(value)
        assert str(got.value) == str(exc)
    else:
        got = twarc2.parse_iso_time(value)
        assert got == want and got.unit == want.unit and str(got.tz) == "UTC"


def test_strings_hash_as_their_python_strings_do():
    from pandas.util import hash_array

    values = pa.array(["", "a", "twitter\x00123", "\u00e9t\u00e9", "\U0001f600 x", None, "a"],
                      type=pa.large_string())
    got = light.hash_strings(values)
    assert got.null_count == 1 and got[1] == got[6]
    for position, text in enumerate(values.to_pylist()):
        if text is None:
            continue
        words = [hash_array(np.array([text], dtype=object), hash_key=key, categorize=False)[0]
                 for key in light._HASH_KEYS]
        assert got[position].as_py() == np.array(words, dtype=np.uint64).tobytes()


def test_a_chunk_that_keeps_all_its_rows_is_finished_as_when_rows_are_taken():
    sink = MemorySink()
    collector = Collector(sink, detect_language=False)
    path = SAMPLES / "noflat.jsonl"
    collector.add(twarc2.read(path, LoadOptions()), new_entry(path, "twarc2", True), path,
                  "twarc2")
    collector.flush()
    plan = light.structure(sink.pop_light())
    plan.gather(sink.tables_with_offsets())
    for offset, table in sink.tables_with_offsets():
        piece = plan.piece(offset, len(table))
        assert len(piece.rows) == len(table) > 0  # every row kept: the table as it is
        # one more row that is not kept: the rows are taken
        longer = pa.concat_tables([table, table.slice(0, 1)])
        assert light._completed(table, offset, piece).equals(
            light._completed(longer, offset, piece))
