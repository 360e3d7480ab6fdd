"""``trend`` CLI: which confusion matrix corrects the shares when none is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers.persistence import card_version
from analysis.commands import main, warnings_to_stderr
from analysis.commands import trend as trend_command


def _default_card(*args, **kwargs):
    """The trend command's choice of card, its note printed as the command prints it."""
    with warnings_to_stderr():
        return trend_command._default_card(*args, **kwargs)


def _labels(labeler: str) -> pd.DataFrame:
    return pd.DataFrame({"uid": ["t:1", "t:2"], "label": ["support", "other"],
                         "labeler_id": [labeler, labeler]})


@pytest.fixture
def bundled_version(monkeypatch):
    """The bundled default model's card says it is version 5-abc (no model is built)."""
    monkeypatch.setattr("analysis.classifiers.model_card", lambda name: {"version": "5-abc"})


def test_labels_of_the_default_model_use_its_card_without_validation(capsys, bundled_version):
    assert _default_card(_labels("default@5-abc"), validation=None, method="auto") == "default"
    assert "model card" in capsys.readouterr().err


def test_a_validation_table_or_another_model_means_no_default_card(bundled_version):
    assert _default_card(_labels("default@5-abc"), validation=pd.DataFrame(),
                         method="auto") is None
    assert _default_card(_labels("vader@3.3.2"), validation=None, method="auto") is None
    mixed = pd.concat([_labels("default@5"), _labels("mine@1")], ignore_index=True)
    assert _default_card(mixed, validation=None, method="auto") is None


