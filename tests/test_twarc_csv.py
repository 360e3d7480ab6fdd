"""Tests for analysis.loaders.twarc_csv on CSV files written by twarc-csv from the real twarc2
samples (tests/data/twarc_csv, see its SOURCE.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

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


def json_route(name: str) -> dict[str, dict]:
    """The twarc2 loader's rows of ``tests/data/twarc2_samples/<name>.jsonl``, by id."""
    rows = twarc2.read(DATA / "twarc2_samples" / f"{name}.jsonl", LoadOptions())
    return {r["id"]: r for r in rows if isinstance(r, dict)}


ENTITIES = ["hashtags", "mentions", "urls"]


def entities_by_id(path: Path) -> dict[str, list]:
    rows, rejects = items(path)
    assert rejects == []
    return {r["id"]: [r[f] for f in ENTITIES] for r in rows}


def test_entities_are_read_the_same_whatever_twarc_csv_list_options_wrote_them():
    default = entities_by_id(CSVS / "geo_tweets.csv")
    source = json_route("geo_tweets")
    assert default == {i: [source[i][f] for f in ENTITIES] for i in default}
    assert all(any(values[n] for values in default.values()) for n in range(3))
    for option in ["no_process_entities", "no_json_encode_lists",
                   "no_process_entities_no_json_encode_lists"]:
        # entity objects ([{"start": 0, "end": 9, "username": ...}]) and Python's list form
        assert entities_by_id(CSVS / f"geo_tweets_{option}.csv") == default, option


def test_media_links_are_left_out_of_urls_as_in_the_twarc2_loader():
    # twarc-csv writes the photo as its display_url, "pic.twitter.com/uXqSAGWkWJ"
    source = json_route("media_tweet")
    for name in ["media_tweet", "media_tweet_no_process_entities"]:
        rows, _ = items(CSVS / f"{name}.csv")
        assert [r["urls"] for r in rows] == [source[rows[0]["id"]]["urls"]] == [[]], name


