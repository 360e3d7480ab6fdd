"""Python API defects found by an acceptance tester working from Python rather than the command
line: a model given as a pathlib.Path, a model trained in Python that forgot its fixed target,
replies without a root labelled without a word, run ids blind to the target, and unclear errors
for a Series or a frame without labels. All data here is generated."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis.annotate import assign_coders, measure_agreement
from analysis.classifiers import label_posts, model_card, save_model, train_model
from analysis.classifiers.training import model_frame
from analysis.commands import main
from analysis.errors import UserError
from tests.test_classifiers import generated_frame
from tests.test_label_leftovers import posts_table

TARGET = "the generated person"


@pytest.fixture(scope="module")
def fixed_target_model(tmp_path_factory) -> Path:
    """A fast model trained from Python toward a fixed target, saved with its card."""
    table = generated_frame(120, seed=5)
    frame = model_frame(table, text_col="text", target=TARGET, label_col="label")
    model, card = train_model(frame, model_id="generated", cv=0, fast=True,
                              data_file=None)
    path = tmp_path_factory.mktemp("model") / "generated.skops"
    save_model(model, path, card)
    return path


def test_a_model_trained_in_python_records_its_columns_and_fixed_target(fixed_target_model):
    card = model_card(str(fixed_target_model))
    assert card["columns"]["fixed_target"] == TARGET
    assert card["columns"]["text"] == "text" and card["columns"]["label"] == "label"
    # and label_posts applies it, saying so, as `label` does for a model trained by `train`
    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["I stand with her", "this is a lie"]})
    with pytest.warns(UserWarning, match="labelling toward 'the generated person'"):
        toward = label_posts(posts, str(fixed_target_model))
    explicit = label_posts(posts, str(fixed_target_model), target=TARGET)
    pd.testing.assert_frame_equal(toward, explicit)


def test_a_loaded_model_object_keeps_its_fixed_target(fixed_target_model):
    from analysis.classifiers import get_model

    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["I stand with her", "this is a lie"]})
    loaded = get_model(str(fixed_target_model))
    assert loaded.fixed_target_ == TARGET
    with pytest.warns(UserWarning, match="labelling toward 'the generated person'"):
        by_object = label_posts(posts, loaded)
    pd.testing.assert_frame_equal(by_object, label_posts(posts, loaded, target=TARGET))
    other = label_posts(posts, loaded, target="someone else")
    assert other["run_id"].iloc[0] != by_object["run_id"].iloc[0]


def test_train_model_records_the_data_file_name(tmp_path):
    table = generated_frame(60, seed=6)
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    frame = model_frame(pd.read_csv(data), text_col="text", label_col="label")
    _, card = train_model(frame, model_id="generated", cv=0, fast=True, data_file=data)
    assert card["source_file"] == "coded.csv"


def test_label_posts_takes_a_pathlib_path(fixed_target_model):
    posts = pd.DataFrame({"uid": ["a"], "text": ["so true"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_path = label_posts(posts, fixed_target_model)
        by_str = label_posts(posts, str(fixed_target_model))
    pd.testing.assert_frame_equal(by_path, by_str)
    with pytest.raises(UserError, match="no such"):
        label_posts(posts, fixed_target_model.with_name("missing.skops"))


def test_label_posts_warns_about_replies_without_a_root():
    posts = posts_table([("1", "1", None, "The minister resigned"),
                         ("4", "99", "99", "this is fake"), ("5", "99", "4", "why")])
    with pytest.warns(UserWarning, match="2 replies have no root post in the table; labelled "
                                         "without a target"):
        label_posts(posts, "default", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a target given: nothing to say
        label_posts(posts, "default", target="the minister", progress=False)


def test_the_run_id_changes_with_the_target():
    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["so true", "this is fake"]})
    one = label_posts(posts, "default", target="the minister", progress=False)
    other = label_posts(posts, "default", target="the opposition", progress=False)
    again = label_posts(posts, "default", target="the minister", progress=False)
    assert one["run_id"].iloc[0] != other["run_id"].iloc[0]
    assert one["run_id"].iloc[0] == again["run_id"].iloc[0]


def test_the_cli_and_python_give_the_same_run_id(tmp_path):
    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["so true", "this is fake"]})
    posts.to_csv(tmp_path / "posts.csv", index=False)
    assert main(["label", str(tmp_path / "posts.csv"), "--target", "the minister",
                 "--no-progress", "-o", str(tmp_path / "labels.parquet")]) == 0
    cli = pd.read_parquet(tmp_path / "labels.parquet")
    python = label_posts(posts, "default", target="the minister", progress=False)
    assert cli["run_id"].tolist() == python["run_id"].tolist()


def test_a_model_without_its_card_is_labelled_with_a_warning(fixed_target_model, tmp_path,
                                                             capsys):
    """A .skops file copied without its card forgot its fixed target without a word."""
    import shutil

    alone = tmp_path / "alone.skops"
    shutil.copy(fixed_target_model, alone)
    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["I stand with her", "this is a lie"]})
    with pytest.warns(UserWarning, match="no model card next to it .*fixed target it was "
                                         "trained with are unknown"):
        label_posts(posts, alone)
    posts.to_csv(tmp_path / "posts.csv", index=False)
    assert main(["label", str(tmp_path / "posts.csv"), "--model", str(alone), "--no-progress",
                 "-o", str(tmp_path / "labels.parquet")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "no model card" in line]
    assert len(warned) == 1 and warned[0].startswith("warning:")


def test_a_series_is_refused_with_a_clear_error():
    texts = pd.Series(["so true"], name="text")
    with pytest.raises(UserError, match="must be a table"):
        label_posts(texts, "vader")


def test_a_wrong_type_is_a_type_error_and_a_user_error_alike():
    """label_posts raised a UserError for a Series and estimate_shares a TypeError: each is now
    both, so that a Python caller can catch TypeError and the CLI prints one line."""
    from analysis import load_posts
    from analysis.classifiers import evaluate_model
    from analysis.trend import estimate_shares

    texts = pd.Series(["so true"], name="text")
    for call in (lambda: label_posts(texts, "vader"), lambda: estimate_shares(texts),
                 lambda: evaluate_model(texts, "vader"), lambda: load_posts(3)):
        with pytest.raises(TypeError) as info:
            call()
        assert isinstance(info.value, UserError)
        assert "not a Series (one column of a table" in str(info.value) or "not int" in str(
            info.value)


def test_load_posts_stops_when_every_record_is_rejected(tmp_path):
    import analysis

    data = tmp_path / "generated_comments.csv"
    pd.DataFrame({"post_id": ["1", "2"], "message": ["a", "b"],
                  "date": ["2024-03-01 10:00", "2024-03-01 11:00"]}).to_csv(data, index=False)
    field_map = {"id": "post_id", "text": "message", "created_at": "date"}
    with pytest.raises(UserError, match="no record could be read .*naive time"):
        analysis.load_posts(data, format="csv", platform="twitter", field_map=field_map)
    posts = analysis.load_posts(data, format="csv", platform="twitter", field_map=field_map,
                                tz="UTC")
    assert len(posts) == 2


def test_load_posts_refuses_a_table_in_place_of_paths():
    import analysis

    table = pd.DataFrame({"post_id": ["1"], "message": ["a"]})
    with pytest.raises(UserError, match="not DataFrame"):
        analysis.load_posts(table)


def test_evaluate_model_takes_a_model_name_and_says_what_is_wrong_with_its_rows():
    from analysis.classifiers import evaluate_model

    frame = model_frame(generated_frame(30, seed=8), text_col="text", target_col="target",
                        label_col="label")
    by_name = evaluate_model(frame, "vader", n_boot=0)
    from analysis.classifiers import get_model

    assert by_name == evaluate_model(frame, get_model("vader"), n_boot=0)
    with pytest.raises(UserError, match="no label column 'nope'"):
        evaluate_model(frame, "vader", label_col="nope", n_boot=0)
    with pytest.raises(UserError, match="must be a model frame .* not a Series"):
        evaluate_model(frame["text"], "vader", n_boot=0)
    with pytest.raises(UserError, match="must be a model frame .* not a Series"):
        train_model(frame["text"], model_id="generated", cv=0, fast=True)


def test_train_model_without_a_label_column_says_so():
    frame = model_frame(generated_frame(30, seed=7), text_col="text")  # no label_col
    with pytest.raises(UserError, match="no label column"):
        train_model(frame, model_id="generated", cv=0, fast=True)


# -- errors raised from Python name the Python argument (and the command's option) ------------

def _coded_twice() -> pd.DataFrame:
    """Generated codes: two coders, four posts."""
    return pd.DataFrame({"uid": [f"p{i}" for i in range(4)] * 2,
                         "labeler_id": ["ann"] * 4 + ["bob"] * 4,
                         "label": ["support", "other", "criticism", "other",
                                   "support", "other", "other", "other"]})


@pytest.mark.parametrize(("call", "message"), [
    (lambda: measure_agreement(_coded_twice(), n_boot=50),
     "n_boot must be 0 (no interval) or at least 200"),
    (lambda: measure_agreement(_coded_twice(), ci=95), "ci (--ci) must be between 0 and 1"),
    (lambda: assign_coders(pd.DataFrame({"uid": ["a", "b"]}), ["ann", "bob"], overlap=2),
     "overlap (--overlap) must be between 0 and 1"),
    (lambda: label_posts(pd.DataFrame({"uid": ["a"], "text": ["x"]}), "vader", target=" "),
     "target (--target) ' ' is empty")])
def test_python_errors_name_the_python_argument(call, message):
    with pytest.raises(UserError) as info:
        call()
    assert message in str(info.value)


def test_a_model_from_train_model_labels_with_the_version_of_its_saved_file(tmp_path):
    """Labels of a model straight from train_model said 'generated@0', those of the same model
    saved and loaded 'generated@<card version>': they did not name the same model."""
    frame = model_frame(generated_frame(120, seed=5), text_col="text", target=TARGET,
                        label_col="label")
    model, card = train_model(frame, model_id="generated", cv=0, fast=True)
    path = save_model(model, tmp_path / "generated.skops", card)
    posts = pd.DataFrame({"uid": ["a"], "text": ["I stand with her"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixed target's note
        in_memory = label_posts(posts, model)["labeler_id"].iloc[0]
        saved = label_posts(posts, path)["labeler_id"].iloc[0]
    assert in_memory == saved != "generated@0"
    # a card edited after training gives its own version when the model loads with it
    edited = dict(card, note="edited by hand")
    other = save_model(model, tmp_path / "edited.skops", edited)
    from analysis.classifiers import get_model
    from analysis.classifiers.persistence import card_version

    assert get_model(str(other)).version_ == card_version(edited) != model.version_


@pytest.mark.parametrize(("option", "hint"), [("map", "did you mean field_map=?"),
                                              ("keepauthors", "did you mean keep_authors=?")])
def test_load_posts_names_the_option_meant(option, hint):
    """load_posts(map=...) was Python's bare 'unexpected keyword argument' (the option is
    field_map). An acceptance tester's case."""
    from analysis import load_posts

    with pytest.raises(TypeError) as info:
        load_posts("never-read.csv", **{option: True})
    assert isinstance(info.value, UserError)
    assert f"load_posts() has no option {option!r}; {hint}" in str(info.value)
