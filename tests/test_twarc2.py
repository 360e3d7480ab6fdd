"""Tests for analysis.loaders.twarc2 on the real twarc2 samples (tests/data/twarc2_samples)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import load_posts
from analysis.loaders import twarc2
from analysis.loaders.base import LoadOptions, Reject

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"


def items(name: str | Path) -> tuple[list[dict], list[Reject]]:
    path = name if isinstance(name, Path) else SAMPLES / name
    got = list(twarc2.read(path, LoadOptions()))
    return ([i for i in got if isinstance(i, dict)], [i for i in got if isinstance(i, Reject)])


def first_page(name: str) -> dict:
    with open(SAMPLES / name, encoding="utf-8") as handle:
        return json.loads(handle.readline())


def test_two_tweets_retweet_with_context_original():
    rows, rejects = items("two_tweets.jsonl")
    assert rejects == []
    matched = [r for r in rows if r["collection_role"] == "matched"]
    context = [r for r in rows if r["collection_role"] == "context"]
    assert len(matched) == 1 and len(context) == 1
    rt = matched[0]
    assert rt["uid"] == "twitter:1394735776701816833"
    assert rt["kind"] == "repost"
    assert rt["parent_id"] == "1391677057810288641"
    assert rt["text"] == "RT @bibaigna96: #POIUYTREWQ"
    assert rt["author_handle"] == "LachiVeronica"  # from includes.users
    assert rt["created_at"] == pd.Timestamp("2021-05-18T19:24:56Z")
    assert rt["collected_at"] == pd.Timestamp("2021-05-19T15:26:17Z")
    assert rt["lang"] is None  # "und"
    assert rt["hashtags"] == ["POIUYTREWQ"] and rt["mentions"] == ["bibaigna96"]
    assert rt["share_count"] == 1 and rt["like_count"] == 0
    assert context[0]["id"] == "1391677057810288641"
    assert context[0]["author_handle"] == "bibaigna96"


def test_streaming_file_truncated_line_is_one_reject_and_others_are_kept():
    rows, rejects = items("streaming_output_with_error.jsonl")
    assert len(rejects) == 1
    assert rejects[0].line == 8
    assert rejects[0].reason.startswith("invalid JSON")
    matched = [r for r in rows if r["collection_role"] == "matched"]
    assert [r["source_line"] for r in matched] == [1, 2, 3, 4, 5, 6, 7]
    by_id = {r["id"]: r for r in matched}
    quote = by_id["1377650090978992134"]
    assert quote["kind"] == "quote" and quote["parent_id"] == "1377640162566496258"
    reply = by_id["1377650093109743620"]
    assert reply["kind"] == "reply"
    assert reply["parent_id"] == "1377266697850257410"
    assert reply["thread_id"] == "1377266697850257410"
    assert reply["reply_to_author_id"] == "601852746"
    assert by_id["1377650277642338305"]["kind"] == "post"


def test_flat_and_noflat_give_the_same_matched_tweets():
    flat, _ = items("flat.jsonl")
    page, _ = items("noflat.jsonl")
    fields = ["uid", "kind", "parent_id", "text", "author_id", "author_handle", "created_at"]
    a = {r["uid"]: tuple(r[f] for f in fields) for r in flat if r["collection_role"] == "matched"}
    b = {r["uid"]: tuple(r[f] for f in fields) for r in page if r["collection_role"] == "matched"}
    assert len(a) == 100
    assert a == b


def test_noflat_user_error_is_not_a_post():
    rows, rejects = items("noflat.jsonl")
    assert rejects == []
    # the page's only error is about a suspended user mentioned in a tweet
    assert all(r["text_status"] == "ok" for r in rows)


@pytest.mark.parametrize("name, what", [("counts.jsonl", "counts"), ("users.jsonl", "users"),
                                        ("tweets_compliance.jsonl", "compliance")])
def test_non_tweet_outputs_are_rejected_with_reason(name, what):
    rows, rejects = items(name)
    assert rows == []
    assert rejects and all(what in r.reason for r in rejects)


def test_edit_history_collapses_to_latest_version():
    for name in ("edited.jsonl", "edited_before.jsonl"):
        rows, rejects = items(name)
        assert rejects == []
        assert len(rows) == 1, name
        assert rows[0]["id"] == "1576994789110992896"
        assert rows[0]["text"].startswith("hey :)")
        assert rows[0]["collection_role"] == "matched"


EARLIER, LATEST = "1576994746135764992", "1576994789110992896"  # the real edited tweet


def generated_reply_to_earlier_version(number: int) -> dict:
    """A generated reply made to the edited tweet's first version (before the edit)."""
    return {"id": f"15770000000000000{number:02d}", "text": "@wongmjane generated reply",
            "author_id": "42", "conversation_id": EARLIER, "in_reply_to_user_id": "337119125",
            "created_at": "2022-10-03T18:10:00.000Z",
            "referenced_tweets": [{"type": "replied_to", "id": EARLIER}]}


