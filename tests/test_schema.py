"""The table schemas and conform()."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import io, schema


def test_conform_adds_missing_columns_as_nulls_with_declared_types():
    posts = schema.conform(pd.DataFrame({"uid": ["reddit:a"], "depth": [2]}), schema.POSTS)
    assert list(posts.columns) == list(schema.POSTS)
    assert posts["depth"].dtype == "Int16" and posts.loc[0, "depth"] == 2
    assert posts["created_at"].isna().all()
    assert str(posts["created_at"].dtype) == "datetime64[ns, UTC]"
    assert posts["like_count"].isna().all()  # missing is null, never 0


def test_conform_does_not_change_its_input():
    frame = pd.DataFrame({"uid": ["a"], "platform": ["twitter"]})
    before = frame.copy()
    schema.conform(frame, schema.POSTS)
    pd.testing.assert_frame_equal(frame, before)


def test_conform_refuses_naive_times():
    frame = pd.DataFrame({"uid": ["a"], "created_at": pd.to_datetime(["2020-09-30 12:00"])})
    with pytest.raises(TypeError, match="tz-aware"):
        schema.conform(frame, schema.POSTS)


def test_conform_of_text_times_points_to_parse_text_columns():
    """A posts table written to CSV and read back holds times as text: conform said only "must
    hold tz-aware times, not str"."""
    frame = pd.DataFrame({"uid": ["a"], "created_at": ["2020-09-30 10:00:00+00:00"]})
    with pytest.raises(TypeError, match="holds text, not times; .*parse_text_columns"):
        schema.conform(frame, schema.POSTS)
    parsed = schema.conform(schema.parse_text_columns(frame, schema.POSTS), schema.POSTS)
    assert parsed.loc[0, "created_at"] == pd.Timestamp("2020-09-30 10:00", tz="UTC")


def test_conform_converts_other_time_zones_to_utc():
    local = pd.to_datetime(["2020-09-30 12:00"]).tz_localize("America/Los_Angeles")
    posts = schema.conform(pd.DataFrame({"uid": ["a"], "created_at": local}), schema.POSTS)
    assert posts.loc[0, "created_at"] == pd.Timestamp("2020-09-30 19:00", tz="UTC")


def test_unknown_category_values_are_refused_not_silently_nulled():
    with pytest.raises(ValueError, match="platform.*myspace"):
        schema.conform(pd.DataFrame({"uid": ["a"], "platform": ["myspace"]}), schema.POSTS)


def test_posts_table_survives_a_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({
        "uid": ["twitter:1", "twitter:2"], "platform": ["twitter", "twitter"], "id": ["1", "2"],
        "kind": ["post", "reply"], "parent_id": [None, "1"], "depth": [0, 1],
        "created_at": pd.to_datetime(["2020-09-30T12:00:00Z", "2020-09-30T13:00:00Z"]),
        "hashtags": [["a", "b"], None], "author_is_op": [True, False], "score": [3, None],
    })
    posts = schema.conform(frame, schema.POSTS)
    io.write_table(posts, tmp_path / "posts.parquet")
    back = schema.conform(io.read_table(tmp_path / "posts.parquet"), schema.POSTS)
    pd.testing.assert_frame_equal(back, posts)
    assert list(back.loc[0, "hashtags"]) == ["a", "b"]


def test_proba_columns_are_found_in_order():
    labels = pd.DataFrame(columns=["uid", "label", "proba_support", "proba_criticism", "x"])
    assert schema.proba_columns(labels) == ["proba_support", "proba_criticism"]
    assert schema.proba_column("other") == "proba_other"


def test_posts_parquet_is_readable_by_plain_pandas(tmp_path):
    # Researchers open outputs with pd.read_parquet; the list columns must not break it.
    posts = schema.conform(pd.DataFrame({"uid": ["twitter:1"], "hashtags": [["a", "b"]],
                                         "depth": [1]}), schema.POSTS)
    io.write_table(posts, tmp_path / "posts.parquet")
    back = pd.read_parquet(tmp_path / "posts.parquet")
    assert list(back.loc[0, "hashtags"]) == ["a", "b"]
    assert back["depth"].dtype == "Int16" and back.loc[0, "uid"] == "twitter:1"


# --- fixer-io: ids never pass through float; list cells from strings and with nulls -------------


def _values(column: pd.Series) -> list:
    return column.astype("object").where(column.notna(), None).tolist()


def test_conform_writes_numeric_ids_as_their_digits():
    """Regression: a float parent_id column (ids beside a null) became '5.527836670521672e+17'
    and '100.0'; int64 ids must come out exact."""
    frame = pd.DataFrame({"id": pd.array([552785374507175936, 101], dtype="int64"),
                          "parent_id": [float("nan"), 100.0],
                          "root_id": pd.array([552783667052167168, None], dtype="Int64")})
    out = schema.conform(frame, schema.POSTS)
    assert _values(out["id"]) == ["552785374507175936", "101"]
    assert _values(out["parent_id"]) == [None, "100"]
    assert _values(out["root_id"]) == ["552783667052167168", None]


def test_conform_refuses_a_float_id_that_may_have_been_rounded():
    frame = pd.DataFrame({"id": ["1"], "parent_id": [552783667052167168.0]})
    with pytest.raises(ValueError, match="'parent_id'.*floating-point"):
        schema.conform(frame, schema.POSTS)


def test_a_string_in_a_list_column_is_one_item_and_null_items_are_dropped():
    """Regression: 'brexit,eu' became ['b', 'r', 'e', ...] and [alice, None] ['alice', 'None']."""
    frame = pd.DataFrame({"hashtags": ["brexit,eu", None],
                          "mentions": [["alice", None], [float("nan")]]})
    out = schema.conform(frame, schema.POSTS)
    assert [list(v) for v in out["hashtags"].dropna()] == [["brexit,eu"]]
    assert [list(v) for v in out["mentions"]] == [["alice"], []]


def test_text_times_without_an_offset_are_refused_not_taken_for_utc():
    # Regression (bug hunt): 'annotate sample naive_posts.csv' showed 05:00 local as 05:00 UTC.
    text = pd.DataFrame({"created_at": ["2020-09-30 10:00:00+02:00", "2020-09-30 05:00:00"]})
    with pytest.raises(ValueError, match="holds a time without an offset"):
        schema.parse_text_columns(text, schema.POSTS)
    ok = schema.parse_text_columns(text.assign(created_at=["2020-09-30T10:00Z", None]),
                                   schema.POSTS)
    assert str(ok.loc[0, "created_at"]) == "2020-09-30 10:00:00+00:00"


@pytest.mark.parametrize("table", [schema.POSTS, schema.LABELS, schema.TREND])
def test_an_empty_table_is_what_conform_makes_of_an_empty_frame(table):
    got, want = schema.empty(table), schema.conform(pd.DataFrame(), table)
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_column_type=True)
    assert list(got.dtypes) == list(want.dtypes) and got.columns.dtype == want.columns.dtype
