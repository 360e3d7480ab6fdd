"""Tests for analysis.loaders.parts: a large JSON-lines file read in parts, by worker processes,
gives the same table, rejects and summary as the file read whole.

The inputs are the real twarc2 samples (tests/data/twarc2_samples, including the page cut short
in streaming_output_with_error.jsonl) and real Reddit comments (tests/data/reddit_api) written as
Pushshift NDJSON, with :data:`analysis.loaders.parts.PART_BYTES` made small so that a file of a
few hundred kB is read in many parts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.errors import UserError
from analysis.loaders import chunks, parts
from analysis.loaders.base import count_lines, iter_lines, iter_lines_between, line_ranges
from analysis.loaders.ingest import ingest, ingest_to_files
from analysis.loaders.light_store import LightStore

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "twarc2_samples"
KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#: Small parts: every test file is read in many of them.
SMALL_PART = 20_000


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch, tmp_path):
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, KEY_HEX)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _twarc2_file(folder: Path) -> Path:
    """Real twarc2 pages and flattened tweets, twice over (so every tweet has a duplicate), with
    the truncated page, a blank line, a line of counts and a line that is not JSON."""
    names = ["brexit.jsonl", "noflat.jsonl", "streaming_output_with_error.jsonl",
             "flat.jsonl", "edited.jsonl", "edited_before.jsonl", "geo_tweets.jsonl",
             "counts.jsonl", "two_tweets.jsonl", "media_tweet.jsonl"]
    body = b"".join((SAMPLES / name).read_bytes().rstrip(b"\n") + b"\n" for name in names)
    path = folder / "big.jsonl"
    path.write_bytes(body + b"\n{not json at all\n" + body)
    return path


def _pushshift_file(folder: Path) -> Path:
    raw = json.loads((DATA / "reddit_api" / "1jvbd8_raw.json").read_text(encoding="utf-8"))
    records = [raw[0]["data"]["children"][0]["data"]]
    stack = list(raw[1]["data"]["children"])
    while stack:
        data = dict(stack.pop()["data"])
        replies = data.pop("replies", None)
        records.append(data)
        if isinstance(replies, dict):
            stack.extend(replies["data"]["children"])
    lines = []
    for copy in range(40):  # new ids per copy; copies 0 and 39 share theirs (duplicates)
        for record in records:
            lines.append(json.dumps({**record, "id": f"{record['id']}{copy % 39}"},
                                    ensure_ascii=False))
    lines[7] = lines[7][: len(lines[7]) // 2]  # a line cut short
    lines[150] = json.dumps({"id": "x", "score": 1})  # neither comment nor submission
    path = folder / "comments.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path, out: Path, monkeypatch, *, part_bytes: int, jobs: int,
         format: str = "auto", **options):  # noqa: A002
    monkeypatch.setattr(parts, "PART_BYTES", part_bytes)
    result, written = ingest_to_files([path], out / "posts.parquet", format=format,
                                      jobs=jobs, progress=False, **options)
    table = pd.read_parquet(written["posts"])
    rejects = (written["rejects"].read_text(encoding="utf-8")
               if "rejects" in written else "")
    summary = {k: v for k, v in result.summary.items() if k != "seconds"}
    return table, rejects, summary


@pytest.mark.parametrize("make, format", [(_twarc2_file, "twarc2"),
                                           (_pushshift_file, "pushshift")])
@pytest.mark.parametrize("language", [False, True])
def test_parts_and_workers_give_the_table_of_a_whole_read(tmp_path, monkeypatch, make, format,
                                                          language):
    path = make(tmp_path)
    assert len(parts.line_ranges(path, SMALL_PART)) >= 4
    whole = _run(path, tmp_path / "whole", monkeypatch, part_bytes=10**9, jobs=1,
                 format=format, detect_language=language)
    monkeypatch.setattr(parts, "PART_BYTES", SMALL_PART)
    assert len(parts.plan_parts(path, format)) >= 4
    in_parts = _run(path, tmp_path / "parts", monkeypatch, part_bytes=SMALL_PART, jobs=1,
                    format=format, detect_language=language)
    workers = _run(path, tmp_path / "workers", monkeypatch, part_bytes=SMALL_PART, jobs=2,
                   format=format, detect_language=language)
    table, rejects, summary = whole
    assert len(table) > 50 and summary["rejects"] >= 2
    assert summary["duplicates"] > 0  # copies collapse into one row
    # rejects in the second half of the file keep their line numbers in the file
    lines = [json.loads(line)["line"] for line in rejects.splitlines()]
    assert max(lines) > count_lines(path, 0, SMALL_PART)
    for other in (in_parts, workers):
        pd.testing.assert_frame_equal(other[0], table)
        assert other[1] == rejects
        assert other[2] == summary


def test_workers_of_a_process_with_threads_start_from_a_fork_server(tmp_path, monkeypatch):
    """A process with threads (a notebook kernel) must not fork its workers: a forked child of
    a multi-threaded process may deadlock (Python 3.12+ warns about it)."""
    path = _twarc2_file(tmp_path)
    whole = _run(path, tmp_path / "whole", monkeypatch, part_bytes=10**9, jobs=1,
                 detect_language=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    # a script or python -m module (pytest here) is forked all the same: a fork server's
    # workers would run its main module again
    assert parts.start_method() == "fork"
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a notebook's
    try:
        assert parts.start_method() in ("forkserver", "spawn")
        workers = _run(path, tmp_path / "workers", monkeypatch, part_bytes=SMALL_PART, jobs=2,
                       detect_language=False)
    finally:
        stop.set()
        other.join()
    pd.testing.assert_frame_equal(workers[0], whole[0])
    assert workers[1:] == whole[1:]


def test_ingest_in_memory_reads_parts_too(tmp_path, monkeypatch):
    path = _twarc2_file(tmp_path)
    monkeypatch.setattr(parts, "PART_BYTES", 10**9)
    whole = ingest([path], detect_language=False)
    monkeypatch.setattr(parts, "PART_BYTES", SMALL_PART)
    split = ingest([path], detect_language=False, jobs=2)
    pd.testing.assert_frame_equal(split.posts, whole.posts)
    assert split.rejects == whole.rejects
    assert split.summary["inputs"] == whole.summary["inputs"]


def test_a_loader_that_stops_ends_the_file_as_a_whole_read_does(tmp_path, monkeypatch):
    path = _twarc2_file(tmp_path)
    from analysis.loaders import twarc2

    original = twarc2.row_from_tweet

    def fragile(tweet, *args, **kwargs):
        if tweet.get("id") == "1377650093109743620":  # in streaming_output_with_error
            raise RuntimeError("boom")
        return original(tweet, *args, **kwargs)

    complete = _run(path, tmp_path / "complete", monkeypatch, part_bytes=10**9, jobs=1,
                    format="twarc2", detect_language=False)
    monkeypatch.setattr(twarc2, "row_from_tweet", fragile)
    whole = _run(path, tmp_path / "whole", monkeypatch, part_bytes=10**9, jobs=1,
                 format="twarc2", detect_language=False)
    in_parts = _run(path, tmp_path / "parts", monkeypatch, part_bytes=SMALL_PART, jobs=1,
                    format="twarc2", detect_language=False)
    assert "loader twarc2 stopped" in whole[1]
    assert whole[2]["rows_read"] < complete[2]["rows_read"] / 2  # the second copy is not read
    pd.testing.assert_frame_equal(in_parts[0], whole[0])
    assert in_parts[1] == whole[1]
    assert in_parts[2] == whole[2]


def test_small_compressed_and_non_line_files_are_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(parts, "PART_BYTES", 1000)
    path = _twarc2_file(tmp_path)
    assert parts.plan_parts(path, "twarc2")
    gz = tmp_path / "big.jsonl.gz"
    import gzip

    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert parts.plan_parts(gz, "twarc2") == []
    array = tmp_path / "array.json"
    array.write_text("[\n" + ",\n".join(['{"id": "1"}'] * 500) + "\n]\n", encoding="utf-8")
    assert parts.plan_parts(array, "twarc2") == []
    monkeypatch.setattr(parts, "PART_BYTES", 10**9)
    assert parts.plan_parts(path, "twarc2") == []
    csv = tmp_path / "t.csv"
    csv.write_text("id,text\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(parts, "PART_BYTES", 100)
    assert parts.plan_parts(csv, "csv") == []  # the table loader has no read_lines


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
                      max_size=40),
       end_newline=st.booleans(), size=st.integers(1, 200))
def test_line_ranges_cover_the_file_with_the_same_line_numbers(tmp_path_factory, lines,
                                                               end_newline, size):
    path = tmp_path_factory.mktemp("ranges") / "f.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if end_newline and lines else b""))
    ranges = line_ranges(path, size)
    assert [r[0] for r in ranges[1:]] == [r[1] for r in ranges[:-1]]
    assert (ranges[0][0] if ranges else 0) == 0
    assert (ranges[-1][1] if ranges else 0) == path.stat().st_size
    got = []
    before = 0
    for start, end in ranges:
        got += [(number + before, raw) for number, raw in iter_lines_between(path, start, end)]
        before += count_lines(path, start, end)
    assert got == list(iter_lines(path))


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pids, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_gone(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_interrupted_reader_stops_its_workers_at_once():
    reader = parts.PartReader(2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), reader:
        pool = reader._pool(2)
        busy = [pool.submit(time.sleep, 30) for _ in range(2)]
        pids = list(pool._processes)
        raise KeyboardInterrupt
    assert time.monotonic() - started < 10
    assert _wait_gone(pids) and all(f.done() for f in busy)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_when_the_main_process_is_killed():
    script = ("import sys, time\n"
              "from analysis.loaders import parts\n"
              "pool = parts.PartReader(2)._pool(2)\n"
              "pool.submit(time.sleep, 0).result()\n"
              "print(*pool._processes, flush=True)\n"
              "time.sleep(60)\n")
    main = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    pids = [int(pid) for pid in main.stdout.readline().split()]
    main.kill()  # SIGKILL: no cleanup in the main process at all
    main.wait()
    try:
        assert pids and _wait_gone(pids)
    finally:
        for pid in pids:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


def _worker_dies(task):
    os._exit(3)  # as a worker killed by the system (out of memory) ends


def test_a_worker_that_dies_ends_the_run_with_one_line(tmp_path, monkeypatch):
    path = _twarc2_file(tmp_path)
    monkeypatch.setattr(parts, "read_part", _worker_dies)
    with pytest.raises(UserError, match="worker process ended abruptly.*--jobs 1"):
        _run(path, tmp_path / "out", monkeypatch, part_bytes=SMALL_PART, jobs=2,
             detect_language=False)
    assert not (tmp_path / "out" / "posts.parquet").exists()


@pytest.mark.parametrize("make, format", [(_twarc2_file, "twarc2"),
                                           (_pushshift_file, "pushshift")])
def test_light_columns_moved_to_disk_mid_run_give_the_same_table(tmp_path, monkeypatch, make,
                                                                 format):
    """A run past chunks.LIGHT_ROWS_IN_MEMORY rows decides duplicates and reply trees in a
    SQLite file (analysis.loaders.light_store); the parts after the move go there too."""
    path = make(tmp_path)
    whole = _run(path, tmp_path / "whole", monkeypatch, part_bytes=10**9, jobs=1,
                 format=format, detect_language=False)
    stores = []
    monkeypatch.setattr(chunks, "LIGHT_ROWS_IN_MEMORY", 100)
    monkeypatch.setattr(chunks, "LightStore",
                        lambda folder: stores.append(LightStore(folder)) or stores[-1])
    stored = _run(path, tmp_path / "stored", monkeypatch, part_bytes=SMALL_PART, jobs=2,
                  format=format, detect_language=False)
    assert len(stores) == 1 and stores[0].rows > 100 + whole[2]["duplicates"]
    pd.testing.assert_frame_equal(stored[0], whole[0])
    assert stored[1:] == whole[1:]
    assert whole[2]["duplicates"] > 0
    assert not list((tmp_path / "stored").glob(".*"))  # the store went with the spill folder
