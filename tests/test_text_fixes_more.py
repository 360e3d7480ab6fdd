"""More text fixes in the loaders (see tests/test_text_fixes.py for the first ones).

1. A ``row does not fit the posts table`` reject (and a ``record has no id`` reject) has the
   record as its snippet, as docs/schema.md says, not the record's text.
2. Pushshift lines with a lone UTF-16 surrogate warn, as the other JSON-lines loaders do.
3. RumourEval files, Reddit API documents read whole and instaloader metadata files with a lone
   surrogate keep their post, with U+FFFD and one warning per file.
4. A large file read in parts by worker processes gives the warnings of a read in this process.

Data are real samples from tests/data changed here, or generated here (``generated_*``).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from analysis.commands import main
from analysis.loaders import instaloader, parts, pushshift
from analysis.loaders.base import LoadOptions, Reject
from analysis.loaders.chunks import Collector, MemorySink, new_entry, typed_chunk
from analysis.loaders.ingest import ingest

DATA = Path(__file__).parent / "data"
RUMOUREVAL = DATA / "rumoureval" / "rumoureval-2019-training-data"
BROKEN = r"1 text\(s\) held a broken character \(a lone UTF-16 surrogate\), replaced by U\+FFFD"
SMALL_PART = 20_000


def rows_of(records) -> list[dict]:
    items = list(records)
    assert [i for i in items if isinstance(i, Reject)] == []
    return [i for i in items if isinstance(i, dict)]


# --- 1. the snippet of a reject made while typing rows is the record --------------------------

def generated_row(number: int, **fields) -> dict:
    return {"uid": f"other:{number}", "platform": "other", "id": str(number), "kind": "post",
            **fields, "created_at": pd.Timestamp("2020-10-01", tz="UTC"),
            "source_file": "generated.jsonl", "source_line": number}


def test_row_that_does_not_fit_has_the_record_as_snippet():
    good = generated_row(1, text="fine")
    bad = generated_row(2, like_count="many", text="x" * 500)
    rejects: list[Reject] = []
    frame, failed = typed_chunk([good, bad], rejects)
    assert list(frame["uid"]) == ["other:1"] and failed == [1]
    [reject] = rejects
    assert reject.reason.startswith("row does not fit the posts table:")
    assert reject.line == 2
    assert reject.snippet.startswith('{"uid": "other:2", "platform": "other", "id": "2", '
                                     '"kind": "post", "like_count": "many", "text": "xxx')
    assert len(reject.snippet) == 200  # cut as every snippet is


def test_record_without_id_has_the_record_as_snippet():
    collector = Collector(MemorySink(), detect_language=False)
    entry = new_entry(Path("generated.jsonl"), "jsonl", False)
    generated_record = {"platform": "other", "text": None, "source_line": 3}
    collector.add([generated_record], entry, Path("generated.jsonl"), "jsonl")
    [reject] = collector.rejects
    assert reject.reason == "record has no id"
    assert reject.snippet == '{"platform": "other", "text": null, "source_line": 3}'
    assert entry["rejects"] == 1 and entry["rows"] == 0


# --- 2. Pushshift warns of lone surrogates -----------------------------------------------------

def _real_comment() -> dict:
    """The real comment cbiol38 (tests/data/reddit_api) as a Pushshift record."""
    thing = json.loads((DATA / "reddit_api" / "cbiol38_t1_with_replies.json")
                       .read_text(encoding="utf-8"))
    data = dict(thing["data"])
    data.pop("replies")
    return data


def test_pushshift_line_with_a_lone_surrogate_warns(tmp_path):
    comment = _real_comment()
    cut = {**comment, "id": "cut1", "body": comment["body"][:20] + "\ud83d"}
    source = tmp_path / "generated_from_real_comments.ndjson"
    source.write_text(json.dumps(comment) + "\n" + json.dumps(cut) + "\n", encoding="ascii")
    assert "\\ud83d" in source.read_text(encoding="ascii")
    with pytest.warns(UserWarning, match=BROKEN):
        rows = rows_of(pushshift.read(source, LoadOptions()))
    assert [r["id"] for r in rows] == [comment["id"], "cut1"]
    assert rows[1]["text"] == comment["body"][:20] + "\ufffd"


# --- 3. files parsed whole keep a post with a lone surrogate -----------------------------------

def _only_more_stub(rejects: list[Reject]) -> bool:
    return [r.reason.split(":")[0] for r in rejects] == [
        "Reddit 'more' stub"]


def test_rumoureval_post_with_a_lone_surrogate_is_kept(tmp_path):
    folder = tmp_path / "rumoureval-2019-training-data"
    shutil.copytree(RUMOUREVAL, folder)
    reply = (folder / "twitter-english" / "charliehebdo" / "552783667052167168" / "replies"
             / "552785374507175936.json")
    raw = reply.read_bytes()
    assert raw.count(b"be nuking Israel") == 1
    reply.write_bytes(raw.replace(b"be nuking Israel", b"be nuking \\ud83d"))
    with pytest.warns(UserWarning, match=BROKEN) as caught:
        result = ingest([folder], "rumoureval", detect_language=False, keep_authors=True)
    assert _only_more_stub(result.rejects)
    text = result.posts.set_index("id").loc["552785374507175936", "text"]
    assert text.endswith("be nuking \ufffd")
    broken = [str(w.message) for w in caught if "broken character" in str(w.message)]
    assert broken == [f"{folder}: 1 text(s) held a broken character (a lone UTF-16 surrogate), "
                      "replaced by U+FFFD"]


def test_reddit_api_document_read_whole_with_a_lone_surrogate_is_kept(tmp_path):
    thing = json.loads((DATA / "reddit_api" / "cbiol38_t1_with_replies.json")
                       .read_text(encoding="utf-8"))
    thing["data"]["body"] = "cut \ud83d"
    source = tmp_path / "generated_from_real_t1.json"
    source.write_text(json.dumps(thing, indent=2), encoding="ascii")  # pretty: read whole
    with pytest.warns(UserWarning, match=BROKEN):
        result = ingest([source], "reddit-api", detect_language=False, keep_authors=True)
    assert result.rejects == []
    texts = result.posts.set_index("id")["text"]
    assert texts["cbiol38"] == "cut \ufffd"
    assert len(texts) == 2  # the nested reply cbiwlli too


def generated_metadata(caption: str) -> dict:
    """instaloader's post metadata file (``<prefix>.json``), as in tests/test_instaloader.py."""
    return {"node": {"__typename": "GraphImage", "shortcode": "CF1abcDEF",
                     "taken_at_timestamp": 1601500000, "owner": {"id": "202"},
                     "edge_media_to_caption": {"edges": [{"node": {"text": caption}}]}},
            "instaloader": {"version": "4.10", "node_type": "Post"}}