@pytest.mark.parametrize("name", ["edited.jsonl", "edited_before.jsonl"])
def test_generated_reply_to_an_earlier_version_names_the_latest(tmp_path, name):
    page = first_page(name)  # includes.tweets holds both versions, with their edit history
    page["data"].append(generated_reply_to_earlier_version(1))
    path = tmp_path / "generated_reply_to_edited.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert rejects == []
    reply = next(r for r in rows if r["id"] == "1577000000000000001")
    assert (reply["parent_id"], reply["root_id"], reply["thread_id"]) == (LATEST,) * 3
    edited = next(r for r in rows if r["id"] == LATEST)
    assert edited["thread_id"] == edited["root_id"] == LATEST

    posts = load_posts([path], format="twarc2", keep_authors=True, detect_language=False)
    reply = posts.set_index("id").loc["1577000000000000001"]
    assert reply["depth"] == 1 and reply["root_id"] == LATEST
    assert reply["reply_to_author_id"] == "337119125"


def test_generated_flattened_reply_to_an_earlier_version_names_the_latest(tmp_path):
    earlier = next(t for t in first_page("edited_before.jsonl")["includes"]["tweets"]
                   if t["id"] == EARLIER)
    reply = generated_reply_to_earlier_version(2)
    reply["referenced_tweets"] = [dict(earlier, type="replied_to")]  # twarc2 flatten inlines it
    path = tmp_path / "generated_flat_reply_to_edited.jsonl"
    path.write_text(json.dumps(reply) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert rejects == []
    by_id = {r["id"]: r for r in rows}
    assert by_id["1577000000000000002"]["parent_id"] == LATEST
    assert by_id["1577000000000000002"]["thread_id"] == LATEST
    assert by_id[LATEST]["collection_role"] == "context"


def generated_tweet_errors() -> list[dict]:
    """Two tweet errors of a response page, as twarc2 writes them for a deleted tweet and a
    protected one (generated: the ids are made up)."""
    return [
        {"value": "123", "detail": "Could not find tweet with ids: [123].",
         "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
         "resource_id": "123", "type": "https://api.twitter.com/2/problems/resource-not-found"},
        {"value": "456", "detail": "Sorry, you are not authorized to see the Tweet with "
         "referenced_tweets.id: [456].", "title": "Authorization Error",
         "resource_type": "tweet", "parameter": "referenced_tweets.id", "resource_id": "456",
         "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"},
    ]


def test_generated_withheld_tweet_and_tweet_errors(tmp_path):
    page = first_page("two_tweets.jsonl")
    page["data"][0]["withheld"] = {"copyright": False, "country_codes": ["DE"]}
    page["errors"] = generated_tweet_errors()
    path = tmp_path / "generated_withheld.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert rejects == []
    by_id = {r["id"]: r for r in rows}
    assert by_id["1394735776701816833"]["text_status"] == "withheld"
    assert by_id["123"]["text_status"] == "deleted"
    assert by_id["123"]["collection_role"] == "matched"
    assert by_id["123"]["created_at"] is None
    assert by_id["123"]["created_at_precision"] == "missing"
    assert by_id["456"]["text_status"] == "unavailable"
    assert by_id["456"]["collection_role"] == "context"


def test_generated_tweet_without_id_or_time_is_rejected(tmp_path):
    page = first_page("two_tweets.jsonl")
    no_id = copy.deepcopy(page)
    del no_id["data"][0]["id"]
    no_time = copy.deepcopy(page)
    del no_time["data"][0]["created_at"]
    path = tmp_path / "generated_broken.jsonl"
    path.write_text(json.dumps(no_id) + "\n" + json.dumps(no_time) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert [r.line for r in rejects] == [1, 2]
    assert "no id" in rejects[0].reason and "created_at" in rejects[1].reason


def test_generated_tweet_time_the_table_cannot_hold_is_rejected(tmp_path):
    page = first_page("two_tweets.jsonl")
    page["data"][0]["created_at"] = "2400-01-01T00:00:00.000Z"
    path = tmp_path / "generated_far_future.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert len(rejects) == 1 and "time out of range" in rejects[0].reason
    assert page["data"][0]["id"] not in {r["id"] for r in rows}
    assert {r["id"] for r in rows} >= {t["id"] for t in page["data"][1:]}


def test_generated_empty_page_is_a_reject(tmp_path):
    path = tmp_path / "generated_empty_page.jsonl"
    path.write_text('{"meta": {"result_count": 0}, "__twarc": {}}\n', encoding="utf-8")
    rows, rejects = items(path)
    assert rows == [] and len(rejects) == 1 and "no tweets" in rejects[0].reason


def test_sniff():
    for path in SAMPLES.glob("*.jsonl"):
        assert twarc2.sniff(path, path.read_bytes()[:65536]), path.name
    v1 = Path(__file__).parent / "data" / "twitter_v1" / "552783667052167168.json"
    assert not twarc2.sniff(v1, v1.read_bytes())
    assert not twarc2.sniff(Path("x.csv"), b"id,text\n1,hello\n")


def test_row_from_tweet_does_not_mutate():
    page = first_page("brexit.jsonl")
    before = copy.deepcopy(page)
    list(twarc2._page_rows(page, 1, "x"))
    assert page == before


def test_generated_naive_created_at_is_a_reject_that_does_not_suggest_tz(tmp_path):
    # Acceptance test D6: the reason said "pass --tz", which twarc2 ignores (Twitter writes UTC)
    page = first_page("two_tweets.jsonl")
    page["data"][0]["created_at"] = page["data"][0]["created_at"].removesuffix("Z")
    path = tmp_path / "generated_naive_time.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    rows, rejects = items(path)
    assert len(rejects) == 1
    reason = rejects[0].reason
    assert reason.startswith("bad created_at") and "naive time" in reason
    assert "--tz" not in reason and "always UTC" in reason and "malformed" in reason


def _generated_tweet(tweet_id: str, author: str, parent: str | None = None) -> dict:
    tweet = {"id": tweet_id, "text": f"generated tweet {tweet_id}", "author_id": author,
             "conversation_id": "41", "created_at": f"2023-01-01T10:0{tweet_id[-1]}:00.000Z",
             "edit_history_tweet_ids": [tweet_id]}
    if parent:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
    return tweet


def _not_found(tweet_id: str, parameter: str) -> dict:
    return {"value": tweet_id, "title": "Not Found Error", "resource_type": "tweet",
            "parameter": parameter, "resource_id": tweet_id,
            "detail": f"Could not find tweet with ids: [{tweet_id}].",
            "type": "https://api.twitter.com/2/problems/resource-not-found"}


def _page(data: list, errors: list | None, retrieved: str) -> str:
    users = [{"id": a, "username": f"user{a}", "name": a} for a in ("100", "200", "300")]
    page = {"data": data, "includes": {"users": users},
            "__twarc": {"retrieved_at": retrieved, "version": "2.12.0", "url": "x"}}
    if errors:
        page["errors"] = errors
    return json.dumps(page) + "\n"


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_not_found_notice_is_no_root_and_does_not_replace_a_collected_tweet(tmp_path, jobs):
    """An acceptance tester's cases: a tweet the API reports Not Found became a thread root
    (depth 0) with its replies under it in a made-up thread; and a notice retrieved after the
    tweet itself replaced it (text, author, parent and time gone)."""
    from analysis.loaders.ingest import ingest

    root, mid = _generated_tweet("41", "100"), _generated_tweet("42", "200", "41")
    leaf = _generated_tweet("43", "300", "42")
    missing = tmp_path / "generated_missing_parent.jsonl"
    missing.write_text(_page([root, _generated_tweet("44", "300", "45")],
                             [_not_found("45", "referenced_tweets.id")], "2023-01-02T00:00Z"))
    posts = ingest(missing, detect_language=False, keep_authors=True,
                   jobs=jobs).posts.set_index("id")
    assert pd.isna(posts.loc["45", "depth"]) and pd.isna(posts.loc["45", "root_id"])
    assert pd.isna(posts.loc["44", "depth"]) and posts.loc["44", "root_id"] == "41"
    first, later = tmp_path / "generated_first.jsonl", tmp_path / "generated_later.jsonl"
    first.write_text(_page([root, mid, leaf], None, "2023-01-02T00:00Z"))
    later.write_text(json.dumps({"errors": [_not_found("42", "ids")],
                                 "__twarc": {"retrieved_at": "2023-01-03T00:00Z"}}) + "\n")
    result = ingest([first, later], detect_language=False, keep_authors=True, jobs=jobs)
    posts = result.posts.set_index("id")
    assert result.summary["duplicates"] == 1
    assert posts.loc["42", "text"] == "generated tweet 42" and posts.loc["42", "kind"] == "reply"
    assert posts.loc["42", "author_id"] == "200" and posts.loc["42", "parent_id"] == "41"
    assert posts["depth"].to_dict() == {"41": 0, "42": 1, "43": 2}
