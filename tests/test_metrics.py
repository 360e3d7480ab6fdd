"""Evaluation metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from analysis.classifiers import metrics


def test_report_by_hand():
    # 6 rows: support 2/3 right, criticism 1/2, other 1/1.
    y = ["support", "support", "support", "criticism", "criticism", "other"]
    p = ["support", "support", "other", "criticism", "support", "other"]
    report = metrics.classification_report(y, p, ["support", "criticism", "other"], n_boot=50,
                                           average_over=["support", "criticism"])
    assert report["n"] == 6
    assert report["accuracy"] == pytest.approx(4 / 6)
    # support: P 2/3, R 2/3, F1 2/3; criticism: P 1, R 1/2, F1 2/3; other: P 1/2, R 1, F1 2/3
    assert report["per_class"]["criticism"] == {"precision": 1.0, "recall": 0.5,
                                                "f1": pytest.approx(2 / 3), "support": 2}
    assert report["macro_f1"] == pytest.approx(2 / 3)
    assert report["f_avg"] == pytest.approx(2 / 3)
    assert report["confusion"] == {"labels": ["support", "criticism", "other"],
                                   "matrix": [[2, 0, 1], [1, 1, 0], [0, 0, 1]]}
    low, high = report["macro_f1_ci"]
    assert 0 <= low <= high <= 1


def test_f_avg_ignores_other_labels():
    assert metrics.f_avg(["a", "b", "c", "c"], ["a", "b", "a", "b"], ["a", "b"]) == \
        pytest.approx((2 / 3 + 2 / 3) / 2)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1,
                max_size=40))
def test_macro_f1_matches_sklearn(pairs):
    y, p = zip(*pairs, strict=True)
    report = metrics.classification_report(y, p, ["a", "b", "c"], n_boot=0)
    # scikit-learn's macro average without `labels`: over the labels true or predicted
    expected = f1_score(y, p, average="macro", zero_division=0)
    assert report["macro_f1"] == pytest.approx(expected)
    assert np.array(report["confusion"]["matrix"]).sum() == len(pairs)
    assert report["macro_f1_ci"] is None


def test_a_label_neither_true_nor_predicted_does_not_count_in_macro_f1():
    y = ["a", "a", "b", "b"]
    p = ["a", "b", "b", "b"]
    report = metrics.classification_report(y, p, ["a", "b", "c"], n_boot=200)
    # a: P 1, R 1/2, F1 2/3; b: P 2/3, R 1, F1 4/5; c: no rows, no predictions
    assert report["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert report["per_class"]["c"]["support"] == 0
    low, high = report["macro_f1_ci"]
    assert low <= report["macro_f1"] <= high


def test_bootstrap_interval_contains_estimate_and_is_deterministic():
    rng = np.random.default_rng(0)  # generated labels, 70% right
    y = rng.choice(["a", "b", "c"], size=400)
    p = np.where(rng.random(400) < 0.7, y, rng.choice(["a", "b", "c"], size=400))
    point = f1_score(y, p, average="macro")
    ci = metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=300, random_state=1)
    assert ci[0] < point < ci[1]
    assert ci == metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=300, random_state=1)
    grouped = metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=300, random_state=1,
                                   groups=np.arange(400) // 40)
    assert grouped[1] - grouped[0] > 0


def test_grouped_folds_never_split_a_group():
    groups = np.repeat(["g1", "g2", "g3", "g4", "g5", "g6"], 5)
    folds = metrics.grouped_folds(groups, len(groups), 3)
    assert len(folds) == 3
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    assert sorted(np.concatenate([te for _, te in folds])) == list(range(30))


def test_calibration_error_of_perfect_and_overconfident():
    y = ["a", "b"] * 50
    exact = np.array([[1.0, 0.0], [0.0, 1.0]] * 50)
    assert metrics.calibration_error(y, exact, ["a", "b"]) == 0.0
    wrong = exact[:, ::-1]
    assert metrics.calibration_error(y, wrong, ["a", "b"]) == pytest.approx(1.0)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError):
        metrics.classification_report(["a"], ["a", "b"])
