"""Tests for the ingest speed-ups: each fast path gives what the path it replaced gave.

- :func:`analysis.loaders.chunks._column_values` reads the columns of rows that share their
  fields with one ``itemgetter`` call per row; other chunks take a ``get`` per value;
- twarc2 rows of API errors have the same fields as tweet rows (null where unknown), so a page
  with errors keeps the fast path;
- a part read by a worker counts its lines while the loader reads them
  (:class:`analysis.loaders.parts._CountedLines`) instead of reading the part again;
- the last pass gathers the strings rows refer to from those two columns of the chunks only
  (:func:`analysis.loaders.light.finish` with ``some_columns``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from analysis import schema
from analysis.loaders import chunks, light, parts, twarc2
from analysis.loaders.base import LoadOptions, count_lines, iter_lines_between, line_ranges
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
