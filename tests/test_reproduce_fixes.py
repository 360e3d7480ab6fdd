"""``reproduce`` fixes: the validation set, thread blocks, overlapping gold sources, raw data
reached through a symbolic link, output folder modes and subfolders, two study files with one
name, the rejects file, and the run id of a folder source.

Each project is temporary (``tmp_path``, with the project paths pointed at it as
``ANALYSIS_PROJECT_ROOT`` would); its data are real samples from tests/data, and its study files
are generated here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from analysis import config, rawdata
from analysis import reproduce as pipeline
from analysis.commands import main
from analysis.errors import RawDataError, UserError
from analysis.io import sha256_file
from analysis.responses import responses
from analysis.study import load_study
from tests.test_study_models import _use_project

ROOT = Path(__file__).resolve().parent.parent
RUMOURS = ROOT / "tests" / "data" / "rumoureval" / "rumoureval-2019-training-data"
BREXIT = ROOT / "tests" / "data" / "twarc2_samples" / "brexit.jsonl"
TWITTER_V1 = ROOT / "tests" / "data" / "twitter_v1"

#: A generated study of the RumourEval fixture; ``{sources}`` and ``{extra}`` are filled in.
GOLD_STUDY = """
[study]
name = "{name}"
title = "generated: RumourEval fixture"
{sources}
[classify]
models = ["vader"]
{extra}
[gold]
task = "sdqc"
mapping = {{ support = "support", deny = "criticism", query = "other", comment = "other" }}
{gold}
[trend]
freq = "1D"
methods = ["cc", "acc"]
min_posts = 1
n_boot = 200
"""

#: A generated study of one real twarc2 sample, VADER only (fast).
TINY_STUDY = """
[study]
name = "tiny"
title = "generated: a real twarc2 sample, VADER only"
seed = 1
[[sources]]
path = "{source}"
format = "{format}"
[classify]
models = ["vader"]
[trend]
freq = "1D"
methods = ["cc"]
min_posts = 1
n_boot = 200
"""


def _sources(*paths: Path | str, format: str = "rumoureval") -> str:  # noqa: A002
    return "".join(f'[[sources]]\npath = "{Path(p).as_posix()}"\nformat = "{format}"\n'
                   for p in paths)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _gold_study(root: Path, *paths: Path | str, name: str = "gold", extra: str = "",
                gold: str = "") -> Path:
    return _write(root / "studies" / f"{name}.toml",
                  GOLD_STUDY.format(name=name, sources=_sources(*paths), extra=extra, gold=gold))


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """A project in ``tmp_path`` (project paths pointed at it) with no raw data yet, so an empty
    data/raw/MANIFEST.csv; returns its root."""
    root = tmp_path.resolve()
    _use_project(monkeypatch, root)
    _write(config.RAW_MANIFEST, ",".join(rawdata.MANIFEST_FIELDS) + "\n")
    return root


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    return err


# -- 1: the adjusted methods correct with the gold labels of responses only -----------------------


def test_adjusted_methods_correct_with_the_gold_labels_of_responses_only(project, monkeypatch):
    """Regression: thread roots (and posts without text) were in the validation set, though
    their shares are never estimated. The fixture has 12 labelled posts, 3 of them roots."""
    spec = load_study(_gold_study(project, RUMOURS))
    posts, gold, _ = pipeline.ingest_sources(spec, progress=False)
    truth = pipeline.gold_stance(spec, posts, gold)
    assert len(truth) == 12
    seen = {}

    def recording(labels, posts, *, method, validation=None, **options):
        seen[method] = validation
        return pd.DataFrame({"label": ["support"], "estimate": [0.5]})

    monkeypatch.setattr("analysis.trend.estimate_shares", recording)
    labels = pd.DataFrame({"uid": posts["uid"], "label": "other"})  # generated predictions
    pipeline.trend_study(spec, posts, truth, {"vader": labels})
    used = set(seen["acc"]["uid"])
    assert len(used) == 9
    assert used == set(truth["uid"]) & set(responses(posts)["uid"])
    roots = {"twitter:552783667052167168", "reddit:1jvbd8", "reddit:8j9s33"}
    assert roots <= set(truth["uid"]) and not roots & used


def test_gold_labels_on_roots_alone_are_refused_for_the_adjusted_methods(project):
    spec = load_study(_gold_study(project, RUMOURS))
    posts, gold, _ = pipeline.ingest_sources(spec, progress=False)
    truth = pipeline.gold_stance(spec, posts, gold)
    roots_only = truth[truth["uid"] == truth["thread_id"]]  # generated: replies' labels dropped
    with pytest.raises(UserError, match=r"trend.methods \['acc'\] correct with the gold labels "
                                        r"of responses, but every gold label is on a thread root"):
        pipeline.validation_set(spec, posts, roots_only)


# -- 2: a thread_blocks group that is not a group ------------------------------------------------


def test_a_misspelt_thread_blocks_group_is_refused_naming_the_valid_groups(project, capsys):
    """Regression: ``thread_blocks = { redit = 2 }`` was ignored while the summary said the
    group was held out in 2 blocks."""
    extra = 'prediction = "leave-one-group-out"'
    good = load_study(_gold_study(project, RUMOURS, name="blocks", extra=extra,
                                  gold='group_task = "event"\nthread_blocks = { reddit = 2 }'))
    posts, gold, _ = pipeline.ingest_sources(good, progress=False)
    assert set(pipeline.gold_stance(good, posts, gold)["event"]) == {
        "charliehebdo", "reddit-1", "reddit-2"}
    path = _gold_study(project, RUMOURS, name="typo", extra=extra,
                       gold='group_task = "event"\nthread_blocks = { redit = 2 }')
    message = ("gold.thread_blocks.redit: 'redit' is not a gold.group_task 'event' group of "
               "the labelled posts (charliehebdo, reddit)")
    with pytest.raises(UserError, match=re.escape(f"{path}: {message}")):
        pipeline.gold_stance(load_study(path), posts, gold)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    assert _one_line_error(capsys) == f"error: {path}: {message}\n"
    assert not (project / "data" / "processed" / "typo").exists()


def test_a_trend_by_column_the_posts_lack_is_refused_before_labelling(project, capsys,
                                                                     monkeypatch):
    """Found by the own-study hunt: by = ["nonexistent"] failed after labelling, naming neither
    the study file nor the key."""
    path = _write(project / "studies" / "by.toml", GOLD_STUDY.format(
        name="by", sources=_sources(RUMOURS), extra="", gold="").replace(
        'min_posts = 1', 'min_posts = 1\nby = ["nonexistent"]'))
    monkeypatch.setattr(pipeline, "label_study", lambda *a, **k: pytest.fail("labelled"))
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    err = _one_line_error(capsys)
    assert err.startswith(f"error: {path}: trend.by: the posts have no column 'nonexistent'")
    assert not (project / "data" / "processed" / "by").exists()


# -- 3: sources that overlap give the same gold labels twice -------------------------------------


def test_overlapping_gold_sources_collapse_to_one_label_per_post(project):
    """Regression: the fixture and its own twitter-english folder crashed gold_stance with
    pandas' InvalidIndexError."""
    alone = load_study(_gold_study(project, RUMOURS, name="alone"))
    both = load_study(_gold_study(project, RUMOURS, RUMOURS / "twitter-english", name="both"))
    posts, gold, _ = pipeline.ingest_sources(both, progress=False)
    assert not gold.duplicated(["uid", "task"]).any()
    truth = pipeline.gold_stance(both, posts, gold)
    expected = pipeline.gold_stance(alone, *pipeline.ingest_sources(alone, progress=False)[:2])
    assert truth.sort_values("uid").reset_index(drop=True).equals(
        expected.sort_values("uid").reset_index(drop=True))


