"""Classifier defects found by the stop-20 acceptance test: depths a model never saw moving its
labels, label spellings that differ only in Unicode normalisation, the card's bootstrap
resamples, and VADER's fit. All data here is generated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.classifiers import label_posts, train_model
from tests.test_classifiers import generated_frame

PROBA = ["proba_support", "proba_criticism", "proba_other"]


def test_a_model_trained_without_depths_ignores_the_depths_of_a_posts_table():
    frame = generated_frame().assign(depth=None)
    model, _ = train_model(frame, cv=0)
    texts = frame.drop(columns=["label"])
    without = label_posts(texts, model, progress=False)
    for depth in (0, 1, 3):
        with_depth = label_posts(texts.assign(depth=depth), model, progress=False)
        assert with_depth["label"].tolist() == without["label"].tolist()
        assert np.allclose(with_depth[PROBA].to_numpy(dtype=float),
                           without[PROBA].to_numpy(dtype=float))


def test_a_model_trained_with_depths_still_reads_them():
    frame = generated_frame()
    rng = np.random.default_rng(1)
    frame["depth"] = rng.integers(0, 4, len(frame))
    model, _ = train_model(frame, cv=0)
    texts = frame.drop(columns=["label"])
    root = label_posts(texts.assign(depth=0), model, progress=False)
    deep = label_posts(texts.assign(depth=3), model, progress=False)
    assert not np.allclose(root[PROBA].to_numpy(dtype=float), deep[PROBA].to_numpy(dtype=float))


def test_labels_spelled_in_composed_and_decomposed_unicode_are_one_label():
    import unicodedata

    from analysis.classifiers import evaluate_model
    from analysis.classifiers.training import model_frame

    names = {"support": "positif", "criticism": "négatif", "other": "neutre"}
    table = generated_frame()
    table["label"] = table["label"].map(names)
    decomposed = table.index % 3 == 0
    table.loc[decomposed, "label"] = table.loc[decomposed, "label"].map(
        lambda label: unicodedata.normalize("NFD", label))
    assert table["label"].nunique() == 4  # two spellings of "négatif"
    model, card = train_model(model_frame(table, target_col="target", label_col="label"), cv=0)
    assert sorted(model.classes_) == ["neutre", "négatif", "positif"]
    nfd = table.assign(label=table["label"].map(lambda v: unicodedata.normalize("NFD", v)))
    report = evaluate_model(model_frame(nfd, target_col="target", label_col="label"), model,
                            n_boot=0)
    assert sorted(report["per_class"]) == ["neutre", "négatif", "positif"]


def test_vader_fit_on_labelled_data_tunes_its_thresholds():
    # issue #4: "labels from compound thresholds (+/-0.05 by default; `fit` on labelled data
    # tunes them)". Generated texts: mildly positive ones labelled other.
    from analysis.classifiers import VaderClassifier

    texts = ["ok fine", "good", "nice", "I love this so much!!", "great, wonderful, amazing",
             "this is terrible and awful", "I hate it", "a chair", "the bus"] * 3
    labels = ["other", "other", "other", "support", "support", "criticism", "criticism",
              "other", "other"] * 3
    tuned = VaderClassifier().fit(texts, labels)
    assert tuned.upper_ > 0.05
    assert (tuned.predict(texts) == pd.Series(labels).to_numpy()).all()
    kept = VaderClassifier(tune=False).fit(texts, labels)
    assert (kept.lower_, kept.upper_) == (-0.05, 0.05)
    unlabelled = VaderClassifier().fit(texts)
    assert (unlabelled.lower_, unlabelled.upper_) == (-0.05, 0.05)


def test_evaluate_cv_gives_the_interval_of_the_model_card(tmp_path, capsys):
    import json

    from analysis.commands import main

    data = tmp_path / "coded.csv"
    frame = generated_frame()
    frame["thread_id"] = [f"thread{i % 30}" for i in range(len(frame))]  # many groups
    noisy = frame.index % 3 == 0  # some rows coded otherwise, so that scores vary by resample
    frame.loc[noisy, "label"] = frame.loc[noisy, "label"].map(
        {"support": "other", "other": "criticism", "criticism": "support"})
    frame.to_csv(data, index=False)
    assert main(["train", str(data), "--target-col", "target", "--group-col", "thread_id",
                 "--cv", "3", "--fast", "-o", str(tmp_path / "m.skops")]) == 0
    card = json.loads((tmp_path / "m.card.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(data), "--cv", "3", "--group-col", "thread_id", "--fast",
                 "--target-col", "target", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["macro_f1"] == card["cv_metrics"]["macro_f1"]
    assert report["macro_f1_ci"] == card["cv_metrics"]["macro_f1_ci"]


def test_texts_without_words_get_a_no_stance_label_when_the_model_has_one():
    # a balanced SemEval-style sample: the class prior is a tie, which gave 'against' (the
    # first label) to every empty text
    names = {"support": "favor", "criticism": "against", "other": "none"}
    frame = generated_frame().assign(label=lambda f: f["label"].map(names))
    model, _ = train_model(frame, cv=0)
    posts = pd.DataFrame({"uid": ["a", "b", "c"], "text": ["", "🙏", "@ann https://t.co/x"],
                          "target": "Alice"})
    labels = label_posts(posts, model, target_col="target", progress=False)
    assert labels["label"].tolist() == ["none"] * 3


def test_average_over_labels_are_read_as_the_data_labels_are():
    import unicodedata

    from analysis.commands.evaluate import average_over_labels

    typed = unicodedata.normalize("NFD", "négatif") + ", positif "
    assert average_over_labels(typed) == [unicodedata.normalize("NFC", "négatif"), "positif"]