@pytest.mark.parametrize("with_comments", [False, True])
def test_instaloader_metadata_with_a_lone_surrogate_keeps_the_post(tmp_path, with_comments):
    metadata = tmp_path / "2020-09-30_21-05-12_UTC.json"
    metadata.write_text(json.dumps(generated_metadata("our loss \ud83d")), encoding="ascii")
    source = metadata
    if with_comments:  # the metadata is read next to the comments file
        source = tmp_path / "2020-09-30_21-05-12_UTC_comments.json"
        source.write_text(json.dumps([{"id": 5, "created_at": 1601500600, "text": "so sorry",
                                       "owner": {"id": "9"}, "likes_count": 1}]),
                          encoding="ascii")
    with pytest.warns(UserWarning, match=BROKEN) as caught:
        result = ingest([source], "instaloader", detect_language=False, keep_authors=True)
    assert result.rejects == []
    assert result.posts.set_index("id").loc["CF1abcDEF", "text"] == "our loss \ufffd"
    assert [str(w.message).split(":")[0] for w in caught
            if "broken character" in str(w.message)] == [str(metadata)]


def test_instaloader_companion_files_do_not_warn(tmp_path, recwarn):
    metadata = tmp_path / "2020-09-30_21-05-12_UTC.json"
    metadata.write_text(json.dumps(generated_metadata("our loss \ud83d")), encoding="ascii")
    comments = tmp_path / "2020-09-30_21-05-12_UTC_comments.json"
    comments.write_text("[]", encoding="ascii")
    assert instaloader.companion_files(comments) == [metadata]
    assert len(recwarn) == 0  # only the read that keeps the post warns


# --- 4. warnings of parts read by worker processes ---------------------------------------------

def generated_twarc2_file(folder: Path) -> Path:
    """About 200 kB of twarc2 pages (many parts of :data:`SMALL_PART`): a page with two texts cut
    mid-emoji early on, one with one text cut later."""
    lines = []
    for number in range(2000):
        text = f"generated tweet number {number} about nothing in particular"
        if number == 300:
            text = "two cut \ud83d"
        tweets = [{"id": str(10**6 + number), "created_at": "2020-10-01T00:00:00Z",
                   "author_id": str(number % 7), "text": text}]
        if number == 300:
            tweets.append({**tweets[0], "id": "1", "text": "and \udc95 this"})
        if number == 1500:
            tweets[0]["text"] = "one cut \ud83d"
        lines.append(json.dumps({"data": tweets}))
    path = folder / "generated_big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _cli_run(path: Path, out: Path, jobs: int, capfd) -> tuple[pd.DataFrame, list[str]]:
    status = main(["ingest", str(path), "--format", "twarc2", "--no-language", "--keep-authors",
                   "--quiet", "--jobs", str(jobs), "-o", str(out)])
    assert status == 0
    err = capfd.readouterr().err
    return pd.read_parquet(out), err.splitlines()


