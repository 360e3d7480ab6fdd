"""Model cards tied to their model file; a trained text / target / context column applied by
``label``, ``evaluate`` and ``label_posts`` without being named again; ``evaluate --n-boot``
values that give an interval; a model saved with its labels in decomposed Unicode.

All data here is generated (:func:`tests.test_classifiers.generated_frame` and
:func:`target_decides_frame`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import load_model, save_model, train_model
from analysis.classifiers.persistence import card_path, card_version
from analysis.commands import main
from analysis.errors import UserError
from tests.test_classifiers import generated_frame

#: Texts shared by every label in :func:`target_decides_frame`: only the target (or the context)
#: tells the labels apart.
SHARED_TEXTS = ["what a day this has been", "I read the whole thing twice", "well here we go",
                "people keep talking about it", "no words for this one", "saw it this morning"]


def target_decides_frame(n_per_class: int = 30) -> pd.DataFrame:
    """Generated labelled rows whose label follows from the target column ``tgt`` (and the
    context column ``parent``), not from the text."""
    rows = []
    for label, target, parent in (("support", "Alice", "sending love to everyone"),
                                  ("criticism", "Bob", "this was a disgrace"),
                                  ("other", "Carol", "weather report for tuesday")):
        for i in range(n_per_class):
            rows.append({"uid": f"gen:{label}:{i}", "text": SHARED_TEXTS[i % len(SHARED_TEXTS)],
                         "tgt": f"{target} posted an update", "parent": parent,
                         "label": label})
    return pd.DataFrame(rows)


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# --- 1. a model card belongs to one model file ---------------------------------------------------

@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> tuple[Path, Path]:
    """Two models with the same labels and file name, trained on different rows (v1/, v2/)."""
    root = tmp_path_factory.mktemp("models")
    paths = []
    for run, seed in (("v1", 1), ("v2", 2)):
        model, card = train_model(generated_frame(seed=seed), model_id="study", cv=0, fast=True)
        paths.append(save_model(model, root / run / "study.skops", card))
    return paths[0], paths[1]


def test_save_model_records_the_sha256_of_the_model_file_in_the_card(two_models):
    from analysis.io import sha256_file

    for path in two_models:
        card = json.loads(card_path(path).read_text())
        assert card["model_sha256"] == sha256_file(path)


def test_a_card_copied_next_to_another_model_with_the_same_labels_is_refused(
        two_models, tmp_path, capsys):
    """Regression: the card of v1 next to v2 (same labels) was accepted; labels then carried
    v1's version and trend adjusted them with v1's confusion matrix."""
    v1, v2 = two_models
    model = tmp_path / "study.skops"
    shutil.copy(v2, model)
    card = json.loads(card_path(v1).read_text())
    # as train writes it: with a target column, which the table has (no note before the error)
    card_path(model).write_text(json.dumps(dict(card, columns={"target": "tgt"})))
    with pytest.raises(UserError, match="card is of another model file") as caught:
        load_model(model)
    assert str(card_path(model)) in str(caught.value) and str(model) in str(caught.value)
    data = tmp_path / "coded.csv"
    generated_frame(n_per_class=5).rename(columns={"target": "tgt"}).to_csv(data, index=False)
    out = tmp_path / "labels.parquet"
    for args in (["label", data, "--model", model, "-o", out],
                 ["evaluate", data, "--model", model, "--n-boot", "0"]):
        code, _, err = _run(args, capsys)
        assert code == 2
        line = _one_error_line(err)
        assert str(card_path(model)) in line and str(model) in line
    assert not out.exists()


def test_a_card_of_another_model_id_is_refused(two_models, tmp_path):
    """A card whose model_id is not the model's (renamed by hand; or an older card, without
    a sha256, of another model) is refused too."""
    v1, _ = two_models
    model = tmp_path / "study.skops"
    shutil.copy(v1, model)
    card = json.loads(card_path(v1).read_text())
    card_path(model).write_text(json.dumps(dict(card, model_id="another")))
    with pytest.raises(UserError, match="card is of model 'another'.*holds model 'study'"):
        load_model(model)
    card.pop("model_sha256")  # a card written before the sha256 was recorded
    card_path(model).write_text(json.dumps(dict(card, model_id="another")))
    with pytest.raises(UserError, match="card is of model 'another'"):
        load_model(model)


def test_a_card_written_before_the_sha256_still_loads_with_the_same_version(two_models,
                                                                            tmp_path):
    v1, _ = two_models
    model = tmp_path / "study.skops"
    shutil.copy(v1, model)
    card = json.loads(card_path(v1).read_text())
    older = {key: value for key, value in card.items() if key != "model_sha256"}
    card_path(model).write_text(json.dumps(older))
    loaded = load_model(model)
    # the sha256 of the (always different) skops bytes is not part of the version
    assert loaded.version_ == card_version(older) == card_version(card) == load_model(v1).version_
    assert loaded.model_id_ == "study"


def test_save_model_does_not_change_the_card_it_is_given(tmp_path):
    model, card = train_model(generated_frame(), cv=0, fast=True)
    before = json.dumps(card, sort_keys=True)
    save_model(model, tmp_path / "m.skops", card)
    assert json.dumps(card, sort_keys=True) == before and "model_sha256" not in card


# --- 2. a trained target / context column is applied without being named again ------------------

@pytest.fixture(scope="module")
def column_model(tmp_path_factory) -> tuple[Path, Path]:
    """A model trained with --target-col tgt --context-col parent, and its training table."""
    root = tmp_path_factory.mktemp("columns")
    data = root / "coded.csv"
    target_decides_frame().to_csv(data, index=False)
    model = root / "cols.skops"
    assert main(["train", str(data), "--target-col", "tgt", "--context-col", "parent",
                 "--cv", "0", "--fast", "-o", str(model)]) == 0
    card = json.loads(card_path(model).read_text())
    assert card["columns"]["target"] == "tgt" and card["columns"]["context"] == "parent"
    return model, data


def _probabilities(path: Path) -> np.ndarray:
    labels = pd.read_parquet(path)
    return labels[[c for c in labels.columns if c.startswith("proba_")]].to_numpy(float)


def test_label_applies_the_trained_target_and_context_columns_with_a_note(column_model,
                                                                          tmp_path, capsys):
    """Regression: without --target-col / --context-col again, label read no target and no
    context, silently."""
    model, data = column_model
    named, unnamed = tmp_path / "named.parquet", tmp_path / "unnamed.parquet"
    code, _, err = _run(["label", data, "--model", model, "--target-col", "tgt",
                         "--context-col", "parent", "-o", named], capsys)
    assert code == 0, err
    assert "note:" not in err  # the columns were given
    code, _, err = _run(["label", data, "--model", model, "-o", unnamed], capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert any("'tgt'" in line and "target column" in line for line in notes), err
    assert any("'parent'" in line and "context column" in line for line in notes), err
    np.testing.assert_allclose(_probabilities(unnamed), _probabilities(named))


def test_evaluate_applies_the_trained_target_column(column_model, capsys):
    model, data = column_model
    reports = []
    for extra in ([], ["--target-col", "tgt", "--context-col", "parent"]):
        code, out, err = _run(["evaluate", data, "--model", model, "--n-boot", "0", "--json",
                               *extra], capsys)
        assert code == 0, err
        reports.append(json.loads(out))
    assert reports[0] == reports[1]
    assert reports[0]["accuracy"] > 0.9  # only the target and context tell the labels apart


def test_a_table_without_the_trained_column_gets_a_note(column_model, tmp_path, capsys):
    model, data = column_model
    table = pd.read_csv(data).drop(columns=["tgt", "parent"])
    bare = tmp_path / "bare.csv"
    table.to_csv(bare, index=False)
    code, _, err = _run(["label", bare, "--model", model, "-o", tmp_path / "l.parquet"],
                        capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert any("trained with the target column 'tgt'" in line and str(bare) in line
               and "does not have" in line for line in notes), err
    assert any("trained with the context column 'parent'" in line for line in notes), err


def test_a_given_target_or_column_wins_over_the_card_without_a_note(column_model, tmp_path,
                                                                    capsys):
    model, data = column_model
    code, _, err = _run(["label", data, "--model", model, "--target", "Alice posted an update",
                         "--context-col", "parent", "-o", tmp_path / "l.parquet"], capsys)
    assert code == 0, err
    assert "note:" not in err


def test_evaluate_notes_the_trained_target_column_on_stderr(column_model, capsys):
    model, data = column_model
    code, _, err = _run(["evaluate", data, "--model", model, "--n-boot", "0"], capsys)
    assert code == 0, err
    assert "note: reading the target from the 'tgt' column" in err
    assert "note: reading the context from the 'parent' column" in err


# --- 3. evaluate --n-boot: no interval, or enough resamples for one ------------------------------

@pytest.mark.parametrize("n_boot", ["1", "2", "50", "199", "-1"])
def test_evaluate_refuses_too_few_bootstrap_resamples(tmp_path, capsys, n_boot):
    """Regression: --n-boot 1 printed a '95% interval' of one point that could exclude the
    estimate."""
    data = tmp_path / "coded.csv"
    generated_frame(n_per_class=5).to_csv(data, index=False)
    for how in (["--model", "vader"], ["--cv", "2", "--fast"]):
        code, out, err = _run(["evaluate", data, *how, "--n-boot", n_boot], capsys)
        assert code == 2 and out == ""
        line = _one_error_line(err)
        assert "--n-boot" in line and "at least 200" in line


@pytest.mark.parametrize("n_boot", ["0", "200"])
def test_evaluate_takes_no_interval_or_enough_resamples(tmp_path, capsys, n_boot):
    data = tmp_path / "coded.csv"
    generated_frame(n_per_class=10).to_csv(data, index=False)
    code, out, err = _run(["evaluate", data, "--model", "vader", "--n-boot", n_boot, "--json"],
                          capsys)
    assert code == 0, err
    report = json.loads(out)
    if n_boot == "0":
        assert report["macro_f1_ci"] is None
    else:
        low, high = report["macro_f1_ci"]
        assert low < high


# --- 4. the trained text column, and the trained columns in Python -------------------------------

@pytest.fixture(scope="module")
def message_model(tmp_path_factory) -> tuple[Path, Path]:
    """A model trained with --text-col message on a table whose 'text' column holds one
    sentence for every row (so only 'message' tells the labels apart), and that table."""
    root = tmp_path_factory.mktemp("message")
    table = generated_frame().rename(columns={"text": "message"})
    table["text"] = "nothing to read in this column"
    data = root / "coded.csv"
    table.to_csv(data, index=False)
    model = root / "msg.skops"
    assert main(["train", str(data), "--text-col", "message", "--cv", "0", "--fast",
                 "-o", str(model)]) == 0
    assert json.loads(card_path(model).read_text())["columns"]["text"] == "message"
    return model, data


def test_label_applies_the_trained_text_column_with_a_note(message_model, tmp_path, capsys):
    """Regression: without --text-col again, label read the 'text' column, silently."""
    model, data = message_model
    runs = {}
    for name, extra in (("unnamed", []), ("message", ["--text-col", "message"]),
                        ("text", ["--text-col", "text"])):
        runs[name] = tmp_path / f"{name}.parquet"
        code, _, err = _run(["label", data, "--model", model, "-o", runs[name], *extra], capsys)
        assert code == 0, err
        if extra:
            assert "note:" not in err  # the column was given
        else:
            notes = [line for line in err.splitlines() if line.startswith("note: ")]
            assert any("'message'" in line and "text column" in line for line in notes), err
    np.testing.assert_allclose(_probabilities(runs["unnamed"]), _probabilities(runs["message"]))
    assert not np.allclose(_probabilities(runs["unnamed"]), _probabilities(runs["text"]))


def test_evaluate_applies_the_trained_text_column(message_model, capsys):
    model, data = message_model
    reports = []
    for extra in ([], ["--text-col", "message"]):
        code, out, err = _run(["evaluate", data, "--model", model, "--n-boot", "0", "--json",
                               *extra], capsys)
        assert code == 0, err
        reports.append(json.loads(out))
        if not extra:
            assert "note: reading the text from the 'message' column" in err
    assert reports[0] == reports[1]
    assert reports[0]["accuracy"] > 0.9  # the 'text' column is one sentence for every row


def test_a_table_without_the_trained_text_column_gets_a_note(message_model, tmp_path, capsys):
    model, data = message_model
    bare = tmp_path / "bare.csv"
    pd.read_csv(data).drop(columns=["message"]).to_csv(bare, index=False)
    code, _, err = _run(["label", bare, "--model", model, "-o", tmp_path / "l.parquet"], capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert any("trained with the text column 'message'" in line and str(bare) in line
               and "'text' column instead" in line for line in notes), err
    # neither column: one error line naming the column the model was trained with
    neither = tmp_path / "neither.csv"
    pd.read_csv(data).drop(columns=["message", "text"]).to_csv(neither, index=False)
    code, _, err = _run(["label", neither, "--model", model, "-o", tmp_path / "n.parquet"],
                        capsys)
    assert code == 2
    assert "missing text column 'message'" in _one_error_line(err)


def test_label_posts_of_a_model_file_applies_its_trained_columns(column_model, message_model):
    """Regression: label_posts(table, 'model.skops') read no trained column; the CLI did."""
    from analysis.classifiers import label_posts

    proba = ["proba_support", "proba_criticism", "proba_other"]
    for (model, data), named in ((column_model, {"target_col": "tgt", "context_col": "parent"}),
                                 (message_model, {"text_col": "message"})):
        table = pd.read_csv(data)
        fitted = load_model(model)
        with pytest.warns(UserWarning) as caught:  # the notes of label, as warnings
            by_path = label_posts(table, str(model), progress=False)
        for role, column in named.items():
            assert any(f"the {role.removesuffix('_col')} from the {column!r} column" in
                       str(w.message) for w in caught), [str(w.message) for w in caught]
        given = label_posts(table, fitted, progress=False, **named)
        assert by_path["labeler_id"].tolist() == given["labeler_id"].tolist()
        np.testing.assert_allclose(by_path[proba].to_numpy(float), given[proba].to_numpy(float))
    # an argument given wins over the card: here the target read from 'parent', not 'tgt'
    model, data = column_model
    table = pd.read_csv(data)
    fitted = load_model(model)
    with pytest.warns(UserWarning, match="context from the 'parent' column") as caught:
        mine = label_posts(table, str(model), target_col="parent", progress=False)
    assert not any("'tgt'" in str(w.message) for w in caught)
    expected = label_posts(table, fitted, target_col="parent", context_col="parent",
                           progress=False)
    trained = label_posts(table, fitted, target_col="tgt", context_col="parent", progress=False)
    np.testing.assert_allclose(mine[proba].to_numpy(float), expected[proba].to_numpy(float))
    assert not np.allclose(mine[proba].to_numpy(float), trained[proba].to_numpy(float))


# --- 5. a model saved with labels in decomposed Unicode (NFD) ------------------------------------

def test_a_model_with_decomposed_labels_evaluates_against_composed_ones(tmp_path, capsys):
    """Regression: a model saved before labels were normalised to NFC (its classes in NFD)
    failed evaluate with 'labels [...] in the data are not among the model's labels'."""
    import unicodedata

    from analysis.classifiers import model_frame

    def nfc(label: str) -> str:
        return unicodedata.normalize("NFC", label)

    def nfd(label: str) -> str:
        return unicodedata.normalize("NFD", label)

    names = {"support": nfc("soutien"), "criticism": nfc("réfute"), "other": nfc("écarté")}
    table = generated_frame().assign(label=lambda f: f["label"].map(names))
    model, card = train_model(model_frame(table, target_col="target", label_col="label"), cv=0,
                              fast=True, model_id="old")
    # as such a model was saved: its classes, and its card's labels, decomposed
    last = model.steps[-1][1]
    last.classes_ = np.array([nfd(str(c)) for c in last.classes_])
    inner = getattr(last, "model_", None) or last.pooled_.model_  # `train`: pooled + per target
    inner.classes_ = last.classes_.copy()
    assert nfd("réfute") in set(model.classes_) and nfc("réfute") not in set(model.classes_)
    path = save_model(model, tmp_path / "old.skops", dict(card, labels=[nfd(label) for label
                                                                        in card["labels"]]))
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    code, out, err = _run(["evaluate", data, "--model", path, "--target-col", "target",
                           "--n-boot", "0", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert sorted(report["per_class"]) == sorted(names.values())
    assert report["accuracy"] > 0.9
    labels = tmp_path / "labels.parquet"
    code, _, err = _run(["label", data, "--model", path, "--target-col", "target",
                         "-o", labels], capsys)
    assert code == 0, err
    assert set(pd.read_parquet(labels)["label"]) <= set(names.values())
