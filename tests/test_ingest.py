"""Tests for analysis.loaders.ingest and the ``ingest`` command, on the real twarc2 and Twitter
v1.1 samples (tests/data/twarc2_samples, tests/data/twitter_v1)."""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import config, io, schema
from analysis.commands import main
from analysis.errors import UserError
from analysis.loaders import REGISTRY
from analysis.loaders import ingest as ingest_module
from analysis.loaders.ingest import ingest, ingest_to_files, load_posts, write_outputs

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "twarc2_samples"
V1 = DATA / "twitter_v1"
KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch, tmp_path):
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, KEY_HEX)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run(paths, **options):
    options.setdefault("detect_language", False)
    return ingest(paths, **options)


def test_twarc2_streaming_file_auto_detected():
    result = run([SAMPLES / "streaming_output_with_error.jsonl"], keep_authors=True)
    summary = result.summary
    assert summary["inputs"][0]["format"] == "twarc2"
    assert summary["inputs"][0]["detected"] is True
    assert summary["rejects"] == 1
    assert list(summary["rejects_by_reason"]) == ["invalid JSON"]
    posts = result.posts
    assert list(posts.columns) == list(schema.POSTS)
    assert str(posts["created_at"].dtype) == "datetime64[ns, UTC]"
    assert (posts["collection_role"] == "matched").sum() == 7
    by_id = posts.set_index("id")
    # reply 1377650093109743620 answers 1377266697850257410, the conversation root, which came
    # along in includes.tweets
    assert by_id.loc["1377650093109743620", "depth"] == 1
    assert by_id.loc["1377266697850257410", "depth"] == 0
    assert by_id.loc["1377266697850257410", "collection_role"] == "context"
    assert by_id.loc["1377650093109743620", "author_id"] == "3026521093"
    assert by_id.loc["1377650093109743620", "reply_to_author_id"] == "601852746"


def test_flat_and_noflat_collapse_as_duplicates():
    result = run([SAMPLES / "noflat.jsonl", SAMPLES / "flat.jsonl"], keep_authors=True)
    posts = result.posts
    assert posts["uid"].is_unique
    assert (posts["collection_role"] == "matched").sum() == 100
    assert result.summary["duplicates"] >= 100
    assert result.summary["rows_written"] == len(posts)
    assert result.summary["rows_read"] == len(posts) + result.summary["duplicates"]


def test_latest_collected_wins_and_matched_beats_context(tmp_path):
    page = json.loads((SAMPLES / "two_tweets.jsonl").read_text(encoding="utf-8"))
    newer = json.loads(json.dumps(page))
    newer["__twarc"]["retrieved_at"] = "2022-01-01T00:00:00+00:00"
    newer["data"][0]["text"] = "RT @bibaigna96: #POIUYTREWQ (generated newer copy)"
    older_path = tmp_path / "generated_older.jsonl"
    newer_path = tmp_path / "generated_newer.jsonl"
    older_path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    newer_path.write_text(json.dumps(newer) + "\n", encoding="utf-8")
    # the newer copy first: order of inputs must not matter, collected_at decides
    result = run([newer_path, older_path], keep_authors=True)
    row = result.posts.set_index("id").loc["1394735776701816833"]
    assert row["text"].endswith("(generated newer copy)")
    assert result.summary["duplicates"] == 2  # the retweet and its original
    # a tweet that is context in one file and matched in another is matched
    original = json.loads(json.dumps(page))
    original["data"] = page["includes"]["tweets"]
    original_path = tmp_path / "generated_original.jsonl"
    original_path.write_text(json.dumps(original) + "\n", encoding="utf-8")
    result = run([older_path, original_path], keep_authors=True)
    role = result.posts.set_index("id").loc["1391677057810288641", "collection_role"]
    assert role == "matched"


