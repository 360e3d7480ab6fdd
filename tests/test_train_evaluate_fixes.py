"""Regressions of train and evaluate: repeated rows without uids, texts in several CV folds, the
macro-F1 interval over a fixed label set, --seed range, --target with --target-col, the data file
in evaluate's label-set errors, the reason fold notes give, and evaluate --cv choosing C.

Data is generated in the tests (template sentences, generated label sequences), except the test
that evaluate --cv agrees with train's card, which uses the bundled SemEval-2016 val split (real
tweets, as tests/test_classifiers.py reads it).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import evaluate_model, get_model, metrics, train_model, training
from analysis.classifiers.datasets import read_semeval_stance
from analysis.classifiers.default import make_pipeline
from analysis.classifiers.training import model_frame, user_pipeline
from analysis.commands import main
from analysis.errors import UserError

TEMPLATES = {"support": ["we stand with {t}", "so proud of {t} today", "thank you {t}"],
             "criticism": ["{t} is a liar", "shame on {t}", "nobody believes {t}"],
             "other": ["what time is the game", "the weather is cold", "lunch was pasta"]}


def generated_table(n_per_class: int = 20) -> pd.DataFrame:
    """Generated labelled replies (no uid column): template sentences, each text once."""
    rng = np.random.default_rng(0)
    rows = []
    for label, templates in TEMPLATES.items():
        for i in range(n_per_class):
            target = ["Alice", "Bob"][rng.integers(2)]
            rows.append({"text": templates[rng.integers(3)].format(t=target) + f" {i}",
                         "target": target, "label": label, "thread": f"thread{i % 6}"})
    return pd.DataFrame(rows)


def _status(args: list[str]) -> int:
    """``main(args)``'s exit status, also when argparse exits (a usage error)."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code)


def _one_line_error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


# -- 4b. texts in several CV folds: a note and a card field ------------------------------------


def copied_texts(prefix: tuple[str, str] = ("", "")) -> pd.DataFrame:
    """Generated rows in group A and their copies (same texts, new uids) in group B: with two
    folds, every copy is in the other fold. ``prefix`` starts the originals' and the copies'
    texts (e.g. two @handles)."""
    table = generated_table(10)
    table["uid"] = [f"gen:{i}" for i in range(len(table))]
    table["group"] = "A"
    copies = table.assign(uid=table["uid"] + ":copy", group="B")
    table["text"] = prefix[0] + table["text"]
    copies["text"] = prefix[1] + copies["text"]
    return pd.concat([table, copies], ignore_index=True)


def test_fold_plan_counts_rows_whose_text_is_in_another_fold():
    table = copied_texts()
    frame = model_frame(table, target_col="target", label_col="label", group_col="group")
    plan = training.fold_plan(frame, groups=frame["group"], cv=2)
    assert plan["texts_in_several_folds"] == 60
    table.loc[[0, 30], "text"] = "  "  # a row and its copy without words: they do not count
    frame = model_frame(table, target_col="target", label_col="label", group_col="group")
    plan = training.fold_plan(frame, groups=frame["group"], cv=2)
    assert plan["texts_in_several_folds"] == 58


def test_texts_are_compared_as_the_pipeline_reads_them():
    # "@ann ..." and "@bob ..." are one text to train's features (handles become @user), two to
    # features that keep handles.
    frame = model_frame(copied_texts(("@ann ", "@bob ")), target_col="target",
                        label_col="label", group_col="group")
    groups = frame["group"]
    normalizing = training.fold_plan(frame, groups=groups, cv=2,
                                     estimator=user_pipeline(len(frame), fast=True))
    exact = training.fold_plan(frame, groups=groups, cv=2, estimator=make_pipeline())
    assert normalizing["texts_in_several_folds"] == 60
    assert exact["texts_in_several_folds"] == 0