def test_two_sources_that_disagree_on_a_gold_label_are_named(project, capsys):
    copy = project / "exports" / "rumoureval-2019-training-data"
    shutil.copytree(RUMOURS, copy)
    key = copy / "train-key.json"
    labels = json.loads(key.read_text())
    assert labels["subtaskaenglish"]["552786226546495488"] == "deny"
    labels["subtaskaenglish"]["552786226546495488"] = "support"  # generated disagreement
    key.write_text(json.dumps(labels))
    path = _gold_study(project, RUMOURS, copy, name="clash")
    message = (f"the sources give post twitter:552786226546495488 two different 'sdqc' gold "
               f"labels: 'deny' in {RUMOURS} but 'support' in "
               "exports/rumoureval-2019-training-data; leave out the source that is wrong, or "
               "correct its labels")
    with pytest.raises(UserError) as raised:
        pipeline.ingest_sources(load_study(path), progress=False)
    assert str(raised.value) == f"{path}: {message}"
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    assert _one_line_error(capsys) == f"error: {path}: {message}\n"


# -- 4: raw data reached through a symbolic link under data/raw ----------------------------------


def _linked_raw_folder(project: Path) -> Path:
    """data/raw/mylink -> a folder outside the project holding a copy of the twarc2 sample;
    returns the copy."""
    outside = project.parent / f"{project.name}-outside"
    outside.mkdir()
    shutil.copy(BREXIT, outside / "replies.jsonl")
    (project / "data" / "raw" / "mylink").symlink_to(outside, target_is_directory=True)
    return outside / "replies.jsonl"