def test_folder_reads_every_file_and_rejects_what_it_cannot(tmp_path):
    result = run([SAMPLES], keep_authors=True)
    formats = {Path(e["path"]).name: e["format"] for e in result.summary["inputs"]}
    assert formats["brexit.jsonl"] == "twarc2"
    assert formats["SOURCE.md"] is None or formats["SOURCE.md"] != "twarc2"
    files_with_rejects = {Path(r.file).name for r in result.rejects}
    assert {"counts.jsonl", "users.jsonl", "tweets_compliance.jsonl",
            "streaming_output_with_error.jsonl", "SOURCE.md", "LICENSE"} <= files_with_rejects
    assert not {"brexit.jsonl", "flat.jsonl", "noflat.jsonl"} & files_with_rejects
    # the summary counts by the short reason, not by each reason's details
    assert "cannot tell the format" in result.summary["rejects_by_reason"]
    assert not any("--format" in reason for reason in result.summary["rejects_by_reason"])


def test_twitter_v1_folder_and_pseudonyms():
    result = run([V1])
    posts = result.posts.set_index("id")
    assert posts.loc["552785374507175936", "depth"] == 1
    assert posts.loc["552785374507175936", "root_id"] == "552783667052167168"
    assert posts.loc["552785374507175936", "thread_id"] == "552783667052167168"
    # pseudonymized by default: raw ids are gone, the reply points at the source's author
    assert "25067168" not in set(posts["author_id"].dropna())
    assert posts.loc["552785374507175936", "reply_to_author_id"] == posts.loc[
        "552783667052167168", "author_id"]
    assert posts.loc["552783667052167168", "author_handle"] != "euronews"
    assert result.summary["pseudonymized"] is True
    raw = run([V1], keep_authors=True).posts.set_index("id")
    assert raw.loc["552783667052167168", "author_handle"] == "euronews"


def test_same_key_same_pseudonyms_across_runs():
    a = run([V1 / "552785374507175936.json"]).posts
    b = run([V1 / "552785374507175936.json", V1 / "552783667052167168.json"]).posts
    assert a["author_id"].iloc[0] == b.set_index("id").loc["552785374507175936", "author_id"]


def test_language_detection_fills_columns():
    result = ingest([V1 / "552783667052167168.json"], keep_authors=True)
    row = result.posts.iloc[0]
    assert row["lang_detected"] == "en"
    assert 0.5 < row["lang_confidence"] <= 1.0
    assert row["lang"] == "en"


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\x00\x01\x02\x89PNG\x00" * 100, "binary"),
    (b"just some words, not an export\n", "cannot tell the format"),
])
def test_bad_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "generated_bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        run([path])


def test_missing_file_and_unknown_format():
    with pytest.raises(UserError, match="no such file"):
        run([SAMPLES / "nope.jsonl"])
    with pytest.raises(UserError, match="unknown --format"):
        run([SAMPLES / "two_tweets.jsonl"], format="nope")


def test_wrong_format_is_refused():
    with pytest.raises(UserError, match="looks like twarc2"):
        run([SAMPLES / "two_tweets.jsonl"], format="twitter-v1")


def test_missing_loader_modules_are_skipped(monkeypatch):
    monkeypatch.setitem(REGISTRY, "broken", "module_that_does_not_exist")
    assert "broken" not in ingest_module.available_formats()
    result = run([SAMPLES / "two_tweets.jsonl"], keep_authors=True)
    assert result.summary["inputs"][0]["format"] == "twarc2"


def test_load_posts_warns_on_rejects():
    with pytest.warns(UserWarning, match="could not be read"):
        posts = load_posts([SAMPLES / "streaming_output_with_error.jsonl"], keep_authors=True,
                           detect_language=False)
    assert len(posts) > 7


