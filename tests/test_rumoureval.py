"""analysis.loaders.rumoureval: RumourEval 2019 / PHEME folders and archives.

Expected values come from the fixture files (tests/data/rumoureval/README.md, read by hand) and
from data/raw/rumoureval2019/SOURCE.md (the whole archive); none is computed by the loader.
Threads built in code here are generated test data (``generated_*``).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import string
import tarfile
import warnings
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from analysis import config, schema
from analysis.loaders import rumoureval
from analysis.loaders.base import GoldLabel, LoadOptions, Reject

FIXTURE = Path(__file__).parent / "data" / "rumoureval" / "rumoureval-2019-training-data"
ARCHIVE = config.DATA_RAW / "rumoureval2019" / "rumoureval-2019-training-data.tar.gz"
#: Generated archives and folders here have no key files; the warning that says so is tested on
#: its own (pytest.warns sees it whatever this filter says).
pytestmark = pytest.mark.filterwarnings("ignore:.*no RumourEval key file:UserWarning")
TWITTER_SOURCE = "552783667052167168"


def _split(items):
    rows = [i for i in items if isinstance(i, dict)]
    rejects = [i for i in items if isinstance(i, Reject)]
    labels = [i for i in items if isinstance(i, GoldLabel)]
    assert len(rows) + len(rejects) + len(labels) == len(items)
    return rows, rejects, labels


def _read(path: Path):
    return _split(list(rumoureval.read(path, LoadOptions())))


@pytest.fixture(scope="module")
def fixture_items():
    return _read(FIXTURE)


# ---------------------------------------------------------------------------------------------
# the small real fixture


def test_fixture_posts_and_the_more_stub(fixture_items):
    rows, rejects, _ = fixture_items
    assert Counter(r["platform"] for r in rows) == {"twitter": 6, "reddit": 8}
    assert len(rejects) == 1
    assert "'more' stub" in rejects[0].reason
    assert rejects[0].file.endswith("8j9s33/replies/dyy5v0c.json")
    assert all(r["source_format"] == "rumoureval" for r in rows)
    assert all(Path(r["source_file"]).is_file() for r in rows)


def test_fixture_twitter_tree(fixture_items):
    rows, _, _ = fixture_items
    tweets = {r["id"]: r for r in rows if r["platform"] == "twitter"}
    assert {r["thread_id"] for r in tweets.values()} == {TWITTER_SOURCE}
    assert {r["root_id"] for r in tweets.values()} == {TWITTER_SOURCE}
    assert tweets[TWITTER_SOURCE]["parent_id"] is None
    assert tweets[TWITTER_SOURCE]["kind"] == "post"
    assert tweets["552789345628069888"]["parent_id"] == "552786226546495488"
    assert tweets["552786226546495488"]["parent_id"] == "552785374507175936"
    assert tweets["552943855021330432"]["parent_id"] == TWITTER_SOURCE
    assert tweets[TWITTER_SOURCE]["author_handle"] == "euronews"
    assert tweets[TWITTER_SOURCE]["created_at"] == pd.Timestamp("2015-01-07 11:07:51", tz="UTC")


def test_fixture_reddit_tree_uses_only_the_files_not_nested_replies(fixture_items):
    rows, _, _ = fixture_items
    posts = {r["id"]: r for r in rows if r["platform"] == "reddit"}
    assert set(posts) == {"1jvbd8", "cbiol38", "cbiwlli", "cbj4pcw", "cbkixew",
                          "8j9s33", "dyy3zip", "dyy50sq"}
    assert posts["cbiwlli"]["parent_id"] == "cbiol38"
    assert posts["cbiwlli"]["thread_id"] == "1jvbd8"
    assert posts["dyy50sq"]["parent_id"] == "dyy3zip"
    assert posts["dyy3zip"]["parent_id"] == "8j9s33"
    assert posts["1jvbd8"]["kind"] == "post" and posts["cbiol38"]["kind"] == "comment"
    assert posts["cbj4pcw"]["author_id"] is None  # [deleted]
    assert posts["dyy50sq"]["text"] == "link?"


def test_fixture_gold_labels(fixture_items):
    _, _, labels = fixture_items
    got = {(g.task, g.uid): (g.label, g.split) for g in labels}
    assert {g.labeler_id for g in labels} == {"rumoureval2019"}
    assert got[("sdqc", "twitter:552786226546495488")] == ("deny", "train")
    assert got[("sdqc", "reddit:dyy50sq")] == ("query", "dev")
    assert got[("sdqc", "reddit:dyy5v0c")] == ("comment", "dev")  # the stub keeps its label
    assert got[("veracity", f"twitter:{TWITTER_SOURCE}")] == ("true", "train")
    assert got[("veracity", "reddit:1jvbd8")] == ("false", "dev")
    assert got[("event", f"twitter:{TWITTER_SOURCE}")] == ("charliehebdo", "train")
    assert got[("event", "reddit:1jvbd8")] == ("reddit", "dev")
    assert got[("event", "reddit:8j9s33")] == ("reddit", "dev")
    assert Counter((g.task, g.split) for g in labels) == {
        ("sdqc", "train"): 4, ("sdqc", "dev"): 9, ("veracity", "train"): 1,
        ("veracity", "dev"): 2, ("event", "train"): 1, ("event", "dev"): 2}


def test_fixture_structure_nodes_without_files_are_tolerated():
    collection = rumoureval.collect(FIXTURE)
    threads = {folder[-1]: thread for folder, thread in collection.threads.items()}
    assert threads[TWITTER_SOURCE].missing_nodes() == ["552789153403109376", "552790281276628992"]
    assert "dyy5v0c" not in threads["8j9s33"].missing_nodes()  # a stub is not missing


def test_rows_conform_to_the_posts_schema(fixture_items):
    rows, _, _ = fixture_items
    table = schema.conform(pd.DataFrame(rows), schema.POSTS)
    assert table["uid"].is_unique
    assert table["created_at"].notna().all()


def _pack_tar(tmp_path: Path, name: str = "fixture.tar.gz") -> Path:
    target = tmp_path / name
    with tarfile.open(target, "w:gz" if name.endswith(".gz") else "w") as archive:
        archive.add(FIXTURE, arcname=FIXTURE.name)
    return target


def test_tar_and_zip_give_the_same_rows_and_labels_as_the_folder(tmp_path, fixture_items):
    rows, rejects, labels = fixture_items
    zipped = tmp_path / "fixture.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for file in sorted(FIXTURE.rglob("*")):
            archive.write(file, str(file.relative_to(FIXTURE.parent)))
    for packed in (_pack_tar(tmp_path), zipped):
        got_rows, got_rejects, got_labels = _read(packed)
        assert sorted(r["uid"] for r in got_rows) == sorted(r["uid"] for r in rows)
        assert {r["uid"]: r["parent_id"] for r in got_rows} == {
            r["uid"]: r["parent_id"] for r in rows}
        assert sorted(got_labels, key=repr) == sorted(labels, key=repr)
        assert len(got_rejects) == len(rejects) == 1
        assert got_rows[0]["source_file"].startswith(f"{packed}!{FIXTURE.name}/")


def test_one_thread_folder_takes_the_key_files_of_the_dataset_root():
    rows, rejects, labels = _read(FIXTURE / "reddit-dev-data" / "1jvbd8")
    assert len(rows) == 5 and rejects == []
    # README: 1jvbd8 deny; cbiol38, cbiwlli, cbj4pcw, cbkixew comment; veracity false (dev)
    assert {(g.task, g.uid): (g.label, g.split) for g in labels} == {
        ("sdqc", "reddit:1jvbd8"): ("deny", "dev"), ("sdqc", "reddit:cbiol38"): ("comment", "dev"),
        ("sdqc", "reddit:cbiwlli"): ("comment", "dev"),
        ("sdqc", "reddit:cbj4pcw"): ("comment", "dev"),
        ("sdqc", "reddit:cbkixew"): ("comment", "dev"),
        ("veracity", "reddit:1jvbd8"): ("false", "dev"),
        ("event", "reddit:1jvbd8"): ("reddit", "dev")}


@pytest.mark.parametrize("part", ["twitter-english", "twitter-english/charliehebdo",
                                  "reddit-dev-data", "reddit-dev-data/8j9s33"])
def test_a_part_of_the_dataset_gets_the_labels_of_its_posts(part, fixture_items):
    rows, rejects, labels = _read(FIXTURE / part)
    read = {r["uid"] for r in rows} | {"reddit:" + Path(r.file).stem for r in rejects
                                       if "'more' stub" in r.reason}
    whole = [g for g in fixture_items[2] if g.uid in read]
    assert sorted(labels, key=repr) == sorted(whole, key=repr)
    assert {g.task for g in labels} == {"sdqc", "veracity", "event"}
    # README: the Twitter thread is train, the Reddit threads dev; the stub dyy5v0c keeps its label
    assert {g.split for g in labels} == {"train" if part.startswith("twitter") else "dev"}
    if part.endswith("8j9s33"):
        assert ("sdqc", "reddit:dyy5v0c", "comment") in {(g.task, g.uid, g.label)
                                                         for g in labels}


def test_a_rumoureval_folder_without_key_files_warns(tmp_path):
    import shutil

    copy = tmp_path / "charliehebdo"
    shutil.copytree(FIXTURE / "twitter-english" / "charliehebdo", copy)
    with pytest.warns(UserWarning, match="no RumourEval key file .* no sdqc or veracity"):
        rows, _, labels = _read(copy)
    assert len(rows) == 6 and {g.task for g in labels} == {"event"}


def test_sniff_folder_archive_and_not_other_files(tmp_path):
    packed = _pack_tar(tmp_path, "fixture.tar")
    head = packed.read_bytes()[:65536]
    assert rumoureval.sniff(FIXTURE, b"")
    assert rumoureval.sniff(FIXTURE / "twitter-english", b"")
    assert rumoureval.sniff(packed, head)
    assert not rumoureval.sniff(tmp_path, b"")
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "1", "structure.json": 1}\n')
    assert not rumoureval.sniff(other, other.read_bytes())


# ---------------------------------------------------------------------------------------------
# generated threads: unsafe archives, broken files, missing parents


def generated_tweet(tweet_id: str, reply_to: str | None = None) -> dict:
    return {"id_str": tweet_id, "created_at": "Wed Jan 07 11:07:51 +0000 2015",
            "text": f"generated tweet {tweet_id}", "in_reply_to_status_id_str": reply_to,
            "user": {"id_str": "7", "screen_name": "generated"}}


def _add(archive: tarfile.TarFile, name: str, payload: bytes, **attributes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    for key, value in attributes.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(payload))


def test_malicious_tar_members_are_refused_and_nothing_is_written(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    packed = work / "evil.tar.gz"
    good = json.dumps(generated_tweet("1")).encode()
    with tarfile.open(packed, "w:gz") as archive:
        _add(archive, "ok/event/1/source-tweet/1.json", good)
        _add(archive, "ok/event/1/structure.json", b'{"1": {"2": [], "3": []}}')
        _add(archive, "../escape/source-tweet/9.json", good)
        _add(archive, "/abs/source-tweet/8.json", good)
        _add(archive, "ok/event/1/replies/2.json", b"", type=tarfile.SYMTYPE,
             linkname="/etc/passwd")
        _add(archive, "ok/event/1/replies/3.json", b"", type=tarfile.LNKTYPE,
             linkname="../../../outside.json")
    before = sorted(tmp_path.rglob("*"))
    rows, rejects, _ = _read(packed)
    assert [r["id"] for r in rows] == ["1"]
    reasons = sorted(r.reason for r in rejects)
    assert len(reasons) == 4
    assert all(reason.startswith("unsafe archive member refused") for reason in reasons)
    assert any("'..'" in reason for reason in reasons)
    assert any("absolute" in reason for reason in reasons)
    assert sum("link" in reason for reason in reasons) == 2
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert not (tmp_path / "escape").exists()


def test_a_long_name_header_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    # Found by a security review: tarfile reads a GNU long-name or pax header's data whole, so a
    # 3 MB .tar.gz claiming a 3 GiB long name filled the memory. Here the limit is lowered.
    monkeypatch.setattr(rumoureval, "MAX_HEADER_BYTES", 1000)
    packed = tmp_path / "generated_long_name.tar.gz"
    good = json.dumps(generated_tweet("1")).encode()
    with tarfile.open(packed, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        _add(archive, "ok/event/1/source-tweet/1.json", good)
        _add(archive, "ok/event/1/structure.json", b'{"1": {}}')
        _add(archive, "ok/event/1/replies/" + "x" * 3000 + ".json", good)
    rows, rejects, _ = _read(packed)
    assert [r["id"] for r in rows] == ["1"]
    assert len(rejects) == 1 and "header of" in rejects[0].reason


def test_an_archive_past_the_total_limit_stops_with_one_reject(tmp_path, monkeypatch):
    # Found by a security review: twenty 60 MB structure files, each under the per-member
    # limit, filled the memory. Here the total limit is lowered.
    good = json.dumps(generated_tweet("1")).encode()
    monkeypatch.setattr(rumoureval, "MAX_TOTAL_BYTES", len(good) * 3)
    packed = tmp_path / "generated_many.tar.gz"
    with tarfile.open(packed, "w:gz") as archive:
        for thread in range(10):
            _add(archive, f"ok/event/{thread}/source-tweet/{thread}.json", good)
    items = list(rumoureval._walk(packed))
    rejects = [item for item in items if isinstance(item, Reject)]
    assert len(items) == 4 and len(rejects) == 1 and "MiB of posts" in rejects[0].reason


def test_unsafe_zip_members_and_folder_links_are_refused(tmp_path):
    good = json.dumps(generated_tweet("1")).encode()
    packed = tmp_path / "evil.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("ok/e/1/source-tweet/1.json", good)
        archive.writestr("../escape/source-tweet/9.json", good)
        archive.writestr("/abs/source-tweet/8.json", good)
        link = zipfile.ZipInfo("ok/e/1/replies/2.json")
        link.external_attr = 0o120777 << 16  # a symbolic link
        archive.writestr(link, "/etc/passwd")
    rows, rejects, _ = _read(packed)
    assert [r["id"] for r in rows] == ["1"]
    assert len(rejects) == 3
    assert all(r.reason.startswith("unsafe archive member refused") for r in rejects)

    outside = tmp_path / "outside.json"
    outside.write_bytes(json.dumps(generated_tweet("7")).encode())
    thread = tmp_path / "folder" / "e" / "1"
    (thread / "source-tweet").mkdir(parents=True)
    (thread / "replies").mkdir()
    (thread / "source-tweet" / "1.json").write_bytes(good)
    (thread / "replies" / "7.json").symlink_to(outside)
    rows, rejects, _ = _read(tmp_path / "folder")
    assert [r["id"] for r in rows] == ["1"]
    assert [r.reason for r in rejects] == ["unsafe link refused: it points outside the folder"]


def _three_thread_tar(tmp_path: Path) -> Path:
    """A generated tar of three one-tweet threads (one 512-byte header + one block each)."""
    packed = tmp_path / "threads.tar"
    with tarfile.open(packed, "w") as archive:
        for index in range(1, 4):
            _add(archive, f"e/{index}/source-tweet/{index}.json",
                 json.dumps(generated_tweet(str(index))).encode())
    return packed


def test_truncated_archive_keeps_the_posts_before_the_cut(tmp_path):
    data = _three_thread_tar(tmp_path).read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: 512 * 5 + 100])  # two members whole, the third's header cut
    rows, rejects, _ = _read(cut)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert len(rejects) == 1 and "truncated or corrupt" in rejects[0].reason


def test_damaged_member_header_in_the_middle_is_reported(tmp_path):
    data = bytearray(_three_thread_tar(tmp_path).read_bytes())
    data[1024 + 148:1024 + 156] = b"9999999\0"  # checksum field of the second member's header
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(data))
    rows, rejects, _ = _read(damaged)
    assert [r["id"] for r in rows] == ["1"]  # tarfile alone would stop here without a word
    assert [r.reason for r in rejects] == [
        "corrupt archive: a damaged member header ends the readable part; the rest is missing"]


@pytest.mark.parametrize("name", ["fixture.tgz", "fixture.tar.zst", "fixture.tar.xz"])
def test_compression_is_told_by_content_not_name(tmp_path, name):
    import lzma

    import zstandard

    plain = _pack_tar(tmp_path, "plain.tar").read_bytes()
    if name.endswith(".tgz"):
        import gzip

        data = gzip.compress(plain)
    elif name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(plain)
    else:
        data = lzma.compress(plain)
    (tmp_path / name).write_bytes(data)
    rows, rejects, labels = _read(tmp_path / name)
    assert len(rows) == 14 and len(rejects) == 1 and len(labels) == 4 + 9 + 3 + 3
    from analysis.loaders.ingest import detect_format

    assert detect_format(tmp_path / name) == "rumoureval"


def test_bad_post_files_become_rejects(tmp_path):
    thread = tmp_path / "generated" / "event" / "10"
    (thread / "source-tweet").mkdir(parents=True)
    (thread / "replies").mkdir()
    (thread / "source-tweet" / "10.json").write_text(json.dumps(generated_tweet("10")))
    (thread / "replies" / "11.json").write_text('{"id_str": "11", "text": "cut sho')
    (thread / "replies" / "12.json").write_bytes(b'{"text": "\xff\xfe"}')
    (thread / "replies" / "13.json").write_text('{"id_str": "13", "text": "no time"}')
    (thread / "replies" / "14.json").write_text('[1, 2]')
    (thread / "structure.json").write_text('{"10": {"11": [], "12": [], "13": [], "14": []}}')
    rows, rejects, _ = _read(tmp_path / "generated")
    assert [r["id"] for r in rows] == ["10"]
    by_file = {Path(r.file).name: r.reason for r in rejects}
    assert by_file["11.json"].startswith("invalid JSON")
    assert by_file["12.json"] == "invalid UTF-8"
    assert "created_at" in by_file["13.json"]
    assert by_file["14.json"] == "neither a tweet nor a Reddit thing"


def test_parent_from_structure_when_the_post_names_none_even_if_missing(tmp_path):
    thread = tmp_path / "generated" / "event" / "20"
    (thread / "source-tweet").mkdir(parents=True)
    (thread / "replies").mkdir()
    (thread / "source-tweet" / "20.json").write_text(json.dumps(generated_tweet("20")))
    # 22 answers 21, which has no file; 22's own record names no parent.
    (thread / "replies" / "22.json").write_text(json.dumps(generated_tweet("22")))
    (thread / "replies" / "23.json").write_text(json.dumps(generated_tweet("23", "20")))
    (thread / "structure.json").write_text('{"20": {"21": {"22": []}, "23": []}}')
    rows, rejects, labels = _read(tmp_path / "generated")
    parents = {r["id"]: r["parent_id"] for r in rows}
    assert parents == {"20": None, "22": "21", "23": "20"}
    assert rejects == []
    assert [(g.task, g.uid, g.label) for g in labels] == [("event", "twitter:20", "event")]


def test_pheme_layout_source_tweets_reactions_and_grouping_folder(tmp_path):
    thread = tmp_path / "pheme" / "germanwings-crash-all-rnr-threads" / "rumours" / "30"
    (thread / "source-tweets").mkdir(parents=True)
    (thread / "reactions").mkdir()
    (thread / "source-tweets" / "30.json").write_text(json.dumps(generated_tweet("30")))
    (thread / "reactions" / "31.json").write_text(json.dumps(generated_tweet("31", "30")))
    (thread / "structure.json").write_text('{"30": {"31": []}}')
    assert rumoureval.sniff(tmp_path / "pheme", b"")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PHEME comes without key files: nothing to warn about
        rows, rejects, labels = _read(tmp_path / "pheme")
    assert [(r["id"], r["parent_id"], r["thread_id"]) for r in rows] == [
        ("31", "30", "30"), ("30", None, "30")]
    assert rejects == []
    assert [(g.task, g.uid, g.label, g.labeler_id) for g in labels] == [
        ("event", "twitter:30", "germanwings-crash-all-rnr-threads", "rumoureval2019")]


# ---------------------------------------------------------------------------------------------
# the whole bundled archive, read once; numbers from data/raw/rumoureval2019/SOURCE.md


@pytest.fixture(scope="module")
def archive_items():
    if not ARCHIVE.is_file():
        pytest.skip(f"{ARCHIVE} is not there")
    return _read(ARCHIVE)


def test_archive_sdqc_labels_match_source_md(archive_items):
    _, _, labels = archive_items
    sdqc = Counter((g.split, g.uid.split(":")[0]) for g in labels if g.task == "sdqc")
    assert sdqc == {("train", "twitter"): 4519, ("train", "reddit"): 698,
                    ("dev", "twitter"): 1049, ("dev", "reddit"): 436}
    train = Counter(g.label for g in labels if g.task == "sdqc" and g.split == "train")
    assert train == {"support": 925, "deny": 378, "query": 395, "comment": 3519}
    dev = Counter(g.label for g in labels if g.task == "sdqc" and g.split == "dev")
    assert dev == {"support": 102, "deny": 82, "query": 120, "comment": 1181}


def test_archive_veracity_and_event_labels_match_source_md(archive_items):
    _, _, labels = archive_items
    veracity = Counter((g.split, g.label) for g in labels if g.task == "veracity")
    assert veracity == {("train", "true"): 144, ("train", "false"): 79,
                        ("train", "unverified"): 104, ("dev", "true"): 10,
                        ("dev", "false"): 19, ("dev", "unverified"): 9}
    events = Counter(g.label for g in labels if g.task == "event")
    assert events["reddit"] == 30 + 10
    assert sum(events.values()) == 325 + 30 + 10
    assert set(events) - {"reddit"} == {"charliehebdo", "ebola-essien", "ferguson",
                                        "germanwings-crash", "illary", "ottawashooting",
                                        "prince-toronto", "putinmissing", "sydneysiege"}


def test_archive_posts_stubs_and_replies_match_source_md(archive_items):
    rows, rejects, labels = archive_items
    stubs = [r for r in rejects if "'more' stub" in r.reason]
    assert len(rejects) == len(stubs)
    assert Counter("reddit-dev-data" in r.file for r in stubs) == {False: 12, True: 7}
    # Twitter: 325 threads with 5,243 replies; Reddit: 668 + 426 reply files, 19 of them stubs.
    kinds = Counter((r["platform"], r["kind"]) for r in rows)
    assert kinds == {("twitter", "post"): 325, ("twitter", "reply"): 5243,
                     ("reddit", "post"): 40, ("reddit", "comment"): 668 + 426 - 19}
    # "Every id in the key files has a post file": a row, or a stub reject.
    uids = {r["uid"] for r in rows}
    stub_uids = {"reddit:" + Path(r.file).stem for r in stubs}
    sdqc = {g.uid for g in labels if g.task == "sdqc"}
    assert sdqc == uids | stub_uids
    assert len(uids) == len(rows)


def test_archive_time_spans_match_source_md(archive_items):
    rows, _, _ = archive_items
    table = pd.DataFrame(rows)
    replies = table[table["kind"] != "post"]

    def span(mask):
        days = replies.loc[mask, "created_at"].dt.strftime("%Y-%m-%d")
        return days.min(), days.max()

    in_dev = replies["source_file"].str.contains("reddit-dev-data")
    is_reddit = replies["platform"] == "reddit"
    assert span(~is_reddit) == ("2014-08-10", "2016-11-24")
    assert span(is_reddit & ~in_dev)[1] == "2018-07-13"
    assert span(is_reddit & in_dev)[1] == "2018-07-31"
    sources = table[(table["kind"] == "post") & (table["platform"] == "reddit")]
    assert sources["created_at"].min().strftime("%Y-%m-%d") >= "2009-01-12"


def test_an_event_folder_of_the_extracted_archive_gets_its_sdqc_and_veracity_labels(
        tmp_path, archive_items):
    """Regression: ingesting twitter-english/charliehebdo gave its 78 event labels only."""
    root = "rumoureval-2019-training-data"
    event = f"{root}/twitter-english/charliehebdo/"
    with tarfile.open(ARCHIVE) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and (
            m.name.startswith(event) or m.name in (f"{root}/train-key.json",
                                                   f"{root}/dev-key.json"))]
        archive.extractall(tmp_path, members=members, filter="data")
    rows, _, labels = _read(tmp_path / event)
    read = {r["uid"] for r in rows}
    whole = [g for g in archive_items[2] if g.uid in read]
    assert sorted(labels, key=repr) == sorted(whole, key=repr)
    # the whole archive's labels of these posts (counted from the full read by the hunter)
    assert Counter(g.task for g in labels) == {"sdqc": 1164, "veracity": 78, "event": 78}
    assert {g.split for g in labels} == {"train", "dev"}


def test_archive_structure_nodes_without_files_are_at_most_the_source_md_count():
    if not ARCHIVE.is_file():
        pytest.skip(f"{ARCHIVE} is not there")
    collection = rumoureval.collect(ARCHIVE)
    missing = sum(len(thread.missing_nodes()) for thread in collection.threads.values())
    # SOURCE.md: 352 nodes without a post file across the training and the (held back) test
    # archive; this one is the training archive.
    assert 0 < missing <= 352
    assert len(collection.threads) == 325 + 30 + 10


# ---------------------------------------------------------------------------------------------
# end to end through analysis.loaders.ingest


def test_ingest_detects_the_archive_and_builds_trees_and_labels(tmp_path):
    from analysis.loaders.ingest import ingest

    packed = _pack_tar(tmp_path)
    result = ingest([packed], keep_authors=True, detect_language=False)
    assert result.summary["inputs"][0]["format"] == "rumoureval"
    posts = result.posts.set_index("id")
    assert len(posts) == 14
    assert len(result.rejects) == 1 and "'more' stub" in result.rejects[0].reason
    # depth from the reply chain 552783667052167168 <- ...75936 <- ...46495488 <- ...28069888
    assert posts.loc["552789345628069888", "depth"] == 3
    assert posts.loc[TWITTER_SOURCE, "depth"] == 0
    assert posts.loc["dyy50sq", "depth"] == 2
    assert posts.loc["1jvbd8", "author_is_op"]
    assert posts.loc["cbiwlli", "reply_to_author_id"] == "Aederrex"
    labels = result.labels
    assert len(labels) == 4 + 9 + 3 + 3  # sdqc train + dev, veracity, event
    assert set(labels["labeler_type"]) == {"human"}
    deny = labels[(labels["uid"] == "twitter:552786226546495488") & (labels["task"] == "sdqc")]
    assert list(deny["label"]) == ["deny"] and list(deny["split"]) == ["train"]


def test_ingest_of_an_event_folder_has_its_gold_labels():
    from analysis.loaders.ingest import ingest

    result = ingest([FIXTURE / "twitter-english" / "charliehebdo"], detect_language=False)
    assert len(result.posts) == 6
    # README: sdqc 4 train, veracity 552783667052167168 true (train), event charliehebdo
    assert result.labels.groupby(["task", "split"]).size().to_dict() == {
        ("event", "train"): 1, ("sdqc", "train"): 4, ("veracity", "train"): 1}
    assert result.labels.loc[result.labels["task"] == "veracity", "label"].tolist() == ["true"]


def test_the_manifest_lists_the_key_files_read_from_above_an_event_folder(tmp_path):
    from analysis.io import sha256_file
    from analysis.loaders.ingest import ingest_to_files

    _, written = ingest_to_files([FIXTURE / "twitter-english" / "charliehebdo"],
                                 tmp_path / "posts.parquet", detect_language=False,
                                 keep_authors=True)
    manifest = json.loads(written["manifest"].read_text(encoding="utf-8"))
    keys = sorted(p for p in FIXTURE.iterdir() if p.name.endswith("-key.json"))
    assert keys
    assert [(Path(c["path"]).name, c["sha256"]) for c in manifest["companion_files"]] == [
        (p.name, sha256_file(p)) for p in keys]
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["charliehebdo"]


def _many_thread_tar_gz(tmp_path: Path) -> tuple[bytes, list[tuple[str, int]]]:
    """A generated .tar.gz of 80 one-tweet threads whose texts are random letters (so that the
    compressed bytes grow with the members), and each member's tweet id and the end of its data
    in the uncompressed tar."""
    rng = random.Random(7)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for index in range(1, 81):
            tweet = generated_tweet(str(index))
            tweet["text"] = "".join(rng.choice(string.ascii_letters) for _ in range(3000))
            _add(archive, f"e/{index}/source-tweet/{index}.json", json.dumps(tweet).encode())
    raw.seek(0)
    with tarfile.open(fileobj=raw, mode="r") as archive:
        ends = [(m.name.split("/")[1], m.offset_data + m.size) for m in archive.getmembers()]
    return gzip.compress(raw.getvalue(), mtime=0), ends


@pytest.mark.parametrize("fraction", [0.3, 0.55, 0.8])
def test_a_cut_tar_gz_keeps_every_member_whole_before_the_cut(tmp_path, fraction):
    # Found by an acceptance test: a complete member just before the cut of a truncated
    # RumourEval .tar.gz was neither a row nor a reject (tarfile reads ahead in blocks, and the
    # decompressor's error at the cut took the bytes read with it).
    packed, ends = _many_thread_tar_gz(tmp_path)
    cut = tmp_path / "generated_cut.tar.gz"
    cut.write_bytes(packed[: int(len(packed) * fraction)])
    readable = len(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut.read_bytes()))
    whole = [tweet_id for tweet_id, end in ends if end <= readable]
    rows, rejects, _ = _read(cut)
    assert [r["id"] for r in rows] == whole
    assert rejects and all("truncated" in r.reason for r in rejects)


def test_files_next_to_a_rumoureval_dataset_in_a_folder_are_read_not_dropped(tmp_path):
    # Found by an acceptance test: a folder holding a RumourEval dataset and a Pushshift file
    # was read as RumourEval alone; the Pushshift rows were neither rows nor rejects.
    from analysis.loaders.ingest import ingest

    folder = tmp_path / "mix"
    shutil.copytree(config.PROJECT_ROOT / "tests/data/rumoureval/rumoureval-2019-training-data",
                    folder / "rumoureval-2019-training-data")
    for structure in (folder / "rumoureval-2019-training-data").rglob("structure.json"):
        (structure.parent / "urls.dat").write_text("generated\n", encoding="utf-8")  # as the
        (structure.parent / "raw.json").write_text("{}", encoding="utf-8")  # real dataset has
    (folder / "generated_comments.jsonl").write_text(json.dumps(
        {"id": "s1", "title": "t", "selftext": "x", "author": "a", "created_utc": 1134365188,
         "subreddit": "x", "score": 3, "num_comments": 1}) + "\n", encoding="utf-8")
    alone = ingest([folder / "rumoureval-2019-training-data"], keep_authors=True,
                   detect_language=False)
    both = ingest([folder], keep_authors=True, detect_language=False)
    assert "reddit:s1" in set(both.posts["uid"])
    assert len(both.posts) == len(alone.posts) + 1
    assert len(both.rejects) == len(alone.rejects)  # raw.json and urls.dat stay unread, quietly


def test_pheme_published_layout_four_levels_down_is_found(tmp_path):
    """PHEME's rumour-scheme folder holds threads at threads/en/<event>/<thread>/, one level
    deeper than the sniffer looked: each file was read alone, or refused with --format."""
    thread = FIXTURE / "twitter-english" / "charliehebdo" / "552783667052167168"
    copy = tmp_path / "generated_pheme" / "threads" / "en" / "charliehebdo" / thread.name
    shutil.copytree(thread, copy)
    top = tmp_path / "generated_pheme"
    assert rumoureval.sniff(top, b"")
    from analysis.loaders.ingest import ingest

    result = ingest(top, detect_language=False)
    assert result.summary["inputs"][0]["format"] == "rumoureval"
    assert (result.posts["thread_id"] == thread.name).all() and len(result.posts) > 1


def test_a_linked_folder_inside_is_a_reject_not_skipped(tmp_path):
    """A thread folder linked in (a symlink) was skipped without a word."""
    copy = tmp_path / "generated_copy"
    shutil.copytree(FIXTURE, copy)
    outside = tmp_path / "generated_outside"
    shutil.move(copy / "reddit-dev-data" / "1jvbd8", outside)
    (copy / "reddit-dev-data" / "1jvbd8").symlink_to(outside, target_is_directory=True)
    rejects = [r for r in rumoureval.read(copy, LoadOptions()) if isinstance(r, Reject)]
    linked = [r for r in rejects if r.file.endswith("1jvbd8")]
    assert len(linked) == 1 and linked[0].reason.startswith("linked folder not followed")