def test_the_manifest_lists_files_reached_through_a_symbolic_link(project, capsys):
    """Regression: ``python -m analysis.rawdata`` left out a linked folder under data/raw."""
    copy = _linked_raw_folder(project)
    rows = rawdata.manifest_rows()
    assert [(r["path"], r["sha256"]) for r in rows] == [
        ("mylink/replies.jsonl", sha256_file(copy))]
    rawdata.main()
    assert "mylink/replies.jsonl," in capsys.readouterr().out


@pytest.mark.parametrize("source", ["data/raw/mylink/replies.jsonl", "data/raw/mylink"])
def test_a_changed_file_behind_a_symbolic_link_stops_the_run(project, capsys, source):
    """Regression: the study resolved the link to a path outside data/raw, and the file was
    never checked against data/raw/MANIFEST.csv."""
    copy = _linked_raw_folder(project)
    (project / "data" / "raw" / "MANIFEST.csv").write_text(
        "path,sha256,bytes,source,license\n"
        f"mylink/replies.jsonl,{sha256_file(copy)},{copy.stat().st_size},,\n")
    path = _write(project / "studies" / "tiny.toml",
                  TINY_STUDY.format(source=source, format="twarc2"))
    with copy.open("a") as handle:
        handle.write("{}\n")  # generated change
    with pytest.raises(RawDataError, match="raw file differs from its sha256"):
        pipeline.reproduce(path, progress=False)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    assert "data/raw/mylink/replies.jsonl: raw file differs" in _one_line_error(capsys)
    assert not (project / "reports").exists()


# -- 5: output folders keep their modes and the user's subfolders --------------------------------


@pytest.fixture()
def tiny(project, monkeypatch) -> Path:
    """studies/tiny.toml: the real twarc2 sample, VADER only."""
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, "ab" * 32)
    return _write(project / "studies" / "tiny.toml",
                  TINY_STUDY.format(source=BREXIT.as_posix(), format="twarc2"))


