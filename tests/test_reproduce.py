"""``reproduce``: a study end to end, deterministic, atomic, with provenance."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis import config
from analysis import reproduce as pipeline
from analysis.study import load_study

ROOT = Path(__file__).resolve().parent.parent

# RumourEval 2019 train + dev per data/raw/rumoureval2019/SOURCE.md: 5,217 + 1,485 labelled
# posts, of which 12 + 7 are Reddit "more" stubs without text or time.
LABELLED_POSTS = 5_217 + 1_485 - 12 - 7


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory) -> Path:
    """The default study with VADER only and few bootstrap replicates (the trained model's
    leave-one-event-out run is exercised by `make reproduce` and the benchmarks)."""
    text = (config.STUDIES / "rumour-replies.toml").read_text()
    text = (text.replace('models = ["default", "vader"]', 'models = ["vader"]')
            .replace('model = "default"', 'model = "vader"')
            .replace('name = "rumour-replies"', 'name = "quick-rumours"')
            .replace("n_boot = 300", "n_boot = 200"))
    path = tmp_path_factory.mktemp("studies") / "quick-rumours.toml"
    path.write_text(text)
    return path


@pytest.fixture()
def sandbox(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(config, "DATA_PROCESSED", tmp_path / "processed")
    monkeypatch.setattr(config, "REPORTS", tmp_path / "reports")
    return tmp_path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _comparable(files: dict[str, bytes]) -> dict[str, object]:
    """The files, with the manifest's git state left out (it records whether the work tree was
    clean, which other work on the checkout may change between two runs)."""
    out: dict[str, object] = dict(files)
    if "manifest.json" in out:
        manifest = json.loads(files["manifest.json"])
        manifest.pop("git_commit")
        out["manifest.json"] = manifest
    return out


def test_reproduce_writes_every_output_and_is_byte_identical_on_a_rerun(quick_study, sandbox):
    first = pipeline.reproduce(quick_study, progress=False)
    report = _files(first.report)
    tables = _files(first.processed)
    spec = load_study(quick_study)
    for figure in spec.figures:
        assert f"{figure.file}.png" in report and f"{figure.file}.pdf" in report
    assert {"summary.md", "manifest.json"} <= set(report)
    assert {"posts.parquet", "gold.parquet", "labels_vader.parquet", "trend.csv"} <= set(tables)

    second = pipeline.reproduce(quick_study, progress=False)
    assert _comparable(_files(second.report)) == _comparable(report)
    assert _files(second.processed) == tables


def test_manifest_records_raw_hashes_versions_and_parameters(quick_study, sandbox):
    outputs = pipeline.reproduce(quick_study, progress=False)
    manifest = json.loads(outputs.manifest.read_text())
    raw = {row["path"]: row["sha256"] for row in manifest["inputs"]}
    listed = (config.RAW_MANIFEST.read_text().splitlines())
    archive = "data/raw/rumoureval2019/rumoureval-2019-training-data.tar.gz"
    assert any(line.startswith("rumoureval2019/rumoureval-2019-training-data.tar.gz,"
                               + raw[archive]) for line in listed)
    assert manifest["seed"] == load_study(quick_study).seed
    assert manifest["versions"]["pandas"] and manifest["versions"]["analysis"]
    assert manifest["parameters"]["classify"]["models"] == ["vader"]
    assert any(o["path"].endswith("summary.md") for o in manifest["outputs"])


def test_gold_labels_cover_every_labelled_post(quick_study):
    spec = load_study(quick_study)
    posts, gold, rejects = pipeline.ingest_sources(spec, progress=False)
    truth = pipeline.gold_stance(spec, posts, gold)
    assert len(truth) == LABELLED_POSTS
    assert rejects == 12 + 7
    assert set(truth["label"]) == {"support", "criticism", "other"}
    assert set(truth["veracity"].dropna()) == {"true", "false", "unverified"}
    assert truth["veracity"].notna().all() and truth["event"].notna().all()


def test_reddit_threads_are_held_out_in_blocks_of_whole_threads(quick_study):
    """RumourEval files all 40 Reddit threads under one event; the study holds them out in 4
    blocks of whole threads (10 each), and leaves the Twitter events whole."""
    spec = load_study(quick_study)
    assert spec.gold.thread_blocks == {"reddit": 4}
    posts, gold, _ = pipeline.ingest_sources(spec, progress=False)
    truth = pipeline.gold_stance(spec, posts, gold)
    reddit = truth[truth["uid"].str.startswith("reddit:")]
    assert set(reddit["event"]) == {"reddit-1", "reddit-2", "reddit-3", "reddit-4"}
    assert (reddit.groupby("thread_id")["event"].nunique() == 1).all()
    assert reddit.groupby("event")["thread_id"].nunique().tolist() == [10, 10, 10, 10]
    twitter = truth[~truth["uid"].str.startswith("reddit:")]
    assert not twitter["event"].str.startswith("reddit").any()
    assert twitter["event"].nunique() == 9


@pytest.mark.parametrize(("setting", "message"), [
    ("thread_blocks = { reddit = 1 }", "at least 2"),
    ('thread_blocks = { reddit = "4" }', "at least 2"),
    ("thread_blocks = 4", "must be a table"),
])
def test_invalid_thread_blocks_are_refused_with_the_key_named(quick_study, sandbox, setting,
                                                               message):
    from analysis.errors import UserError

    text = quick_study.read_text().replace("thread_blocks = { reddit = 4 }", setting)
    path = sandbox / "blocks.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_study(path)


def test_a_failing_stage_leaves_earlier_outputs_untouched(quick_study, sandbox, monkeypatch):
    first = pipeline.reproduce(quick_study, progress=False)
    before = _files(first.report), _files(first.processed)

    def broken(*args, **kwargs):
        raise RuntimeError("trend failed")

    monkeypatch.setattr(pipeline, "trend_study", broken)
    with pytest.raises(RuntimeError):
        pipeline.reproduce(quick_study, progress=False)
    assert (_files(first.report), _files(first.processed)) == before
    leftovers = [p.name for p in (sandbox / "reports").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_summary_states_the_timing_comparison_with_numbers(quick_study, sandbox):
    outputs = pipeline.reproduce(quick_study, progress=False)
    summary = outputs.summary.read_text()
    assert "Zubiaga" in summary
    assert "In this data, the support share of unverified rumours is" in summary
    assert "| veracity | label | first 1 h |" in summary


@pytest.mark.parametrize("name", ["../raw", "", ".", "..", "a/b", "/tmp/elsewhere"])
def test_a_study_name_that_is_not_a_plain_folder_name_is_refused(quick_study, sandbox, capsys,
                                                                 name):
    """Regression: the name is the folder under data/processed/ and reports/ that a run
    replaces, so ``name = "../raw"`` would have replaced data/raw/ with the run's tables."""
    from analysis.commands import main
    from analysis.errors import UserError

    text = quick_study.read_text().replace('name = "quick-rumours"', f'name = "{name}"')
    path = sandbox / "bad-name.toml"
    path.write_text(text)
    with pytest.raises(UserError, match="plain folder name"):
        load_study(path)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (sandbox / "processed").exists() and not (sandbox / "reports").exists()


