"""Tests for analysis.loaders.threads (reply trees), on generated tables and real tweets."""

from __future__ import annotations

import pandas as pd

from analysis.loaders.threads import add_threads


def generated_posts(parents: list[str | None], authors: list[str] | None = None,
                    **extra) -> pd.DataFrame:
    """A generated thread: post i has id str(i+1) and parent parents[i]."""
    n = len(parents)
    frame = pd.DataFrame({
        "platform": ["twitter"] * n,
        "id": [str(i + 1) for i in range(n)],
        "parent_id": pd.array(parents, dtype="string"),
        "author_id": pd.array(authors or [f"a{i}" for i in range(n)], dtype="string"),
    })
    for key, value in extra.items():
        frame[key] = value
    return frame


def test_chain_depths_and_roots():
    out = add_threads(generated_posts([None, "1", "2", "3", "1"]))
    assert out["depth"].tolist() == [0, 1, 2, 3, 1]
    assert out["root_id"].tolist() == ["1"] * 5
    assert out["thread_id"].tolist() == ["1"] * 5


def test_missing_parent_gives_null_depth_and_keeps_given_root():
    posts = generated_posts([None, "99", "2"],
                            root_id=pd.array([None, "77", None], dtype="string"))
    out = add_threads(posts)
    assert out["depth"].isna().tolist() == [False, True, True]
    assert out["root_id"].tolist()[:2] == ["1", "77"]
    assert pd.isna(out["root_id"].iloc[2])


def test_cycles_and_self_replies_do_not_hang():
    # 1 <-> 2 is a cycle, 3 answers 2, 4 answers itself
    out = add_threads(generated_posts(["2", "1", "2", "4"]))
    assert out["depth"].isna().all()


def test_author_is_op_and_reply_to_author():
    out = add_threads(generated_posts([None, "1", "2"], authors=["op", "x", "op"]))
    assert out["author_is_op"].tolist() == [True, False, True]
    assert pd.isna(out["reply_to_author_id"].iloc[0])
    assert out["reply_to_author_id"].tolist()[1:] == ["op", "x"]


def test_given_reply_to_author_is_kept():
    posts = generated_posts([None, "99"], reply_to_author_id=pd.array([None, "z"],
                                                                        dtype="string"))
    out = add_threads(posts)
    assert out["reply_to_author_id"].iloc[1] == "z"


def test_ids_match_only_within_a_platform():
    posts = generated_posts([None, "1"])
    posts["platform"] = ["reddit", "twitter"]
    out = add_threads(posts)
    assert pd.isna(out["depth"].iloc[1])


def test_does_not_mutate_and_keeps_index():
    posts = generated_posts([None, "1"]).set_axis([10, 20])
    before = posts.copy()
    out = add_threads(posts)
    pd.testing.assert_frame_equal(posts, before)
    assert list(out.index) == [10, 20]


def test_long_generated_chain():
    n = 5000
    out = add_threads(generated_posts([None] + [str(i) for i in range(1, n)]))
    assert out["depth"].iloc[-1] == n - 1
    assert out["root_id"].iloc[-1] == "1"