def test_generated_entities_cell_that_is_no_list_is_null_and_counted(tmp_path):
    with open(CSVS / "geo_tweets.csv", newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    header = records[0]
    records[1][header.index("entities.hashtags")] = "#harrypotterdiy #potterhead"
    path = tmp_path / "generated_bad_hashtags.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(records)
    with pytest.warns(UserWarning, match="1 row.* entities cell .* not a list"):
        rows, rejects = items(path)
    assert rejects == []
    assert rows[0]["hashtags"] is None  # not [] ("no hashtags")
    assert rows[0]["urls"] == ["https://www.instagram.com/p/B-7ItQwBJ93/?igshid=187dqx4b5lu2y"]
    assert rows[1]["mentions"] == ["j2bryson", "Twitter"]


def test_generated_edit_history_in_python_form_names_the_latest_version(tmp_path):
    with open(CSVS / "edited.csv", newline="", encoding="utf-8") as handle:
        header, record = list(csv.reader(handle))
    history = header.index("edit_history_tweet_ids")
    assert record[history] == '["1576994746135764992", "1576994789110992896"]'
    # as twarc-csv writes it with --no-json-encode-lists, in a row for the first version
    record[history] = "['1576994746135764992', '1576994789110992896']"
    record[header.index("id")] = "1576994746135764992"
    path = tmp_path / "generated_python_form_history.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, record])
    rows, _ = items(path)
    assert rows[0]["id"] == "1576994789110992896"


def roles(path: Path) -> dict[str, str]:
    rows, rejects = items(path)
    assert rejects == []
    return {r["id"]: r["collection_role"] for r in rows}


def test_rows_that_look_inlined_are_counted_in_a_warning_and_stay_matched():
    # real twarc-csv output with --inline-referenced-tweets: the JSON route has 4 context
    # tweets; nothing in the CSV tells them from tweets hydrated in time order, so they stay
    # matched, and the warning counts them
    with pytest.warns(UserWarning, match=": 4 row.*--inline-referenced-tweets"):
        rows, _ = items(CSVS / "streaming_output_with_error_inline_referenced_tweets.csv")
    context = {i for i, r in json_route("streaming_output_with_error").items()
               if r["collection_role"] == "context"}
    assert len(context) == 4 and context <= {r["id"] for r in rows}
    assert {r["collection_role"] for r in rows} == {"matched"}
    assert [r["source_line"] for r in rows] == list(range(2, 13))


def test_files_without_inlined_tweets_have_no_context_rows(recwarn):
    for path in CSVS.glob("*.csv"):
        if "inline" not in path.name:
            assert set(roles(path).values()) == {"matched"}, path.name
    assert not [w for w in recwarn if "inline" in str(w.message)]


def test_generated_stream_tweet_followed_by_a_reply_to_it_stays_matched(tmp_path, recwarn):
    # A stream can deliver a tweet and, right after it, a reply to it; both matched a rule.
    source = CSVS / "streaming_output_with_error_inline_referenced_tweets.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    rules = header.index("matching_rules")
    matched_rules = next(r[rules] for r in records if r[rules])
    for record in records:
        record[rules] = matched_rules
    path = tmp_path / "generated_stream_with_replies.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *records])
    assert set(roles(path).values()) == {"matched"}
    assert not recwarn.list


def test_merged_retweet_has_no_counts_or_entities_of_the_retweeted_tweet():
    source = json_route("two_tweets")["1394735776701816833"]
    merged, _ = items(CSVS / "two_tweets.csv")
    own, _ = items(CSVS / "two_tweets_no_merge_retweets.csv")
    fields = ["like_count", "reply_count", "quote_count", *ENTITIES]
    # --merge-retweets (the default): the retweeted tweet's values, which are not the retweet's
    assert merged[0]["kind"] == "repost" and merged[0]["text"] == "#POIUYTREWQ"
    assert [merged[0][f] for f in fields] == [None] * len(fields)
    assert merged[0]["share_count"] == source["share_count"] == 1
    # --no-merge-retweets: the retweet's own values, as in the twarc2 loader
    assert own[0]["text"] == source["text"] == "RT @bibaigna96: #POIUYTREWQ"
    assert {f: own[0][f] for f in [*fields, "share_count"]} == {
        f: source[f] for f in [*fields, "share_count"]}
    assert own[0]["mentions"] == ["bibaigna96"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_generated_file_saved_again_by_a_spreadsheet_with_another_separator(tmp_path, recwarn,
                                                                           delimiter):
    # as a spreadsheet saves it in a European locale (";") or as "Text (Tab delimited)", with its
    # byte order mark and CRLF line ends; before, it was not detected and every row was a
    # "field count" reject (the header read as one column)
    from analysis.loaders.ingest import detect_format

    source = CSVS / "streaming_output_with_error.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    path = tmp_path / "generated_resaved.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    assert twarc_csv.sniff(path, path.read_bytes()[:65536])
    assert detect_format(path) == "twarc-csv"
    rows, rejects = items(path)
    assert rejects == []
    expected, _ = items(source)
    assert len(expected) == 7
    assert ([{k: v for k, v in r.items() if k != "source_file"} for r in rows]
            == [{k: v for k, v in r.items() if k != "source_file"} for r in expected])


def _resaved_with_semicolons(path, rows_of) -> tuple[list[str], list[str]]:
    """The real sample's header and first row, written to ``path`` with ``;`` as
    ``rows_of(header, first)`` gives them (a generated file); returns both as read."""
    with open(CSVS / "streaming_output_with_error.csv", newline="", encoding="utf-8") as handle:
        header, first, *_ = list(csv.reader(handle))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(rows_of(header, first))
    return header, first


def test_generated_semicolon_file_keeps_its_broken_rows_as_rejects(tmp_path):
    path = tmp_path / "generated_resaved_broken.csv"
    header, first = _resaved_with_semicolons(path, lambda h, f: [h, f, f[:10]])
    rows, rejects = items(path)
    assert [r["source_line"] for r in rows] == [2]
    assert [(r.line, r.reason) for r in rejects] == [
        (3, f"field count: row has 10 fields, the header {len(header)}")]
    assert rejects[0].snippet.startswith(";".join(first[:3]))


def test_generated_header_names_are_read_as_the_sniffer_reads_them(tmp_path):
    # the sniffer drops spaces around header names (table.header_columns); the reader must too,
    # or a file it is given would be all "row has no id" rejects
    path = tmp_path / "generated_spaced_header.csv"
    header, first = _resaved_with_semicolons(path, lambda h, f: [[f" {c} " for c in h], f])
    assert twarc_csv.sniff(path, path.read_bytes())
    rows, rejects = items(path)
    assert rejects == []
    assert [r["id"] for r in rows] == [first[header.index("id")]]
