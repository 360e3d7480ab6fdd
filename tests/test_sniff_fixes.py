"""Format detection (``--format auto``) of tables that the table loader reads: semicolon and tab
separated CSV, CR-only line ends, and a pretty-printed JSON array of records.

Before the fix, :func:`analysis.loaders.table.sniff` split the header on commas only (tabs only
for ``.tsv``) and broke lines on ``\\n`` only, and read a JSON file's first line as one JSON
value, so each of these files was "cannot tell the format" although ``--format csv`` /
``--format jsonl`` read it. All fixtures are generated here (names start with ``generated_``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.commands import main
from analysis.loaders import ingest as ingest_module
from analysis.loaders import table
from analysis.loaders.ingest import detect_format, ingest, plan_inputs

ROWS = [("1", "2020-10-01T10:00:00Z", "hello, world; again"),
        ("2", "2020-10-01T11:00:00Z", "second")]


def _delimited(rows, delimiter: str, line_end: str = "\n",
               header=("id", "created_at", "text")) -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(
        f'"{v}"' if delimiter in v or "," in v or ";" in v else v for v in row) for row in rows]
    return (line_end.join(lines) + line_end).encode("utf-8")


def _semicolon(path: Path) -> Path:
    """As Excel writes CSV in European locales (with its byte order mark and CRLF)."""
    path.write_bytes(b"\xef\xbb\xbf" + _delimited(ROWS, ";", "\r\n"))
    return path


def _tab_txt(path: Path) -> Path:
    path.write_bytes(_delimited(ROWS, "\t"))
    return path


def _cr_only(path: Path) -> Path:
    """As old Mac Excel writes CSV: lines ended by a lone CR."""
    path.write_bytes(_delimited(ROWS, ",", "\r"))
    return path


def _json_array(path: Path) -> Path:
    """As ``DataFrame.to_json(orient="records", indent=2)`` writes it."""
    frame = pd.DataFrame(ROWS, columns=["id", "created_at", "text"])
    frame.to_json(path, orient="records", indent=2)
    return path


CASES = {
    "semicolon": ("generated_semicolon.csv", _semicolon, "csv"),
    "tab_txt": ("generated_tabs.txt", _tab_txt, "csv"),
    "cr_only": ("generated_mac.csv", _cr_only, "csv"),
    "json_array": ("generated_records.json", _json_array, "jsonl"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_table_sniff_accepts_tables_the_reader_reads(tmp_path, case):
    name, make, _ = CASES[case]
    path = make(tmp_path / name)
    assert table.sniff(path, path.read_bytes())


@pytest.mark.parametrize("case", list(CASES))
def test_auto_detection_picks_the_table_format(tmp_path, case):
    name, make, expected = CASES[case]
    path = make(tmp_path / name)
    assert detect_format(path) == expected
    (entry,) = plan_inputs([path])
    assert (entry.format, entry.detected, entry.problem) == (expected, True, None)


def _posts(output: Path) -> pd.DataFrame:
    return pd.read_parquet(output).sort_values("id").reset_index(drop=True)


@pytest.mark.parametrize("case", list(CASES))
def test_ingest_with_auto_gives_the_rows_of_the_named_format(tmp_path, capsys, case):
    name, make, named = CASES[case]
    path = make(tmp_path / name)
    auto, given = tmp_path / "auto.parquet", tmp_path / "given.parquet"
    common = ["--keep-authors", "--no-language"]
    assert main(["ingest", str(path), "-o", str(auto), *common]) == 0
    said = capsys.readouterr().err
    assert f"{path}: {named} (detected), 2 rows, 0 rejects" in said
    assert main(["ingest", str(path), "-o", str(given), "--format", named, *common]) == 0
    capsys.readouterr()
    detected, read = _posts(auto), _posts(given)
    assert list(detected["id"]) == ["1", "2"]
    assert list(detected["text"]) == [r[2] for r in ROWS]
    pd.testing.assert_frame_equal(detected, read)


def test_the_summary_names_csv_as_for_a_comma_csv(tmp_path, capsys):
    comma = tmp_path / "generated_comma.csv"
    comma.write_bytes(_delimited(ROWS, ","))
    semicolon = _semicolon(tmp_path / "generated_semicolon.csv")
    for path in (comma, semicolon):
        assert main(["ingest", str(path), "-o", str(tmp_path / f"{path.stem}.parquet"),
                     "--keep-authors", "--no-language"]) == 0
        assert f"  {path}: csv (detected), 2 rows, 0 rejects" in capsys.readouterr().err


def test_folder_run_reads_each_table_instead_of_rejecting_it(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, make, _ in CASES.values():
        make(folder / name)
    plan = plan_inputs([folder])
    assert {(e.path.name, e.format, e.problem) for e in plan} == {
        (name, expected, None) for name, _, expected in CASES.values()}


@pytest.mark.parametrize("content", [
    b"Hello, id and created_at are here; but this is prose, not a table.\n",
    b"id; created_at, text and so on\n",
    b"We met on Tuesday; then, late, we left\rand wrote nothing down\r",
])
@pytest.mark.parametrize("name", ["generated_notes.txt", "generated_notes.csv"])
def test_a_line_of_prose_is_still_refused(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    assert not table.sniff(path, content)
    assert detect_format(path) is None
    (entry,) = plan_inputs([tmp_path])
    assert entry.problem is not None and entry.problem.startswith("cannot tell the format")


@pytest.mark.parametrize("header", [("id", "created_at", "message"), ("post_id", "date", "text")])
@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_headers_outside_the_posts_schema_still_need_a_format_and_map(tmp_path, header,
                                                                      delimiter):
    path = tmp_path / "generated_other.csv"
    path.write_bytes(_delimited(ROWS, delimiter, header=header))
    assert detect_format(path) is None


def test_json_array_whose_records_are_not_posts_is_not_a_table(tmp_path):
    path = tmp_path / "generated_other.json"
    path.write_text(json.dumps([{"id": 1, "created_at": "2020", "body": "x"}], indent=2))
    assert not table.sniff(path, path.read_bytes())
    assert detect_format(path) is None


def test_json_array_cut_inside_its_first_record_is_not_sniffed(tmp_path):
    path = tmp_path / "generated_cut.json"
    head = b'[\n  {\n    "id": "1",\n    "created_at": "2020-10-01T10:00:00Z",\n    "te'
    assert not table.sniff(path, head)
    assert table.sniff(path, head.replace(b',\n    "te', b"}, {"))


def test_cr_only_delimiter_is_guessed_from_the_header_line_only(tmp_path):
    """Before, the first "line" of a CR-only file was the whole file: commas in the texts
    outnumbered the header's semicolons and the file was split on commas."""
    path = tmp_path / "generated_mac_semicolon.csv"
    rows = [("1", "2020-10-01T10:00:00Z", "a, b, c, d, e, f")]
    path.write_bytes(b"id;created_at;text\r1;2020-10-01T10:00:00Z;a, b, c, d, e, f\r")
    assert table.guess_delimiter(path) == ";"
    assert table.guess_delimiter(path, path.read_bytes()) == ";"
    read = [item for item in table.read(path, table.LoadOptions()) if isinstance(item, dict)]
    assert [(r["id"], r["text"]) for r in read] == [(rows[0][0], rows[0][2])]


