"""Texts through the loaders: Twitter's HTML escapes, lone UTF-16 surrogates, Zeeschuimer's long
X posts, NUL bytes and UTF-16 files, whitespace-only 4CAT bodies.

Real samples come from tests/data (twarc2, twitter_v1, twarc_csv); every other input is generated
here and named ``generated_*``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import export, schema
from analysis.errors import UserError
from analysis.loaders import fourcat_csv, twarc2, twarc_csv, twitter_v1, zeeschuimer
from analysis.loaders.base import LoadOptions, Reject
from analysis.loaders.chunks import conform_posts
from analysis.loaders.ingest import IngestResult, ingest, ingest_to_files, write_outputs
from analysis.loaders.reddit import row_from_thing

DATA = Path(__file__).parent / "data"
BROKEN = r"1 text\(s\) held a broken character \(a lone UTF-16 surrogate\), replaced by U\+FFFD"


def rows_of(records) -> list[dict]:
    items = list(records)
    assert [i for i in items if isinstance(i, Reject)] == []
    return [i for i in items if isinstance(i, dict)]


def text_of(rows: list[dict], uid: str) -> str:
    return next(r["text"] for r in rows if r["uid"] == uid)


# --- 1. Twitter's &amp; &lt; &gt; are undone, in every Twitter loader -------------------------

def test_twarc2_real_sample_texts_have_no_html_escapes():
    rows = rows_of(twarc2.read(DATA / "twarc2_samples" / "brexit.jsonl", LoadOptions()))
    raw = (DATA / "twarc2_samples" / "brexit.jsonl").read_text(encoding="utf-8")
    assert "Debt &amp; owned" in raw  # the API's escape, as collected
    assert "Debt & owned" in text_of(rows, "twitter:1440716848299872269")
    assert not any("&amp;" in (r["text"] or "") for r in rows)


def test_twitter_v1_real_sample_text_has_no_html_escapes():
    rows = rows_of(twitter_v1.read(DATA / "twitter_v1" / "767734644561186817.json",
                                   LoadOptions()))
    assert text_of(rows, "twitter:766257527025786880").startswith(
        "Robby Mook went on Maddow & screamed")


def test_twarc_csv_real_sample_text_has_no_html_escapes():
    rows = rows_of(twarc_csv.read(DATA / "twarc_csv" / "geo_tweets.csv", LoadOptions()))
    assert "you need to specify Fields & Expansions, twarc" in text_of(
        rows, "twitter:1501963039859363843")


def test_typed_escapes_come_back_as_typed():
    # generated: a user typed "&amp;" and "&lt;", which the API sends as "&amp;amp;", "&amp;lt;"
    assert twitter_v1.unescape_tweet_text("&amp;amp; &amp;lt; &lt;3 &gt;_&lt; &copy;") == (
        "&amp; &lt; <3 >_< &copy;")


def test_twarc2_note_tweet_text_and_urls():
    generated_tweet = {"id": "7", "created_at": "2020-10-01T00:00:00Z", "text": "short &amp;",
                       "note_tweet": {"text": "long &lt;3 &amp; more"},
                       "entities": {"urls": [{"expanded_url": "https://x.org/?a=1&amp;b=2"}]}}
    row = twarc2.row_from_tweet(generated_tweet)
    assert row["text"] == "long <3 & more"
    assert row["urls"] == ["https://x.org/?a=1&amp;b=2"]  # not a text: left as given


def test_same_reply_reads_the_same_from_twitter_and_reddit():
    # generated: "ok </3" as twarc2 and as a Reddit comment, both escaped by their platform
    tweet = twarc2.row_from_tweet({"id": "8", "created_at": "2020-10-01T00:00:00Z",
                                   "text": "ok &lt;/3"})
    comment = row_from_thing({"id": "c1", "created_utc": 1601510400, "link_id": "t3_s",
                              "parent_id": "t3_s", "body": "ok &lt;/3"}, "t1")
    assert tweet["text"] == comment["text"] == "ok </3"


def test_zeeschuimer_x_text_is_unescaped():
    generated_item = {"source_platform": "x.com", "timestamp_collected": 1690000000000,
                      "data": {"rest_id": "9", "legacy": {
                          "created_at": "Thu Oct 01 00:00:00 +0000 2020",
                          "full_text": "fish &amp; chips &lt;3", "user_id_str": "5"}}}
    assert zeeschuimer.row_from_item(generated_item)["text"] == "fish & chips <3"


# --- 2. a lone UTF-16 surrogate keeps its post, as U+FFFD, with a warning ---------------------

def _write_lines(path: Path, records: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in records), encoding="ascii")
    return path


V1_TIME = '"created_at": "Thu Oct 01 00:00:00 +0000 2020"'
V2_TIME = '"created_at": "2020-10-01T00:00:00Z"'


@pytest.mark.parametrize("format_name, first, lines", [
    ("jsonl", "ok", [f'{{"id": "a", "text": "ok", {V2_TIME}}}',
                     f'{{"id": "b", "text": "lone \\ud800 x", {V2_TIME}}}']),
    ("twitter-v1", "ok \U0001f495", [  # a valid pair stays one character
        f'{{"id_str": "1", {V1_TIME}, "full_text": "ok \\ud83d\\udc95", "user": {{}}}}',
        f'{{"id_str": "2", {V1_TIME}, "full_text": "lone \\ud800 x", "user": {{}}}}']),
    ("twarc2", "ok", [f'{{"data": [{{"id": "1", {V2_TIME}, "text": "ok"}}, '
                      f'{{"id": "2", {V2_TIME}, "text": "lone \\ud800 x"}}]}}']),
])
def test_lone_surrogate_keeps_the_post(tmp_path, format_name, first, lines):
    source = _write_lines(tmp_path / f"generated_lone.{format_name}.jsonl", lines)
    output = tmp_path / "generated_lone.parquet"
    with pytest.warns(UserWarning, match=BROKEN):
        result, written = ingest_to_files([source], output, format_name, jobs=1,
                                          detect_language=False)
    assert result.rejects == []
    assert list(pd.read_parquet(output)["text"]) == [first, "lone \ufffd x"]


def test_lone_surrogate_in_every_string_of_the_record_and_in_a_json_array(tmp_path):
    source = tmp_path / "generated_lone_array.json"
    source.write_text('[{"id": "a\\udc00", "created_at": "2020-10-01T00:00:00Z", '
                      '"text": "x \\udbff", "hashtags": ["ok", "cut\\ud83d"]}]', encoding="ascii")
    with pytest.warns(UserWarning, match=r"3 text\(s\) held a broken character"):
        result = ingest([source], "jsonl", detect_language=False, keep_authors=True)
    assert result.rejects == []
    row = result.posts.iloc[0]
    assert (row["id"], row["text"]) == ("a\ufffd", "x \ufffd")
    assert list(row["hashtags"]) == ["ok", "cut\ufffd"]


def test_lone_surrogate_in_a_pretty_printed_tweet(tmp_path):
    source = tmp_path / "generated_lone_tweet.json"
    source.write_text('{\n "id_str": "1", "created_at": "Thu Oct 01 00:00:00 +0000 2020",\n'
                      ' "full_text": "cut \\ud83d", "user": {"id_str": "5"}\n}\n',
                      encoding="ascii")
    with pytest.warns(UserWarning, match=BROKEN):
        rows = rows_of(twitter_v1.read(source, LoadOptions()))
    assert rows[0]["text"] == "cut \ufffd"


def test_lone_surrogate_in_a_part_of_a_large_file(tmp_path):
    # read_lines is what a worker process runs on a part of a large twarc2 file
    raw = (b'{"data": [{"id": "2", "created_at": "2020-10-01T00:00:00Z", '
           b'"text": "lone \\ud800 x"}]}\n')
    with pytest.warns(UserWarning, match=BROKEN):
        rows = rows_of(twarc2.read_lines(tmp_path / "generated.jsonl", [(1, raw)],
                                         LoadOptions()))
    assert rows[0]["text"] == "lone \ufffd x"


def test_rejects_file_takes_any_string(tmp_path):
    source = tmp_path / "generated_input.jsonl"
    source.write_text("{}\n", encoding="utf-8")
    reject = Reject(str(source), 1, "row does not fit the posts table: test", "cut \ud83d here")
    result = IngestResult(posts=conform_posts(schema.empty(schema.POSTS)), rejects=[reject])
    written = write_outputs(result, tmp_path / "generated_out.parquet", [source])
    line = written["rejects"].read_text(encoding="utf-8").strip()
    assert json.loads(line)["snippet"] == "cut \ud83d here"  # its JSON escape, read back


# --- 3. Zeeschuimer's long X posts: the note_tweet text, not the cut legacy.full_text ----------

def test_zeeschuimer_long_x_post_keeps_its_whole_text():
    whole = "This is a long post &amp; more. " * 20
    generated_item = {"source_platform": "x.com", "timestamp_collected": 1690000000000, "data": {
        "__typename": "Tweet", "rest_id": "1700000000000000001",
        "note_tweet": {"is_expandable": True,
                       "note_tweet_results": {"result": {"id": "x", "text": whole}}},
        "legacy": {"created_at": "Tue Sep 14 10:00:00 +0000 2023", "full_text": whole[:277] + "…",
                   "conversation_id_str": "1700000000000000001", "user_id_str": "42"}}}
    row = zeeschuimer.row_from_item(generated_item)
    assert row["text"] == whole.replace("&amp;", "&") and len(row["text"]) == 560


# --- 4. NUL bytes with a named format; UTF-16 files are named as such -------------------------

def _nul_table(tmp_path: Path) -> Path:
    """A CSV with a column no loader knows (so no format claims it) and a NUL in a text."""
    source = tmp_path / "generated_nul.csv"
    source.write_bytes(b"id,text,created_at,parent_id,author,key\n"
                       b"a1,hello,2020-10-01T00:00:00Z,,u1,x\n"
                       b"a2,nul\x00here,2020-10-01T00:00:00Z,a1,u2,y\n")
    return source


def test_nul_byte_with_auto_format_says_how_to_read_it(tmp_path):
    with pytest.raises(UserError, match="binary data.*pass --format if it is text"):
        ingest([_nul_table(tmp_path)], "auto", detect_language=False)


def test_nul_byte_in_a_text_is_kept_with_a_named_format(tmp_path):
    source = _nul_table(tmp_path)
    output = tmp_path / "generated_nul.parquet"
    result, _ = ingest_to_files([source], output, "csv", jobs=1, detect_language=False)
    assert result.rejects == []
    assert list(pd.read_parquet(output)["text"]) == ["hello", "nul\x00here"]


@pytest.mark.parametrize("format_name", ["twarc2", "auto"])
def test_utf16_file_is_named_utf16(tmp_path, format_name):
    text = (DATA / "twarc2_samples" / "two_tweets.jsonl").read_text(encoding="utf-8")
    source = tmp_path / "generated_two_tweets_utf16.jsonl"
    source.write_text(text, encoding="utf-16")  # with a byte order mark, as Notepad saves it
    with pytest.raises(UserError, match="UTF-16 text: save it as UTF-8 \\(e.g. iconv"):
        ingest([source], format_name, detect_language=False)


@pytest.mark.parametrize("encoding, name", [("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"),
                                            ("utf-32", "UTF-32")])
def test_utf16_or_32_table_is_named(tmp_path, encoding, name):
    source = tmp_path / "generated_table.csv"
    source.write_bytes("id,text,created_at\na1,hello,2020-10-01T00:00:00Z\n".encode(encoding))
    with pytest.raises(UserError, match=f"{name} text: save it as UTF-8"):
        ingest([source], "csv", detect_language=False)


# --- 5. a 4CAT body of spaces is a text ----------------------------------------------------------

def test_whitespace_body_survives_the_4cat_round_trip(tmp_path):
    posts = schema.conform(pd.DataFrame({
        "uid": ["other:1", "other:2", "other:3"], "platform": ["other"] * 3,
        "id": ["1", "2", "3"], "kind": ["post", "reply", "reply"],
        "thread_id": ["1"] * 3, "parent_id": [None, "1", "1"],
        "created_at": pd.to_datetime(["2020-10-01T00:00:00Z"] * 3),
        "text": ["root", "   \t ", None], "text_status": ["ok", "ok", "deleted"],
    }), schema.POSTS)
    source = tmp_path / "generated_ws.parquet"
    posts.to_parquet(source)
    target = tmp_path / "generated_ws.4cat.csv"
    export.export_posts(source, target)
    rows = rows_of(fourcat_csv.read(target, LoadOptions()))
    assert [r["text"] for r in rows] == ["root", "   \t ", None]
