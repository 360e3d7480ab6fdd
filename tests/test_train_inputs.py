"""Regressions of the files ``train`` and ``evaluate`` read (acceptance tests of the CLI): CSV
separated by ``;``, tab or ``|``, a file that is not UTF-8, labels with spaces around them,
model ids unfit for a labeler id or a file name, and labels quoted in label-set errors.

Data is generated here (template sentences, each text once); expected values are written out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import io
from analysis.classifiers.training import model_frame
from analysis.commands import main
from analysis.errors import UserError
from tests.test_train_evaluate_fixes import generated_table

LABELS = ["criticism", "other", "support"]


def _train(data, model, *extra: str) -> int:
    return main(["train", str(data), "--target-col", "target", "--cv", "0", "--fast",
                 "-o", str(model), *extra])


def _one_line_error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    return err


def _card(model) -> dict:
    return json.loads(model.with_name(model.stem + ".card.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple:
    """A model trained on the generated table (comma-separated), and that file."""
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "coded.csv"
    generated_table(12).to_csv(data, index=False)
    model = folder / "m.skops"
    assert _train(data, model) == 0
    return model, data


# -- 1. CSV separated by ';', tab or '|' (spreadsheets in many locales save ';') --------------


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_train_reads_csv_separated_by_semicolons_tabs_or_bars(tmp_path, capsys, sep):
    """Regression: a ';' file was one column named 'text;target;label' ("missing text column")
    or a tokenizer error; ingest sniffs the delimiter, train now does so too."""
    table = generated_table(12)
    table.loc[0, "text"] = "shame on Bob, really"  # a comma in a text: no delimiter for sep
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False, sep=sep)
    model = tmp_path / "m.skops"
    assert _train(data, model) == 0, capsys.readouterr().err
    card = _card(model)
    assert card["labels"] == LABELS
    assert card["n_train"] == 36
    assert card["label_counts"] == {"criticism": 12, "other": 12, "support": 12}


def _evaluate_json(trained, data: Path, capsys) -> dict:
    """``evaluate --json`` of the trained model on ``data``, which must succeed."""
    model, _ = trained
    capsys.readouterr()
    status = main(["evaluate", str(data), "--target-col", "target", "--model", str(model),
                   "--n-boot", "200", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_evaluate_reads_a_semicolon_csv(trained, tmp_path, capsys):
    data = tmp_path / "gold.csv"
    generated_table(12).to_csv(data, index=False, sep=";")
    report = _evaluate_json(trained, data, capsys)
    assert report["n"] == 36
    assert sorted(report["per_class"]) == LABELS


def test_a_csv_that_does_not_tokenize_names_the_delimiter_read(tmp_path):
    """A CSV whose rows have more fields than its header: the message says which delimiter the
    fields were read with (it was pandas' tokenizer error alone)."""
    data = tmp_path / "t.csv"
    data.write_text("text,label\nhello,support\nhi,there,support\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        io.read_table(data)
    message = str(caught.value)
    assert str(data) in message and "separated by ','" in message


# -- 2. a file that is not UTF-8 ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_latin1_csv_is_named_not_utf8_with_its_byte_and_line(trained, tmp_path, capsys,
                                                               command):
    """Regression: "'utf-8' codec can't decode byte 0xe9 in position 3" with no hint of what to
    do (and a position inside pandas' buffer, not the file)."""
    model, _ = trained
    table = generated_table(12)
    table.loc[4, "text"] = "caf\u00e9 " + table.loc[4, "text"]
    data = tmp_path / "latin.csv"
    table.to_csv(data, index=False, encoding="latin-1")
    raw = data.read_bytes()
    offset = raw.index(b"\xe9")
    line = raw[:offset].count(b"\n") + 1
    assert line == 6  # header, then rows 0-4
    if command == "train":
        status = _train(data, tmp_path / "m.skops")
    else:
        status = main(["evaluate", str(data), "--target-col", "target", "--model", str(model)])
    err = _one_line_error(capsys)
    assert status == 2
    assert str(data) in err and "not UTF-8" in err and "re-save the file as UTF-8" in err
    assert f"0xe9 at offset {offset} (line {line})" in err
    assert not (tmp_path / "m.skops").exists()


def test_not_utf8_counts_offsets_across_chunks(tmp_path):
    """The bad byte's offset and line are the file's, also when a character is split between
    the chunks the file is read in."""
    data = tmp_path / "t.csv"
    data.write_bytes(b"text\n" + "\u00e9\u00e9".encode() + b"\nab\xff\n")
    for size in (1, 2, 3, 5, 1000):
        assert "invalid byte 0xff at offset 12 (line 3)" in io.not_utf8(data, chunk_size=size)


# -- 3. labels with spaces around them ---------------------------------------------------------


def test_spaces_around_labels_are_dropped_and_spellings_merge(tmp_path, capsys):
    """Regression: ' support ' and 'support ' were labels of their own (columns such as
    'proba_ support ' in labels tables)."""
    table = generated_table(12)
    table["label"] = " " + table["label"] + " "
    table.loc[0, "label"] = "support"  # merges with ' support '
    table.loc[13, "label"] = "criticism\t"
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    model = tmp_path / "m.skops"
    assert _train(data, model) == 0, capsys.readouterr().err
    card = _card(model)
    assert card["labels"] == LABELS
    assert card["label_counts"] == {"criticism": 12, "other": 12, "support": 12}


def test_model_frame_strips_labels_and_keeps_their_case():
    table = pd.DataFrame({"text": ["a", "b", "c", "d"],
                          "label": [" Favor ", "Favor", "AGAINST ", "none"]})
    frame = model_frame(table, label_col="label")
    assert frame["label"].tolist() == ["Favor", "Favor", "AGAINST", "none"]


def _train_with_label(tmp_path, capsys, row: int, label: str) -> tuple[int, str, Path]:
    """Train on the generated table with one row's label replaced: status, error line, data."""
    table = generated_table(12)
    table.loc[row, "label"] = label
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    status = _train(data, tmp_path / "m.skops")
    return status, _one_line_error(capsys), data


def test_a_label_of_spaces_only_is_no_label(tmp_path, capsys):
    status, err, data = _train_with_label(tmp_path, capsys, 3, "   ")
    assert status == 2 and str(data) in err and "1 rows have no label" in err


def test_evaluate_strips_the_gold_labels(trained, tmp_path, capsys):
    """Gold labels ' support ' score as 'support' against a model trained on 'support'."""
    table = generated_table(12)
    table["label"] = table["label"] + "  "
    data = tmp_path / "gold.csv"
    table.to_csv(data, index=False)
    report = _evaluate_json(trained, data, capsys)
    assert sorted(report["per_class"]) == LABELS
    assert {label: row["support"] for label, row in report["per_class"].items()} == \
        {"criticism": 12, "other": 12, "support": 12}


def test_labels_differing_by_case_are_still_refused_naming_each_spelling(tmp_path, capsys):
    status, err, _ = _train_with_label(tmp_path, capsys, 0, "Support ")
    assert status == 2 and "'Support '" in err and "'support'" in err


# -- 4. model ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", ["a@b", "a/b", "my model", "", "-x", "caf\u00e9", "a\nb"])
def test_a_model_id_outside_letters_digits_dash_underscore_dot_is_refused(tmp_path, capsys,
                                                                          trained, model_id):
    """Regression: --model-id "a@b" was accepted: labeler_id 'a@b@<version>' (the '@'
    separates the version)."""
    _, data = trained
    model = tmp_path / "m.skops"
    status = _train(data, model, f"--model-id={model_id}")
    err = _one_line_error(capsys)
    assert status == 2
    assert "--model-id" in err and repr(model_id) in err
    assert "letters, digits, '-', '_' and '.'" in err
    assert not model.exists()


def test_a_model_id_of_letters_digits_dash_underscore_dot_is_kept(tmp_path, trained):
    _, data = trained
    model = tmp_path / "m.skops"
    assert _train(data, model, "--model-id", "Stance-v1.2_en") == 0
    assert _card(model)["model_id"] == "Stance-v1.2_en"


def test_a_file_name_unfit_as_model_id_asks_for_model_id(tmp_path, capsys, trained):
    _, data = trained
    model = tmp_path / "my model@2.skops"
    status = _train(data, model)
    err = _one_line_error(capsys)
    assert status == 2 and "'my model@2'" in err and "--model-id" in err
    assert not model.exists()


def test_train_model_refuses_a_bad_model_id():
    from analysis.classifiers import train_model

    frame = model_frame(generated_table(12), target_col="target", label_col="label")
    with pytest.raises(UserError, match="letters, digits"):
        train_model(frame, model_id="a@b", cv=0, fast=True)


# -- 5. labels quoted in label-set errors ------------------------------------------------------


def _copy_model(model, folder, card: dict):
    copy = folder / "copy.skops"
    copy.write_bytes(model.read_bytes())
    (folder / "copy.card.json").write_text(json.dumps(card), encoding="utf-8")
    return copy


def test_a_card_whose_labels_are_no_list_is_shown_quoted(trained, tmp_path, capsys):
    """Regression: "the model card lists labels support but ..." (unquoted: a label ' ' or ''
    was invisible)."""
    model, data = trained
    for listed, shown in ((" support", "' support'"), ("", "''")):
        card = _card(model) | {"labels": listed}
        copy = _copy_model(model, tmp_path, card)
        status = main(["evaluate", str(data), "--target-col", "target", "--model", str(copy)])
        err = _one_line_error(capsys)
        assert status == 2 and "copy.card.json" in err
        assert f"lists labels {shown}" in err


def test_a_card_listing_other_labels_is_shown_quoted(trained, tmp_path, capsys):
    model, data = trained
    card = _card(model) | {"labels": ["criticism", "other", "support "]}
    copy = _copy_model(model, tmp_path, card)
    status = main(["evaluate", str(data), "--target-col", "target", "--model", str(copy)])
    err = _one_line_error(capsys)
    assert status == 2
    assert "['criticism', 'other', 'support ']" in err
    assert "predicts ['criticism', 'other', 'support']" in err


def test_gold_labels_the_model_lacks_are_quoted(trained, tmp_path, capsys):
    model, _ = trained
    table = generated_table(12)
    table.loc[table["label"] == "other", "label"] = "neutral"
    data = tmp_path / "gold.csv"
    table.to_csv(data, index=False)
    status = main(["evaluate", str(data), "--target-col", "target", "--model", str(model)])
    err = _one_line_error(capsys)
    assert status == 2 and str(data) in err and "['neutral']" in err


def test_label_reads_a_semicolon_csv(tmp_path):
    from analysis.commands import main
    from analysis.io import read_table

    data = tmp_path / "generated_replies.csv"
    data.write_text("uid;text\nr1;we stand with you\nr2;what a liar\n", encoding="utf-8")
    out = tmp_path / "labels.parquet"
    assert main(["label", str(data), "--model", "vader", "--target", "Alice", "-o",
                 str(out)]) == 0
    assert read_table(out)["uid"].tolist() == ["r1", "r2"]