def test_workers_pass_their_warnings_back_in_input_order(tmp_path, monkeypatch, capfd):
    path = generated_twarc2_file(tmp_path)
    monkeypatch.setattr(parts, "PART_BYTES", SMALL_PART)
    assert len(parts.plan_parts(path, "twarc2")) >= 8
    one = _cli_run(path, tmp_path / "one.parquet", 1, capfd)
    two = _cli_run(path, tmp_path / "two.parquet", 2, capfd)
    # one warning for the file with the count of all its parts, as a serial read gives (the
    # review hunt found one per part, and Python's filter dropped parts with equal counts)
    expected = [f"warning: {path}: 3 text(s) held a broken character (a lone UTF-16 "
                "surrogate), replaced by U+FFFD"]
    assert one[1] == expected
    assert two[1] == expected
    pd.testing.assert_frame_equal(two[0], one[0])
    texts = Counter(one[0]["text"])
    assert texts["two cut \ufffd"] == texts["and \ufffd this"] == texts["one cut \ufffd"] == 1


def generated_pushshift_file(folder: Path) -> Path:
    """Generated Pushshift comments over many parts; every 400th has a score that is no count."""
    lines = []
    for number in range(2000):
        score = "lots" if number % 400 == 7 else number % 9
        lines.append(json.dumps({"id": f"c{number}", "body": f"generated comment {number}",
                                 "created_utc": 1_134_000_000 + number, "link_id": "t3_post",
                                 "parent_id": "t3_post", "subreddit": "generated",
                                 "author": f"user{number % 50}", "score": score}))
    path = folder / "generated_comments.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_read_in_parts_warns_once_about_unreadable_counts(tmp_path, monkeypatch, capfd,
                                                                  jobs):
    path = generated_pushshift_file(tmp_path)
    serial = main(["ingest", str(path), "--format", "pushshift", "--no-language", "--quiet",
                   "-o", str(tmp_path / "serial.parquet")])
    serial_err = capfd.readouterr().err.splitlines()
    monkeypatch.setattr(parts, "PART_BYTES", SMALL_PART)
    assert len(parts.plan_parts(path, "pushshift")) >= 8
    status = main(["ingest", str(path), "--format", "pushshift", "--no-language", "--quiet",
                   "--jobs", str(jobs), "-o", str(tmp_path / "parts.parquet")])
    err = capfd.readouterr().err.splitlines()
    assert serial == status == 0
    warned = [line for line in err if "count value(s) could not be read" in line]
    assert warned == [f"warning: {path}: 5 count value(s) could not be read (score 5, e.g. "
                      "'lots'); those fields are null, the records kept. A count is a whole "
                      "number of 0 or more (a score may be below 0) up to 2**63 - 1, written "
                      "as 1234, 1,234, 3.0, 1.2K or 3M"]
    assert err == serial_err
    table = pd.read_parquet(tmp_path / "parts.parquet")
    assert len(table) == 2000 and table["score"].isna().sum() == 5


def test_a_file_whose_loader_stops_in_a_later_part_still_warns_about_earlier_counts(
        tmp_path, monkeypatch, capfd):
    path = generated_pushshift_file(tmp_path)
    monkeypatch.setattr(parts, "PART_BYTES", SMALL_PART)
    real = pushshift.row_from_thing

    def failing(data, *args, **kwargs):
        if data.get("id") == "c1500":
            raise RuntimeError("generated failure")
        return real(data, *args, **kwargs)

    monkeypatch.setattr(pushshift, "row_from_thing", failing)
    status = main(["ingest", str(path), "--format", "pushshift", "--no-language", "--quiet",
                   "--jobs", "1", "-o", str(tmp_path / "parts.parquet")])
    err = capfd.readouterr().err
    assert status == 0
    rejects = (tmp_path / "parts.rejects.jsonl").read_text(encoding="utf-8")
    assert "loader pushshift stopped: RuntimeError: generated failure" in rejects
    # the unreadable scores of the parts read before the one that stopped (lines 8, 408, ...)
    warned = [line for line in err.splitlines() if "count value(s) could not be read" in line]
    assert len(warned) == 1 and "(score " in warned[0]