def test_train_notes_texts_in_several_folds_and_records_them(tmp_path, capsys):
    """Regression: the same texts under new uids in another group gave CV macro-F1 1.000 with
    no warning."""
    data = tmp_path / "coded.csv"
    copied_texts().to_csv(data, index=False)
    model = tmp_path / "m.skops"
    status = main(["train", str(data), "--target-col", "target", "--group-col", "group",
                   "--cv", "2", "--fast", "-o", str(model)])
    err = capsys.readouterr().err
    assert status == 0
    assert "note: 60 rows have the same text as a row in another fold" in err
    assert "inflated" in err
    card = json.loads(model.with_suffix(".card.json").read_text())
    assert card["cv_texts_in_several_folds"] == 60


@pytest.mark.parametrize("command", [["train", "-o", "m.skops"], ["evaluate", "--n-boot", "0"]],
                         ids=["train", "evaluate --cv"])
def test_texts_in_several_folds_note_fits_a_given_group_col(tmp_path, monkeypatch, capsys,
                                                            command):
    """Regression: with --group-col given, the note still advised "give them one group
    (--group-col)"; the copies are in different groups of that column."""
    monkeypatch.chdir(tmp_path)
    copied_texts().rename(columns={"group": "thread_id"}).to_csv("generated.csv", index=False)
    status = main([command[0], "generated.csv", "--target-col", "target", "--group-col",
                   "thread_id", "--cv", "2", "--fast", *command[1:]])
    err = capsys.readouterr().err
    assert status == 0
    assert "note: 60 rows have the same text as a row in another fold" in err
    assert ("the copies are in different groups of the --group-col column: drop them, or give "
            "each text's copies the same group there") in err
    assert "give them one group" not in err


# -- 5. the macro-F1 interval is over the point estimate's label set ---------------------------


def rare_label_sample(n: int = 300) -> tuple[list[str], list[str]]:
    """Generated labels: a and b 60% right (the errors swap them), c two rows, both right.
    macro-F1 = (0.6 + 0.6 + 1) / 3."""
    right = int(n * 0.6)
    y = ["a"] * n + ["b"] * n + ["c"] * 2
    p = ["a"] * right + ["b"] * (n - right) + ["b"] * right + ["a"] * (n - right) + ["c"] * 2
    return y, p


def test_interval_keeps_a_rare_label_in_every_resample():
    """Regression: resamples without the rare label's two rows scored 2-label macro-F1 (0.6),
    so the interval of a 0.733 estimate reached down to 0.58."""
    y, p = rare_label_sample()
    report = metrics.classification_report(y, p, ["a", "b", "c"], n_boot=1000)
    low, high = report["macro_f1_ci"]
    assert report["macro_f1"] == pytest.approx(2.2 / 3)
    assert 0.68 < low < report["macro_f1"] < high < 0.79


def test_grouped_interval_draws_groups_holding_every_label():
    y, p = rare_label_sample()
    rng = np.random.default_rng(1)  # generated groups; the two c rows are in group 0 only
    groups = np.concatenate([rng.integers(1, 20, size=len(y) - 2), [0, 0]])
    low, high = metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=500, groups=groups)
    assert 0.68 < low <= 2.2 / 3 <= high < 0.79


def test_grouped_interval_refuses_labels_in_too_few_groups():
    labels = list("abcdefgh")
    y = [c for c in labels for _ in range(5)]  # each label its own group: hardly ever all drawn
    with pytest.raises(UserError, match="in only 1 of 8 groups"):
        metrics.bootstrap_ci(y, y, labels, n_boot=50, groups=y)


# -- 6. --seed out of range: one line, exit status 2 -------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
@pytest.mark.parametrize("command", [["train", "--cv", "0", "--fast"], ["train", "--fast"],
                                     ["evaluate", "--model", "vader"]])
def test_a_seed_out_of_range_is_a_usage_error(tmp_path, capsys, seed, command):
    data = tmp_path / "coded.csv"
    generated_table().to_csv(data, index=False)
    output = ["-o", str(tmp_path / "m.skops")] if command[0] == "train" else []
    status = _status([command[0], str(data), *command[1:], *output, "--target-col", "target",
                      "--seed", seed])
    assert status == 2
    assert "--seed: must be a whole number from 0 to 4294967295" in _one_line_error(capsys)