def test_adjusted_method_without_any_validation_is_one_line_and_exit_2(tmp_path, capsys):
    _labels("vader@3.3.2").to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"uid": ["t:0", "t:1", "t:2"], "thread_id": ["0"] * 3, "root_id": ["0"] * 3,
                  "depth": [0, 1, 1],
                  "created_at": ["2020-09-30T10:00:00Z", "2020-09-30T11:00:00Z",
                                 "2020-09-30T12:00:00Z"]}).to_csv(tmp_path / "posts.csv",
                                                                 index=False)
    status = main(["trend", str(tmp_path / "labels.csv"), "--posts", str(tmp_path / "posts.csv"),
                   "--freq", "1D", "--method", "acc", "-o", str(tmp_path / "trend.csv")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "validation" in err
    assert not (tmp_path / "trend.csv").exists()


CLASSES = ["support", "criticism", "other"]


def _write(tmp_path, labeler: str = "default@7-abc", proba: bool = True):
    """Posts of two threads (two roots, ten replies over two days) and their labels."""
    n = 12
    posts = pd.DataFrame({
        "uid": [f"t:{i}" for i in range(n)], "thread_id": [str(i % 2) for i in range(n)],
        "root_id": [str(i % 2) for i in range(n)], "depth": [0, 0] + [1] * (n - 2),
        "created_at": [f"2020-09-{30 if i < 7 else 29}T{10 + i}:00:00Z" for i in range(n)]})
    replies = posts["uid"].iloc[2:].reset_index(drop=True)
    predicted = [CLASSES[i % 3] for i in range(len(replies))]
    labels = pd.DataFrame({"uid": replies, "label": predicted, "labeler_id": labeler})
    if proba:
        for label in CLASSES:
            labels[f"proba_{label}"] = np.where(labels["label"] == label, 0.8, 0.1)
    posts.to_csv(tmp_path / "posts.csv", index=False)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    return tmp_path / "labels.csv", tmp_path / "posts.csv"


def _trend(tmp_path, labels, posts, *extra):
    return main(["trend", str(labels), "--posts", str(posts), "--n-boot", "0",
                 "-o", str(tmp_path / "trend.csv"), *extra])


@pytest.mark.parametrize("freq", ["0D", "0h", "-1D", "5"])
@pytest.mark.parametrize("relative", [[], ["--relative-to", "root"]])
def test_bad_frequency_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, freq, relative):
    """Regression: calendar 0D divided by zero; -1D wrote a header-only table and then failed
    with IndexError (exit 1); a bare 5 was read as 5 nanoseconds."""
    labels, posts = _write(tmp_path)
    status = _trend(tmp_path, labels, posts, f"--freq={freq}", "--method", "cc", *relative)
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert f"bad frequency {freq!r}" in err
    assert not (tmp_path / "trend.csv").exists()


@pytest.mark.parametrize("method", ["cc", "pcc"])
def test_unadjusted_methods_do_not_announce_the_default_card(tmp_path, capsys, method):
    """Regression: cc / pcc said they adjusted with the default model's confusion matrix."""
    labels, posts = _write(tmp_path)
    assert _trend(tmp_path, labels, posts, "--method", method) == 0
    err = capsys.readouterr().err
    assert "confusion matrix" not in err
    assert _default_card(pd.read_csv(labels), validation=None, method=method) is None


def _card(tmp_path, **fields) -> str:
    path = tmp_path / "model.card.json"
    path.write_text(json.dumps({**fields, "cv_confusion": {
        "labels": CLASSES, "matrix": [[8, 1, 1], [1, 8, 1], [1, 1, 8]]}}))
    return str(path)


def test_a_card_of_another_model_is_refused(tmp_path, capsys):
    """Regression: a card whose model_id is not the labels' model adjusted them silently."""
    labels, posts = _write(tmp_path, labeler="m1@ded9f9684001")
    card = _card(tmp_path, model_id="d1")
    status = _trend(tmp_path, labels, posts, "--method", "acc", "--model-card", card)
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert card in err and "'d1'" in err and "'m1'" in err
    assert not (tmp_path / "trend.csv").exists()


@pytest.mark.parametrize("fields", [{"model_id": "m1"}, {}])
def test_a_card_of_the_same_or_an_unknown_model_is_used(tmp_path, fields):
    card = _card(tmp_path, **fields)
    # the version load_model gives the model of this card (a card without a model_id is not
    # compared with the labels at all)
    version = card_version(json.loads(Path(card).read_text()))
    labels, posts = _write(tmp_path, labeler=f"m1@{version}")
    assert _trend(tmp_path, labels, posts, "--method", "acc", "--model-card", card) == 0
    assert set(pd.read_csv(tmp_path / "trend.csv")["method"]) == {"acc"}


def test_label_table_errors_name_the_labels_file(tmp_path, capsys):
    """Regression: '9 labels have missing or negative proba_ values' did not say which file."""
    labels, posts = _write(tmp_path)
    table = pd.read_csv(labels)
    table.loc[[0, 3], "proba_other"] = np.nan
    table.to_csv(labels, index=False)
    status = _trend(tmp_path, labels, posts, "--method", "pcc")
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert str(labels) in err and "2 rows" in err and "proba_" in err


def test_auto_without_gold_items_of_a_label_falls_back_with_one_line(tmp_path, capsys):
    """docs/statistics.md: auto falls back to pcc or cc when a label is not detectable (here:
    no gold item at all); an adjusted method asked for by name keeps the error."""
    labels, posts = _write(tmp_path, labeler="vader@3.3.2")
    validation = pd.read_csv(labels)[["uid", "label"]]
    validation = validation[validation["label"] != "criticism"]
    validation.to_csv(tmp_path / "val.csv", index=False)
    val = ["--validation", str(tmp_path / "val.csv")]
    assert _trend(tmp_path, labels, posts, "--method", "auto", *val) == 0
    chosen = pd.read_csv(tmp_path / "trend.csv")["method"].iloc[0]
    notes = [line for line in capsys.readouterr().err.splitlines() if "auto:" in line]
    assert chosen in ("cc", "pcc") and len(notes) == 1
    assert "criticism" in notes[0] and f"so {chosen} is used" in notes[0]
    (tmp_path / "trend.csv").unlink()
    assert _trend(tmp_path, labels, posts, "--method", "pacc", *val) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no gold items" in err
    assert str(tmp_path / "val.csv") in err  # the validation file is named
    assert not (tmp_path / "trend.csv").exists()


def test_the_default_card_note_says_what_auto_will_try(capsys, bundled_version):
    """Regression: the note said 'adjusting with the default model's ... confusion matrix' and
    then auto made no adjustment (a label barely detected): the note must not promise one."""
    _default_card(_labels("default@5-abc"), validation=None, method="auto")
    note = capsys.readouterr().err
    assert "adjusting with" not in note
    assert "auto adjusts with the default model's" in note and "if it shows every label" in note
    _default_card(_labels("default@5-abc"), validation=None, method="pacc")
    assert "pacc adjusts with the default model's" in capsys.readouterr().err


def test_auto_with_a_model_card_names_the_card_and_the_barely_detected_label(tmp_path, capsys):
    """Regression: with a model card and no --validation, auto's warning spoke of 'the
    validation data' and did not name the label barely detected."""
    labels, posts = _write(tmp_path, labeler="vader@3.3.2")
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"cv_confusion": {
        "labels": CLASSES, "matrix": [[80, 2, 18], [20, 6, 74], [5, 2, 93]]}}))
    assert _trend(tmp_path, labels, posts, "--method", "auto", "--model-card", str(card)) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "auto:" in line]
    assert len(notes) == 1
    assert "model card's cross-validated confusion matrix shows" in notes[0]
    assert "criticism 0.04" in notes[0] and "validation data" not in notes[0]
    assert "no validation items" not in notes[0] and "so cc is used" in notes[0]