def test_write_outputs_all_files_and_manifest(tmp_path):
    source = SAMPLES / "streaming_output_with_error.jsonl"
    result = run([source], keep_authors=True)
    out = tmp_path / "out" / "posts.parquet"
    written = write_outputs(result, out, [source])
    assert set(written) == {"posts", "rejects", "manifest"}
    back = schema.conform(io.read_table(out), schema.POSTS)
    assert len(back) == len(result.posts)
    assert back["created_at"].equals(result.posts["created_at"])
    rejects = [json.loads(line) for line in
               written["rejects"].read_text(encoding="utf-8").splitlines()]
    assert rejects[0]["line"] == 8 and rejects[0]["file"] == str(source)
    manifest = json.loads(written["manifest"].read_text(encoding="utf-8"))
    expected_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["inputs"][0]["sha256"] == expected_sha
    assert manifest["loader_version"]
    # a rerun without rejects removes the stale rejects file
    clean = run([SAMPLES / "two_tweets.jsonl"], keep_authors=True)
    written = write_outputs(clean, out, [SAMPLES / "two_tweets.jsonl"])
    assert "rejects" not in written and not (tmp_path / "out" / "posts.rejects.jsonl").exists()


def test_write_refuses_to_overwrite_input(tmp_path):
    source = tmp_path / "generated_input.parquet"
    source.write_bytes(b"PAR1")
    result = run([SAMPLES / "two_tweets.jsonl"], keep_authors=True)
    with pytest.raises(UserError, match="overwrite an input"):
        write_outputs(result, source, [source])


def test_cli_writes_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "posts.parquet"
    status = main(["ingest", str(SAMPLES / "streaming_output_with_error.jsonl"),
                   "--no-language", "-o", str(out)])
    assert status == 0
    err = capsys.readouterr().err
    assert "rows written" in err and "invalid JSON" in err and "twarc2 (detected)" in err
    assert out.exists() and (tmp_path / "posts.rejects.jsonl").exists()


def test_cli_strict_writes_nothing(tmp_path, capsys):
    out = tmp_path / "posts.parquet"
    status = main(["ingest", str(SAMPLES / "streaming_output_with_error.jsonl"),
                   "--no-language", "--strict", "-o", str(out)])
    assert status == 2
    assert "--strict" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["missing.jsonl"],
    ["--format", "twitter-v1", str(SAMPLES / "two_tweets.jsonl")],
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, args):
    status = main(["ingest", *args, "--no-language", "-o", str(tmp_path / "p.parquet")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_cli_refuses_input_as_output(tmp_path):
    copy = tmp_path / "generated.parquet"
    shutil.copy(SAMPLES / "two_tweets.jsonl", tmp_path / "two.jsonl")
    copy.write_bytes(b"PAR1")
    status = main(["ingest", str(tmp_path / "two.jsonl"), str(copy), "--format", "twarc2",
                   "--no-language", "-o", str(copy)])
    assert status == 2
    assert copy.read_bytes() == b"PAR1"


def test_cli_unknown_format_name_exits_2(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["ingest", str(SAMPLES / "two_tweets.jsonl"), "--format", "nope",
              "-o", str(tmp_path / "p.parquet")])
    assert info.value.code == 2


def test_field_map_parsing():
    from analysis.commands.ingest import parse_field_map

    assert parse_field_map("text=message, created_at=date") == {"text": "message",
                                                                "created_at": "date"}
    with pytest.raises(UserError):
        parse_field_map("text")
    # the same field twice would let the last column win and merge posts by the wrong id
    with pytest.raises(UserError, match="names the field 'id' twice"):
        parse_field_map("id=post_id,text=message,id=user")


def test_result_is_deterministic():
    a = run([SAMPLES / "brexit.jsonl"]).posts
    b = run([SAMPLES / "brexit.jsonl"]).posts
    pd.testing.assert_frame_equal(a, b)


def test_ingest_to_files_matches_ingest_and_write(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 50)  # several chunks and row groups
    inputs = [SAMPLES / "noflat.jsonl", SAMPLES / "flat.jsonl",
              SAMPLES / "streaming_output_with_error.jsonl"]
    in_memory = run(inputs)
    write_outputs(in_memory, tmp_path / "a" / "posts.parquet", inputs)
    streamed, written = ingest_to_files(inputs, tmp_path / "b" / "posts.parquet",
                                        detect_language=False)
    a = schema.conform(io.read_table(tmp_path / "a" / "posts.parquet"), schema.POSTS)
    b = schema.conform(io.read_table(written["posts"]), schema.POSTS)
    pd.testing.assert_frame_equal(a, b)
    assert streamed.summary["duplicates"] == in_memory.summary["duplicates"]
    assert (tmp_path / "b" / "posts.rejects.jsonl").read_text() == (
        tmp_path / "a" / "posts.rejects.jsonl").read_text()
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".")]


