"""analysis.loaders.reddit.row_from_thing: one Reddit comment / submission to one posts-table row.

Real records come from tests/data/reddit_api/ (RumourEval 2019, see its README); the small dicts
written out below are generated test data, named ``generated_*``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import schema
from analysis.loaders.reddit import kind_of, row_from_thing, strip_fullname

DATA = Path(__file__).parent / "data" / "reddit_api"


def _data(name: str) -> dict:
    value = json.loads((DATA / name).read_text(encoding="utf-8"))
    if value.get("kind") == "Listing":
        value = value["data"]["children"][0]
    return value["data"]


def generated_comment(**changes) -> dict:
    record = {"id": "c13", "link_id": "t3_17863", "parent_id": "t3_17863",
              "created_utc": 1134365188, "author": "frjo", "body": "A generated comment.",
              "score": 2, "ups": 2, "retrieved_on": 1473738411, "edited": False}
    record.update(changes)
    return record


def test_real_submission_maps_title_score_link_and_empty_selftext():
    row = row_from_thing(_data("1jvbd8_listing_t3.json"), "t3")
    assert row["uid"] == "reddit:1jvbd8"
    assert row["platform"] == "reddit"
    assert row["kind"] == "post"
    assert row["thread_id"] == "1jvbd8" and row["root_id"] == "1jvbd8"
    assert row["parent_id"] is None
    assert row["title"].startswith("Fukushima spewing equivalent of 112")
    assert row["text"] == ""  # a link post: selftext is "", an empty text (not a missing one)
    assert row["text_status"] == "ok"
    assert row["score"] == 18 and row["reply_count"] == 4
    assert row["urls"] == ["http://agreenroad.blogspot.com/2012/12/"
                           "fukushima-spewing-equivalent-of-112.html"]
    assert row["author_id"] == "Warpaintgirl" and row["author_handle"] == "Warpaintgirl"
    assert row["created_at"] == pd.Timestamp("2013-08-07 07:08:21", tz="UTC")
    assert row["created_at_precision"] == "second"
    assert row["collection_role"] == "matched"


def test_real_comment_strips_prefixes_and_keeps_its_parent():
    row = row_from_thing(_data("cbiol38_t1_with_replies.json"), "t1")
    assert (row["id"], row["kind"], row["parent_id"], row["thread_id"]) == (
        "cbiol38", "comment", "1jvbd8", "1jvbd8")
    assert row["text"].startswith("The bombs dropped during world war 2")
    assert row["score"] == 10
    assert row["title"] is None and row["reply_count"] is None


def test_deleted_author_gives_null_author_but_keeps_the_text():
    raw = json.loads((DATA / "1jvbd8_raw.json").read_text(encoding="utf-8"))
    comments = {c["data"]["id"]: c["data"] for c in raw[1]["data"]["children"]}
    row = row_from_thing(comments["cbj4pcw"], "t1")
    assert row["author_id"] is None and row["author_handle"] is None
    assert row["text"] == "The iodine has an 8 day halflife the caesium 30 years"
    assert row["text_status"] == "ok"


@pytest.mark.parametrize("value", [1134365188, 1134365188.0, "1134365188", "1134365188.0"])
def test_created_utc_as_int_float_or_string(value):
    row = row_from_thing(generated_comment(created_utc=value), "t1")
    assert row["created_at"] == pd.Timestamp("2005-12-12 05:26:28", tz="UTC")


@pytest.mark.parametrize(("marker", "status"), [("[deleted]", "deleted"), ("[removed]", "removed"),
                                                ("[ Removed by Reddit ]", "removed")])
def test_deleted_and_removed_markers_set_text_status_and_null_text(marker, status):
    comment = row_from_thing(generated_comment(body=marker, author="[deleted]"), "t1")
    assert comment["text"] is None and comment["text_status"] == status
    assert comment["author_id"] is None
    submission = row_from_thing({"id": "dbkqm2", "created_utc": 1569888142, "title": "Escaping",
                                 "selftext": marker}, "t3")
    assert submission["text"] is None and submission["text_status"] == status
    assert submission["title"] == "Escaping"


@pytest.mark.parametrize(("selftext", "category", "status"), [
    ("", "moderator", "removed"), ("", "deleted", "deleted"), ("", None, "ok"),
    ("[removed]", "deleted", "removed"), ("still here", "moderator", "ok")])
def test_removed_by_category_only_when_the_text_has_no_marker(selftext, category, status):
    record = {"id": "s1", "created_utc": 1569888142, "title": "generated", "selftext": selftext,
              "removed_by_category": category}
    assert row_from_thing(record, "t3")["text_status"] == status


def test_collected_at_from_retrieved_on_or_retrieved_utc():
    expected = pd.Timestamp("2016-09-13 03:46:51", tz="UTC")
    assert row_from_thing(generated_comment(), "t1")["collected_at"] == expected
    arctic = generated_comment(retrieved_utc=1473738411)
    del arctic["retrieved_on"]
    assert row_from_thing(arctic, "t1")["collected_at"] == expected
    del arctic["retrieved_utc"]
    assert row_from_thing(arctic, "t1")["collected_at"] is None


def test_nested_comment_parent_is_a_comment_and_thread_is_the_submission():
    row = row_from_thing(generated_comment(id="c20", parent_id="t1_c13"), "t1")
    assert (row["parent_id"], row["thread_id"], row["root_id"]) == ("c13", "17863", "17863")


def test_id_from_name_and_thread_from_a_t3_parent_when_link_id_is_missing():
    record = generated_comment(name="t1_c99")
    del record["id"], record["link_id"]
    row = row_from_thing(record, "t1")
    assert row["id"] == "c99" and row["thread_id"] == "17863"


def test_score_falls_back_to_ups_and_missing_counts_stay_null():
    record = generated_comment(ups=7)
    del record["score"]
    assert row_from_thing(record, "t1")["score"] == 7
    del record["ups"]
    assert row_from_thing(record, "t1")["score"] is None


def test_author_fullname_is_not_the_author_id():
    row = row_from_thing(generated_comment(author="someone", author_fullname="t2_4ceorkqa"), "t1")
    assert row["author_id"] == "someone"


def test_mentions_and_urls_are_parsed_from_the_text():
    body = "ask u/first_user or /u/Second-one, see https://example.org/a_(b). Or [x](http://e.com/y)"
    row = row_from_thing(generated_comment(body=body), "t1")
    assert row["mentions"] == ["first_user", "Second-one"]
    assert row["urls"] == ["https://example.org/a_(b)", "http://e.com/y"]
    assert row["hashtags"] is None


@pytest.mark.parametrize(("change", "message"), [
    ({"id": None}, "^missing id: "),
    ({"created_utc": None}, "^missing created_utc: "),
    ({"created_utc": "yesterday"}, "^bad created_utc: "),
    ({"created_utc": float("nan")}, "^missing created_utc: "),
    ({"created_utc": "NaN"}, "^missing created_utc: "),
])
def test_records_missing_id_or_time_raise_value_error_with_a_reason(change, message):
    with pytest.raises(ValueError, match=message):
        row_from_thing(generated_comment(**change), "t1")


def test_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError, match="^not a Reddit comment .* 'more'"):
        row_from_thing({"id": "x", "count": 1}, "more")


def test_input_is_not_mutated():
    record = _data("cbiol38_t1_with_replies.json")
    before = copy.deepcopy(record)
    row_from_thing(record, "t1")
    assert record == before


def test_rows_conform_to_the_posts_schema():
    rows = [row_from_thing(_data("1jvbd8_listing_t3.json"), "t3"),
            row_from_thing(generated_comment(body="[removed]"), "t1")]
    table = schema.conform(pd.DataFrame(rows), schema.POSTS)
    assert list(table["kind"]) == ["post", "comment"]
    assert list(table["text_status"]) == ["ok", "removed"]
    assert str(table["created_at"].dtype) == "datetime64[ns, UTC]"


def test_strip_fullname_and_kind_of():
    assert strip_fullname("t1_abc") == "abc" and strip_fullname("t3_") is None
    assert strip_fullname("  ") is None and strip_fullname(123) == "123"
    assert kind_of({"body": "x"}) == "t1" and kind_of({"name": "t3_x", "body": "y"}) == "t3"
    assert kind_of({"selftext": ""}) == "t3" and kind_of({"id": "x"}) is None


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=12), st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(generated_comment()) + ["name", "title", "num_comments"]),
       value=_VALUES, kind=st.sampled_from(["t1", "t3"]))
def test_any_mutated_field_gives_a_row_or_a_value_error(key, value, kind):
    record = _data("cbiol38_t1_with_replies.json")
    record[key] = value
    try:
        row = row_from_thing(record, kind)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(row["id"], str) and row["id"]
    assert row["uid"] == f"reddit:{row['id']}"
    assert row["created_at"].tzinfo is not None
    assert row["text_status"] in schema.TEXT_STATUSES


def test_html_entities_in_text_and_title_are_decoded():
    # Reddit escapes &, < and > in body, selftext and title (e.g. a quote starts with "&gt;").
    comment = row_from_thing({"id": "c1", "created_utc": 1375869448, "link_id": "t3_s",
                              "parent_id": "t3_s",
                              "body": "&gt; quoted\n\nfish &amp; chips &lt;3"}, "t1")
    assert comment["text"] == "> quoted\n\nfish & chips <3"
    post = row_from_thing({"id": "s", "created_utc": 1375869448, "title": "Q&amp;A",
                           "selftext": ""}, "t3")
    assert post["title"] == "Q&A"
