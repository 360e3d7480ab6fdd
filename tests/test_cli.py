"""The command line as a user meets it: help, version, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import __version__
from analysis.commands import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def test_version():
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"analysis {__version__}"


def test_help_lists_every_stage():
    done = _run("--help")
    assert done.returncode == 0
    for name in ("ingest", "label", "train", "evaluate", "trend", "plot", "reproduce"):
        assert name in COMMANDS and name in done.stdout


@pytest.mark.parametrize("args", [["frobnicate"], ["reproduce", "--frobnicate"], []])
def test_usage_errors_are_one_line_and_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


def test_unknown_study_is_one_line_and_exit_2(capsys):
    assert main(["reproduce", "no-such-study"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no such study" in err and "rumour-replies" in err


def test_template_study_without_its_data_says_what_it_expects(capsys):
    assert main(["reproduce", "pregnancy-loss-response"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "data/raw/pregnancy-loss-response/replies.jsonl" in err and "your own" in err


def test_tampered_raw_file_stops_the_run_before_any_output(tmp_path):
    # A copy of the project whose RumourEval archive has one byte changed.
    for name in ("studies", "pyproject.toml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    raw = tmp_path / "data" / "raw"
    (raw / "rumoureval2019").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "raw" / "MANIFEST.csv", raw / "MANIFEST.csv")
    archive = ROOT / "data/raw/rumoureval2019/rumoureval-2019-training-data.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (raw / "rumoureval2019" / archive.name).write_bytes(bytes(data))
    env = {**os.environ, "ANALYSIS_PROJECT_ROOT": str(tmp_path)}
    done = _run("reproduce", "rumour-replies", env=env)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "rumoureval-2019-training-data.tar.gz" in done.stderr
    assert "differs from its sha256" in done.stderr
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "data" / "processed").exists()


@pytest.mark.parametrize("command", [
    ["label", "{posts}", "--model", "vader", "--no-progress", "-o", "{blocked}/labels.parquet"],
    ["export", "{posts}", "-o", "{blocked}/posts.4cat.csv"],
    ["ingest", "{posts}", "--format", "parquet", "--map", "id=id", "-o",
     "{blocked}/p.parquet"],
    ["annotate", "sample", "{posts}", "-n", "2", "--model", "vader", "--include-roots",
     "--formats", "csv", "-o", "{blocked}/s"],
], ids=["label", "export", "ingest", "annotate-sample"])
def test_output_under_a_file_is_one_line_and_exit_2(tmp_path, capsys, command):
    """Regression: ``-o some_file.csv/out`` gave a FileExistsError traceback."""
    import pandas as pd

    posts = tmp_path / "posts.parquet"
    pd.DataFrame({"uid": ["other:1", "other:2"], "platform": "other", "id": ["1", "2"],
                  "text": ["generated one", "generated two"],
                  "created_at": pd.Timestamp("2020-09-30T10:00", tz="UTC")}).to_parquet(posts)
    blocked = tmp_path / "a_file.txt"
    blocked.write_text("generated\n")
    status = main([a.format(posts=posts, blocked=blocked) for a in command])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "is a file" in err
    assert blocked.read_text() == "generated\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt", "posts.parquet"]


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """Regression (bug hunt): `evaluate --json | head -c 300` printed a BrokenPipeError
    traceback."""
    import subprocess
    import sys

    data = tmp_path / "generated.csv"
    data.write_text("text,label\nI love it,support\nawful,criticism\nok then,other\n")
    process = subprocess.Popen([sys.executable, "-m", "analysis", "evaluate", str(data),
                                "--model", "vader", "--label-col", "label", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait() == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
