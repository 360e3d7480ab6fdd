"""Tests for analysis.loaders.light: duplicates and reply trees decided on compact light columns
(128-bit hashes, int64 times) give the table that the string reference gives
(:func:`analysis.loaders.ingest.collapse_duplicates`, then
:func:`analysis.loaders.threads.add_threads`), on real sample files and on generated tables."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import load_posts, schema
from analysis.io import arrow_table
from analysis.loaders import light, loader_module
from analysis.loaders.base import LoadOptions
from analysis.loaders.chunks import Collector, MemorySink, conform_posts, new_entry, to_frame
from analysis.loaders.ingest import collapse_duplicates, plan_inputs
from analysis.loaders.light_store import LightStore
from analysis.loaders.threads import add_threads

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "twarc2_samples"
#: Real exports with duplicates (the same tweet in several pages and files, an edited tweet
#: before and after, a file read twice), replies whose parents are missing, and Reddit threads.
REAL_INPUTS = [SAMPLES / "brexit.jsonl", SAMPLES / "noflat.jsonl", SAMPLES / "flat.jsonl",
               SAMPLES / "edited_before.jsonl", SAMPLES / "edited.jsonl",
               SAMPLES / "two_tweets.jsonl", SAMPLES / "brexit.jsonl",
               DATA / "twitter_v1", DATA / "rumoureval" / "rumoureval-2019-training-data"]


def _compact_table(chunks: list[pa.Table], stored: bool = False) -> tuple[pd.DataFrame, int]:
    """The kept rows with reply trees by the compact path (chunk by chunk, as ingest does), in
    memory or, with ``stored``, in a :class:`analysis.loaders.light_store.LightStore`."""
    def tables():
        offset = 0
        for table in chunks:
            yield offset, table
            offset += len(table)

    if stored:
        with tempfile.TemporaryDirectory() as folder:
            store = LightStore(Path(folder))
            for table in chunks:
                store.append(light.compact(table))
            plan = store.structure()
            finished = list(light.finish(tables, plan))
            store.close()
        assert len(plan) == sum(len(t) for t in finished)
    else:
        compact = pa.concat_tables([light.compact(t) for t in chunks])
        columns = {name: compact[name] for name in compact.column_names}  # as pop_light
        plan = light.structure(columns)
        assert not columns  # each column was let go once read
        finished = list(light.finish(tables, plan))
    frame = (to_frame(pa.concat_tables(finished, promote_options="permissive")) if finished
             else conform_posts(schema.empty(schema.POSTS)))
    return frame, plan.duplicates


def _reference_table(chunks: list[pa.Table]) -> tuple[pd.DataFrame, int]:
    """The same on strings: collapse_duplicates, then add_threads over the whole table."""
    frame = to_frame(pa.concat_tables(chunks, promote_options="permissive"))
    kept, duplicates = collapse_duplicates(frame.assign(_pos=np.arange(len(frame))))
    return conform_posts(add_threads(kept.drop(columns="_pos"))), duplicates


def _real_chunks() -> list[pa.Table]:
    sink = MemorySink()
    collector = Collector(sink, detect_language=False)
    for item in plan_inputs(REAL_INPUTS):
        if item.problem is not None:
            continue  # a README next to the data
        records = loader_module(item.format).read(item.path, LoadOptions())
        collector.add(records, new_entry(item.path, item.format, True), item.path, item.format)
    collector.flush()
    return sink.chunks


@pytest.mark.parametrize("stored", [False, True], ids=["in memory", "stored"])
def test_compact_path_gives_the_reference_table_on_real_files(stored):
    chunks = _real_chunks()
    got, duplicates = _compact_table(chunks, stored)
    want, want_duplicates = _reference_table(chunks)
    pd.testing.assert_frame_equal(got, want)
    assert duplicates == want_duplicates
    # the files exercise what the compact path decides
    assert duplicates > 100
    assert (got["parent_id"].notna() & got["depth"].isna()).sum() > 10  # parent missing
    assert (got["depth"] >= 2).sum() > 10
    assert got["author_is_op"].eq(True).sum() > 10 and got["author_is_op"].eq(False).sum() > 10
    assert got["reply_to_author_id"].notna().sum() > 100
    assert set(got["platform"]) == {"twitter", "reddit"}


ID = st.sampled_from(["1", "2", "3", "4", "5", "6", ""])
MAYBE_ID = st.one_of(st.none(), ID)


@st.composite
def generated_chunks(draw) -> list[pa.Table]:
    """Posts with repeated uids, parents in and out of the table, cycles, self-replies, null
    ids, authors, times and roles, cut into chunks."""
    n = draw(st.integers(0, 25))
    column = lambda values: [draw(values) for _ in range(n)]  # noqa: E731
    platforms = column(st.sampled_from(["twitter", "reddit"]))
    ids = column(MAYBE_ID)
    frame = pd.DataFrame({
        "uid": [f"{p}:{i}:{draw(st.sampled_from('ab'))}" for p, i in zip(platforms, ids,
                                                                         strict=True)],
        "platform": platforms,
        "id": ids,
        "kind": column(st.sampled_from([None, "post", "reply"])),  # None: an error's notice
        "parent_id": column(MAYBE_ID),
        "root_id": column(MAYBE_ID),
        "thread_id": column(st.sampled_from([None, "t"])),
        "author_id": column(st.sampled_from([None, "x", "y", "z"])),
        "reply_to_author_id": column(st.sampled_from([None, None, "w"])),
        "collected_at": pd.to_datetime(column(st.sampled_from(
            [None, "2024-01-01", "2024-01-02"])), utc=True),
        "collection_role": column(st.sampled_from([None, "matched", "context"])),
        "text": [f"row {i}" for i in range(n)],
    })
    table = arrow_table(conform_posts(frame))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    bounds = [0, *cuts, n]
    return [table.slice(lo, hi - lo) for lo, hi in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.parametrize("stored", [False, True], ids=["in memory", "stored"])
@given(chunks=generated_chunks())
def test_compact_path_gives_the_reference_table_on_generated_posts(chunks, stored):
    got, duplicates = _compact_table(chunks, stored)
    want, want_duplicates = _reference_table(chunks)
    pd.testing.assert_frame_equal(got, want)
    assert duplicates == want_duplicates


def test_a_row_with_a_parent_is_not_its_own_root():
    # generated: 2 reposts 99 (not in the table) and was given its own id as root (as twarc2's
    # conversation_id of a retweet is); 3 answers itself; 4's broken chain names root 1
    frame = pd.DataFrame({"uid": [f"twitter:{i}" for i in range(1, 5)],
                          "platform": ["twitter"] * 4, "id": ["1", "2", "3", "4"],
                          "kind": ["post", "repost", "reply", "reply"],
                          "parent_id": [None, "99", "3", "98"], "root_id": ["1", "2", "3", "1"],
                          "author_id": ["a", "b", "c", "a"], "text": ["x"] * 4})
    table = arrow_table(conform_posts(frame))
    got, _ = _compact_table([table.slice(0, 2), table.slice(2)])
    assert got["root_id"].isna().tolist() == [False, True, True, False]
    assert got["author_is_op"].isna().tolist() == [False, True, True, False]
    assert got["author_is_op"].iloc[3]  # a given root other than the row itself still counts
    pd.testing.assert_frame_equal(got, _reference_table([table])[0])


def test_retweets_and_quotes_with_broken_chains_have_no_root_on_real_tweets():
    posts = load_posts([SAMPLES / "noflat.jsonl"], progress=False, detect_language=False)
    broken = posts["parent_id"].notna() & posts["depth"].isna()
    assert not (broken & (posts["root_id"] == posts["id"])).any()
    shares = broken & posts["kind"].isin(["repost", "quote"])
    assert shares.sum() >= 13 and posts.loc[shares, "author_is_op"].isna().all()
    # 1380242501513187328 retweets 1379677464604114944 (another author, in the table as
    # context, whose own chain is broken): it is not its thread's original poster
    row = posts.set_index("id").loc["1380242501513187328"]
    assert row["parent_id"] == "1379677464604114944"
    assert pd.isna(row["root_id"]) and pd.isna(row["author_is_op"])
    assert row["thread_id"] == "1380242501513187328"  # the loader's conversation_id stays
    # only reposts of the author's own tweets remain their thread's original poster
    assert set(posts.loc[posts["author_is_op"].eq(True), "kind"]) == {"post", "repost"}
    assert posts.loc[posts["kind"].eq("repost") & posts["author_is_op"].eq(True),
                     "depth"].notna().all()


def test_hash_strings_keeps_nulls_and_tells_strings_apart():
    hashed = light.hash_strings(pa.array(["a", None, "b", "a", ""], type=pa.large_string()))
    values = hashed.to_pylist()
    assert values[1] is None and values[0] == values[3]
    assert len({values[0], values[2], values[4]}) == 3
    assert hashed.type == pa.binary(light.HASH_BYTES)
