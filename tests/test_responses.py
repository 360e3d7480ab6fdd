"""Which posts count as responses (analysis.responses), on generated tables and the real twarc2
sample, and how trend applies the rule."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis import load_posts, responses
from analysis.trend import estimate_shares

TWARC2 = Path(__file__).parent / "data" / "twarc2_samples"


def generated_posts() -> pd.DataFrame:
    """A generated thread: root 1, a reply, a retweet of the root, a deleted reply, a context
    row, and a quote whose conversation (thread_id) is its own id."""
    return pd.DataFrame({
        "uid": [f"g:{i}" for i in range(1, 7)], "id": [str(i) for i in range(1, 7)],
        "parent_id": [None, "1", "1", "1", None, "1"], "root_id": ["1"] * 4 + ["5", "1"],
        "thread_id": ["1"] * 5 + ["6"],
        "depth": pd.array([0, 1, 1, 1, 0, 1], dtype="Int16"),
        "kind": ["post", "reply", "repost", "reply", "post", "quote"],
        "collection_role": ["matched"] * 4 + ["context", "matched"],
        "text_status": ["ok", "ok", "ok", "deleted", "ok", "ok"],
        "text": ["root", "a reply", "RT @a: root", None, "quoted", "a quote"],
        "created_at": pd.to_datetime(["2020-01-01T10:00Z", "2020-01-01T11:00Z",
                                      "2020-01-01T12:00Z", "2020-01-01T13:00Z",
                                      "2020-01-01T09:00Z", "2020-01-01T14:00Z"]),
    })


def test_each_post_gets_the_first_reason_that_applies():
    reasons = responses.left_out(generated_posts()).fillna("response")
    assert reasons.tolist() == ["root", "response", "repost", "no text", "context", "response"]
    assert responses.left_out(generated_posts(), include_roots=True,
                              include_context=True).tolist()[4] is pd.NA
    blank = generated_posts().assign(text=["root", "  ", "x", "y", "z", "w"])
    assert responses.left_out(blank).tolist()[1] == "no text"


def test_columns_a_table_lacks_are_not_used():
    bare = generated_posts()[["uid", "created_at"]]
    assert responses.left_out(bare).isna().all()


def test_trend_leaves_out_reposts_and_posts_without_text_and_says_so():
    posts = generated_posts()
    labels = pd.DataFrame({"uid": posts["uid"], "label": "support"})
    with pytest.warns(UserWarning, match=r"1 reposts .* and 1 responses without text"):
        trend = estimate_shares(labels, posts, freq="1D", method="cc", n_boot=0)
    assert trend["n_posts"].iloc[0] == 2  # the reply and the quote


def test_relative_bins_find_the_root_of_a_quote_by_its_reply_tree():
    # Regression: the thread key was thread_id (twarc2's conversation_id), the quote's own id,
    # so the quote was left out as a response "whose thread root is not in the posts table".
    posts = generated_posts().query("kind != 'repost'")
    posts = posts.assign(text_status="ok", text=posts["text"].fillna("a reply, restored"))
    labels = pd.DataFrame({"uid": posts["uid"], "label": "support"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        trend = estimate_shares(labels, posts, relative_to="root", freq=[0, 2, 6], method="cc",
                                n_boot=0)
    counts = trend[trend["label"] == "support"].set_index("bin_start")["n_posts"]
    assert counts.to_dict() == {0: 1, 2: 2}  # reply (1 h); deleted reply (3 h), quote (4 h)


def test_real_twarc2_retweets_are_not_responses():
    posts = load_posts([TWARC2 / "brexit.jsonl"], progress=False)
    reasons = responses.left_out(posts)
    retweets = posts["kind"] == "repost"
    assert posts.loc[retweets, "text"].str.startswith("RT @").all() and retweets.sum() > 10
    assert (reasons[retweets] == "repost").all()
    assert responses.responses(posts)["kind"].ne("repost").all()


def test_trend_warns_about_times_coarser_than_the_bins():
    posts = generated_posts().iloc[:2].assign(created_at_precision=["second", "relative"])
    labels = pd.DataFrame({"uid": posts["uid"], "label": "support"})
    with pytest.warns(UserWarning, match="1 responses have times known only roughly"):
        estimate_shares(labels, posts, freq="1D", method="cc", n_boot=0)
    day = posts.assign(created_at_precision="day")
    with pytest.warns(UserWarning, match="known only to the day"):
        estimate_shares(labels, day, freq="6h", method="cc", n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        estimate_shares(labels, day, freq="1D", method="cc", n_boot=0)


def test_a_post_with_a_parent_is_a_response_even_when_its_chain_is_broken():
    # Regression (bug hunt): a twarc2 quote whose quoted post's chain breaks keeps its own
    # conversation id as root_id and no depth; "id equal to root_id" made it a root.
    quote = pd.DataFrame({"uid": ["g:7"], "id": ["7"], "parent_id": ["99"], "root_id": ["7"],
                          "depth": pd.array([None], dtype="Int16"), "kind": ["quote"],
                          "text_status": ["ok"], "text": ["a quote"]})
    assert responses.left_out(quote).isna().all()
    links_only = quote.drop(columns=["parent_id", "depth"])  # no reply links: root_id decides
    assert responses.left_out(links_only).tolist() == ["root"]


def test_trend_leaves_out_blank_texts_as_the_rule_and_the_summary_do():
    posts = generated_posts().assign(text_status="ok")
    posts.loc[1, "text"] = "   "  # a sticker-only comment
    labels = pd.DataFrame({"uid": posts["uid"], "label": "other"})
    with pytest.warns(UserWarning, match="2 responses without text"):
        trend = estimate_shares(labels, posts, freq="1D", method="cc", n_boot=0)
    assert trend["n_posts"].iloc[0] == len(responses.responses(posts)) == 1