@pytest.mark.parametrize(("old", "new"), [
    ('kind = "volume"', 'kind = "volume"\nmethod = "nosuch"'),
    ('kind = "volume"\nfile = "volume"\nmodel = "vader"',
     'kind = "volume"\nfile = "volume"\nmodel = "bert"'),
])
def test_a_figure_of_a_model_or_method_the_study_does_not_run_is_refused(quick_study, sandbox,
                                                                         capsys, old, new):
    """Regression: such a figure raised a ValueError traceback after the whole run."""
    from analysis.commands import main
    from analysis.errors import UserError

    text = quick_study.read_text()
    assert old in text
    path = sandbox / "bad-figure.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError, match=r"\[\[figures\]\]"):
        load_study(path)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and err.count("\n") == 1
    assert not (sandbox / "processed").exists() and not (sandbox / "reports").exists()


def test_provenance_paths_in_the_posts_table_are_relative_to_the_project(quick_study):
    posts, _, _ = pipeline.ingest_sources(load_study(quick_study), progress=False)
    files = set(posts["source_file"].dropna())
    assert files and all(f.startswith("data/raw/rumoureval2019/") for f in files)


def test_several_sources_collapse_duplicates_as_one_ingest_run_does(tmp_path):
    # flat.jsonl is the twarc2-flattened form of noflat.jsonl: the same 100 tweets.
    samples = ROOT / "tests" / "data" / "twarc2_samples"
    study = tmp_path / "two-sources.toml"
    study.write_text(f"""
[study]
name = "two-sources"
title = "two exports of the same tweets"
[[sources]]
path = "{samples / 'flat.jsonl'}"
format = "twarc2"
[[sources]]
path = "{samples / 'noflat.jsonl'}"
format = "twarc2"
[trend]
freq = "1h"
""")
    from analysis.loaders.ingest import ingest

    posts, _, _ = pipeline.ingest_sources(load_study(study), progress=False)
    together = ingest([samples / "flat.jsonl", samples / "noflat.jsonl"], format="twarc2",
                      progress=False).posts
    assert posts["uid"].is_unique
    assert sorted(posts["uid"]) == sorted(together["uid"])
    assert (posts.set_index("uid")["collection_role"].astype(str).sort_index()
            == together.set_index("uid")["collection_role"].astype(str).sort_index()).all()