def test_a_rerun_keeps_the_folders_modes_and_the_users_subfolders(tiny):
    """Regression: a rerun reset ``chmod 700`` output folders to 0755 (pseudonymised posts
    readable by others) and deleted the user's empty subfolders without a word."""
    old_umask = os.umask(0o022)
    try:
        first = pipeline.reproduce(tiny, progress=False)
        for folder in (first.processed, first.report):
            folder.chmod(0o700)
        (first.processed / "emptydir").mkdir()
        private = first.report / "private"
        private.mkdir()
        (private / "notes.md").write_text("generated: my notes")
        private.chmod(0o700)
        with pytest.warns(UserWarning, match=r"kept 1 file\(s\) and 1 empty folder\(s\) "
                                             r"reproduce does not write: "
                                             r"data/processed/tiny/emptydir/, "
                                             r"reports/tiny/private/notes\.md"):
            second = pipeline.reproduce(tiny, progress=False)
    finally:
        os.umask(old_umask)
    for folder in (second.processed, second.report, second.report / "private"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (second.processed / "emptydir").is_dir()
    assert (second.report / "private" / "notes.md").read_text() == "generated: my notes"
    assert sorted(p.name for p in second.kept) == ["emptydir", "notes.md"]


# -- 6: two study files with the same [study] name ------------------------------------------------


def test_a_second_study_file_with_the_same_name_is_refused(tiny, project, capsys):
    """Regression: a copy of a study file under another path, same name, replaced the first
    study's outputs without a word."""
    first = pipeline.reproduce(tiny, progress=False)
    before = {p: p.read_bytes() for p in sorted(first.report.iterdir())}
    copy = _write(project / "elsewhere" / "tiny.toml", tiny.read_text())
    assert main(["reproduce", str(copy), "--no-progress"]) == 2
    assert _one_line_error(capsys) == (
        "error: reports/tiny holds the outputs of studies/tiny.toml; give this study another "
        "[study] name, or delete that folder\n")
    assert {p: p.read_bytes() for p in sorted(first.report.iterdir())} == before
    assert pipeline.reproduce("tiny", progress=False).report == first.report  # same file: ok


def test_the_same_study_file_outside_the_project_given_another_way_is_allowed(
        tiny, tmp_path_factory, capsys):
    """Found by the review hunt: a study file outside the project root, run again by another
    path to the same file (../outside/my.toml), was refused as another study."""
    outside = tmp_path_factory.mktemp("outside")
    mine = _write(outside / "my.toml", tiny.read_text())
    (outside / "sub").mkdir()
    assert main(["reproduce", str(mine), "--no-progress"]) == 0
    assert main(["reproduce", str(outside / "sub" / ".." / "my.toml"), "--no-progress"]) == 0
    capsys.readouterr()


# -- 7: the rejected records are written ----------------------------------------------------


def test_rejected_records_are_written_next_to_the_posts(project, monkeypatch):
    """Regression: the summary counted the rejects and pointed at data/processed/, but no
    rejects file was written. The fixture has one: a Reddit "more" stub."""
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, "ab" * 32)
    copy = project / "exports" / "rumoureval-2019-training-data"
    shutil.copytree(RUMOURS, copy)
    path = _gold_study(project, "exports/rumoureval-2019-training-data", name="rejects")
    path.write_text(path.read_text().replace('methods = ["cc", "acc"]', 'methods = ["cc"]'))
    outputs = pipeline.reproduce(path, progress=False)
    written = outputs.processed / "posts.rejects.jsonl"
    lines = written.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    reject = json.loads(lines[0])
    assert reject["file"] == ("exports/rumoureval-2019-training-data/reddit-dev-data/8j9s33/"
                              "replies/dyy5v0c.json")
    assert reject["line"] == 1 and reject["reason"].startswith("Reddit 'more' stub")
    manifest = json.loads(outputs.manifest.read_text())
    assert "data/processed/rejects/posts.rejects.jsonl" in {o["path"] for o in
                                                            manifest["outputs"]}
    assert ("1 input records rejected at ingest (listed in "
            "`data/processed/rejects/posts.rejects.jsonl`)") in outputs.summary.read_text()
    first = written.read_bytes()
    pipeline.reproduce(path, progress=False)
    assert written.read_bytes() == first
    # found by a docs check: a run without rejects kept the earlier run's file as one "reproduce
    # does not write", beside a summary that counts 0 rejects
    (copy / "reddit-dev-data" / "8j9s33" / "replies" / "dyy5v0c.json").unlink()
    outputs = pipeline.reproduce(path, progress=False)
    assert not written.exists() and outputs.kept == ()
    assert "0 input records rejected at ingest;" in outputs.summary.read_text()


def test_a_reject_that_is_no_utf8_is_written_as_ingest_writes_it(tmp_path):
    """A lone surrogate (a broken text or file name) must not stop the run at the last step."""
    from analysis.loaders.base import Reject

    reject = Reject("generated.jsonl", 3, "invalid JSON: generated", "{\"text\": \"a\udcff\"")
    pipeline.write_rejects([reject], tmp_path / "posts.parquet")
    written = (tmp_path / "posts.rejects.jsonl").read_bytes()
    assert written == (json.dumps(reject.as_dict(), ensure_ascii=False) + "\n").encode(
        "utf-8", errors="backslashreplace")
    assert json.loads(written)["snippet"] == reject.snippet


# -- 8: the run id of a folder source -------------------------------------------------------


def test_the_run_id_of_a_folder_source_follows_its_files(project):
    """Regression: a folder source was hashed by its name, so removing a file from it kept the
    run id."""
    folder = project / "exports" / "v1"
    shutil.copytree(TWITTER_V1, folder)
    path = _write(project / "studies" / "folder.toml",
                  TINY_STUDY.format(source="exports/v1", format="twitter-v1"))
    spec = load_study(path)
    before = pipeline.run_id(spec)
    (folder / ".DS_Store").write_bytes(b"generated")  # hidden: the loaders do not read it
    assert pipeline.run_id(spec) == before
    removed = folder / "552785374507175936.json"
    data = removed.read_bytes()
    removed.unlink()
    assert pipeline.run_id(spec) != before
    (folder / "renamed.json").write_bytes(data)
    assert pipeline.run_id(spec) != before
    (folder / "renamed.json").rename(removed)
    assert pipeline.run_id(spec) == before