def test_trend_shows_a_progress_bar_on_a_terminal_unless_no_progress(tmp_path, capsys,
                                                                     monkeypatch):
    """Regression: trend showed no progress at all, even on a terminal."""
    import sys

    labels, posts = _write(tmp_path, labeler="vader@3.3.2")
    assert _trend(tmp_path, labels, posts, "--method", "pcc") == 0
    assert "trend (pcc)" not in capsys.readouterr().err  # not a terminal: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    (tmp_path / "trend.csv").unlink()
    assert _trend(tmp_path, labels, posts, "--method", "pcc", "--no-progress") == 0
    assert "trend (pcc)" not in capsys.readouterr().err
    (tmp_path / "trend.csv").unlink()
    assert _trend(tmp_path, labels, posts, "--method", "pcc") == 0
    assert "trend (pcc)" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    (["--freq", "5"], "bad frequency"), (["--ci", "95"], "ci"),
    (["-o", "trend.png"], "unknown table type '.png'")])
def test_an_error_is_the_only_line_even_after_a_note(tmp_path, capsys, monkeypatch, extra,
                                                     message):
    """The default card's note came before errors (two lines), and -o trend.png was refused
    only after the whole estimation. An acceptance tester's cases."""
    confusion = {"labels": CLASSES, "matrix": [[80, 10, 10], [10, 80, 10], [10, 10, 80]]}
    monkeypatch.setattr("analysis.classifiers.model_card",
                        lambda name: {"version": "5-abc", "cv_confusion": confusion})
    labels, posts = _write(tmp_path, labeler="default@5-abc")
    monkeypatch.chdir(tmp_path)
    if extra[0] == "-o":
        monkeypatch.setattr(trend_command, "estimate_shares",
                            lambda *a, **k: pytest.fail("estimated before -o was checked"))
    capsys.readouterr()
    status = main(["trend", str(labels), "--posts", str(posts), "--n-boot", "0", "--method",
                   "auto", *(extra if extra[0] == "-o" else ["-o", "trend.csv", *extra])])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("error: ") and message in err[0]


def test_a_table_given_as_model_card_is_not_a_model_card(tmp_path, capsys):
    """'trend --model-card coded.csv' said 'the model card has no cv_confusion'."""
    labels, posts = _write(tmp_path, labeler="mine@1")
    coded = tmp_path / "coded.csv"
    coded.write_text("uid,label\nt:2,support\n", encoding="utf-8")
    capsys.readouterr()
    assert _trend(tmp_path, labels, posts, "--method", "acc", "--model-card", str(coded)) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {coded}: is not a model card: give a card (.json), a model (.skops) "
                   "with its card next to it, or 'default'")


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "is not a model card: it has no cv_confusion, model_id or labels"),
    ('{"alpha": 0.7, "n_units": 30}', "is not a model card: it has no cv_confusion"),
    ('{"model_id": "mine", "labels": ["a", "b"]}', "the model card has no cv_confusion")])
def test_a_json_that_is_no_model_card_says_so(tmp_path, capsys, content, message):
    labels, posts = _write(tmp_path, labeler="mine@1")
    card = tmp_path / "generated.json"
    card.write_text(content, encoding="utf-8")
    capsys.readouterr()
    assert _trend(tmp_path, labels, posts, "--method", "acc", "--model-card", str(card)) == 2
    assert message in capsys.readouterr().err


def test_a_model_without_its_card_as_model_card_says_the_card_is_missing(tmp_path, capsys):
    labels, posts = _write(tmp_path, labeler="mine@1")
    model = tmp_path / "nocard.skops"
    model.write_bytes(b"not read")
    capsys.readouterr()
    assert _trend(tmp_path, labels, posts, "--method", "acc", "--model-card", str(model)) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {model}: no model card next to the model (nocard.card.json); give "
                   "the card train wrote with it, or pass --validation")


def test_a_failed_write_is_the_only_line_after_a_note(tmp_path, capsys, monkeypatch):
    """-o in a folder that turned out not writable: the note came first, then the error."""
    from analysis.errors import UserError

    confusion = {"labels": CLASSES, "matrix": [[80, 10, 10], [10, 80, 10], [10, 10, 80]]}
    monkeypatch.setattr("analysis.classifiers.model_card",
                        lambda name: {"version": "5-abc", "cv_confusion": confusion})
    labels, posts = _write(tmp_path, labeler="default@5-abc")

    def refuse(frame, path, **kwargs):
        raise UserError("cannot write in this folder", path)

    monkeypatch.setattr(trend_command, "write_table", refuse)
    capsys.readouterr()
    assert _trend(tmp_path, labels, posts, "--method", "auto") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("cannot write in this folder"), err