@pytest.mark.parametrize(("old", "new", "message"), [
    ('methods = ["cc"', 'method = ["cc"', "unknown key 'trend.method'; did you mean 'methods'"),
    ("seed = 20200930", "sed = 1", "unknown key 'study.sed'"),
    ("[trend]", "[trends]", "unknown key 'trends'; did you mean 'trend'"),
    ("n_boot = 200", "n_boot = true", "'trend.n_boot' must be a whole number"),
    ('primary_method = "pcc"', 'primary_method = "auto"', "primary_method 'auto' is not in"),
    ('deny = "criticism"', 'deny = "critisism"', "gold.mapping maps to ['critisism']"),
    ('file = "volume"', 'file = "../../escape"', "must be a plain file name"),
    ('file = "volume"', 'file = "validation"', "'validation' is named twice"),
])
def test_study_file_mistakes_are_one_line_naming_the_key(quick_study, sandbox, capsys, old, new,
                                                         message):
    """Regression: misspelt keys were ignored (their defaults used), booleans passed as numbers,
    and figure files could leave the report folder or overwrite each other."""
    from analysis.commands import main
    from analysis.errors import UserError

    text = quick_study.read_text()
    assert old in text
    path = sandbox / "mistake.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError, match=re.escape(message)):
        load_study(path)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and err.count("\n") == 1
    assert not (sandbox / "processed").exists() and not (sandbox / "reports").exists()


def test_events_with_relative_bins_are_refused_and_a_bom_is_read(quick_study, sandbox):
    from analysis.errors import UserError

    text = quick_study.read_text()
    bom = sandbox / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_study(bom).name == load_study(quick_study).name
    assert 'relative_to = "root"' in text
    path = sandbox / "events.toml"
    path.write_text(text + '\n[[events]]\ntime = "2015-01-07T11:30:00+00:00"\nlabel = "x"\n')
    with pytest.raises(UserError, match="relative_to"):
        load_study(path)


def test_gold_tasks_the_sources_do_not_have_are_named(quick_study, sandbox):
    from analysis.errors import UserError

    spec = load_study(quick_study)
    posts, gold, _ = pipeline.ingest_sources(spec, progress=False)
    wrong = quick_study.read_text().replace('task = "sdqc"', 'task = "sdqcc"', 1)
    path = sandbox / "wrong-task.toml"
    path.write_text(wrong)
    with pytest.raises(UserError, match=r"gold.task 'sdqcc' is not a task .*sdqc"):
        pipeline.gold_stance(load_study(path), posts, gold)
    with pytest.raises(UserError, match="gave no gold labels"):
        pipeline.gold_stance(spec, posts, gold.iloc[0:0])


def test_a_study_given_by_path_is_named_by_its_path_in_the_summary(quick_study):
    spec = load_study(quick_study)
    assert spec.command == f"python -m analysis reproduce {spec.shown_file}"
    assert spec.shown_file.endswith("quick-rumours.toml")
    assert load_study("rumour-replies").command == "python -m analysis reproduce rumour-replies"


# -- output folders: user files kept, symbolic links followed, both folders or neither ----------

TINY_STUDY = """
[study]
name = "tiny"
title = "a real twarc2 sample, VADER only"
seed = 1
[[sources]]
path = "{source}"
format = "twarc2"
[target]
text = "brexit"
[classify]
models = ["vader"]
[trend]
freq = "1D"
methods = ["cc"]
min_posts = 1
n_boot = 200
[[figures]]
kind = "volume"
file = "volume"
model = "vader"
"""


@pytest.fixture()
def tiny_study(tmp_path, monkeypatch) -> Path:
    """A fast study of a real twarc2 sample (tests/data), outputs under ``tmp_path``."""
    monkeypatch.setattr(config, "DATA_PROCESSED", tmp_path / "processed")
    monkeypatch.setattr(config, "REPORTS", tmp_path / "reports")
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, "ab" * 32)
    source = ROOT / "tests" / "data" / "twarc2_samples" / "brexit.jsonl"
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_STUDY.format(source=source.as_posix()))
    return path


