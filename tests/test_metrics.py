"""Evaluation metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from analysis.classifiers import metrics
from analysis.errors import UserError


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


# -- labels with no gold and no predicted instance do not count (in F_avg too) -----------------


def test_f_avg_leaves_out_a_label_neither_true_nor_predicted():
    # 'against' has no row and no prediction: F_avg is favor's F1 alone, not its half
    y = ["favor", "favor", "none", "none"]
    p = ["favor", "favor", "none", "none"]
    assert metrics.f_avg(y, p, ["favor", "against"]) == pytest.approx(1.0)
    report = metrics.classification_report(y, p, ["against", "favor", "none"], n_boot=0,
                                           average_over=["favor", "against"])
    assert report["f_avg"] == pytest.approx(1.0)
    assert report["f_avg_labels_absent"] == ["against"]
    assert report["per_class"]["against"] == {"precision": None, "recall": None, "f1": None,
                                              "support": 0}


def test_f_avg_of_labels_all_absent_is_not_a_number():
    y, p = ["none", "none", "favor"], ["none", "favor", "favor"]
    with pytest.raises(UserError, match="no true or predicted instance"):
        metrics.f_avg(y, p, ["against"])
    report = metrics.classification_report(y, p, ["against", "favor", "none"], n_boot=0,
                                           average_over=["against"])
    assert report["f_avg"] is None
    assert report["f_avg_labels_absent"] == ["against"]


def test_f_avg_of_labels_present_is_the_semeval_mean_of_favor_and_against():
    y = ["favor", "favor", "against", "against", "none", "none"]
    p = ["favor", "against", "against", "none", "none", "favor"]
    # favor: P 1/2, R 1/2; against: P 1/2, R 1/2 -> F_avg 1/2 (none is ignored)
    assert metrics.f_avg(y, p, ["favor", "against"]) == pytest.approx(0.5)
    expected = f1_score(y, p, labels=["favor", "against"], average="macro")
    report = metrics.classification_report(y, p, n_boot=0, average_over=["favor", "against"])
    assert report["f_avg"] == pytest.approx(expected)
    assert "f_avg_labels_absent" not in report


def test_macro_f1_of_labels_all_absent_is_refused():
    with pytest.raises(UserError, match="no true or predicted instance"):
        metrics.classification_report(["a", "b"], ["a", "b"], ["c", "d"], n_boot=0)


def test_bootstrap_leaves_out_a_predicted_only_label_where_a_resample_lacks_it():
    # 'c' is never true and predicted once: it counts (F1 0) in the point estimate, and in
    # each resample only when that resample draws the row predicting it
    y = ["a"] * 10 + ["b"] * 10
    p = ["a"] * 10 + ["b"] * 9 + ["c"]
    report = metrics.classification_report(y, p, ["a", "b", "c"], n_boot=400)
    assert report["macro_f1"] == pytest.approx((1 + 18 / 19 + 0) / 3)
    low, high = report["macro_f1_ci"]
    assert low <= report["macro_f1"] <= high
    assert high == pytest.approx(1.0)  # resamples without the 'c' row: a and b perfect


def _grouped_sample(n_groups: int) -> tuple[list, list, list]:
    """Generated: every group holds one row of each label, two of them predicted right."""
    y, p, g = [], [], []
    for group in range(n_groups):
        y += ["a", "b", "c"]
        p += ["a", "b", "a"] if group % 2 else ["a", "c", "c"]
        g += [f"thread{group}"] * 3
    return y, p, g


@pytest.mark.parametrize("n_groups", [2, 4, 9])
def test_a_grouped_interval_over_few_groups_warns_that_it_is_too_narrow(n_groups):
    y, p, g = _grouped_sample(n_groups)
    with pytest.warns(UserWarning, match=f"only {n_groups} groups.*too narrow"):
        metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=50, groups=g)


def test_a_grouped_interval_over_enough_groups_does_not_warn(recwarn):
    y, p, g = _grouped_sample(10)
    metrics.bootstrap_ci(y, p, ["a", "b", "c"], n_boot=50, groups=g)
    assert not [w for w in recwarn if "too narrow" in str(w.message)]
