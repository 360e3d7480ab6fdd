"""Tests for analysis.loaders.pseudonym."""

from __future__ import annotations

import os
import stat
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config, schema
from analysis.errors import UserError
from analysis.loaders import pseudonym

KEY = bytes(range(32))


def generated_posts() -> pd.DataFrame:
    return pd.DataFrame({
        "platform": ["twitter", "twitter", "reddit"],
        "author_id": pd.array(["1", "2", "1"], dtype="string"),
        "author_handle": pd.array(["alice", "bob", None], dtype="string"),
        "reply_to_author_id": pd.array([None, "1", None], dtype="string"),
    })


def test_same_author_same_pseudonym_and_reply_to_matches():
    out = pseudonym.pseudonymize(generated_posts(), KEY)
    assert out["author_id"].iloc[1] != "2"
    assert out["reply_to_author_id"].iloc[1] == out["author_id"].iloc[0]
    # the same id on another platform is another person
    assert out["author_id"].iloc[2] != out["author_id"].iloc[0]
    assert pd.isna(out["author_handle"].iloc[2])
    assert out["author_handle"].iloc[0].startswith("h_")


def test_stable_across_calls_and_different_keys_differ():
    a = pseudonym.pseudonymize(generated_posts(), KEY)
    b = pseudonym.pseudonymize(generated_posts(), KEY)
    c = pseudonym.pseudonymize(generated_posts(), b"another key of 32 bytes........")
    pd.testing.assert_frame_equal(a, b)
    assert a["author_id"].iloc[0] != c["author_id"].iloc[0]


def test_known_hmac_value():
    # HMAC-SHA256(key=bytes(range(32)), "twitter\0id\0alice"), first 20 hex chars, computed with
    # the openssl command line: printf 'twitter\0id\0alice' | openssl dgst -sha256 -mac HMAC
    #   -macopt hexkey:000102...1f
    assert pseudonym.pseudonym("alice", KEY, platform="twitter") == "0186687ed5d21a373436"


def test_input_not_mutated():
    posts = generated_posts()
    before = posts.copy()
    pseudonym.pseudonymize(posts, KEY)
    pd.testing.assert_frame_equal(posts, before)


def test_key_file_created_once_with_0600(tmp_path, monkeypatch):
    monkeypatch.delenv(config.PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = pseudonym.load_key()
    path = tmp_path / "cfg" / "analysis" / "pseudonym.key"
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert pseudonym.load_key() == first
    assert len(first) == 32


def test_key_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, KEY.hex())
    assert pseudonym.load_key() == KEY
    assert not (tmp_path / "cfg").exists()
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, "short")
    with pytest.raises(UserError):
        pseudonym.load_key()


def test_key_under_data_processed_is_refused(monkeypatch):
    monkeypatch.delenv(config.PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config.DATA_PROCESSED / "cfg"))
    with pytest.raises(UserError, match="data/processed"):
        pseudonym.load_key()


def test_mentions_get_the_pseudonym_of_the_handle(tmp_path):
    posts = generated_posts().assign(mentions=pd.array(
        [[], ["alice", "carol"], None], dtype=schema.STRING_LIST))
    out = pseudonym.pseudonymize(posts, KEY)
    mentions = out["mentions"].tolist()
    assert mentions[1][0] == out["author_handle"].iloc[0]  # alice, mentioned
    assert all(h.startswith("h_") for h in mentions[1]) and "carol" not in mentions[1]
    assert len(mentions[0]) == 0 and pd.isna(mentions[2])


@pytest.mark.parametrize("written", [
    "\ufeff{hex}\n", "0x{hex}", '"{hex}"', "'{hex}'\n", "  {hex}  "])
def test_key_written_with_bom_prefix_or_quotes_is_the_same_key(monkeypatch, tmp_path, written):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, written.format(hex=KEY.hex()))
    assert pseudonym.load_key() == KEY


