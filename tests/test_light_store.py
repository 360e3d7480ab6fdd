"""Tests for analysis.loaders.light_store: when the light columns of a run go to a SQLite file,
and what a full disk does there. That the stored decisions give the table of the in-memory ones
is tested in tests/test_light.py (real files and generated posts) and tests/test_parts.py (a run
whose light columns move to the store part way)."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import UserError
from analysis.io import arrow_table
from analysis.loaders import chunks, light, light_store
from analysis.loaders import ingest as ingest_module
from analysis.loaders.chunks import SpillSink, conform_posts
from analysis.loaders.ingest import ingest_to_files
from analysis.loaders.light_store import LightStore, StoredStructure

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"


def _generated_posts(n: int, start: int = 0) -> pd.DataFrame:
    """Generated replies in one chain: row i answers row i - 1."""
    ids = [str(i) for i in range(start, start + n)]
    return conform_posts(pd.DataFrame({
        "uid": [f"twitter:{i}" for i in ids], "platform": "twitter", "id": ids,
        "kind": ["post" if i == "0" else "reply" for i in ids],
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
    with pytest.raises(UserError, match=r"light\.sqlite: no room .*disk is full"):
        for start in range(0, 20_000, 1000):
            store.append(light.compact(arrow_table(_generated_posts(1000, start))))
    store.close()


def test_a_store_that_cannot_be_made_is_a_no_room_error(tmp_path, monkeypatch):
    connect = light_store._connect

    def full(path):
        db = connect(path)
        db.execute("PRAGMA max_page_count = 1")  # no room for the first table
        return db

    monkeypatch.setattr(light_store, "_connect", full)
    with pytest.raises(UserError, match="no room"):
        LightStore(tmp_path)


FILE_SIZE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from analysis.errors import UserError
from analysis.io import arrow_table
from analysis.loaders import light
from analysis.loaders.light_store import LightStore
sys.path.insert(0, {tests!r})
from test_light_store import _generated_posts
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
store = LightStore(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    for start in range(0, 50_000, 1000):
        store.append(light.compact(arrow_table(_generated_posts(1000, start))))
    store.structure()
except UserError as exc:
    print(exc)
"""


def test_a_file_size_limit_is_a_no_room_error(tmp_path):
    """A file-size limit or a quota is an I/O error to SQLite, not SQLITE_FULL."""
    code = FILE_SIZE_LIMIT.format(tests=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert "no room for the temporary file" in done.stdout and "I/O error" in done.stdout


def test_sqlite_temporary_files_go_to_the_spill_folder(tmp_path):
    def folder(db):
        row = db.execute("PRAGMA temp_store_directory").fetchone()
        return row[0] if row else None

    store = LightStore(tmp_path)
    assert folder(store.db) == str(tmp_path)
    store.close()
    other = sqlite3.connect(":memory:")
    assert folder(other) in (None, "")  # the process-wide setting is back to the system's


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
    with pytest.raises(UserError, match=r"no room for the temporary file .*disk is full"):
        ingest_to_files([SAMPLES / "brexit.jsonl"], out / "posts.parquet",
                        keep_authors=True, detect_language=False, progress=False)
    assert list(out.iterdir()) == []


def test_a_spill_file_that_cannot_be_closed_on_a_full_disk_is_a_user_error(tmp_path,
                                                                            monkeypatch):
    """Regression (review): closing the last spill file wrote its footer to the full disk, and
    that OSError replaced the one-line error, twice over."""
    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(SpillSink, "close", full_disk)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UserError, match="no room for the temporary files"):
        ingest_to_files([SAMPLES / "brexit.jsonl"], out / "posts.parquet",
                        keep_authors=True, detect_language=False, progress=False)
    monkeypatch.setattr(ingest_module, "_read_inputs", full_disk)  # and with reading failing
    with pytest.raises(UserError, match="no room for the temporary files"):
        ingest_to_files([SAMPLES / "brexit.jsonl"], out / "posts.parquet",
                        keep_authors=True, detect_language=False, progress=False)
    assert list(out.iterdir()) == []


def test_ctrl_c_stops_the_sql_step_at_once(tmp_path, ctrl_c):
    """Ctrl-C during the decisions stops the SQL statement running (it used to take effect only
    when the whole script had run: minutes on a large run)."""
    store = LightStore(tmp_path)
    for start in range(0, 200_000, 5000):
        store.append(light.compact(arrow_table(_generated_posts(5000, start))))
    main = threading.get_ident()
    timer = threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            store.structure()
    finally:
        timer.cancel()
    tables = {name for (name,) in store.db.execute("SELECT name FROM sqlite_master")}
    assert "plan" not in tables  # the script stopped before its last steps
    store.close()
