"""`label`'s checks on its inputs, found by an acceptance test: models not made by this package,
uids on several rows, texts without words, languages of a table without a language column, and
``--jobs``. All data here is generated."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import get_model, label_posts, load_model, save_model, train_model
from analysis.commands import main
from analysis.errors import UserError
from tests.test_classifiers import generated_frame

PROBA = ["proba_support", "proba_criticism", "proba_other"]


@pytest.fixture(scope="module")
def trained():
    model, _ = train_model(generated_frame(), cv=0)
    return model


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], err


def write_table(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "generated_posts.csv"
    frame.to_csv(path, index=False)
    return str(path)


# --- 1. models not made by this package ---------------------------------------------------

def tfidf_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    frame = generated_frame()
    return Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression())]).fit(
        frame["text"].tolist(), frame["label"])


def test_label_refuses_a_plain_scikit_learn_text_pipeline_in_one_line(tmp_path, capsys):
    # it passed the load check (a model frame of one row gives rows of probabilities: one per
    # column name, read as four texts) and then failed with an IndexError
    import skops.io as sio

    model = tmp_path / "generated_tfidf.skops"
    sio.dump(tfidf_pipeline(), model)
    data = write_table(tmp_path, pd.DataFrame({"uid": ["a", "b"], "text": ["shame on you",
                                                                           "we stand with you"]}))
    out = tmp_path / "labels.parquet"
    code, _, err = run_cli(["label", data, "--model", str(model), "-o", str(out)], capsys)
    assert code == 2
    one_line_error(err, str(model), "not a model made by")
    assert not out.exists()


def test_load_refuses_our_features_with_a_plain_logistic_regression(tmp_path):
    # the docs said such models are refused; they loaded and labelled
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from analysis.classifiers.features import StanceFeatures

    frame = generated_frame()
    pipe = Pipeline([("features", StanceFeatures(min_df=1)), ("clf", LogisticRegression())])
    pipe.fit(frame.drop(columns=["label", "group"]), frame["label"])
    path = tmp_path / "generated_mixed.skops"
    save_model(pipe, path)
    with pytest.raises(UserError, match="not a model made by"):
        load_model(path)


def test_our_models_still_load(tmp_path, trained):
    path = save_model(trained, tmp_path / "generated_ours.skops")
    assert list(load_model(path).classes_) == list(trained.classes_)
    vader = get_model("vader")
    path = save_model(vader, tmp_path / "generated_vader.skops")
    assert list(load_model(path).classes_) == list(vader.classes_)


def test_label_posts_refuses_a_fitted_model_that_does_not_read_the_model_frame():
    posts = pd.DataFrame({"uid": ["a", "b"], "text": ["shame on you", "we stand with you"]})
    with pytest.raises(UserError, match="rows of probabilities"):
        label_posts(posts, tfidf_pipeline())


# --- 3. a uid on several rows ---------------------------------------------------------------

def test_label_refuses_a_uid_on_rows_with_different_texts(tmp_path, capsys, trained):
    posts = pd.DataFrame({"uid": ["a", "a", "b"], "text": ["we stand with Alice",
                                                           "shame on Alice", "lunch was pasta"]})
    with pytest.raises(UserError, match="uid"):
        label_posts(posts, trained)
    model = save_model(trained, tmp_path / "generated_m.skops")
    data = write_table(tmp_path, posts)
    out = tmp_path / "labels.parquet"
    code, _, err = run_cli(["label", data, "--model", str(model), "-o", str(out)], capsys)
    assert code == 2
    one_line_error(err, data, "'a'")
    assert not out.exists()


def test_label_writes_a_uid_repeated_exactly_once_with_a_warning(tmp_path, capsys, trained):
    posts = pd.DataFrame({"uid": ["a", "a", "b"], "text": ["we stand with Alice",
                                                           "we stand with Alice",
                                                           "lunch was pasta"]})
    with pytest.warns(UserWarning, match="repeat another row"):
        labels = label_posts(posts, trained)
    assert labels["uid"].tolist() == ["a", "b"]
    model = save_model(trained, tmp_path / "generated_m.skops")
    data = write_table(tmp_path, posts)
    out = tmp_path / "labels.parquet"
    code, _, err = run_cli(["label", data, "--model", str(model), "-o", str(out)], capsys)
    assert code == 0, err
    assert "warning:" in err and "repeat another row" in err
    assert pd.read_parquet(out)["uid"].tolist() == ["a", "b"]


# --- 4. texts without words -----------------------------------------------------------------

WORDLESS = ["😭😭😭🙏🙏", "❤️", "\u200b", ".", "!!! ???", "\u2060\u200b \ufeff", "", None]


@pytest.mark.parametrize("model_name", ["vader", "trained"])
def test_texts_without_a_letter_or_digit_are_labelled_as_empty_texts(model_name, trained):
    model = trained if model_name == "trained" else get_model("vader")
    worded = ["we stand with Alice", "2020", "ありがとう"]
    posts = pd.DataFrame({"uid": [f"u{i}" for i in range(len(WORDLESS) + len(worded))],
                          "text": WORDLESS + worded, "target": "Alice posted an update",
                          "lang": "en"})
    labels = label_posts(posts, model)
    probas = labels[PROBA].to_numpy(float)
    n = len(WORDLESS)
    assert labels["label"].iloc[:n].eq("other").all()
    assert np.allclose(probas[:n], 1 / 3)
    assert not np.isclose(probas[n:], 1 / 3, atol=1e-3).all(axis=1).any()


# --- 5. languages of a table without a language column ---------------------------------------

FOREIGN = ["Nous sommes tous avec toi, courage et bonne continuation à toute la famille",
           "Das ist wirklich eine Schande, niemand glaubt dir auch nur ein einziges Wort"]
ENGLISH = ["we stand with Alice today and always, thank you for sharing this",
           "nobody believes Alice, this is fake and she made it all up again"]


def test_a_table_without_a_language_column_is_checked_for_language(trained):
    texts = FOREIGN + ENGLISH
    plain = pd.DataFrame({"uid": ["f1", "f2", "e1", "e2"], "text": texts,
                          "target": "Alice posted an update"})
    unpulled = label_posts(plain.assign(lang="en"), trained)
    labels = label_posts(plain, trained)
    # the same labels; the foreign texts' probabilities pulled halfway to uniform
    assert labels["label"].tolist() == unpulled["label"].tolist()
    before, after = unpulled[PROBA].to_numpy(float), labels[PROBA].to_numpy(float)
    assert np.allclose(after[:2], 0.5 * before[:2] + 0.5 / 3)
    assert np.allclose(after[2:], before[2:])
    # detected batch by batch, in the workers with --jobs
    pd.testing.assert_frame_equal(label_posts(plain, trained, batch_size=1, jobs=2), labels)
    # a language column with no value at all says nothing either: detected too
    nulls = label_posts(plain.assign(lang=None, lang_detected=None), trained)
    assert np.allclose(nulls[PROBA].to_numpy(float), after)
    # a language column that has values is trusted as before
    said = label_posts(plain.assign(lang=["en", "en", "en", "fr"]), trained)
    assert np.allclose(said[PROBA].to_numpy(float)[:3], before[:3])


# --- 7. --jobs ------------------------------------------------------------------------------

@pytest.mark.parametrize("jobs", ["0", "-5"])
def test_label_refuses_jobs_that_name_no_number_of_workers(tmp_path, capsys, jobs):
    data = write_table(tmp_path, pd.DataFrame({"uid": ["a"], "text": ["we stand with you"]}))
    out = tmp_path / "labels.parquet"
    code, _, err = run_cli(["label", data, "--model", "vader", "--jobs", jobs, "-o", str(out)],
                           capsys)
    assert code == 2
    one_line_error(err, "--jobs", jobs)
    assert not out.exists()
    with pytest.raises(UserError, match="--jobs"):
        label_posts(pd.DataFrame({"uid": ["a"], "text": ["hi"]}), "vader", jobs=int(jobs))


def test_label_takes_all_cores_and_a_number_of_workers(trained):
    posts = pd.DataFrame({"uid": [f"u{i}" for i in range(6)],
                          "text": ["we stand with Alice", "shame on Alice"] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = label_posts(posts, trained, batch_size=2)
    for jobs in (-1, 2):
        pd.testing.assert_frame_equal(label_posts(posts, trained, batch_size=2, jobs=jobs), one)