def test_files_the_study_does_not_write_are_kept_and_named(tiny_study, tmp_path):
    """Regression: a rerun deleted the researcher's own files in data/processed/NAME/ and
    reports/NAME/ without a word."""
    first = pipeline.reproduce(tiny_study, progress=False)
    (first.processed / "coded_by_hand.parquet").write_bytes(b"generated: hand-coded table")
    (first.report / "notes").mkdir()
    (first.report / "notes" / "my-notes.md").write_text("generated: my notes")
    with pytest.warns(UserWarning, match=r"kept 2 file\(s\) reproduce does not write: .*"
                                         r"coded_by_hand\.parquet.*my-notes\.md"):
        second = pipeline.reproduce(tiny_study, progress=False)
    assert (second.processed / "coded_by_hand.parquet").read_bytes() == (
        b"generated: hand-coded table")
    assert (second.report / "notes" / "my-notes.md").read_text() == "generated: my notes"
    assert sorted(p.name for p in second.kept) == ["coded_by_hand.parquet", "my-notes.md"]
    manifest = json.loads(second.manifest.read_text())
    assert not any("my-notes" in o["path"] or "coded_by_hand" in o["path"]
                   for o in manifest["outputs"])


def test_symlinked_output_folders_are_followed_on_every_run(tiny_study, tmp_path):
    """Regression: the first run replaced a symlinked reports/NAME by a real folder, the second
    crashed (rmtree on the link moved aside) after one folder was replaced, and left a temporary
    folder that made every later run fail."""
    elsewhere = tmp_path / "big-disk" / "tiny-report"
    elsewhere.mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    link = tmp_path / "reports" / "tiny"
    link.symlink_to(elsewhere, target_is_directory=True)
    for _ in range(2):
        outputs = pipeline.reproduce(tiny_study, progress=False)
        assert link.is_symlink() and link.resolve() == elsewhere.resolve()
        assert (elsewhere / "summary.md").is_file()
    manifest = json.loads(outputs.manifest.read_text())
    hashes = {o["path"].rsplit("/", 1)[-1]: o["sha256"] for o in manifest["outputs"]}
    from analysis.io import sha256_file

    assert hashes["trend.csv"] == sha256_file(outputs.processed / "trend.csv")
    hidden = [p.name for folder in (tmp_path / "reports", tmp_path / "big-disk",
                                    tmp_path / "processed")
              for p in folder.iterdir() if p.name.startswith(".")]
    assert hidden == []


def test_a_link_to_nothing_is_refused_before_any_work(tiny_study, tmp_path, capsys):
    from analysis.commands import main

    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "tiny").symlink_to(tmp_path / "absent")
    assert main(["reproduce", str(tiny_study), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "symbolic link" in err and err.count("\n") == 1
    assert not (tmp_path / "reports").exists()


def test_both_output_folders_are_replaced_or_neither(tiny_study, tmp_path, monkeypatch):
    """If putting the second folder in place fails, the first gets its old contents back, so
    the manifest in reports/ always describes the tables in data/processed/."""
    first = pipeline.reproduce(tiny_study, progress=False)
    before = _files(first.processed), _files(first.report)
    real_rename = Path.rename

    def failing(self, target):
        staged = self.name.startswith(".tiny.") and not self.name.endswith(".old")
        if staged and Path(target) == first.report.resolve():  # the new report folder
            raise OSError(28, "No space left on device (generated)")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    tiny_study.write_text(tiny_study.read_text().replace("n_boot = 200", "n_boot = 201"))
    with pytest.raises(OSError, match="generated"):
        pipeline.reproduce(tiny_study, progress=False)
    assert (_files(first.processed), _files(first.report)) == before
    hidden = [p.name for folder in (tmp_path / "reports", tmp_path / "processed")
              for p in folder.iterdir() if p.name.startswith(".")]
    assert hidden == []


def test_an_output_folder_linked_inside_the_other_is_refused_before_any_work(tiny_study,
                                                                              tmp_path, capsys):
    """Regression (bug hunt): with data/processed/NAME a link into reports/NAME/, the new tables
    were lost in the swap and the old ones stayed beside the new manifest."""
    from analysis.commands import main

    (tmp_path / "reports" / "tiny" / "tables").mkdir(parents=True)
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "tiny").symlink_to(tmp_path / "reports" / "tiny" / "tables")
    assert main(["reproduce", str(tiny_study), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "one is inside the other" in err and err.count("\n") == 1
    assert list((tmp_path / "reports" / "tiny" / "tables").iterdir()) == []


def test_ctrl_c_while_the_folders_are_swapped_waits_for_the_swap(tiny_study, tmp_path,
                                                                  monkeypatch, ctrl_c):
    """Regression (bug hunt): Ctrl-C while the old folders were being removed left hidden
    copies of them behind for good."""
    import os
    import signal

    first = pipeline.reproduce(tiny_study, progress=False)
    real_rmtree = shutil.rmtree

    def interrupted(path, *args, **kwargs):
        if str(path).endswith(".old"):
            os.kill(os.getpid(), signal.SIGINT)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(pipeline.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.reproduce(tiny_study, progress=False)
    for folder in (first.processed.parent, first.report.parent):
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    assert (first.report / "manifest.json").is_file()
