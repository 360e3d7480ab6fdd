"""Tests for analysis.loaders.light_store: when the light columns of a run go to a SQLite file,
and what a full disk does there. That the stored decisions give the table of the in-memory ones
is tested in tests/test_light.py (real files and generated posts) and tests/test_parts.py (a run
whose light columns move to the store part way)."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import UserError
from analysis.io import arrow_table
from analysis.loaders import chunks, light
from analysis.loaders.chunks import SpillSink, conform_posts
from analysis.loaders.ingest import ingest_to_files
from analysis.loaders.light_store import LightStore, StoredStructure

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"


def _generated_posts(n: int, start: int = 0) -> pd.DataFrame:
    """Generated replies in one chain: row i answers row i - 1."""
    ids = [str(i) for i in range(start, start + n)]
    return conform_posts(pd.DataFrame({
        "uid": [f"twitter:{i}" for i in ids], "platform": "twitter", "id": ids,
        "parent_id": [None if i == "0" else str(int(i) - 1) for i in ids],
        "author_id": "a", "text": "generated"}))


def test_a_sink_moves_its_light_columns_to_the_store_past_its_limit(tmp_path):
    with SpillSink(tmp_path, light_rows=25) as sink:
        sink.add(_generated_posts(20))
        assert sink.store is None and not (tmp_path / "light.sqlite").exists()
        sink.add(_generated_posts(20, start=20))
        assert sink.store is not None and sink.store.rows == 40 and sink.lights == []
        plan = sink.structure()
        assert isinstance(plan, StoredStructure) and len(plan) == 40
    with pytest.raises(sqlite3.ProgrammingError):  # the sink closed its store
        sink.store.db.execute("SELECT 1")


def test_a_sink_without_a_limit_keeps_its_light_columns(tmp_path):
    sink = SpillSink(tmp_path)
    sink.add(_generated_posts(50))
    assert sink.store is None and isinstance(sink.structure(), light.Structure)


def test_depths_of_a_long_chain_are_walked_to_the_end(tmp_path):
    store = LightStore(tmp_path)
    posts = _generated_posts(3000)
    store.append(light.compact(arrow_table(posts)))
    plan = store.structure()
    piece = plan.piece(0, 3000)
    assert piece.depth.to_pylist() == list(range(3000))
    assert set(piece.root_from.tolist()) == {0}
    store.close()


def test_a_full_store_is_a_no_room_error(tmp_path):
    store = LightStore(tmp_path)
    store.db.execute("PRAGMA max_page_count = 8")  # a real SQLITE_FULL, as on a full disk
    with pytest.raises(OSError) as raised:
        for start in range(0, 20_000, 1000):
            store.append(light.compact(arrow_table(_generated_posts(1000, start))))
    assert raised.value.errno == errno.ENOSPC
    store.close()


def test_a_full_disk_while_deciding_reply_trees_is_a_user_error(tmp_path, monkeypatch):
    decide = LightStore.structure

    def full(store):
        (pages,) = store.db.execute("PRAGMA page_count").fetchone()
        store.db.execute(f"PRAGMA max_page_count = {pages + 1}")  # full once deciding starts
        return decide(store)

    monkeypatch.setattr(LightStore, "structure", full)
    monkeypatch.setattr(chunks, "LIGHT_ROWS_IN_MEMORY", 0)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UserError, match=r"no room .*No space left"):
        ingest_to_files([SAMPLES / "brexit.jsonl"], out / "posts.parquet",
                        keep_authors=True, detect_language=False, progress=False)
    assert list(out.iterdir()) == []
