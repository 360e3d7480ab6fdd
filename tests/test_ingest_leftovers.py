"""Acceptance-test findings about ``python -m analysis ingest``: one reject per problem in a twarc2
page, an earlier run's output inside an input folder, whole JSON reasons (with the place of the
error) and cut arrays, JSON type names in reasons, a repeated CSV header, and the --strict error
line. Every input here is generated in the test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis import config
from analysis.commands import main
from analysis.loaders import reddit_api, twarc2, twitter_v1
from analysis.loaders.base import LoadOptions, Reject, parse_json_line
from analysis.loaders.ingest import ingest, ingest_to_files

KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch, tmp_path):
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, KEY_HEX)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _split(items):
    items = list(items)
    return ([i for i in items if isinstance(i, dict)], [i for i in items if isinstance(i, Reject)])


def _v2_tweet(tweet_id: str, **fields) -> dict:
    tweet = {"id": tweet_id, "text": f"generated {tweet_id}", "author_id": "7",
             "conversation_id": tweet_id, "created_at": "2021-01-01T00:00:00.000Z"}
    tweet.update(fields)
    return {k: v for k, v in tweet.items() if v is not None}


def _page(*tweets, **extra) -> dict:
    return {"data": list(tweets), "__twarc": {"retrieved_at": "2021-01-02T00:00:00+00:00"},
            **extra}


def _v1_tweet(tweet_id: str) -> dict:
    return {"id_str": tweet_id, "created_at": "Wed Sep 30 12:00:00 +0000 2020",
            "text": f"generated tweet {tweet_id}", "user": {"id_str": "9", "screen_name": "g"}}


def _write_lines(path: Path, values) -> Path:
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return path


# --- 1. a twarc2 page whose only tweet is rejected: one reject, not two --------------------------

def test_page_whose_only_tweet_is_rejected_gives_one_reject(tmp_path):
    path = _write_lines(tmp_path / "generated.jsonl",
                        [_page(_v2_tweet("1", created_at=None), meta={"result_count": 1})])
    rows, rejects = _split(twarc2.read(path, LoadOptions()))
    assert rows == []
    assert [(r.line, r.reason) for r in rejects] == [(1, "tweet has no created_at")]


def test_page_whose_tweets_are_all_rejected_gives_one_reject_each(tmp_path):
    path = _write_lines(tmp_path / "generated.jsonl",
                        [_page(_v2_tweet("1", created_at=None), _v2_tweet("2", created_at="x"))])
    rows, rejects = _split(twarc2.read(path, LoadOptions()))
    assert rows == [] and len(rejects) == 2
    assert not any("no tweets" in r.reason for r in rejects)


def test_page_with_no_tweet_records_is_still_rejected_as_such(tmp_path):
    path = _write_lines(tmp_path / "generated.jsonl", [_page(meta={"result_count": 0})])
    rows, rejects = _split(twarc2.read(path, LoadOptions()))
    assert rows == []
    assert [r.reason for r in rejects] == ["no tweets in this response page "
                                           "(meta.result_count 0)"]


# --- 2. an earlier run's output inside an input folder -------------------------------------------

def _folder_with_earlier_output(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with one twarc2 file (one good tweet, one rejected) and the output of a run
    over it written into the folder (posts, rejects and manifest)."""
    folder = tmp_path / "in"
    folder.mkdir()
    _write_lines(folder / "tweets.jsonl", [_page(_v2_tweet("1")),
                                           _page(_v2_tweet("2", created_at=None))])
    _, written = ingest_to_files([folder], folder / "out.parquet", keep_authors=True,
                                 detect_language=False)
    assert sorted(p.name for p in folder.iterdir()) == [
        "out.manifest.json", "out.parquet", "out.rejects.jsonl", "tweets.jsonl"]
    return folder, folder / "tweets.jsonl"


def test_earlier_output_in_an_input_folder_is_skipped_and_named_in_the_summary(tmp_path):
    folder, data = _folder_with_earlier_output(tmp_path)
    result = ingest([folder], keep_authors=True, detect_language=False)
    assert [entry["path"] for entry in result.summary["inputs"]] == [str(data)]
    assert sorted(Path(p).name for p in result.summary["skipped_outputs"]) == [
        "out.manifest.json", "out.parquet", "out.rejects.jsonl"]
    assert list(result.posts["id"]) == ["1"] and len(result.rejects) == 1
    assert result.summary["duplicates"] == 0


