"""Tests for analysis.loaders.twitter_v1 on real RumourEval tweets (tests/data/twitter_v1)."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import DATA_RAW
from analysis.loaders import twitter_v1
from analysis.loaders.base import LoadOptions, Reject

DATA = Path(__file__).parent / "data" / "twitter_v1"
SOURCE = DATA / "552783667052167168.json"
REPLY = DATA / "552785374507175936.json"
QUOTE_REPLY = DATA / "767734644561186817.json"
URL_REPLY = DATA / "500400826507341825.json"
ARCHIVE = DATA_RAW / "rumoureval2019" / "rumoureval-2019-training-data.tar.gz"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_source_tweet_maps_to_post():
    row = twitter_v1.row_from_tweet(load(SOURCE))
    assert row["uid"] == "twitter:552783667052167168"
    assert row["id"] == "552783667052167168"
    assert row["platform"] == "twitter"
    assert row["kind"] == "post"
    assert row["parent_id"] is None
    assert row["created_at"] == pd.Timestamp("2015-01-07 11:07:51", tz="UTC")
    assert row["created_at_precision"] == "second"
    assert row["author_id"] == "25067168"
    assert row["author_handle"] == "euronews"
    assert row["text"].startswith("France: 10 people dead after shooting")
    assert row["hashtags"] == ["CharlieHebdo"]
    assert row["mentions"] == []
    assert row["like_count"] == 38
    assert row["share_count"] == 486
    assert row["reply_count"] is None  # v1.1 standard API gives none
    assert row["lang"] == "en"
    assert row["text_status"] == "ok"
    assert row["collection_role"] == "matched"
    assert row["source_format"] == "twitter-v1"


def test_reply_has_parent_and_reply_to_author():
    row = twitter_v1.row_from_tweet(load(REPLY))
    assert row["kind"] == "reply"
    assert row["parent_id"] == "552783667052167168"
    assert row["reply_to_author_id"] == "25067168"
    assert row["mentions"] == ["euronews"]
    assert row["author_handle"] == "J0nathanDavis"


def test_reply_that_quotes_stays_a_reply_and_quote_becomes_context():
    rows = twitter_v1.rows_from_tweet(load(QUOTE_REPLY))
    assert rows[0]["kind"] == "reply"
    assert rows[0]["parent_id"] == "767725956706414592"
    assert rows[0]["urls"] == ["https://twitter.com/dbloom451/status/766257527025786880"]
    assert len(rows) == 2
    assert rows[1]["id"] == "766257527025786880"
    assert rows[1]["collection_role"] == "context"
    assert rows[1]["author_handle"] == "DBloom451"


def test_expanded_url_is_taken():
    row = twitter_v1.row_from_tweet(load(URL_REPLY))
    assert row["urls"][0].startswith("http://hankjohnson.house.gov/")


def test_generated_pure_quote_points_at_quoted_tweet():
    tweet = load(QUOTE_REPLY)
    tweet["in_reply_to_status_id_str"] = None
    tweet["in_reply_to_status_id"] = None
    row = twitter_v1.row_from_tweet(tweet)
    assert row["kind"] == "quote"
    assert row["parent_id"] == "766257527025786880"
    assert row["reply_to_author_id"] is None


def test_generated_retweet_keeps_its_own_text():
    original = load(SOURCE)
    retweet = copy.deepcopy(load(REPLY))
    retweet["id_str"] = "999"
    retweet["in_reply_to_status_id_str"] = None
    retweet["text"] = "RT @euronews: France: 10 people dead"
    retweet["retweeted_status"] = original
    rows = twitter_v1.rows_from_tweet(retweet)
    assert rows[0]["kind"] == "repost"
    assert rows[0]["text"] == "RT @euronews: France: 10 people dead"
    assert rows[0]["parent_id"] == "552783667052167168"
    assert [r["collection_role"] for r in rows] == ["matched", "context"]
    assert rows[1]["text"].startswith("France: 10 people dead after shooting")


def test_generated_extended_tweet_and_full_text():
    tweet = load(REPLY)
    tweet["truncated"] = True
    tweet["extended_tweet"] = {"full_text": "a longer text #more",
                               "entities": {"hashtags": [{"text": "more"}]}}
    row = twitter_v1.row_from_tweet(tweet)
    assert row["text"] == "a longer text #more"
    assert row["hashtags"] == ["more"]
    tweet["full_text"] = "full text wins"
    assert twitter_v1.row_from_tweet(tweet)["text"] == "full text wins"


def test_generated_withheld_tweet():
    tweet = load(REPLY)
    tweet["withheld_in_countries"] = ["DE"]
    assert twitter_v1.row_from_tweet(tweet)["text_status"] == "withheld"
    tweet["withheld_in_countries"] = []
    assert twitter_v1.row_from_tweet(tweet)["text_status"] == "ok"


@pytest.mark.parametrize("key", ["id_str", "created_at"])
def test_missing_id_or_time_raises_value_error(key):
    tweet = load(REPLY)
    del tweet[key]
    if key == "id_str":
        del tweet["id"]
    with pytest.raises(ValueError, match=key.split("_")[0]):
        twitter_v1.row_from_tweet(tweet)


def test_generated_naive_created_at_does_not_suggest_tz():
    # --tz is refused for twitter-v1 (Twitter writes UTC), so the reason must not suggest it
    tweet = load(REPLY)
    tweet["created_at"] = "2016-01-14 15:05:00"
    with pytest.raises(ValueError, match="always UTC") as caught:
        twitter_v1.row_from_tweet(tweet)
    assert "--tz" not in str(caught.value)


def test_generated_bad_times_share_one_reason_category(tmp_path):
    # the ingest summary counts rejects by the reason's text before its first ":"
    from analysis.loaders.ingest import ingest

    path = tmp_path / "generated_bad_times.jsonl"
    tweets = []
    for number, created in enumerate(["Tue Mar 24 10:45:36 +0000 2015x", "yesterday", True]):
        tweet = load(REPLY)
        tweet["id_str"] = tweet["id"] = str(number + 1)
        tweet["created_at"] = created
        tweets.append(json.dumps(tweet))
    path.write_text("\n".join(tweets) + "\n", encoding="utf-8")
    result = ingest([path], format="twitter-v1", keep_authors=True, detect_language=False)
    assert result.summary["rejects_by_reason"] == {"bad created_at": 3}


def test_row_from_tweet_does_not_mutate():
    tweet = load(QUOTE_REPLY)
    before = copy.deepcopy(tweet)
    twitter_v1.rows_from_tweet(tweet)
    assert tweet == before


def test_read_one_tweet_per_file():
    items = list(twitter_v1.read(SOURCE, LoadOptions()))
    assert len(items) == 1
    assert items[0]["source_file"] == str(SOURCE)
    assert items[0]["source_line"] == 1


def test_read_generated_jsonl_with_a_broken_line(tmp_path):
    path = tmp_path / "generated_tweets.jsonl"
    lines = [json.dumps(load(p)) for p in (SOURCE, REPLY)]
    path.write_text(lines[0] + "\n" + lines[1][:50] + "\n" + lines[1] + "\n", encoding="utf-8")
    items = list(twitter_v1.read(path, LoadOptions()))
    rows = [i for i in items if isinstance(i, dict)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [r["source_line"] for r in rows] == [1, 3]
    assert len(rejects) == 1 and rejects[0].line == 2
    assert rejects[0].reason.startswith("invalid JSON")


@pytest.mark.parametrize("indent", [None, 2])
def test_read_generated_array(tmp_path, indent):
    # an element's line is the line its "{" is on (one line: all on line 1), as for instaloader
    path = tmp_path / "generated_array.json"
    raw = json.dumps([load(SOURCE), {"no": "id"}], indent=indent)
    path.write_text(raw, encoding="utf-8")
    items = list(twitter_v1.read(path, LoadOptions()))
    assert isinstance(items[0], dict) and items[0]["source_line"] == (2 if indent else 1)
    assert isinstance(items[1], Reject) and items[1].line == (
        raw[:raw.rindex("{")].count("\n") + 1 if indent else 1)


def test_sniff_accepts_v1_and_refuses_twarc2():
    assert twitter_v1.sniff(SOURCE, SOURCE.read_bytes()[:65536])
    twarc2 = Path(__file__).parent / "data" / "twarc2_samples" / "two_tweets.jsonl"
    assert not twitter_v1.sniff(twarc2, twarc2.read_bytes()[:65536])


def test_every_rumoureval_tweet_of_one_event_maps():
    # Real data straight from the bundled archive: every tweet of the "ebola-essien" event.
    with tarfile.open(ARCHIVE, "r:gz") as archive:
        tweets = [json.load(archive.extractfile(m)) for m in archive.getmembers()
                  if "/twitter-english/ebola-essien/" in m.name and m.name.endswith(".json")
                  and "structure.json" not in m.name]
    assert len(tweets) > 10
    rows = [twitter_v1.row_from_tweet(t) for t in tweets]
    assert all(r["created_at"].tzinfo is not None for r in rows)
    assert sum(r["kind"] == "post" for r in rows) >= 1
    assert sum(r["kind"] == "reply" for r in rows) >= len(rows) - 2


def _matched(items: list) -> list[tuple[str, int]]:
    return [(i["id"], i["source_line"]) for i in items
            if isinstance(i, dict) and i["collection_role"] == "matched"]


def test_generated_jsonl_line_holding_an_array_of_tweets_is_read_element_by_element(tmp_path):
    # a line per API response, as saved from statuses/lookup (a JSON array of tweets); the ids
    # are the fixtures' file names
    path = tmp_path / "generated_lookup_responses.jsonl"
    lines = [json.dumps(load(SOURCE)), json.dumps([load(REPLY), 5, load(QUOTE_REPLY)]),
             json.dumps([{"no": "id"}])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(twitter_v1.read(path, LoadOptions()))
    assert _matched(items) == [("552783667052167168", 1), ("552785374507175936", 2),
                               ("767734644561186817", 2)]
    context = [i for i in items if isinstance(i, dict) and i["collection_role"] == "context"]
    assert [(i["id"], i["source_line"]) for i in context] == [("766257527025786880", 2)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "not a tweet object but a JSON number; element 2 of 3 in the line's JSON array"),
        (3, "tweet has no id_str or id; element 1 of 1 in the line's JSON array")]
    assert rejects[0].snippet == "5"


def test_generated_jsonl_whose_first_line_is_an_array_reads_every_line(tmp_path):
    # before, the first line was taken for a whole-file array: "extra data: text after the JSON
    # array; the rest of the file is not read", and lines 2 and 3 were lost
    path = tmp_path / "generated_lookup_responses.jsonl"
    lines = [json.dumps([load(SOURCE), load(REPLY)]), json.dumps([load(URL_REPLY)]),
             json.dumps(load(QUOTE_REPLY))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(twitter_v1.read(path, LoadOptions()))
    assert [i for i in items if isinstance(i, Reject)] == []
    assert _matched(items) == [("552783667052167168", 1), ("552785374507175936", 1),
                               ("500400826507341825", 2), ("767734644561186817", 3)]


def test_generated_array_lines_keep_one_reject_category_per_reason(tmp_path):
    # the ingest summary counts rejects by the reason before its first ":" or ";": the element's
    # position must not make a category of its own
    from analysis.loaders.ingest import ingest

    path = tmp_path / "generated_lookup_responses.jsonl"
    path.write_text(json.dumps([load(SOURCE), "x", {"no": "id"}]) + "\n"
                    + json.dumps([None, {"no": "id"}]) + "\n", encoding="utf-8")
    result = ingest([path], keep_authors=True, detect_language=False)
    assert result.summary["inputs"][0]["format"] == "twitter-v1"
    assert list(result.posts["id"]) == ["552783667052167168"]
    assert result.summary["rejects_by_reason"] == {
        "not a tweet object but a JSON string": 1, "not a tweet object but a JSON null": 1,
        "tweet has no id_str or id": 2}


def _search_page(*tweets) -> dict:
    """A v1.1 search/tweets response around ``tweets`` (generated wrapper, real tweets)."""
    return {"statuses": list(tweets),
            "search_metadata": {"count": len(tweets), "query": "generated", "max_id_str": "0"}}


def test_generated_search_pages_give_their_statuses(tmp_path):
    # before: a search page was one record without an id, "tweet has no id_str or id", and all
    # of its tweets were lost
    from analysis.loaders.ingest import detect_format

    lines = tmp_path / "generated_search_pages.jsonl"
    lines.write_text(json.dumps(_search_page(load(SOURCE), 7, load(REPLY))) + "\n"
                     + json.dumps(_search_page(load(URL_REPLY))) + "\n", encoding="utf-8")
    items = list(twitter_v1.read(lines, LoadOptions()))
    assert _matched(items) == [("552783667052167168", 1), ("552785374507175936", 1),
                               ("500400826507341825", 2)]
    assert [(r.line, r.reason) for r in items if isinstance(r, Reject)] == [
        (1, "not a tweet object but a JSON number; element 2 of 3 in the line's statuses")]
    pretty = tmp_path / "generated_search_page.json"
    pretty.write_text(json.dumps(_search_page(load(SOURCE), load(REPLY)), indent=2),
                      encoding="utf-8")
    assert [i["id"] for i in twitter_v1.read(pretty, LoadOptions())
            if isinstance(i, dict) and i["collection_role"] == "matched"] == [
        "552783667052167168", "552785374507175936"]
    assert detect_format(lines) == detect_format(pretty) == "twitter-v1"


def test_generated_empty_search_page_is_one_reject(tmp_path):
    path = tmp_path / "generated_empty_search_page.jsonl"
    path.write_text(json.dumps(_search_page()) + "\n", encoding="utf-8")
    items = list(twitter_v1.read(path, LoadOptions()))
    assert len(items) == 1 and isinstance(items[0], Reject)
    assert items[0].reason == "a search page without statuses (no tweets)"
