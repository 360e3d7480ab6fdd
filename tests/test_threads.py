"""Tests for analysis.loaders.threads (reply trees), on generated tables and real tweets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import load_posts
from analysis.loaders.threads import add_threads

NOFLAT = Path(__file__).parent / "data" / "twarc2_samples" / "noflat.jsonl"


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


def test_a_post_with_a_parent_is_not_its_own_root():
    # generated: 2 reposts 99 (not in the table) and was given its own id as root (as twarc2's
    # conversation_id of a retweet is); 3 answers itself; 4's broken chain names root 1
    posts = generated_posts([None, "99", "3", "98"], authors=["a", "b", "c", "a"],
                            root_id=pd.array(["1", "2", "3", "1"], dtype="string"))
    out = add_threads(posts)
    assert out["root_id"].isna().tolist() == [False, True, True, False]
    assert out["author_is_op"].isna().tolist() == [False, True, True, False]
    assert out["author_is_op"].iloc[3]  # a given root other than the post itself still counts
    assert out["thread_id"].isna().tolist() == [False, True, True, False]


def test_retweets_and_quotes_with_broken_chains_have_no_root_on_real_tweets():
    ingested = load_posts([NOFLAT], progress=False, detect_language=False)
    # the twarc2 loader's root_id: the conversation_id, which thread_id keeps
    posts = add_threads(ingested.assign(root_id=ingested["thread_id"]))
    broken = posts["parent_id"].notna() & posts["depth"].isna()
    assert set(posts.loc[broken, "kind"]) >= {"repost", "quote", "reply"}
    assert not (broken & (posts["root_id"] == posts["id"])).any()
    shares = broken & posts["kind"].isin(["repost", "quote"])
    assert shares.sum() >= 13 and posts.loc[shares, "author_is_op"].isna().all()
    # 1380242501513187328 retweets 1379677464604114944 (another author, in the table as
    # context, whose own chain is broken): it is not its thread's original poster
    row = posts.set_index("id").loc["1380242501513187328"]
    assert row["kind"] == "repost" and row["parent_id"] == "1379677464604114944"
    assert pd.isna(row["root_id"]) and pd.isna(row["author_is_op"])
    # a broken chain whose conversation root is another post keeps it
    kept = broken & posts["root_id"].notna()
    assert kept.sum() > 10 and (posts.loc[kept, "root_id"] != posts.loc[kept, "id"]).all()
    # the ingest path decides the same, and so does add_threads again on its output (reproduce)
    for table in (ingested, add_threads(ingested)):
        for name in ("root_id", "depth", "author_is_op", "reply_to_author_id"):
            pd.testing.assert_series_equal(table[name], posts[name], check_dtype=False)


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