def test_ingest_to_files_strict_writes_nothing(tmp_path):
    result, written = ingest_to_files([SAMPLES / "streaming_output_with_error.jsonl"],
                                      tmp_path / "posts.parquet", detect_language=False,
                                      strict=True)
    assert written == {} and result.rejects
    assert list(tmp_path.iterdir()) == []


def test_mapped_csv_is_read_as_a_table(tmp_path):
    pytest.importorskip("analysis.loaders.table")
    path = tmp_path / "generated_posts.csv"
    path.write_text("post_id,message,date,parent\n"
                    "1,hello world this is a post,2020-09-30 21:00,\n"
                    "2,a reply to the post here,2020-09-30 22:00,1\n", encoding="utf-8")
    mapping = {"id": "post_id", "text": "message", "created_at": "date", "parent_id": "parent"}
    result = run([path], field_map=mapping, tz="Europe/Berlin", keep_authors=True)
    assert result.summary["inputs"][0]["format"] == "csv"
    posts = result.posts
    assert posts["depth"].tolist() == [0, 1]
    assert posts["created_at"].iloc[0] == pd.Timestamp("2020-09-30 19:00", tz="UTC")
    # without --tz the naive times are rejects, not guesses
    naive = run([path], field_map=mapping, keep_authors=True)
    assert len(naive.posts) == 0 and len(naive.rejects) == 2


def test_rumoureval_folder_is_read_whole_with_labels():
    pytest.importorskip("analysis.loaders.rumoureval")
    folder = DATA / "rumoureval" / "rumoureval-2019-training-data"
    result = run([folder], keep_authors=True)
    assert [e["format"] for e in result.summary["inputs"]] == ["rumoureval"]
    assert len(result.posts) > 0 and len(result.labels) > 0
    assert set(result.labels["labeler_type"]) == {"human"}
    assert result.posts["depth"].notna().any()


def test_many_small_files_share_chunks(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 7)
    tweet = json.loads((V1 / "552785374507175936.json").read_text(encoding="utf-8"))
    folder = tmp_path / "generated_tweets"
    folder.mkdir()
    for i in range(30):
        tweet["id_str"] = str(10**17 + i)
        (folder / f"{i:02d}.json").write_text(json.dumps(tweet), encoding="utf-8")
    result = run([folder], keep_authors=True)
    assert len(result.posts) == 30
    assert result.posts["source_line"].tolist() == [1] * 30
    assert [Path(f).name for f in result.posts["source_file"]] == [f"{i:02d}.json"
                                                                   for i in range(30)]
    assert all(e["rows"] == 1 for e in result.summary["inputs"])
    status = main(["ingest", str(folder), "--no-language", "-o", str(tmp_path / "p.parquet")])
    assert status == 0
    assert "30 files: twitter-v1 (detected), 30 rows, 0 rejects" in capsys.readouterr().err


def test_cli_refuses_output_under_data_raw_before_reading(capsys):
    target = config.DATA_RAW / "generated_should_not_exist.parquet"
    status = main(["ingest", str(SAMPLES / "two_tweets.jsonl"), "-o", str(target)])
    assert status == 2
    assert "data/raw" in capsys.readouterr().err
    assert not target.exists()


def test_truncated_gzip_keeps_complete_lines_and_rejects_the_rest(tmp_path):
    import gzip

    raw = (SAMPLES / "noflat.jsonl").read_bytes() + (SAMPLES / "brexit.jsonl").read_bytes()
    whole = gzip.compress(raw)
    path = tmp_path / "generated_truncated.jsonl.gz"
    path.write_bytes(whole[: int(len(whole) * 0.8)])
    result = run([path], format="twarc2", keep_authors=True)
    assert (result.posts["collection_role"] == "matched").sum() == 100  # the first page
    assert [r.reason.split(":")[0] for r in result.rejects] == [
        "truncated or corrupt compressed file"]
    assert result.rejects[0].line == 2