def test_malformed_or_unreadable_keys_are_one_line_errors(monkeypatch, tmp_path):
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, KEY.hex()[:-1])  # a hex digit missing
    with pytest.raises(UserError, match="odd number of digits"):
        pseudonym.load_key()
    monkeypatch.delenv(config.PSEUDONYM_KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = tmp_path / "cfg" / "analysis" / "pseudonym.key"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(UserError, match="cannot read the pseudonym key file") as caught:
        pseudonym.load_key()
    assert caught.value.path == str(path)
    path.write_text("")
    with pytest.raises(UserError, match=f"in {path}"):
        pseudonym.load_key()
    path.unlink()
    path.mkdir()
    with pytest.raises(UserError, match="cannot read the pseudonym key file"):
        pseudonym.load_key()
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(not_a_folder))
    with pytest.raises(UserError, match="cannot create the pseudonym key file"):
        pseudonym.load_key()
    with pytest.raises(UserError, match="bytes or a string, not int"):
        pseudonym.load_key(12345)
    assert pseudonym.load_key(bytearray(KEY)) == KEY


def test_a_relative_config_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/cfg")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.user_config_dir() == tmp_path / ".config" / "analysis"


# --- fixer A: tables pseudonymized before keep their pseudonyms ---------------------------------

def test_pseudonymizing_twice_changes_nothing_whatever_the_key():
    """Regression: an author of a pseudonymized table got a second pseudonym when it was
    ingested again (u_... hashed to another u_...)."""
    posts = generated_posts().assign(mentions=pd.array(
        [["bob"], ["alice", "carol"], None], dtype=schema.STRING_LIST))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # raw authors: no warning
        once = pseudonym.pseudonymize(posts, KEY)
    with pytest.warns(UserWarning, match="pseudonyms already .* need not be this run's key"):
        pd.testing.assert_frame_equal(pseudonym.pseudonymize(once, KEY), once)
    # a table from another key keeps its pseudonyms too (comparable only under that key)
    with pytest.warns(UserWarning, match="pseudonyms already"):
        again = pseudonym.pseudonymize(once, b"another key of 32 bytes.....")
    pd.testing.assert_frame_equal(again, once)


@pytest.mark.parametrize("value", ["u_" + "a" * 19, "u_" + "a" * 21, "U_" + "a" * 20,
                                   "u_" + "A" * 20, "x_" + "a" * 20, "u_" + "g" * 20,
                                   " u_" + "a" * 20])
def test_only_the_exact_form_of_a_pseudonym_passes_through(value):
    posts = pd.DataFrame({"platform": ["instagram"], "author_id": [value],
                          "author_handle": [value]})
    out = pseudonym.pseudonymize(posts, KEY)
    assert out.loc[0, "author_id"] != value and out.loc[0, "author_handle"] != value
    assert pseudonym.is_pseudonym(out.loc[0, "author_id"])


