"""Atomic writes and table reading."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config, io
from analysis.errors import UserError


def test_failed_write_leaves_neither_output_nor_temp_file(tmp_path):
    dest = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), io.atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_file(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError), io.atomic_path(dest) as tmp:
        tmp.write_text("new")
        raise RuntimeError("boom")
    assert dest.read_text() == "old"


def test_writing_under_data_raw_is_refused():
    with pytest.raises(UserError, match="data/raw"):
        io.write_text("x", config.DATA_RAW / "tweeteval_stance" / "new.txt")
    assert not (config.DATA_RAW / "tweeteval_stance" / "new.txt").exists()


def test_writing_onto_an_input_is_refused(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    with pytest.raises(UserError, match="overwrite an input"), \
            io.atomic_path(source, overwrite_guard=[source]):
        pass
    assert source.read_text() == "a\n1\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_tables_round_trip(tmp_path, suffix):
    frame = pd.DataFrame({"uid": ["twitter:1", "twitter:2"], "label": ["support", "other"]})
    io.write_table(frame, tmp_path / f"t{suffix}")
    back = io.read_table(tmp_path / f"t{suffix}")
    assert back["uid"].tolist() == ["twitter:1", "twitter:2"]
    assert back["label"].tolist() == ["support", "other"]


def test_reading_a_missing_file_names_it(tmp_path):
    with pytest.raises(UserError, match=r"nope\.csv: no such file"):
        io.read_table(tmp_path / "nope.csv")


def test_reading_a_missing_column_names_it(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="missing column"):
        io.read_table(tmp_path / "t.csv", columns=["a", "text"])


def test_reading_junk_as_parquet_is_a_user_error(tmp_path):
    (tmp_path / "t.parquet").write_bytes(b"\x00\x01 not parquet")
    with pytest.raises(UserError, match="cannot read table"):
        io.read_table(tmp_path / "t.parquet")


def test_unknown_table_suffix_is_refused(tmp_path):
    with pytest.raises(UserError, match="unknown table type"):
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")


def test_written_files_get_the_usual_mode_not_owner_only(tmp_path):
    """Regression: outputs kept mkstemp's 0600, so colleagues could not read them."""
    import os

    old = os.umask(0o022)
    try:
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        io.write_json({"a": 1}, tmp_path / "t.json")
    finally:
        os.umask(old)
    for name in ("t.csv", "t.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("case", ["parent_is_a_file", "output_is_a_folder"])
def test_an_output_path_the_system_refuses_is_a_user_error(tmp_path, case):
    """Regression: these raised FileExistsError / IsADirectoryError tracebacks."""
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "folder.csv").mkdir()
    dest = {"parent_is_a_file": tmp_path / "a.csv" / "sub" / "t.csv",
            "output_is_a_folder": tmp_path / "folder.csv"}[case]
    with pytest.raises(UserError, match="is a f"):
        io.write_table(pd.DataFrame({"a": [1]}), dest)
    assert (tmp_path / "a.csv").read_text() == "x\n1\n" and (tmp_path / "folder.csv").is_dir()
    assert not list((tmp_path / "folder.csv").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "folder.csv"]


def test_reading_a_folder_as_a_table_says_so(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        io.read_table(tmp_path)


# --- fixer-io: a lone carriage return in CSV; ids as exact text from JSON lines and Parquet ------

import json  # noqa: E402
import tarfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

RUMOUREVAL_ARCHIVE = config.DATA_RAW / "rumoureval2019" / "rumoureval-2019-training-data.tar.gz"
#: A real reply whose text holds a lone carriage return ("...finish....\rPraying ...").
CR_TWEET = ("rumoureval-2019-training-data/twitter-english/charliehebdo/553489393202499584/"
            "replies/553491367159017472.json")
#: A real RumourEval thread (source tweet and replies) with 18-digit ids.
THREAD = (Path(__file__).parent / "data" / "rumoureval" / "rumoureval-2019-training-data" /
          "twitter-english" / "charliehebdo" / "552783667052167168")


def _texts(column: pd.Series) -> list:
    return column.astype("object").where(column.notna(), None).tolist()


def _thread_records() -> list[dict]:
    """id / parent_id / text of the real thread, ids as the JSON numbers the files hold."""
    tweets = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(THREAD.glob("*/*.json"))]
    return [{"id": t["id"], "parent_id": t["in_reply_to_status_id"], "text": t["text"]}
            for t in tweets]


def test_a_text_with_a_lone_carriage_return_reads_back_as_one_row(tmp_path):
    """Regression: CSV lines ended in "\\n", a lone CR went unquoted, and read_table split the
    real tweet 553491367159017472 in two (6684 rows read back from 6683)."""
    with tarfile.open(RUMOUREVAL_ARCHIVE) as archive:
        text = json.load(archive.extractfile(CR_TWEET))["text"]
    assert "\r" in text and "\r\n" not in text
    frame = pd.DataFrame({"uid": ["twitter:553491367159017472", "twitter:2"],
                          "text": [text, "next post"]})
    io.write_table(frame, tmp_path / "posts.csv")
    back = io.read_table(tmp_path / "posts.csv")
    assert _texts(back["uid"]) == frame["uid"].tolist()
    assert _texts(back["text"]) == [text, "next post"]


def test_numeric_ids_in_json_lines_are_read_as_exact_text(tmp_path):
    """Regression: a parent_id column of numbers with a null became float64 (the root's
    552783667052167168 read back as 552783667052167168.0, later '5.527836670521672e+17')."""
    records = _thread_records()
    assert any(r["parent_id"] is None for r in records)
    numbers = tmp_path / "generated_numbers.jsonl"
    numbers.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    texts = tmp_path / "generated_texts.jsonl"
    texts.write_text("".join(json.dumps({k: str(v) if k.endswith("id") and v is not None else v
                                         for k, v in r.items()}) + "\n" for r in records),
                     encoding="utf-8")
    back = io.read_table(numbers)
    assert _texts(back["id"]) == [str(r["id"]) for r in records]
    assert _texts(back["parent_id"]) == [None if r["parent_id"] is None else str(r["parent_id"])
                                         for r in records]
    assert _texts(back["parent_id"]) == _texts(io.read_table(texts)["parent_id"])


def test_integer_ids_with_nulls_in_parquet_are_read_as_exact_text(tmp_path):
    records = _thread_records()
    path = tmp_path / "generated.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    assert pq.read_schema(path).field("parent_id").type == pa.int64()
    back = io.read_table(path)
    assert _texts(back["parent_id"]) == [None if r["parent_id"] is None else str(r["parent_id"])
                                         for r in records]


def test_a_floating_point_id_that_may_be_rounded_is_refused(tmp_path):
    path = tmp_path / "generated.jsonl"
    path.write_text('{"id": "1", "parent_id": 5.527836670521672e+17}\n'
                    '{"id": "2", "parent_id": 100.0}\n', encoding="utf-8")
    with pytest.raises(UserError, match="'parent_id'.*floating-point"):
        io.read_table(path)
    path.write_text('{"id": "1", "parent_id": null}\n{"id": "2", "parent_id": 100.0}\n',
                    encoding="utf-8")
    assert _texts(io.read_table(path)["parent_id"]) == [None, "100"]