def test_the_largest_seed_is_accepted(tmp_path, capsys):
    data = tmp_path / "coded.csv"
    generated_table().to_csv(data, index=False)
    assert main(["train", str(data), "--target-col", "target", "--cv", "0", "--fast",
                 "--seed", "4294967295", "-o", str(tmp_path / "m.skops")]) == 0


# -- 7. --target with --target-col: refused by train, evaluate and label alike -----------------


@pytest.mark.parametrize("command", [["train", "--cv", "0", "--fast", "-o", "m.skops"],
                                     ["evaluate", "--model", "vader"],
                                     ["label", "--model", "vader", "-o", "labels.csv"]])
def test_target_with_target_col_is_refused(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    generated_table().to_csv("coded.csv", index=False)
    status = _status([command[0], "coded.csv", *command[1:], "--target", "Alice",
                      "--target-col", "target"])
    assert status == 2
    assert "not allowed with argument" in _one_line_error(capsys)
    assert not (tmp_path / "m.skops").exists()


# -- 8. evaluate's label-set errors name the data file -----------------------------------------


@pytest.mark.parametrize(("labels", "average_over", "message"), [
    ("favor", None, "labels \\['favor'\\] in the data are not among"),
    (None, ["favor"], "average_over \\(--average-over\\) names \\['favor'\\]")])
def test_label_set_errors_name_the_data_file(labels, average_over, message):
    table = generated_table()
    if labels:
        table["label"] = labels
    frame = model_frame(table, target_col="target", label_col="label")
    with pytest.raises(UserError, match=message) as error:
        evaluate_model(frame, get_model("vader"), n_boot=0, average_over=average_over,
                       source="coded.csv")
    assert str(error.value).startswith("coded.csv: ")


# -- 9. the fold note gives the reason that applies ---------------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
def test_fold_note_says_why_a_label_went_unlearned(tmp_path, capsys, grouped):
    table = generated_table()
    if grouped:  # thread0 holds every 'other' row
        table.loc[table["label"] == "other", "thread"] = "thread0"
    else:  # one 'other' row: fewer rows than folds
        table = table[(table["label"] != "other") | (table.index == 40)]
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    model = tmp_path / "m.skops"
    status = main(["train", str(data), "--target-col", "target", "--cv", "3", "--fast",
                   "-o", str(model), *(["--group-col", "thread"] if grouped else [])])
    err = capsys.readouterr().err
    assert status == 0
    assert "note: some folds trained without any row of ['other']" in err
    card = json.loads(model.with_suffix(".card.json").read_text())
    assert card["cv_grouped"] is grouped
    if grouped:
        assert "each group holding them was held out whole" in err
    else:
        assert "group" not in err
        assert "fewer rows than the 3 folds" in err


# -- 10. evaluate --cv chooses C as train does, and agrees with its card ------------------------


def test_evaluate_cv_agrees_with_the_train_card(tmp_path, capsys):
    """Regression: evaluate --cv kept C = 1 where train chose another C, so the two differed
    (0.330 against the card's 0.348 on 600 SemEval rows)."""
    data = tmp_path / "val.csv"
    read_semeval_stance("val")[["uid", "text", "target", "label"]].to_csv(data, index=False)
    model = tmp_path / "m.skops"
    assert main(["train", str(data), "--cv", "3", "--fast", "-o", str(model)]) == 0
    card = json.loads(model.with_suffix(".card.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(data), "--cv", "3", "--fast", "--n-boot", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert card["C"] != 1.0  # this sample is one where the choice of C matters
    assert report["C"] == card["C"]
    assert report["C_selection"] == card["C_selection"]
    assert report["macro_f1"] == card["cv_metrics"]["macro_f1"]
    assert report["confusion"] == card["cv_confusion"]


def test_train_model_and_cross_validate_choose_c_on_the_same_folds():
    table = generated_table()
    frame = model_frame(table, target_col="target", label_col="label", group_col="thread")
    _, card = train_model(frame, cv=3, fast=True)
    _, fields = training.cross_validate(user_pipeline(len(frame), fast=True), frame,
                                        groups=frame["group"], cv=3,
                                        C_grid=training.C_GRID)
    assert fields["C"] == card["C"]
    assert fields["cv_metrics"]["macro_f1"] == card["cv_metrics"]["macro_f1"]


# -- labels written two ways (found by the text hunt) -------------------------------------------


def test_labels_that_differ_only_by_case_or_spaces_are_refused(tmp_path, capsys):
    """Regression: 'favor ' and 'None' were learned as labels of their own beside 'favor' and
    'none' (five labels instead of three; CV macro-F1 0.49 -> 0.31 on real data)."""
    table = generated_table()
    table.loc[0, "label"] = table.loc[1, "label"] + " "
    table.loc[2, "label"] = table.loc[3, "label"].upper()
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    status = main(["train", str(data), "--target-col", "target", "--cv", "0", "--fast",
                   "-o", str(tmp_path / "m.skops")])
    err = _one_line_error(capsys)
    assert status == 2 and str(data) in err and "differ only by case or spaces" in err
    assert repr(table.loc[1, "label"] + " ") in err
    assert not (tmp_path / "m.skops").exists()


# -- acceptance defect 2: a label with no gold and no predicted row does not count in F_avg ----


@pytest.fixture(scope="module")
def generated_model(tmp_path_factory) -> tuple:
    """A model trained by ``train`` on the generated table (support / criticism / other) and the
    file it was trained from."""
    folder = tmp_path_factory.mktemp("generated_model")
    data = folder / "coded.csv"
    generated_table().to_csv(data, index=False)
    model = folder / "m.skops"
    assert main(["train", str(data), "--target-col", "target", "--cv", "0", "--fast",
                 "-o", str(model)]) == 0
    return model, data


def _evaluate_without_criticism(model, tmp_path, capsys, average_over: str
                                ) -> tuple[dict, str]:
    """``evaluate --json`` and the text report of ``model`` on generated rows without a
    criticism row, averaging over ``average_over``."""
    data = tmp_path / "no_criticism.csv"
    generated_table().query("label != 'criticism'").to_csv(data, index=False)
    capsys.readouterr()
    args = ["evaluate", str(data), "--model", str(model), "--target-col", "target",
            "--average-over", average_over, "--n-boot", "0"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    return report, capsys.readouterr().out


def test_evaluate_leaves_out_a_label_with_no_gold_and_no_predicted_row(generated_model, tmp_path,
                                                                       capsys):
    """Regression: --average-over support,criticism on rows without criticism, none predicted
    so, gave F_avg 0.5 (criticism's F1 counted as 0) for a model right on every row."""
    report, out = _evaluate_without_criticism(generated_model[0], tmp_path, capsys,
                                              "support,criticism")
    assert report["accuracy"] == 1.0
    assert report["f_avg"] == 1.0 and report["macro_f1"] == 1.0
    assert report["f_avg_labels_absent"] == ["criticism"]
    assert report["per_class"]["criticism"] == {"precision": None, "recall": None, "f1": None,
                                                "support": 0}
    assert "F_avg over support, criticism: 1.000 (left out, no row and no prediction: " \
           "criticism)" in out
    assert "criticism              -         -         -        0" in out


def test_evaluate_says_f_avg_is_undefined_when_no_averaged_label_occurs(generated_model,
                                                                        tmp_path, capsys):
    report, out = _evaluate_without_criticism(generated_model[0], tmp_path, capsys,
                                              "criticism")
    assert report["f_avg"] is None and report["f_avg_labels_absent"] == ["criticism"]
    assert "F_avg over criticism: undefined (no row and no prediction of criticism)" in out
    assert "criticism              -         -         -        0" in out


# -- acceptance defect 6: data_sha256 is the sha256 of the training file ------------------------


def test_card_data_sha256_is_the_sha256_of_the_training_file(generated_model, tmp_path):
    """Regression: data_sha256 was a digest of the columns read, not the file's sha256."""
    from analysis.io import sha256_file

    model, data = generated_model
    card = json.loads(model.with_suffix(".card.json").read_text())
    assert card["data_sha256"] == sha256_file(data)
    assert card["source_file"] == data.name
    # the digest of the rows as read stays, under its own name: the same rows from another
    # file format give the same rows_sha256 and another data_sha256
    parquet = tmp_path / "coded.parquet"
    generated_table().to_parquet(parquet)
    other = tmp_path / "p.skops"
    assert main(["train", str(parquet), "--target-col", "target", "--cv", "0", "--fast",
                 "-o", str(other)]) == 0
    again = json.loads(other.with_suffix(".card.json").read_text())
    assert again["data_sha256"] == sha256_file(parquet) != card["data_sha256"]
    assert again["rows_sha256"] == card["rows_sha256"]
    assert len(card["rows_sha256"]) == 64


def test_a_model_trained_from_a_frame_claims_no_file_sha256():
    frame = model_frame(generated_table(), target_col="target", label_col="label")
    _, card = train_model(frame, cv=0, fast=True)
    assert "data_sha256" not in card
    assert len(card["rows_sha256"]) == 64


# -- acceptance defect 7: null uids, a card of other labels, --cv errors naming the file -------


def test_train_refuses_rows_without_a_uid(tmp_path, capsys):
    """Regression: train accepted a table with empty uids, which label and evaluate refuse."""
    table = generated_table()
    table.insert(0, "uid", [f"gen:{i}" if i % 7 else None for i in range(len(table))])
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    missing = int(table["uid"].isna().sum())
    for command in (["train", "--cv", "0", "--fast", "-o", str(tmp_path / "m.skops")],
                    ["evaluate", "--model", "vader"]):
        status = main([command[0], str(data), *command[1:], "--target-col", "target"])
        err = _one_line_error(capsys)
        assert status == 2
        assert err.startswith(f"error: {data}: {missing} of {len(table)} rows have no uid"), err
    assert not (tmp_path / "m.skops").exists()


def test_evaluate_refuses_a_card_whose_labels_differ_from_the_model(generated_model, tmp_path,
                                                                    capsys):
    """Regression: a card listing other labels than the model's classes was used silently."""
    import shutil

    model, data = generated_model
    copy = tmp_path / "m.skops"
    shutil.copy(model, copy)
    card = json.loads(model.with_suffix(".card.json").read_text())
    card["labels"] = ["favor", "against", "none"]
    copy.with_suffix(".card.json").write_text(json.dumps(card))
    capsys.readouterr()
    out = tmp_path / "labels.parquet"
    for command in (["evaluate", str(data), "--model", str(copy), "--target-col", "target",
                     "--n-boot", "0"],
                    ["label", str(data), "--model", str(copy), "--target-col", "target",
                     "-o", str(out)]):
        status = main(command)
        err = _one_line_error(capsys)
        assert status == 2
        assert str(copy.with_suffix(".card.json")) in err
        assert "labels ['favor', 'against', 'none']" in err
        assert "['criticism', 'other', 'support']" in err
    assert not out.exists()


@pytest.mark.parametrize("jobs", ["0", "-5"])
def test_train_refuses_jobs_that_name_no_number_of_workers(tmp_path, capsys, jobs):
    """Regression: train refused --jobs 0 but took -5, which label and ingest refuse."""
    data = tmp_path / "coded.csv"
    generated_table().to_csv(data, index=False)
    status = main(["train", str(data), "--target-col", "target", "--fast", "--jobs", jobs,
                   "-o", str(tmp_path / "m.skops")])
    err = _one_line_error(capsys)
    assert status == 2
    assert f"--jobs must be a number of workers (1, 2, ...) or -1 for all cores, not {jobs}" in err
    assert not (tmp_path / "m.skops").exists()


@pytest.mark.parametrize("command", [["train", "--fast", "-o", "m.skops"],
                                     ["evaluate", "--fast"]])
@pytest.mark.parametrize(("cv", "group", "message"), [
    ("90", None, "cv (--cv) = 90 asks for more folds than there are rows (60)"),
    ("3", "one", "grouped cross-validation needs at least two groups")])
def test_cross_validation_errors_name_the_data_file(tmp_path, capsys, monkeypatch, command, cv,
                                                    group, message):
    """Regression: errors of the cross-validation (train --cv, evaluate --cv) named no file."""
    monkeypatch.chdir(tmp_path)
    generated_table().assign(one="g").to_csv("coded.csv", index=False)
    status = main([command[0], "coded.csv", *command[1:], "--target-col", "target", "--cv", cv,
                   *(["--group-col", group] if group else [])])
    err = _one_line_error(capsys)
    assert status == 2
    assert err.startswith("error: coded.csv: "), err
    assert message in err
    assert not (tmp_path / "m.skops").exists()


@pytest.mark.parametrize("command", [["train", "--fast", "-o", "m.skops"],
                                     ["evaluate", "--fast", "--cv", "5"]])
def test_evaluate_cv_refuses_the_rows_that_train_refuses(tmp_path, capsys, monkeypatch, command):
    """evaluate --cv cross-validated 6 rows (all C values tied) that train refuses."""
    monkeypatch.chdir(tmp_path)
    generated_table().head(6).to_csv("tiny.csv", index=False)
    assert main([command[0], "tiny.csv", *command[1:], "--target-col", "target"]) == 2
    err = _one_line_error(capsys)
    assert err.strip() == "error: tiny.csv: only 6 labelled rows; training needs at least 10"


@pytest.mark.parametrize("command", [["label", "-o", "labels.parquet"], ["evaluate"]])
def test_notes_on_the_trained_columns_do_not_come_before_an_error(tmp_path, capsys,
                                                                  monkeypatch, command):
    """evaluate printed two 'note:' lines about the columns the model was trained with, then
    the error (a table without a text column): the error must be the only line."""
    monkeypatch.chdir(tmp_path)
    generated_table().rename(columns={"text": "body", "target": "about"}).to_csv(
        "coded.csv", index=False)
    assert main(["train", "coded.csv", "--text-col", "body", "--target-col", "about",
                 "--cv", "0", "--fast", "-o", "m.skops"]) == 0
    generated_table().rename(columns={"text": "message"}).drop(columns="target").to_csv(
        "other.csv", index=False)
    capsys.readouterr()
    assert main([command[0], "other.csv", "--model", "m.skops", *command[1:]]) == 2
    err = _one_line_error(capsys)
    assert err.startswith("error: ") and "text column" in err


@pytest.mark.parametrize("command", [["train", "--cv", "0", "-o", "m.skops"],
                                     ["evaluate", "--cv", "3"]])
def test_train_warns_about_a_label_that_looks_like_a_typo(tmp_path, capsys, monkeypatch,
                                                          command):
    """One row labelled 'suport' was trained as a fourth label without a word."""
    monkeypatch.chdir(tmp_path)
    table = generated_table()
    first_support = table.index[table["label"] == "support"][0]
    table.loc[first_support, "label"] = "suport"
    table.to_csv("coded.csv", index=False)
    assert main([command[0], "coded.csv", "--target-col", "target", "--fast",
                 *command[1:]]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines()
              if "suport" in line and line.startswith("warning:")]
    assert warned == ["warning: coded.csv: label 'suport' (1 row) looks like a misspelling of "
                      "'support' (19 rows); fix it in the data, or the model learns it as a "
                      "label of its own"]