def test_real_table_ingested_again_with_new_posts_keeps_each_authors_pseudonym(tmp_path):
    """Regression (real twarc2 sample flat.jsonl in two halves): the first half ingested, then
    ingested again with the second half, gave 156 authors instead of 153 and changed author_id,
    author_is_op, reply_to_author_id and mentions of many posts."""
    from pathlib import Path

    from analysis.loaders.ingest import ingest

    lines = (Path(__file__).parent / "data" / "twarc2_samples" / "flat.jsonl").read_text(
        encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "flat_first_half.jsonl", tmp_path / "flat_second_half.jsonl"
    first.write_text("".join(lines[:50]), encoding="utf-8")
    second.write_text("".join(lines[50:]), encoding="utf-8")
    options = {"pseudonym_key": KEY, "detect_language": False}
    ingest([first], **options).posts.to_parquet(tmp_path / "first.parquet")
    with pytest.warns(UserWarning, match="pseudonyms already"):
        again = ingest([tmp_path / "first.parquet", second], **options).posts
    direct = ingest([first, second], **options).posts
    assert len(again) == len(direct)
    for column in ("author_id", "author_handle", "author_is_op", "reply_to_author_id",
                   "mentions"):
        left = direct.set_index("uid").sort_index()[column]
        right = again.set_index("uid").sort_index()[column]
        assert [_plain(v) for v in right] == [_plain(v) for v in left], column
    assert again["author_id"].nunique() == direct["author_id"].nunique()


def _plain(value: object) -> object:
    """A cell as a comparable value: lists as lists, nulls as None."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, list):
        return value
    return None if pd.isna(value) else value


# --- by distinct value: each pseudonym is that of its value alone --------------------------------

@pytest.mark.parametrize("size", [16, 32, 64, 65, 200])
def test_hasher_is_hmac_sha256_for_keys_of_any_length(size):
    import hashlib
    import hmac

    key = bytes(range(256))[:size]  # longer than SHA-256's 64-byte block: hashed first
    hasher = pseudonym._Hasher(key)
    for message in (b"", b"twitter\x00id\x001", "\u00e9\x00\U0001f600".encode() * 40):
        assert hasher.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()


def _each_alone(platform: object, value: object, namespace: str, prefix: str) -> str | None:
    """The pseudonym of one value as :func:`pseudonym.pseudonym` makes it (what pseudonymize
    gave row by row before it hashed each distinct value once)."""
    if value is None or value is pd.NA:
        return None
    text = str(value)
    if pseudonym.is_pseudonym(text):
        return text
    where = "" if pd.isna(platform) else str(platform)  # a null platform: ""
    return prefix + pseudonym.pseudonym(text, KEY, platform=where, namespace=namespace)


_PLATFORMS = st.sampled_from(["twitter", "reddit", None])
_VALUES = st.sampled_from(["1", "2", "alice", "u_" + "a" * 20, "h_" + "0" * 20, None])
_MENTIONS = st.one_of(st.none(), st.lists(st.sampled_from(["alice", "bob", "1", None]),
                                          max_size=3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_PLATFORMS, _VALUES, _VALUES, _VALUES, _MENTIONS), max_size=12),
       st.integers(0, 3))
def test_pseudonyms_by_distinct_value_are_those_of_each_value_alone(records, skip):
    # Generated by hypothesis: few distinct values (so they repeat, in several columns and on
    # several platforms), nulls, pseudonyms already, lists of mentions with a null handle; the
    # frame is also cut (skip) so that its Arrow arrays start at an offset.
    posts = pd.DataFrame({
        "platform": pd.array([r[0] for r in records], dtype=schema.POSTS["platform"]),
        "author_id": pd.array([r[1] for r in records], dtype="string"),
        "author_handle": pd.array([r[2] for r in records], dtype="string"),
        "reply_to_author_id": pd.array([r[3] for r in records], dtype="string"),
        "mentions": pd.array([r[4] for r in records], dtype=schema.STRING_LIST),
    }).iloc[skip:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pseudonyms already: warned, tested above
        out = pseudonym.pseudonymize(posts, KEY)
    for column, (namespace, prefix) in pseudonym.FIELDS.items():
        want = [_each_alone(p, v, namespace, prefix)
                for p, v in zip(posts["platform"], posts[column], strict=True)]
        assert [None if pd.isna(v) else v for v in out[column]] == want, column
        assert out[column].dtype == "string"
    want_mentions = [None if handles is pd.NA else
                     [_each_alone(p, str(h), "handle", "h_") for h in handles]
                     for p, handles in zip(posts["platform"], posts["mentions"].tolist(),
                                           strict=True)]
    assert [None if m is pd.NA else m for m in out["mentions"].tolist()] == want_mentions
    assert out["mentions"].dtype == schema.STRING_LIST
    pd.testing.assert_frame_equal(out.drop(columns=[*pseudonym.FIELDS, "mentions"]),
                                  posts.drop(columns=[*pseudonym.FIELDS, "mentions"]))


def test_mentions_not_in_arrow_lists_are_pseudonymized_one_list_at_a_time():
    posts = generated_posts().assign(mentions=[["alice"], ("bob", "alice"), None])
    out = pseudonym.pseudonymize(posts, KEY)
    alice = _each_alone("twitter", "alice", "handle", "h_")
    assert out["mentions"].tolist() == [[alice], [_each_alone("twitter", "bob", "handle", "h_"),
                                                  alice], None]