def _zst_frames(lines: list[bytes], per_frame: int) -> bytes:
    import zstandard

    compressor = zstandard.ZstdCompressor()
    return b"".join(compressor.compress(b"".join(lines[start:start + per_frame]))
                    for start in range(0, len(lines), per_frame))


def test_zst_in_frames_is_read_whole_and_a_cut_one_says_so(tmp_path):
    from analysis.loaders import zst

    lines = (SAMPLES / "flat.jsonl").read_bytes().splitlines(keepends=True)
    data = _zst_frames(lines, 50)
    whole = tmp_path / "generated_frames.jsonl.zst"
    whole.write_bytes(data)
    plain = tmp_path / "generated_plain.jsonl"
    plain.write_bytes(b"".join(lines))
    expected = run([plain], keep_authors=True).posts
    result = run([whole], keep_authors=True)
    assert result.rejects == []
    assert sorted(result.posts["uid"]) == sorted(expected["uid"])
    # cut inside the second frame: the first frame's lines stay, the rest is one reject
    cut = tmp_path / "generated_cut.jsonl.zst"
    first_frame = len(_zst_frames(lines[:50], 50))
    cut.write_bytes(data[: first_frame + 200])
    result = run([cut], keep_authors=True)
    assert [(r.line, r.reason) for r in result.rejects] == [(51, zst.TRUNCATED_REASON)]
    assert sorted(set(result.posts["source_line"])) == list(range(1, 51))


def test_zst_cut_file_read_whole_raises_instead_of_ending_early(tmp_path):
    from analysis.loaders.base import open_binary

    data = _zst_frames([b"x" * 1000 + b"\n"] * 4, 2)
    path = tmp_path / "generated_cut.json.zst"
    path.write_bytes(data[:-5])
    with open_binary(path) as handle, pytest.raises(EOFError, match="truncated .zst"):
        handle.read()
    path.write_bytes(data)
    with open_binary(path) as handle:
        assert handle.read() == (b"x" * 1000 + b"\n") * 4


@pytest.mark.parametrize("compress", [None, "gzip", "zst"])
def test_byte_order_mark_at_the_start_is_skipped(tmp_path, compress):
    raw = b"\xef\xbb\xbf" + (SAMPLES / "two_tweets.jsonl").read_bytes()
    path = tmp_path / "generated_bom.jsonl"
    if compress == "gzip":
        import gzip

        path = path.with_suffix(".jsonl.gz")
        raw = gzip.compress(raw)
    elif compress == "zst":
        path = path.with_suffix(".jsonl.zst")
        raw = _zst_frames([raw], 1)
    path.write_bytes(raw)
    result = run([path], keep_authors=True)  # format sniffed from the content
    assert result.summary["inputs"][0]["format"] == "twarc2"
    assert result.rejects == []
    expected = run([SAMPLES / "two_tweets.jsonl"], keep_authors=True).posts
    assert len(expected) >= 2
    pd.testing.assert_frame_equal(result.posts.drop(columns="source_file"),
                                  expected.drop(columns="source_file"))


def test_byte_order_mark_in_a_file_read_in_parts(tmp_path, monkeypatch):
    from analysis.loaders import parts

    lines = (SAMPLES / "flat.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "generated_bom_parts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(lines))
    whole = run([path], keep_authors=True, jobs=1).posts
    monkeypatch.setattr(parts, "PART_BYTES", 20_000)
    assert len(parts.plan_parts(path, "twarc2")) >= 2
    in_parts = run([path], keep_authors=True, jobs=1).posts
    assert 1 in set(whole["source_line"])
    pd.testing.assert_frame_equal(whole, in_parts)