def _twarc_csv_header() -> bytes:
    columns = ["id", "conversation_id", "referenced_tweets.replied_to.id", "author_id",
               "created_at", "text", "public_metrics.like_count", "author.username"]
    return (",".join(columns) + "\n").encode()


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("generated_4cat.csv",
     b"id,thread_id,author,body,timestamp,subject\n1,1,ann,hi,2020-10-01 10:00:00,\n",
     "4cat-csv"),
    ("generated_twarc.csv",
     _twarc_csv_header() + b"1,1,,9,2020-10-01T10:00:00.000Z,hi,0,ann\n", "twarc-csv"),
    ("generated_v1.json",
     json.dumps([{"id": 1, "id_str": "1", "created_at": "Thu Oct 01 10:00:00 +0000 2020",
                  "text": "hi", "user": {"id_str": "9", "screen_name": "ann"}}],
                indent=2).encode(),
     "twitter-v1"),
    ("generated_listing.json",
     json.dumps([{"kind": "Listing", "data": {"children": [
         {"kind": "t3", "data": {"id": "a", "created_utc": 1601546400, "title": "t",
                                 "selftext": "", "subreddit": "x", "author": "ann"}}]}}],
                indent=2).encode(),
     "reddit-api"),
])
def test_other_formats_sniffers_still_win(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == expected


def test_a_4cat_export_saved_again_with_semicolons_is_detected_as_4cat(tmp_path, capsys):
    rows = [("id", "thread_id", "author", "body", "timestamp", "likes"),
            ("p1", "p1", "ann", "a post; with a semicolon", "2020-10-01 10:00:00", "3"),
            ("c1", "p1", "bob", "so sorry, really", "2020-10-01 11:00:00", "1")]
    comma = tmp_path / "generated_4cat.csv"
    semi = tmp_path / "generated_4cat_semicolons.csv"
    with comma.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with semi.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    tables = []
    for path in (comma, semi):
        out = tmp_path / f"{path.stem}.parquet"
        assert main(["ingest", str(path), "--keep-authors", "--no-language",
                     "-o", str(out)]) == 0
        assert f"{path}: 4cat-csv (detected)" in capsys.readouterr().err
        tables.append(pd.read_parquet(out).drop(columns=["source_file"]))
    pd.testing.assert_frame_equal(tables[0], tables[1])


# --- record marks before JSON lines (RFC 7464 record separators, byte order marks) --------------

V1 = Path(__file__).parent / "data" / "twitter_v1"
TWARC2 = Path(__file__).parent / "data" / "twarc2_samples" / "two_tweets.jsonl"
REDDIT_T1 = Path(__file__).parent / "data" / "reddit_api" / "cbiol38_t1_with_replies.json"
RS, BOM = b"\x1e", b"\xef\xbb\xbf"


def _generated_json_lines(format_name: str) -> list[bytes]:
    """One file's JSON lines of ``format_name``: generated records, or the fixtures' records
    written one per line."""
    if format_name == "twarc2":
        return TWARC2.read_bytes().splitlines()
    if format_name == "twitter-v1":
        return [json.dumps(json.loads(p.read_text("utf-8"))).encode()
                for p in sorted(V1.glob("*.json"))]
    if format_name == "reddit-api":
        return [json.dumps(json.loads(REDDIT_T1.read_text("utf-8"))).encode()]
    records = {
        "pushshift": [{"id": "c1", "body": "generated", "subreddit": "test",
                       "parent_id": "t3_s0", "link_id": "t3_s0", "created_utc": 1569888142}],
        "youtube-comments": [{"cid": "UgzAAA", "text": "generated", "time": "2 years ago",
                              "author": "@ann", "channel": "UCann", "votes": "3",
                              "replies": "", "heart": False, "reply": False,
                              "time_parsed": 1601500000.0}],
        "zeeschuimer": [{"nav_index": "1:1:0", "item_id": "71",
                         "timestamp_collected": 1690000000000,
                         "source_platform": "tiktok-comments",
                         "source_platform_url": "https://www.tiktok.com/x",
                         "source_url": "https://www.tiktok.com/api/x", "user_agent": "M",
                         "data": {"cid": "71", "aweme_id": "7000000000000000001",
                                  "reply_id": "0", "reply_to_reply_id": "0",
                                  "text": "generated", "create_time": 1601500060,
                                  "digg_count": 5, "user": {"uid": "u71", "unique_id": "h71"}}}],
        "jsonl": [{"id": "1", "created_at": "2020-10-01T10:00:00Z", "text": "generated"}],
    }[format_name]
    return [json.dumps(record).encode() for record in records]


MARKED = {
    # RFC 7464 JSON text sequence: 0x1e before every record
    "record_separators": lambda lines: b"".join(RS + line + b"\n" for line in lines),
    "bom_then_separators": lambda lines: BOM + b"".join(RS + line + b"\n" for line in lines),
    "two_byte_order_marks": lambda lines: BOM + BOM + b"".join(line + b"\n" for line in lines),
}
JSON_LINES_FORMATS = ["twarc2", "twitter-v1", "zeeschuimer", "pushshift", "reddit-api",
                      "youtube-comments", "jsonl"]


@pytest.mark.parametrize("marks", list(MARKED))
@pytest.mark.parametrize("format_name", JSON_LINES_FORMATS)
def test_json_lines_after_record_marks_are_detected_and_read_as_without(tmp_path, format_name,
                                                                        marks):
    # the readers drop these marks (base.without_line_marks); --format auto said "cannot tell
    # the format" (a single byte order mark at the start was already skipped)
    lines = _generated_json_lines(format_name)
    plain = tmp_path / "generated_plain.jsonl"
    plain.write_bytes(b"".join(line + b"\n" for line in lines))
    marked = tmp_path / f"generated_{marks}.jsonl"
    marked.write_bytes(MARKED[marks](lines))
    assert detect_format(plain) == format_name
    assert detect_format(marked) == format_name
    (entry,) = plan_inputs([marked])
    assert (entry.format, entry.problem) == (format_name, None)
    options = {"thread_id": "dQw4w9WgXcQ"} if format_name == "youtube-comments" else {}
    results = [ingest([path], keep_authors=True, detect_language=False, **options)
               for path in (plain, marked)]
    assert [r.rejects for r in results] == [[], []]
    assert len(results[0].posts) >= 1
    pd.testing.assert_frame_equal(results[1].posts.drop(columns="source_file"),
                                  results[0].posts.drop(columns="source_file"))


def test_record_separators_before_a_table_without_a_suffix_are_read_as_json_lines(tmp_path):
    # the table reader tells JSON lines from CSV by the first bytes of a file without a suffix,
    # past the marks as the sniffers see them (before: not detected; with --format csv, one
    # record read as a CSV header)
    path = tmp_path / "generated_export"
    records = [{"id": "1", "created_at": "2020-10-01T10:00:00Z"},
               {"id": "2", "created_at": "2020-10-02T10:00:00Z"}]
    path.write_bytes(b"".join(RS + json.dumps(r).encode() + b"\n" for r in records))
    assert detect_format(path) == "jsonl"
    posts = ingest([path], keep_authors=True, detect_language=False).posts
    assert posts["id"].tolist() == ["1", "2"]


# --- a first record larger than the head that sniffers see (ingest.HEAD_BYTES) -------------------

def _big_v1_array(indent: int | None) -> bytes:
    """Two real tweets as a JSON array, the first with 200 KiB of generated url entities, which
    come before its id_str and created_at (the key order of the RumourEval files)."""
    first, second = (json.loads((V1 / f"{i}.json").read_text("utf-8"))
                     for i in ("552783667052167168", "552785374507175936"))
    url = {"url": "https://t.co/x", "expanded_url": "https://example.org/" + "a" * 100,
           "indices": [0, 1]}
    first["entities"]["urls"] = [url] * 1500
    raw = json.dumps([first, second], indent=indent).encode()
    assert raw.index(b'"id_str"') > ingest_module.HEAD_BYTES
    return raw


def _big_table_array() -> bytes:
    records = [{"id": "1", "created_at": "2020-10-01T10:00:00Z", "text": "x" * 200_000},
               {"id": "2", "created_at": "2020-10-01T11:00:00Z", "text": "y"}]
    return json.dumps(records, indent=2).encode()


def _big_table_lines() -> bytes:
    records = [{"id": "1", "created_at": "2020-10-01T10:00:00Z", "text": "x" * 200_000},
               {"id": "2", "created_at": "2020-10-01T11:00:00Z", "text": "y"}]
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


BIG_FIRST_RECORD = {
    "v1_pretty_array": ("generated_v1_page.json", lambda: _big_v1_array(2), "twitter-v1"),
    "v1_one_line_array": ("generated_v1_page.json", lambda: _big_v1_array(None), "twitter-v1"),
    "table_array": ("generated_records.json", _big_table_array, "jsonl"),
    "table_lines": ("generated_records.jsonl", _big_table_lines, "jsonl"),
}


@pytest.mark.parametrize("case", list(BIG_FIRST_RECORD))
def test_a_first_record_larger_than_the_sniffed_head_is_detected(tmp_path, capsys, case):
    # before: "cannot tell the format; pass --format (one of ...)", exit status 2
    name, make, expected = BIG_FIRST_RECORD[case]
    path = tmp_path / name
    path.write_bytes(make())
    assert path.stat().st_size > 3 * ingest_module.HEAD_BYTES
    assert detect_format(path) == expected
    out = tmp_path / "posts.parquet"
    assert main(["ingest", str(path), "-o", str(out), "--keep-authors", "--no-language"]) == 0
    assert f"{path}: {expected} (detected), 2 rows, 0 rejects" in capsys.readouterr().err


def test_a_first_record_beyond_the_longer_head_is_still_one_clear_error(tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setattr(ingest_module, "LONG_HEAD_BYTES", 2 * ingest_module.HEAD_BYTES)
    path = tmp_path / "generated_records.json"
    path.write_bytes(_big_table_array())  # its first record is over 128 KiB
    assert detect_format(path) is None
    status = main(["ingest", str(path), "-o", str(tmp_path / "posts.parquet"),
                   "--keep-authors", "--no-language"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"error: {path}: cannot tell the format; pass --format")
    assert "Traceback" not in err
