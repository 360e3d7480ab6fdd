"""analysis.loaders.reddit_api: Reddit API JSON documents (Listing, t1, t3, more).

Real documents come from tests/data/reddit_api/ (RumourEval 2019; expected ids and parents in its
README, read from the files by hand). Documents built in code are generated test data.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.loaders import reddit_api
from analysis.loaders.base import NESTED_TOO_DEEPLY, LoadOptions, Reject

DATA = Path(__file__).parent / "data" / "reddit_api"


def _read(path: Path):
    items = list(reddit_api.read(path, LoadOptions()))
    rows = [i for i in items if isinstance(i, dict)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(rows) + len(rejects) == len(items)
    return rows, rejects


def test_thread_raw_json_two_listings_with_nested_replies():
    rows, rejects = _read(DATA / "1jvbd8_raw.json")
    assert rejects == []
    assert [r["id"] for r in rows] == ["1jvbd8", "cbiol38", "cbiwlli", "cbj4pcw", "cbkixew"]
    parents = {r["id"]: r["parent_id"] for r in rows}
    assert parents == {"1jvbd8": None, "cbiol38": "1jvbd8", "cbiwlli": "cbiol38",
                       "cbj4pcw": "1jvbd8", "cbkixew": "1jvbd8"}
    assert {r["thread_id"] for r in rows} == {"1jvbd8"}
    assert [r["kind"] for r in rows] == ["post"] + ["comment"] * 4
    assert all(r["source_format"] == "reddit-api" and r["source_line"] == 1 for r in rows)
    assert {r["author_handle"] for r in rows} == {"Warpaintgirl", "Aederrex", "Thaliur", None}


def test_listing_wrapping_one_t3():
    rows, rejects = _read(DATA / "1jvbd8_listing_t3.json")
    assert rejects == [] and [(r["id"], r["kind"]) for r in rows] == [("1jvbd8", "post")]


def test_bare_t1_yields_itself_and_its_nested_reply():
    rows, rejects = _read(DATA / "cbiol38_t1_with_replies.json")
    assert rejects == []
    assert [(r["id"], r["parent_id"]) for r in rows] == [("cbiol38", "1jvbd8"),
                                                         ("cbiwlli", "cbiol38")]


def test_more_stub_is_a_reject_with_a_reason_not_a_crash():
    rows, rejects = _read(DATA / "dyy5v0c_more_stub.json")
    assert rows == []
    assert len(rejects) == 1
    assert rejects[0].reason == reddit_api.MORE_REASON
    assert '"dyy5v0c"' in rejects[0].snippet
    assert rejects[0].line == 1


def test_pretty_printed_document_and_json_lines_give_the_same_rows(tmp_path):
    document = json.loads((DATA / "1jvbd8_raw.json").read_text(encoding="utf-8"))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(document, indent=2), encoding="utf-8")
    lines = tmp_path / "things.jsonl.gz"
    with gzip.open(lines, "wt", encoding="utf-8") as handle:
        for name in ("1jvbd8_listing_t3.json", "cbiol38_t1_with_replies.json",
                     "dyy5v0c_more_stub.json"):
            handle.write((DATA / name).read_text(encoding="utf-8").strip() + "\n")
    rows, rejects = _read(pretty)
    assert [r["id"] for r in rows] == ["1jvbd8", "cbiol38", "cbiwlli", "cbj4pcw", "cbkixew"]
    assert rejects == []
    rows, rejects = _read(lines)
    assert [(r["id"], r["source_line"]) for r in rows] == [("1jvbd8", 1), ("cbiol38", 2),
                                                           ("cbiwlli", 2)]
    assert [(r.line, r.reason) for r in rejects] == [(3, reddit_api.MORE_REASON)]


def test_bad_lines_other_kinds_and_bad_things_become_rejects(tmp_path):
    # generated lines
    lines = [
        json.dumps({"kind": "t1", "data": {"id": "g1", "parent_id": "t3_s", "link_id": "t3_s",
                                           "created_utc": 1375869448, "body": "generated"}}),
        '{"kind": "t1", "data": {"id": "g2", "body": "cut sh',
        json.dumps({"kind": "t2", "data": {"id": "user"}}),
        json.dumps({"kind": "t1", "data": {"id": "g3", "body": "no time"}}),
        json.dumps({"kind": "Listing", "data": {"children": [42]}}),
        json.dumps({"kind": "t3", "data": {"id": "g4", "created_utc": "1375869448",
                                           "title": "generated"}}),
    ]
    path = tmp_path / "generated.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    rows, rejects = _read(path)
    assert [(r["id"], r["source_line"]) for r in rows] == [("g1", 1), ("g4", 6)]
    reasons = {r.line: r.reason for r in rejects}
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "Reddit t2 is not a comment or submission"
    assert reasons[4] == "missing created_utc: Reddit t1 g3"
    assert reasons[5] == "not a Reddit thing or Listing"
    assert reasons[7] == "invalid UTF-8"


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_file_is_one_reject(tmp_path, content):
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    rows, rejects = _read(path)
    assert rows == [] and [r.reason for r in rejects] == ["empty file"]


def test_broken_first_line_does_not_hide_the_good_lines(tmp_path):
    good = (DATA / "cbiol38_t1_with_replies.json").read_text(encoding="utf-8").strip()
    path = tmp_path / "things.jsonl"
    path.write_text(good[: len(good) // 3] + "\n" + good + "\n" + good + "\n", encoding="utf-8")
    rows, rejects = _read(path)
    assert [(r["id"], r["source_line"]) for r in rows] == [
        ("cbiol38", 2), ("cbiwlli", 2), ("cbiol38", 3), ("cbiwlli", 3)]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [(1, "invalid JSON")]


def test_truncated_document_is_a_reject(tmp_path):
    path = tmp_path / "cut.json"
    text = json.dumps(json.loads((DATA / "1jvbd8_raw.json").read_text()), indent=1)
    path.write_text(text[: len(text) // 2])
    rows, rejects = _read(path)
    assert rows == [] and len(rejects) == 1 and rejects[0].reason.startswith("invalid JSON")


def _generated_deep_thread(levels: int, indent: str = "") -> str:
    """A generated t3 Listing whose comment chain is ``levels`` replies deep, as JSON text
    (written by hand: json.dumps itself gives up on deep nesting)."""
    nl = "\n" if indent else ""
    opening, closing = [], []
    for depth in range(1, levels + 1):
        opening.append(f'{{"kind": "t1", "data": {{"id": "c{depth}", "body": "x", '
                       f'"created_utc": 1375869448, "link_id": "t3_s", "parent_id": "t3_s",{nl}'
                       f'{indent}"replies": ')
        closing.append("}}")
        if depth < levels:
            opening.append('{"kind": "Listing", "data": {"children": [')
            closing.append("]}}")
    comment = "".join(opening) + '""' + "".join(reversed(closing))
    submission = '{"kind": "t3", "data": {"id": "s", "title": "t", "created_utc": 1375869448}}'
    return f'{{{nl}"kind": "Listing", "data": {{"children": [{submission}, {comment}]}}}}'


@pytest.mark.parametrize("pretty", [False, True])
def test_a_thread_too_deep_for_the_json_parser_is_one_reject(tmp_path, pretty):
    path = tmp_path / "generated_deep.json"
    # 5,000 replies, 20,000 levels: too deep for the parser of every Python version (3.11
    # stops at about 1,000 levels, 3.13 reads a thread 1,500 replies deep)
    path.write_text(_generated_deep_thread(5000, " " if pretty else "") + "\n")
    rows, rejects = _read(path)
    assert rows == []
    assert [r.reason for r in rejects] == [NESTED_TOO_DEEPLY]
    assert "nested too deeply" in NESTED_TOO_DEEPLY
    shallow = tmp_path / "generated_shallow.json"
    shallow.write_text(_generated_deep_thread(50) + "\n")
    rows, rejects = _read(shallow)
    assert rejects == [] and len(rows) == 51


def test_sniff():
    for name in ("1jvbd8_raw.json", "1jvbd8_listing_t3.json", "cbiol38_t1_with_replies.json",
                 "dyy5v0c_more_stub.json"):
        path = DATA / name
        assert reddit_api.sniff(path, path.read_bytes()[:65536])
    pushshift_line = b'{"id": "c13", "body": "x", "parent_id": "t3_1", "created_utc": 1}\n'
    assert not reddit_api.sniff(Path("x.jsonl"), pushshift_line)
    assert not reddit_api.sniff(Path("x.csv"), b"kind,data\nt1,x\n")


def test_auto_detection_picks_reddit_api_for_every_fixture():
    from analysis.loaders.ingest import detect_format

    for path in sorted(DATA.glob("*.json")):
        assert detect_format(path) == "reddit-api", path.name


def test_ingest_end_to_end_builds_the_tree(tmp_path):
    from analysis.loaders.ingest import ingest

    result = ingest([DATA / "1jvbd8_raw.json", DATA / "dyy5v0c_more_stub.json"],
                    keep_authors=True, detect_language=False)
    posts = result.posts.set_index("id")
    assert sorted(posts.index) == ["1jvbd8", "cbiol38", "cbiwlli", "cbj4pcw", "cbkixew"]
    assert posts["depth"].to_dict() == {"cbiol38": 1, "cbiwlli": 2, "cbj4pcw": 1, "cbkixew": 1,
                                        "1jvbd8": 0}
    assert posts.loc["cbiwlli", "reply_to_author_id"] == "Aederrex"
    assert result.summary["rejects_by_reason"] == {"Reddit 'more' stub": 1}


_THING_LINES = [(DATA / name).read_text(encoding="utf-8").strip().encode()
                for name in ("1jvbd8_listing_t3.json", "cbiol38_t1_with_replies.json",
                             "dyy5v0c_more_stub.json")]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, len(_THING_LINES) - 1), st.floats(0, 1),
                                st.integers(0, 255), st.sampled_from(["keep", "cut", "byte"])),
                      min_size=1, max_size=6))
def test_every_line_of_mutated_real_things_gives_a_row_or_a_reject(tmp_path, picks):
    lines = []
    for index, where, value, how in picks:
        line = _THING_LINES[index]
        spot = min(int(len(line) * where), len(line) - 1)
        if how == "cut":
            line = line[:spot]
        elif how == "byte":
            line = line[:spot] + bytes([value]) + line[spot + 1:]
        lines.append(line)
    payload = b"\n".join(lines) + b"\n"
    path = tmp_path / "mutated.jsonl"
    path.write_bytes(payload)
    rows, rejects = _read(path)
    expected = {n for n, raw in enumerate(payload.split(b"\n")[:-1], start=1) if raw.strip()}
    seen = {r["source_line"] for r in rows} | {r.line for r in rejects}
    first = next((raw.strip() for raw in payload.split(b"\n") if raw.strip()), None)
    if first is None:
        assert [r.reason for r in rejects] == ["empty file"]
    elif first in (b"{", b"[", b"[{"):  # starts like a pretty-printed document: one reject
        assert rows == [] and len(rejects) == 1
    else:
        assert seen == expected
