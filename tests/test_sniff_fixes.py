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
from analysis.loaders import table
from analysis.loaders.ingest import detect_format, plan_inputs

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
