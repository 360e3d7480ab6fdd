"""The VADER baseline: exact agreement with vaderSentiment, the emoji worst-case guard, and the
scikit-learn estimator contract (the checks that apply to a text classifier)."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks as ec
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.classifiers import vader
from analysis.classifiers.vader import MAX_CHARS, MAX_TOKENS, VaderClassifier

# Texts from the vaderSentiment README examples, plus emoji and mixed cases.
README_TEXTS = [
    "VADER is smart, handsome, and funny.",
    "VADER is not smart, handsome, nor funny.",
    "The book was kind of good.",
    "At least it isn't a horrible book.",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Today SUX!",
    "send support or keep quiet",
]


@pytest.mark.parametrize("text", README_TEXTS)
def test_scores_equal_vadersentiment_for_ordinary_texts(text):
    assert vader.polarity_scores(text) == SentimentIntensityAnalyzer().polarity_scores(text)


def test_non_text_and_empty_score_zero():
    for value in (None, "", "   ", 3.5, np.nan):
        assert vader.polarity_scores(value)["compound"] == 0.0


def test_invisible_characters_score_as_an_empty_text():
    # a zero-width space, word joiner or byte-order mark is no text: str.strip() kept them, and
    # VADER scored "\u200b" fully neutral (neu 1.0) where an empty text scores all zeros
    zeros = vader.polarity_scores("")
    for value in ("\u200b", " \u2060\ufeff ", "\u200b\u200c\u200d"):
        assert vader.polarity_scores(value) == zeros
    assert vader.polarity_scores("\u200b great")["compound"] > 0.5


def test_emoji_worst_case_is_bounded():
    # Generated: 3,000 laughing emoji with words between; unguarded vaderSentiment 3.3.2 takes
    # minutes on this (quadratic in tokens; its issue #110), guarded it must stay under 50 ms.
    text = "lol great 😂😂 " * 1500
    vader.polarity_scores("warm up")
    start = time.perf_counter()
    scores = vader.polarity_scores(text)
    elapsed = time.perf_counter() - start
    assert scores["compound"] > 0.5
    assert elapsed < 0.2, f"one post took {elapsed:.3f} s"


def test_guard_scores_the_beginning_of_long_texts():
    # Generated: a positive start beyond which only negative words follow.
    text = "wonderful " * MAX_TOKENS + "terrible " * 500
    assert vader.polarity_scores(text)["compound"] > 0.9


def test_guard_looks_at_the_first_characters_of_texts_with_long_tokens():
    # Generated: few tokens but very long ones (250 tokens of 32,000 letters took VADER 1 s);
    # everything after the first MAX_CHARS characters, ASCII or not, is left out.
    for start in ("wonderful ", "wonderful \N{HEAVY BLACK HEART} "):
        text = start + "x" * MAX_CHARS + " terrible awful horrible"
        scores = vader.polarity_scores(text)
        assert scores == vader.polarity_scores(text[:MAX_CHARS])
        assert scores["compound"] > 0.5


def test_motivating_example_is_negative_in_tone():
    # The design's motivating case: supportive in stance, negative for VADER.
    model = VaderClassifier().fit(None)
    text = ("Stop attacking her. Send support or keep quiet: losing a baby is devastating and "
            "she owes nobody silence.")
    assert vader.polarity_scores(text)["compound"] < -0.05
    assert model.predict([text])[0] == "criticism"


def test_thresholds_and_labels():
    model = VaderClassifier(labels=("positive", "negative", "neutral")).fit(None)
    got = model.predict(pd.DataFrame({"text": ["I love it", "I hate it", "It is a table"]}))
    assert got.tolist() == ["positive", "negative", "neutral"]
    proba = model.predict_proba(["I love it", "I hate it", "It is a table"])
    assert np.allclose(proba.sum(axis=1), 1)
    assert (model.classes_[proba.argmax(axis=1)] == got).all()


def test_tuning_moves_thresholds_toward_labels():
    # Generated: mildly positive texts labelled neutral; tuning should widen the neutral band.
    texts = ["ok fine", "good", "nice", "I love this so much!!", "great, wonderful, amazing",
             "this is terrible and awful", "I hate it", "a chair", "the bus"] * 3
    labels = ["other", "other", "other", "support", "support", "criticism", "criticism",
              "other", "other"] * 3
    model = VaderClassifier(tune=True).fit(texts, labels)
    assert model.upper_ > 0.05
    assert (model.predict(texts) == np.array(labels)).mean() == 1.0


def test_bad_parameters_fail_in_fit():
    with pytest.raises(ValueError):
        VaderClassifier(lower=0.5, upper=0.1).fit(None)
    with pytest.raises(ValueError):
        VaderClassifier(labels=("a", "a", "b")).fit(None)
    with pytest.raises(ValueError):
        VaderClassifier().fit(["x"], ["positive"])  # not among the labels


# --- scikit-learn's estimator checks that apply to an estimator over text -------------------
# The other checks feed numeric arrays (make_blobs), sparse matrices, NaN/inf or regression
# targets, which a text classifier rejects by design; their text analogues follow below.
APPLICABLE_CHECKS = [
    "check_estimator_cloneable", "check_estimator_repr", "check_get_params_invariance",
    "check_set_params", "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_estimators_unfitted", "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order", "check_valid_tag_types",
]


@pytest.mark.parametrize("name", APPLICABLE_CHECKS)
def test_sklearn_estimator_checks(name):
    getattr(ec, name)("VaderClassifier", VaderClassifier())


TEXTS = ["I love it", "I hate it", "It is a table", "great!", "awful...", "meh"]


def test_fit_returns_self_and_is_idempotent():
    model = VaderClassifier()
    assert model.fit(TEXTS) is model
    first = model.predict_proba(TEXTS)
    assert np.array_equal(model.fit(TEXTS).predict_proba(TEXTS), first)


def test_subset_and_order_invariance():
    model = VaderClassifier().fit(None)
    full = model.predict_proba(TEXTS)
    order = np.arange(len(TEXTS))[::-1]
    assert np.array_equal(model.predict_proba([TEXTS[i] for i in order]), full[order])
    assert np.array_equal(model.predict_proba(TEXTS[:2]), full[:2])


def test_pickle_and_clone_roundtrip():
    model = VaderClassifier(lower=-0.3, upper=0.3).fit(None)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(TEXTS), model.predict(TEXTS))
    assert clone(model).get_params() == model.get_params()
