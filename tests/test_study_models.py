"""A study in a researcher's own project: raw folders checked file by file against the manifest,
``.skops`` models found from the project root and recorded as inputs, and a summary that counts
the responses the trend counts and reports what did not run and the classifiers' error.

The project is temporary: its raw data is a real twarc2 sample (tests/data/twarc2_samples), its
model is trained on the generated frame of tests/test_classifiers.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import config, rawdata
from analysis import reproduce as pipeline
from analysis.classifiers import save_model, train_model
from analysis.commands import main
from analysis.errors import RawDataError, UserError
from analysis.study import load_study

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "twarc2_samples" / "brexit.jsonl"

STUDY = """
[study]
name = "own"
title = "Own exports"

[[sources]]
path = "data/raw/own"

[classify]
models = ["models/gen.skops", "vader"]

[trend]
freq = "1D"
methods = ["pcc", "acc"]
primary_method = "pcc"
min_posts = 1
n_boot = 200

[[figures]]
kind = "shares"
file = "shares"
model = "models/gen.skops"
"""


def _use_project(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Point every project path at ``root``, as ANALYSIS_PROJECT_ROOT would."""
    for name, path in (("PROJECT_ROOT", root), ("DATA_RAW", root / "data" / "raw"),
                       ("RAW_MANIFEST", root / "data" / "raw" / "MANIFEST.csv"),
                       ("DATA_PROCESSED", root / "data" / "processed"),
                       ("REPORTS", root / "reports"), ("STUDIES", root / "studies")):
        monkeypatch.setattr(config, name, path)
    monkeypatch.setenv(config.PSEUDONYM_KEY_ENV, "ab" * 32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A model trained on generated data, saved with its card as gen.skops / gen.card.json."""
    from tests.test_classifiers import generated_frame

    model, card = train_model(generated_frame(), model_id="gen", cv=3, C=1.0, fast=True)
    return save_model(model, tmp_path_factory.mktemp("model") / "gen.skops", card).parent


def _make_project(root: Path, trained: Path, study: str = STUDY) -> Path:
    """A project with one raw folder (the twarc2 sample), its manifest, the trained model with
    its card under models/, and the study file; returns the study file."""
    raw = root / "data" / "raw" / "own"
    raw.mkdir(parents=True)
    shutil.copy(SAMPLE, raw / SAMPLE.name)
    (root / "data" / "raw" / "MANIFEST.csv").write_text(_manifest(root / "data" / "raw"))
    shutil.copytree(trained, root / "models")
    (root / "studies").mkdir()
    path = root / "studies" / "own.toml"
    path.write_text(study)
    return path


def _manifest(raw: Path) -> str:
    """What ``python -m analysis.rawdata`` prints for ``raw``."""
    lines = [",".join(rawdata.MANIFEST_FIELDS)]
    lines += [",".join(row[f] for f in rawdata.MANIFEST_FIELDS)
              for row in rawdata.manifest_rows(raw)]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def project(tmp_path, trained, monkeypatch):
    """Makes the project in ``tmp_path`` (with a study file given, else :data:`STUDY`) and points
    the project paths at it; returns the study file."""
    _use_project(monkeypatch, tmp_path)
    return lambda study=STUDY: _make_project(tmp_path, trained, study)


@pytest.fixture(scope="module")
def own_run(tmp_path_factory, trained) -> tuple[Path, pipeline.StudyOutputs]:
    """One run of the study, started from a folder outside the project."""
    root = tmp_path_factory.mktemp("own-project")
    with pytest.MonkeyPatch.context() as patch:
        _use_project(patch, root)
        _make_project(root, trained)
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        patch.chdir(elsewhere)
        (root / "data" / "raw" / "own" / ".DS_Store").write_bytes(b"\x00generated")
        outputs = pipeline.reproduce("own", progress=False)
    return root, outputs


# -- defect 1: a file in a source folder that the manifest does not list ------------------------


def test_an_unlisted_file_in_a_source_folder_stops_the_run_naming_it(project, tmp_path, capsys):
    """Regression: the folder's extra file was ingested unchecked and changed the figures."""
    project()
    extra = tmp_path / "data" / "raw" / "own" / "extra.jsonl"
    extra.write_bytes(SAMPLE.read_bytes())  # generated: a second copy under a new name
    with pytest.raises(RawDataError, match=r"extra\.jsonl: in the study's source folder "
                                           r"data/raw/own but not listed"):
        pipeline.reproduce("own", progress=False)
    assert main(["reproduce", "own", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "extra.jsonl" in err
    assert "python -m analysis.rawdata > data/raw/MANIFEST.csv" in err
    assert not (tmp_path / "reports").exists() and not (tmp_path / "data" / "processed").exists()


def test_hidden_files_in_a_source_folder_are_neither_listed_nor_checked(own_run):
    root, outputs = own_run
    assert (root / "data" / "raw" / "own" / ".DS_Store").is_file()  # there during the run
    assert outputs.summary.is_file()
    assert [row["path"] for row in rawdata.manifest_rows(root / "data" / "raw")] == [
        "own/brexit.jsonl"]


# -- defect 2: the summary counts the responses the trend counts ---------------------------------


def test_the_summary_counts_the_responses_the_trend_counts(own_run):
    """Regression: the summary counted depth > 0 (context rows in, replies without depth out)."""
    root, outputs = own_run
    trend = pd.read_csv(outputs.processed / "trend.csv")
    rows = trend[(trend["model"] == "vader") & (trend["method"] == "pcc")
                 & (trend["label"] == "support")]
    counted = int(rows["n_posts"].sum())
    summary = outputs.summary.read_text()
    found = re.search(r"; ([\d,]+) responses", summary)
    assert int(found.group(1).replace(",", "")) == counted
    posts = pd.read_parquet(outputs.processed / "posts.parquet")
    reposts = int((posts["kind"] == "repost").sum())
    assert reposts > 0 and f"responses (not counted: {reposts} reposts" in summary


# -- defect 3: .skops models -------------------------------------------------------------------


def test_a_skops_model_has_a_flat_labels_file_and_is_recorded_among_the_inputs(own_run):
    """Regression: labels went to labels_models/gen.skops.parquet, missing from the manifest's
    outputs; the model file was no input; the path was resolved against the current folder."""
    root, outputs = own_run
    tables = sorted(p.relative_to(outputs.processed).as_posix()
                    for p in outputs.processed.rglob("*") if p.is_file())
    assert tables == ["labels_gen.parquet", "labels_vader.parquet", "posts.parquet",
                      "trend.csv"]
    manifest = json.loads(outputs.manifest.read_text())
    listed = {o["path"] for o in manifest["outputs"]}
    assert {f"data/processed/own/{t}" for t in tables} <= listed
    inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    from analysis.io import sha256_file

    for name in ("models/gen.skops", "models/gen.card.json"):
        # relative to the project with ANALYSIS_PROJECT_ROOT; here config is patched instead
        recorded = inputs.get(name, inputs.get(str(root / name)))
        assert recorded == sha256_file(root / name)


def test_models_whose_labels_files_would_collide_are_refused(project):
    study = STUDY.replace('models = ["models/gen.skops", "vader"]',
                          'models = ["models/gen.skops", "other/gen.skops"]')
    path = project(study)
    with pytest.raises(UserError, match=r"would all write labels_gen\.parquet"):
        load_study(path)


def test_a_missing_model_file_is_named_before_anything_runs(project, tmp_path):
    project()
    (tmp_path / "models" / "gen.skops").unlink()
    with pytest.raises(UserError, match=r"^models/gen\.skops: study 'own' labels with this "
                                        r"model file"):
        pipeline.reproduce("own", progress=False)
    assert not (tmp_path / "reports").exists()


# -- defect 4: what did not run, and the classifiers' error without gold labels -----------------


def test_the_summary_names_methods_not_run_and_reports_the_cards_error(own_run):
    root, outputs = own_run
    summary = outputs.summary.read_text()
    assert "- `vader`: acc not run (VADER has no model card and the study has no [gold] labels" \
        in summary
    assert "`models/gen.skops`: acc" not in summary  # its card has a confusion matrix
    card = json.loads((root / "models" / "gen.card.json").read_text())
    f1 = card["cv_metrics"]["macro_f1"]
    row = next(line for line in summary.splitlines() if line.startswith("| models/gen.skops |"))
    assert f"| {f1:.3f} |" in row
    assert "not on this study's data" in summary
    assert "No cross-validated error for `vader`: VADER has no model card." in summary


# -- defect 5: messages for one's own project, and figures that cannot run -----------------------


def test_a_figure_of_a_method_that_cannot_run_is_refused_naming_the_figure(project, tmp_path,
                                                                            capsys):
    """Regression: it failed after ingest, labelling and trend, naming neither file nor figure."""
    study = STUDY.replace('model = "models/gen.skops"', 'model = "vader"\nmethod = "acc"')
    path = project(study)
    with pytest.raises(UserError, match=r"\[\[figures\]\] 'shares' draws 'acc' for model "
                                        r"'vader', which cannot run: VADER has no model card"):
        load_study(path)
    assert main(["reproduce", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and err.count("\n") == 1
    assert not (tmp_path / "data" / "processed").exists()


def test_raw_data_messages_name_the_command_that_records_own_exports(project, tmp_path):
    project()
    command = "'python -m analysis.rawdata > data/raw/MANIFEST.csv'"
    raw = tmp_path / "data" / "raw"
    with (raw / "own" / "brexit.jsonl").open("a") as handle:
        handle.write("\n")  # generated change
    with pytest.raises(RawDataError) as changed:
        pipeline.reproduce("own", progress=False)
    assert ("restore it (git checkout -- data/raw/own/brexit.jsonl if it is tracked) or, if "
            f"the change is intended, update the manifest with {command}") in str(changed.value)
    (raw / "MANIFEST.csv").unlink()
    with pytest.raises(RawDataError) as missing:
        pipeline.reproduce("own", progress=False)
    assert "restore it from git" in str(missing.value) and command in str(missing.value)


def test_pacc_of_a_model_with_only_a_card_is_refused_for_a_figure_and_listed_as_not_run(
        project):
    """With a card alone (counts only), pacc and emq would run as acc: the trend table would have
    acc twice and no pacc rows for the figure, which failed at the end of the run."""
    study = STUDY.replace('methods = ["pcc", "acc"]', 'methods = ["pcc", "acc", "pacc"]')
    path = project(study)
    assert list(load_study(path).unavailable_methods("models/gen.skops")) == ["pacc"]
    path.write_text(study.replace('model = "models/gen.skops"',
                                  'model = "models/gen.skops"\nmethod = "pacc"'))
    with pytest.raises(UserError, match=r"draws 'pacc' .* a model card holds counts only"):
        load_study(path)
