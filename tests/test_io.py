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