def test_invalid_utf8_line_is_a_reject(tmp_path):
    lines = (SAMPLES / "streaming_output_with_error.jsonl").read_bytes().splitlines()[:3]
    lines[1] = lines[1].replace(b"Well done", b"Well \xff\xfe done")
    path = tmp_path / "generated_bad_utf8.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = run([path], keep_authors=True)
    assert [(r.line, r.reason) for r in result.rejects] == [(2, "invalid UTF-8")]
    assert sorted(result.posts.loc[result.posts["collection_role"] == "matched",
                                   "source_line"].tolist()) == [1, 3]


@pytest.mark.parametrize("case", ["truncated_gzip", "cut_json_line", "naive_times"])
def test_cli_input_with_every_record_rejected_writes_nothing(tmp_path, capsys, case):
    """Regression: when no record could be read, ingest wrote an empty posts table and exited 0,
    which looks like a successful run."""
    import gzip

    page = (SAMPLES / "brexit.jsonl").read_bytes()  # one twarc2 page on one line
    extra = []
    if case == "truncated_gzip":
        path = tmp_path / "generated_truncated.jsonl.gz"
        whole = gzip.compress(page)
        path.write_bytes(whole[: len(whole) // 2])
    elif case == "cut_json_line":
        path = tmp_path / "generated_cut.jsonl"
        path.write_bytes(page[: len(page) // 2])
    else:
        path = tmp_path / "generated_naive.csv"
        path.write_text("id,text,created_at\n1,hello,2020-09-30 10:00\n2,hi,2020-09-30 11:00\n")
        extra = ["--format", "csv"]
    out = tmp_path / "out" / "posts.parquet"
    status = main(["ingest", str(path), *extra, "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"error: {path}: no record could be read") and err.count("\n") == 1
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_cli_undecompressable_file_is_named_as_such(tmp_path, capsys):
    """Regression: random bytes named .gz were reported as an 'empty file'."""
    path = tmp_path / "generated_junk.jsonl.gz"
    path.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "posts.parquet"
    assert main(["ingest", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: cannot decompress") and err.count("\n") == 1
    assert not out.exists()


def test_zst_damaged_inside_read_whole_is_a_decompression_error(tmp_path):
    import random

    import zstandard

    from analysis.loaders.base import DECOMPRESSION_ERRORS, open_binary

    rng = random.Random(0)
    payload = "".join(f"{rng.random()} {rng.random()}\n" for _ in range(5000)).encode()
    data = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(payload))
    data[len(data) // 2] ^= 0xFF  # damage a block
    path = tmp_path / "generated_damaged.json.zst"
    path.write_bytes(bytes(data))
    with pytest.raises(DECOMPRESSION_ERRORS), open_binary(path) as handle:
        handle.read()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_folder_one_cannot_write_in_is_one_line_and_exit_2(capsys):
    status = main(["ingest", str(SAMPLES / "two_tweets.jsonl"), "--no-language", "-o",
                   "/proc/generated_out.parquet"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: /proc: cannot write") and err.count("\n") == 1


def test_python_api_refuses_option_values_of_the_wrong_kind():
    sample = SAMPLES / "two_tweets.jsonl"
    with pytest.raises(UserError, match="unknown time zone 5"):
        load_posts([sample], tz=5, detect_language=False)  # pandas read it as 5 seconds
    with pytest.raises(UserError, match="field_map must map"):
        load_posts([sample], field_map="id=post_id", detect_language=False)
    with pytest.raises(UserError, match="jobs must be"):
        load_posts([sample], jobs=0, detect_language=False)
    every_core = load_posts([sample], jobs=-1, detect_language=False, keep_authors=True)
    one = load_posts([sample], jobs=1, detect_language=False, keep_authors=True)
    pd.testing.assert_frame_equal(every_core, one)


def test_thread_id_for_formats_that_ignore_it_is_refused():
    with pytest.raises(UserError, match="--thread-id is read by the instaloader and "
                                        "youtube-comments formats only"):
        run([SAMPLES / "two_tweets.jsonl"], thread_id="123")


def test_a_file_given_twice_or_inside_a_folder_given_is_read_once(tmp_path):
    folder = tmp_path / "generated_inputs"
    folder.mkdir()
    shutil.copy(SAMPLES / "streaming_output_with_error.jsonl", folder / "stream.jsonl")
    once = run([folder / "stream.jsonl"], keep_authors=True)
    twice = run([folder / "stream.jsonl", folder, folder / "stream.jsonl"], keep_authors=True)
    assert twice.summary["rows_read"] == once.summary["rows_read"]
    assert twice.summary["duplicates"] == once.summary["duplicates"]
    assert len(twice.rejects) == len(once.rejects) == 1
    pd.testing.assert_frame_equal(twice.posts, once.posts)


@pytest.mark.parametrize("compress", [None, "gzip", "zst"])
def test_a_line_over_the_length_limit_is_one_reject_and_the_rest_is_read(tmp_path, monkeypatch,
                                                                         compress):
    # Found by a security review: a 3 MB .gz holding one 3 GiB line was read whole
    from analysis.loaders import base

    monkeypatch.setattr(base, "MAX_LINE_BYTES", 5_000)
    lines = (SAMPLES / "flat.jsonl").read_bytes().splitlines(keepends=True)
    small = [line for line in lines if len(line) < 5_000][:3]
    raw = small[0] + b"x" * 300_000 + b"\n" + small[1] + small[2]
    path = tmp_path / "generated_long_line.jsonl"
    if compress == "gzip":
        import gzip

        path, raw = path.with_suffix(".jsonl.gz"), gzip.compress(raw)
    elif compress == "zst":
        path, raw = path.with_suffix(".jsonl.zst"), _zst_frames([raw], 1)
    path.write_bytes(raw)
    items = list(base.iter_lines(path))
    rejects = [item for item in items if isinstance(item, base.Reject)]
    assert [(r.line, r.reason) for r in rejects] == [(2, base.LONG_LINE)]
    assert [n for n, _ in (i for i in items if not isinstance(i, base.Reject))] == [1, 3, 4]


def test_a_whole_document_that_expands_past_the_limit_is_not_read(tmp_path, monkeypatch):
    import gzip

    from analysis.loaders import base, reddit_api

    monkeypatch.setattr(base, "MAX_WHOLE_FILE_BYTES", 10_000)
    document = json.dumps({"kind": "Listing", "data": {"children": [
        {"kind": "t1", "data": {"id": f"c{i}", "body": "x" * 100, "created_utc": 1375869448}}
        for i in range(500)]}}, indent=1).encode()
    path = tmp_path / "generated_big.json.gz"
    path.write_bytes(gzip.compress(document))
    assert path.stat().st_size < 10_000 < len(document)
    assert base.read_whole(path) is None
    rows = list(reddit_api.read(path, base.LoadOptions()))
    assert [r.reason for r in rows if isinstance(r, base.Reject)][0].startswith(
        "JSON document too large")


def test_a_named_pipe_is_refused_before_it_is_read(tmp_path):
    fifo = tmp_path / "generated.fifo"
    os.mkfifo(fifo)  # never opened: reading it would wait for a writer forever
    with pytest.raises(UserError, match="not a regular file .*save it to a file first"):
        ingest_module.plan_inputs([fifo])


def _appended_to(function, path: Path):
    """``function``, which appends a line to ``path`` once it has run (a file still being
    written to while it is ingested)."""
    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        with open(path, "ab") as handle:
            handle.write(path.read_bytes().splitlines(keepends=True)[0])
        return result
    return wrapped


@pytest.mark.parametrize("while_", ["_read_inputs", "describe_input"])
def test_an_input_that_grows_while_it_is_read_is_an_error_and_nothing_is_written(
        tmp_path, monkeypatch, while_):
    source = tmp_path / "generated_growing.jsonl"
    shutil.copy(SAMPLES / "two_tweets.jsonl", source)
    function = getattr(ingest_module, while_)
    monkeypatch.setattr(ingest_module, while_, _appended_to(function, source))
    with pytest.raises(UserError, match="changed while it was read"):
        ingest_to_files([source], tmp_path / "out" / "posts.parquet", keep_authors=True,
                        detect_language=False)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_full_disk_while_spilling_is_a_user_error(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(ingest_module, "_read_inputs", full_disk)
    with pytest.raises(UserError, match=r"no room for the temporary files .*No space left"):
        ingest_to_files([SAMPLES / "two_tweets.jsonl"], tmp_path / "posts.parquet",
                        keep_authors=True, detect_language=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_output_inside_an_input_folder_is_not_taken_for_a_changed_input(tmp_path, jobs):
    # Regression (bug hunt): the run's own hidden spill files in the input folder looked like
    # input files that had grown, and every such run failed with "changed while it was read".
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(SAMPLES / "brexit.jsonl", exports / "brexit.jsonl")
    result, written = ingest_to_files([exports], exports / "out" / "posts.parquet",
                                      keep_authors=True, detect_language=False, jobs=jobs)
    assert written["posts"].is_file() and result.summary["rows_written"] > 0


# -- acceptance test findings: options a format ignores, --strict summary, warning location ---

@pytest.mark.parametrize(("option", "flag"), [
    ({"field_map": {"text": "message"}}, "--map"),
    ({"platform": "reddit"}, "--platform"),
    ({"tz": "Europe/Berlin"}, "--tz"),
])
@pytest.mark.parametrize("format_", ["auto", "twarc2"])
def test_options_a_recognised_format_ignores_are_refused(option, flag, format_):
    # D9 (and D6 for --tz): they were silently ignored, while --thread-id is refused so
    with pytest.raises(UserError, match=f"^{flag} is read by the .* formats only") as info:
        run([SAMPLES / "two_tweets.jsonl"], format=format_, **option)
    assert "twarc2" in str(info.value)


@pytest.mark.parametrize("args", [["--map", "text=message"], ["--platform", "reddit"],
                                  ["--tz", "UTC"]])
def test_cli_options_a_recognised_format_ignores_are_one_line_and_exit_2(tmp_path, capsys, args):
    out = tmp_path / "posts.parquet"
    status = main(["ingest", str(SAMPLES / "two_tweets.jsonl"), *args, "--no-language",
                   "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith(f"error: {args[0]} is read by") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_options_for_tables_are_accepted_when_some_input_is_a_table(tmp_path):
    table = tmp_path / "generated_posts.csv"
    table.write_text("post_id,message,date\n1,hello world this is a post,2020-09-30 21:00\n",
                     encoding="utf-8")
    result = run([table, SAMPLES / "two_tweets.jsonl"], tz="UTC", platform="reddit",
                 field_map={"id": "post_id", "text": "message", "created_at": "date"},
                 keep_authors=True)
    assert [e["format"] for e in result.summary["inputs"]] == ["csv", "twarc2"]
    assert "reddit:1" in set(result.posts["uid"])


def test_cli_strict_summary_does_not_claim_rows_were_written(tmp_path, capsys):
    # D8: the summary said "rows written: 11", then the error said "nothing written"
    out = tmp_path / "posts.parquet"
    status = main(["ingest", str(SAMPLES / "streaming_output_with_error.jsonl"),
                   "--no-language", "--strict", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert "rows written: 0 " in err and not re.search(r"rows written: [1-9]", err)
    assert err.rstrip().splitlines()[-1].startswith("error: 1 record(s) rejected (--strict)")
    assert "wrote" not in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("entry", ["analysis", "analysis.loaders", "analysis.loaders.ingest"])
def test_load_posts_warning_points_at_the_caller(entry):
    module = importlib.import_module(entry)
    with pytest.warns(UserWarning, match="could not be read") as caught:
        module.load_posts([SAMPLES / "streaming_output_with_error.jsonl"], keep_authors=True,
                          detect_language=False)
    assert [Path(w.filename) for w in caught] == [Path(__file__)]
