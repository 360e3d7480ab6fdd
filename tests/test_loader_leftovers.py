"""Regression tests for loader defects an acceptance re-test of issue #3 found after stop 17:
advice that does not work (``--map`` and ``--tz`` hints), API-error rows that came back with a
kind, an unknown ``--platform`` that rejected every record, and a bogus 4CAT precision read as
``second``. All records are generated here (names start with ``generated_``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import export
from analysis.commands import main
from analysis.errors import UserError
from analysis.loaders import fourcat_csv, instaloader, table, youtube_comments, zeeschuimer
from analysis.loaders.base import LoadOptions
from analysis.loaders.ingest import ingest as run
from tests.test_export import _posts_with_precisions, _split
from tests.test_fourcat_csv import TIKTOK_COLUMNS, generated_tiktok_comments
from tests.test_fourcat_csv import _write as write_4cat
from tests.test_instaloader import generated_comments
from tests.test_youtube_comments import _record as youtube_record
from tests.test_zeeschuimer import (
    _envelope,
    generated_instagram_comment,
    generated_tiktok_comment,
)

SAMPLES = __import__("pathlib").Path(__file__).parent / "data" / "twarc2_samples"
NAIVE = "2020-09-30 21:00:00"


def test_the_map_refusal_does_not_suggest_a_format_that_refuses_the_file(tmp_path, capsys):
    # it said "or pass --format csv, jsonl or parquet", which then says "does not look like jsonl"
    source = SAMPLES / "two_tweets.jsonl"
    out = tmp_path / "posts.parquet"
    assert main(["ingest", str(source), "--map", "text=message", "--no-language",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--format" not in err and "drop --map" in err
    # the advice works: without --map the file is read
    assert main(["ingest", str(source), "--no-language", "-o", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 2


def _naive_reason(build) -> str:
    with pytest.raises(ValueError) as info:
        build()
    return str(info.value)


@pytest.mark.parametrize("platform, build", [
    ("Instagram", lambda: instaloader.row_from_comment(
        {**generated_comments()[0], "created_at": NAIVE}, thread_id="C1", parent_id="C1")),
    ("YouTube", lambda: youtube_comments.row_from_comment(
        {**youtube_record("UgzAAA", "hi", None), "time_parsed": NAIVE}, video_id="v1")),
    ("TikTok", lambda: zeeschuimer.row_from_item(_envelope(
        "tiktok-comments", "71", {**generated_tiktok_comment("71"), "create_time": NAIVE}))),
    ("Instagram", lambda: zeeschuimer.row_from_item(_envelope(
        "instagram-comments", "81", {**generated_instagram_comment("81"), "created_at": NAIVE}))),
])
def test_a_naive_time_on_a_utc_platform_does_not_advise_tz(platform, build):
    # --tz is refused for these formats, so "pass --tz" led nowhere
    reason = _naive_reason(build)
    assert reason.startswith("bad time:") and "pass --tz" not in reason
    assert f"{platform}'s times are always UTC" in reason


def test_a_csv_naive_time_still_advises_tz(tmp_path):
    path = tmp_path / "generated_naive.csv"
    path.write_text(f"id,created_at,text\n1,{NAIVE},hello\n", encoding="utf-8")
    result = run([path], keep_authors=True, detect_language=False)
    assert len(result.rejects) == 1 and "--tz" in result.rejects[0].reason


def test_an_api_error_row_has_no_kind_after_a_4cat_round_trip(tmp_path):
    # it came back as kind "post"
    posts = _posts_with_precisions()
    posts["kind"] = posts["kind"].astype(object)
    posts.loc[3, "kind"] = None
    source = tmp_path / "generated_precisions.parquet"
    posts.to_parquet(source)
    target = tmp_path / "generated_precisions.4cat.csv"
    export.export_posts(source, target)
    rows, rejects = _split(fourcat_csv.read(target, LoadOptions()))
    assert rejects == [] and rows[3]["created_at"] is None
    assert [r["kind"] for r in rows] == ["post", "comment", "comment", None]


def test_a_bogus_4cat_precision_is_a_reject_not_second(tmp_path):
    rows = generated_tiktok_comments()
    header = (*TIKTOK_COLUMNS, "created_at_precision")
    path = write_4cat(tmp_path / "generated_precision.csv",
                      [(*rows[0], "fortnight"), (*rows[1], "day")], header=header)
    good, rejects = _split(fourcat_csv.read(path, LoadOptions()))
    assert [r["id"] for r in good] == ["72"] and good[0]["created_at_precision"] == "day"
    assert len(rejects) == 1 and rejects[0].line == 2
    assert rejects[0].reason.startswith("bad created_at_precision: 'fortnight'")


def test_an_unknown_platform_is_one_error_not_a_reject_per_record(tmp_path, capsys):
    path = tmp_path / "generated_posts.csv"
    path.write_text("id,created_at,text\n1,2020-09-30T21:00:00Z,hi\n2,2020-09-30T21:01:00Z,yo\n",
                    encoding="utf-8")
    with pytest.raises(UserError, match="^unknown platform 'myspace'; use one of twitter,"):
        run([path], platform="myspace", keep_authors=True, detect_language=False)
    out = tmp_path / "posts.parquet"
    assert main(["ingest", str(path), "--platform", "myspace", "--no-language",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown platform") and err.count("\n") == 1
    assert not out.exists()


def test_the_platform_option_ignores_case(tmp_path):
    path = tmp_path / "generated_posts.csv"
    path.write_text("id,created_at,text\n1,2020-09-30T21:00:00Z,hi\n", encoding="utf-8")
    result = run([path], platform="Reddit", keep_authors=True, detect_language=False)
    assert result.rejects == [] and list(result.posts["uid"]) == ["reddit:1"]


def test_a_quote_left_open_in_the_last_record_is_called_an_unclosed_quote(tmp_path):
    # the reason was "bad CSV: unexpected end of data"
    path = tmp_path / "generated_open_quote.csv"
    path.write_text('id,created_at,text\n1,2020-09-30T21:00:00Z,hi\n'
                    '2,2020-09-30T21:00:00Z,"never closed\n', encoding="utf-8")
    rows, rejects = _split(table.read(path, LoadOptions()))
    assert [r["id"] for r in rows] == ["1"] and [r.line for r in rejects] == [3]
    assert rejects[0].reason == "unclosed quote: the file ends inside a quoted field"


def test_a_linked_subfolder_is_read_and_broken_links_and_pipes_are_rejects(tmp_path):
    # a link to a folder inside an input folder was skipped without a word (its tweets lost);
    # so were a broken link and a named pipe
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(SAMPLES / "two_tweets.jsonl", elsewhere / "linked.jsonl")
    folder = tmp_path / "inputs"
    folder.mkdir()
    shutil.copy(SAMPLES / "two_tweets.jsonl", folder / "own.jsonl")
    (folder / "sub").symlink_to(elsewhere, target_is_directory=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # read once, not forever
    (folder / "broken").symlink_to(tmp_path / "absent")
    os.mkfifo(folder / "pipe")
    result = run([folder], keep_authors=True, detect_language=False)
    read = {Path(e["path"]).relative_to(folder).as_posix(): e for e in result.summary["inputs"]}
    assert read["sub/linked.jsonl"]["format"] == "twarc2" and read["own.jsonl"]["rows"] == 2
    assert not any(name.startswith("loop/") for name in read)
    reasons = {Path(r.file).name: r.reason for r in result.rejects}
    assert reasons["broken"] == "a link to nothing (broken symbolic link)"
    assert reasons["pipe"].startswith("not a regular file")