def test_cli_summary_says_in_one_line_which_files_were_skipped(tmp_path, capsys):
    folder, _ = _folder_with_earlier_output(tmp_path)
    status = main(["ingest", str(folder), "--keep-authors", "--no-language",
                   "-o", str(tmp_path / "again.parquet")])
    err = capsys.readouterr().err
    assert status == 0
    lines = [line for line in err.splitlines() if "earlier ingest run" in line]
    assert len(lines) == 1
    assert lines[0].startswith("skipped 3 files written by an earlier ingest run: ")
    for name in ("out.manifest.json", "out.parquet", "out.rejects.jsonl"):
        assert name in lines[0]
    manifest = json.loads((tmp_path / "again.manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["posts"]["rows"] == 1
    assert len(manifest["summary"]["skipped_outputs"]) == 3


def test_a_run_again_into_its_input_folder_replaces_its_earlier_output(tmp_path):
    folder, _ = _folder_with_earlier_output(tmp_path)
    result, written = ingest_to_files([folder], folder / "out.parquet", keep_authors=True,
                                      detect_language=False)
    assert set(written) == {"posts", "rejects", "manifest"}
    assert result.summary["rows_read"] == 1 and len(result.rejects) == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "out.manifest.json", "out.parquet", "out.rejects.jsonl", "tweets.jsonl"]


def test_folder_checksum_does_not_cover_the_skipped_outputs(tmp_path):
    folder, _ = _folder_with_earlier_output(tmp_path)
    first = json.loads((folder / "out.manifest.json").read_text(encoding="utf-8"))
    ingest_to_files([folder], tmp_path / "again.parquet", keep_authors=True,
                    detect_language=False)
    again = json.loads((tmp_path / "again.manifest.json").read_text(encoding="utf-8"))
    assert again["inputs"][0]["files"] == 1
    assert again["inputs"][0]["sha256_of_file_list"] == first["inputs"][0]["sha256_of_file_list"]


def test_an_earlier_output_named_as_an_input_is_read(tmp_path):
    folder, _ = _folder_with_earlier_output(tmp_path)
    result = ingest([folder, folder / "out.parquet"], keep_authors=True, detect_language=False)
    read = {Path(entry["path"]).name: entry["format"] for entry in result.summary["inputs"]}
    assert read == {"tweets.jsonl": "twarc2", "out.parquet": "parquet"}
    assert sorted(Path(p).name for p in result.summary["skipped_outputs"]) == [
        "out.manifest.json", "out.rejects.jsonl"]


def test_files_named_like_outputs_without_an_ingest_manifest_are_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    # data that happens to be named like ingest's files, next to a manifest of something else
    _write_lines(folder / "collected.rejects.jsonl", [_page(_v2_tweet("1"))])
    (folder / "collected.manifest.json").write_text(json.dumps(
        {"created_by": "a collector", "outputs": {"posts": {"file": "collected.parquet"}}}))
    _write_lines(folder / "other.rejects.jsonl", [_page(_v2_tweet("2"))])
    (folder / "other.manifest.json").write_text(json.dumps(  # names a file of another name
        {"created_by": "analysis 0.1.0", "outputs": {"rejects": {"file": "x.rejects.jsonl"}}}))
    result = ingest([folder], keep_authors=True, detect_language=False)
    assert sorted(result.posts["id"]) == ["1", "2"]
    assert "skipped_outputs" not in result.summary
    assert len(result.summary["inputs"]) == 4  # the two manifests are rejects, not skipped


def test_folder_holding_only_an_earlier_output_says_so(tmp_path, capsys):
    folder, data = _folder_with_earlier_output(tmp_path)
    data.unlink()
    status = main(["ingest", str(folder), "--keep-authors", "--no-language",
                   "-o", str(tmp_path / "again.parquet")])
    err = capsys.readouterr().err
    assert status == 2
    assert "earlier ingest run" in err and "folder has no files to read" in err


# --- 3. whole JSON reasons, and a cut array element ----------------------------------------------

def test_json_line_reason_names_the_column_python_leaves_out_of_its_message():
    cut = parse_json_line("f.jsonl", 3, b'{"id": "1", "text": "cut\n')
    # a line cut inside a string: the decoder takes the line ending for a control character in
    # the string; the reason says the line was cut short, at its end (found by an acceptance test)
    assert cut.reason == ("invalid JSON: cut short: the text ends inside its JSON value at "
                          "column 25")
    in_number = parse_json_line("f.jsonl", 3, b'{"id": "1", "created_utc": 16\n')
    assert in_number.reason == ("invalid JSON: cut short: the text ends inside its JSON value at "
                                "column 30")  # not "(line 2, column 1)", after the line ending
    # cut without a line ending (the end of a cut download) and inside a literal: the same
    unterminated = parse_json_line("f.jsonl", 3, b'{"id": "1", "text": "cut')
    assert unterminated.reason == cut.reason
    in_literal = parse_json_line("f.jsonl", 3, b'{"id": "1", "ok": tru\n')
    assert in_literal.reason == ("invalid JSON: cut short: the text ends inside its JSON value "
                                 "at column 22")
    missing = parse_json_line("f.jsonl", 3, b'{"id": }\n')
    assert missing.reason == "invalid JSON: expecting value (column 8)"


def test_no_json_reason_of_the_loaders_ends_in_at(tmp_path):
    lines = [json.dumps(_v1_tweet("1")), '{"id_str": "2", "text": "cut', '{"id_str": 3,,}']
    path = tmp_path / "generated.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rejects = _split(twitter_v1.read(path, LoadOptions()))
    assert [r.line for r in rejects] == [2, 3]
    assert all(r.reason.startswith("invalid JSON: ") for r in rejects)
    assert not any(r.reason.rstrip().endswith((" at", ":")) for r in rejects)
    assert rejects[0].reason == ("invalid JSON: cut short: the text ends inside its JSON value "
                                 "at column 29")


def test_reddit_pretty_document_reason_names_line_and_column(tmp_path):
    text = json.dumps({"kind": "Listing", "data": {"children": []}}, indent=2)
    broken = text.replace('"children": []', '"children": [')  # line 5: "  }" where ] belongs
    path = tmp_path / "generated.json"
    path.write_text(broken, encoding="utf-8")
    rows, rejects = _split(reddit_api.read(path, LoadOptions()))
    assert rows == [] and len(rejects) == 1
    assert rejects[0].reason == "invalid JSON: expecting value (line 5, column 3)"


def test_broken_element_far_into_a_pretty_array_names_the_files_line(tmp_path):
    tweets = [_v1_tweet(str(n)) for n in range(1, 400)]  # far past the 64 KiB read block
    raw = json.dumps(tweets, indent=2)
    at = raw.index('"id_str": "350"')
    raw = raw[:at] + raw[at:].replace('"text"', '"text" "', 1)
    line = raw[:raw.index('"text" "')].count("\n") + 1
    path = tmp_path / "generated_array.json"
    path.write_text(raw, encoding="utf-8")
    rows, rejects = _split(twitter_v1.read(path, LoadOptions()))
    assert len(rows) == 398 and len(rejects) == 1
    assert rejects[0].reason.startswith(f"invalid JSON: expecting ':' delimiter (line {line}")
    assert rejects[0].reason.endswith("; the record is skipped")


def test_v1_array_cut_inside_an_element_is_called_truncated_like_a_cut_document(tmp_path):
    raw = json.dumps([_v1_tweet("1"), _v1_tweet("2"), _v1_tweet("3")], indent=2)
    path = tmp_path / "generated_cut_array.json"
    path.write_text(raw[:raw.index('"id_str": "3"') + 8], encoding="utf-8")
    rows, rejects = _split(twitter_v1.read(path, LoadOptions()))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert [r.reason for r in rejects] == ["truncated: the file ends inside the JSON array"]
    # the same words as for a pretty-printed tweet cut short, and the same category as for an
    # array cut between two elements
    pretty = tmp_path / "generated_cut_tweet.json"
    text = json.dumps(_v1_tweet("4"), indent=2)
    pretty.write_text(text[:len(text) // 2], encoding="utf-8")
    _, cut = _split(twitter_v1.read(pretty, LoadOptions()))
    assert cut[0].reason.split(":")[0] == rejects[0].reason.split(":")[0] == "truncated"
    between = tmp_path / "generated_cut_between.json"
    between.write_text(raw[:raw.index('"id_str": "3"') - 8], encoding="utf-8")
    _, cut_between = _split(twitter_v1.read(between, LoadOptions()))
    assert [r.reason for r in cut_between] == [rejects[0].reason]


# --- 5. JSON type names, and a repeated CSV header -----------------------------------------------

def test_null_and_other_json_values_are_named_by_their_json_type(tmp_path):
    path = tmp_path / "generated.jsonl"
    path.write_text("null\n5\n\"text\"\n", encoding="utf-8")
    _, rejects = _split(twarc2.read(path, LoadOptions()))
    assert [r.reason for r in rejects] == [
        "not a twarc2 page or tweet but a JSON null",
        "not a twarc2 page or tweet but a JSON number",
        "not a twarc2 page or tweet but a JSON string"]
    page = _write_lines(tmp_path / "page.jsonl", [_page(None, [1])])
    _, rejects = _split(twarc2.read(page, LoadOptions()))
    assert [r.reason for r in rejects] == ["tweet is not an object but a JSON null",
                                           "tweet is not an object but a JSON array"]
    v1 = tmp_path / "v1.jsonl"
    v1.write_text(json.dumps(_v1_tweet("1")) + "\nnull\n[]\n", encoding="utf-8")
    _, rejects = _split(twitter_v1.read(v1, LoadOptions()))
    assert [r.reason for r in rejects] == ["not a tweet object but a JSON null",
                                           "not a tweet object but a JSON array"]


def test_a_time_that_is_an_object_or_array_is_named_so(tmp_path):
    path = _write_lines(tmp_path / "generated.jsonl",
                        [_page(_v2_tweet("1", created_at={"$date": 1})),
                         _page(_v2_tweet("2", created_at=[]))])
    _, rejects = _split(twarc2.read(path, LoadOptions()))
    assert [r.reason for r in rejects] == [
        'bad created_at: {"$date": 1} (not a time but a JSON object)',
        "bad created_at: [] (not a time but a JSON array)"]
    assert not any("class" in r.reason or "dict" in r.reason for r in rejects)


def test_a_reference_type_that_is_no_string_does_not_stop_the_loader(tmp_path):
    path = _write_lines(tmp_path / "generated.jsonl", [_page(_v2_tweet(
        "1", referenced_tweets=[{"type": {}, "id": "9"}, {"type": "replied_to", "id": "8"}]))])
    rows, rejects = _split(twarc2.read(path, LoadOptions()))
    assert rejects == []
    assert [(r["id"], r["kind"], r["parent_id"]) for r in rows] == [("1", "reply", "8")]


def test_repeated_csv_header_row_gets_a_reason_that_reads_well(tmp_path):
    path = tmp_path / "generated.csv"
    header = "id,created_at,text\n"
    path.write_text(header + "1,2020-09-30T12:00:00Z,hello\n" + header
                    + "2,2020-09-30T13:00:00Z,again\n", encoding="utf-8")
    result = ingest([path], keep_authors=True, detect_language=False, tz="UTC")
    assert sorted(result.posts["id"]) == ["1", "2"]
    assert [r.line for r in result.rejects] == [3]
    assert result.rejects[0].reason == "header row repeated inside the file"


# --- 4. --strict: the error line is the last, names a whole-file reject without a line -----------

def test_strict_error_is_the_last_line_and_names_a_file_reject_without_none(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("hello, not an export\n", encoding="utf-8")
    _write_lines(folder / "b.jsonl", [_page(_v2_tweet("1"))])
    out = tmp_path / "out" / "posts.parquet"
    status = main(["ingest", str(folder), "--keep-authors", "--no-language", "--strict",
                   "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    last = err.rstrip().splitlines()[-1]
    assert last == (f"error: 1 record(s) rejected (--strict), nothing written; first: "
                    f"{folder / 'a.txt'}: cannot tell the format; pass --format (one of "
                    + last.split("(one of ", 1)[1])
    assert ":None" not in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.parametrize(("format_name", "options"), [
    ("pushshift", {}), ("youtube-comments", {"thread_id": "v1"}), ("zeeschuimer", {}),
])
def test_a_line_of_the_wrong_shape_is_named_by_its_json_type(tmp_path, format_name, options):
    path = tmp_path / "generated_wrong_shapes.jsonl"
    path.write_text('[1, 2]\nnull\n"text"\n', encoding="utf-8")
    result = ingest([path], format=format_name, keep_authors=True, detect_language=False,
                    **options)
    reasons = [r.reason for r in result.rejects]
    assert len(reasons) == 3
    for reason, name in zip(reasons, ("array", "null", "string"), strict=True):
        assert f"a JSON {name}" in reason
        assert not re.search(r"\b(list|NoneType|str)\b", reason)


def test_answers_and_page_data_of_the_wrong_shape_are_named_by_json_type(tmp_path):
    from analysis.loaders import instaloader

    comments = tmp_path / "generated_comments.json"
    comments.write_text(json.dumps([{"id": 1000000, "created_at": 1601500000, "text": "hi",
                                     "owner": {"id": "5", "username": "u"},
                                     "answers": "s"}]), encoding="utf-8")
    _, rejects = _split(instaloader.read(comments, LoadOptions(thread_id="P1")))
    assert [r.reason for r in rejects] == [
        "wrong shape: answers of comment 1000000 is not a JSON array but a JSON string"]
    page = tmp_path / "generated_page.jsonl"
    page.write_text(json.dumps({"data": 1, "meta": {}}) + "\n", encoding="utf-8")
    _, rejects = _split(twarc2.read(page, LoadOptions()))
    assert [r.reason for r in rejects] == [
        "page 'data' is neither a JSON array nor an object but a JSON number"]
