"""Tests for analysis.loaders.twarc_csv on CSV files written by twarc-csv from the real twarc2
samples (tests/data/twarc_csv, see its SOURCE.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.loaders import twarc2, twarc_csv
from analysis.loaders.base import LoadOptions, Reject

DATA = Path(__file__).parent / "data"
CSVS = DATA / "twarc_csv"


def items(path: Path) -> tuple[list[dict], list[Reject]]:
    got = list(twarc_csv.read(path, LoadOptions()))
    return ([i for i in got if isinstance(i, dict)], [i for i in got if isinstance(i, Reject)])


def test_same_tweets_as_the_twarc2_loader_on_the_same_source():
    rows, rejects = items(CSVS / "streaming_output_with_error.csv")
    assert rejects == []
    assert len(rows) == 7
    source = list(twarc2.read(DATA / "twarc2_samples" / "streaming_output_with_error.jsonl",
                              LoadOptions()))
    matched = {r["uid"]: r for r in source
               if isinstance(r, dict) and r["collection_role"] == "matched"}
    fields = ["kind", "parent_id", "thread_id", "author_id", "author_handle", "created_at",
              "collected_at", "text", "lang", "like_count", "share_count", "reply_to_author_id",
              "hashtags", "mentions"]
    for row in rows:
        expected = dict(matched[row["uid"]])
        expected["text"] = expected["text"].replace("\r", "")  # twarc-csv drops them
        assert {f: row[f] for f in fields} == {f: expected[f] for f in fields}, row["uid"]


def test_reply_row_values():
    rows, _ = items(CSVS / "streaming_output_with_error.csv")
    reply = {r["id"]: r for r in rows}["1377650093109743620"]
    assert reply["kind"] == "reply"
    assert reply["parent_id"] == "1377266697850257410"
    assert reply["author_handle"] == "sheelaghb18"
    assert reply["mentions"] == ["PoliceMutual"]  # "@" of twarc-csv's list stripped
    assert reply["created_at"] == pd.Timestamp("2021-04-01T15:52:32Z")
    assert reply["collected_at"] == pd.Timestamp("2021-04-01T15:52:42Z")
    assert reply["source_line"] == 3


def test_retweet_and_edit():
    rows, _ = items(CSVS / "two_tweets.csv")
    assert rows[0]["kind"] == "repost"
    assert rows[0]["parent_id"] == "1391677057810288641"
    # twarc-csv (merge_retweets) put the retweeted tweet's text in the row
    assert rows[0]["text"] == "#POIUYTREWQ"
    edited, _ = items(CSVS / "edited.csv")
    assert edited[0]["id"] == "1576994789110992896"


def test_hashtags_lose_their_hash():
    rows, _ = items(CSVS / "geo_tweets.csv")
    assert "harrypotter" in rows[0]["hashtags"]
    assert all(not h.startswith("#") for h in rows[0]["hashtags"])


def test_sniff():
    for path in CSVS.glob("*.csv"):
        assert twarc_csv.sniff(path, path.read_bytes()[:65536])
    assert not twarc_csv.sniff(Path("x.csv"), b"id,text,created_at\n1,hi,2020\n")
    jsonl = DATA / "twarc2_samples" / "two_tweets.jsonl"
    assert not twarc_csv.sniff(jsonl, jsonl.read_bytes()[:65536])


def test_generated_broken_rows_are_rejects(tmp_path):
    source = CSVS / "streaming_output_with_error.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    header, first, second = records[0], records[1], records[2]
    no_id = list(second)
    no_id[header.index("id")] = ""
    short = first[:10]
    path = tmp_path / "generated_broken.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([header, first, no_id, short])
        handle.flush()
    with open(path, "ab") as handle:
        handle.write(b",".join([b"\xff\xfe"] * len(header)) + b"\n")
    rows, rejects = items(path)
    assert [r["source_line"] for r in rows] == [2]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (3, "row has no id"), (4, "field count"),
        (5, "invalid UTF-8")]
    # the details come after the ":", so the ingest summary counts all such rows as one reason
    assert rejects[1].reason == f"field count: row has 10 fields, the header {len(header)}"
