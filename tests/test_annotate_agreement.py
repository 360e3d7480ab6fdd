"""Agreement: Krippendorff's alpha against published values, the ``krippendorff`` package and real
multi-rater data (VADER's per-rater ratings); Cohen's kappa against scikit-learn.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis import config
from analysis.annotate import (
    alpha_from_counts,
    bootstrap_alpha,
    cohen_kappa,
    find_disagreements,
    krippendorff_alpha,
    measure_agreement,
    pairwise_kappa,
    per_label_agreement,
    reliability_matrix,
)
from analysis.errors import UserError

krippendorff = pytest.importorskip("krippendorff")

VADER = config.DATA_RAW / "vader_ground_truth"

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders,
# 12 units, missing values. Published: nominal 0.743, interval 0.849.
N = None
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def units_by_coders(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows).T
    return frame.astype(object).where(frame.notna(), None)


def vader_counts(corpus: str, n_texts: int) -> np.ndarray:
    """Units-by-values counts (values -4..4) of the first texts' individual ratings."""
    path = VADER / f"{corpus}_anonDataRatings.txt"
    counts = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            ratings = ast.literal_eval(fields[3])
            counts.append(np.bincount(np.asarray(ratings) + 4, minlength=9))
            if len(counts) == n_texts:
                break
    return np.array(counts)


def test_alpha_matches_the_published_example():
    matrix = units_by_coders(KRIPPENDORFF_2011)
    assert krippendorff_alpha(matrix) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(matrix, level="interval") == pytest.approx(0.849, abs=5e-4)


def test_alpha_matches_the_krippendorff_package_on_generated_data():
    rng = np.random.default_rng(0)
    for trial in range(5):
        truth = rng.integers(0, 4, size=60)
        data = np.where(rng.random((5, 60)) < 0.7, truth, rng.integers(0, 4, size=(5, 60)))
        data = data.astype(float)
        data[rng.random(data.shape) < 0.3] = np.nan
        matrix = pd.DataFrame(data.T).astype(object).where(~np.isnan(data.T), None)
        for level in ("nominal", "interval"):
            ours = krippendorff_alpha(matrix, level=level)
            theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
            assert ours == pytest.approx(theirs, abs=1e-12), (trial, level)


@pytest.mark.parametrize("corpus", ["tweets", "nytEditorialSnippets"])
def test_alpha_on_real_vader_ratings_matches_the_package(corpus):
    # Real multi-rater data: the first 300 texts, 20+ anonymous ratings each on -4..4. Alpha
    # needs only the per-text counts of each rating, so rater identities are not needed.
    counts = vader_counts(corpus, 300)
    assert (counts.sum(axis=1) >= 20).all()
    values = list(range(-4, 5))
    interval = alpha_from_counts(counts, values, "interval")
    assert interval == pytest.approx(krippendorff.alpha(
        value_counts=counts, value_domain=values, level_of_measurement="interval"), abs=1e-10)
    # Nominal after binning into negative / neutral / positive.
    binned = np.stack([counts[:, :4].sum(1), counts[:, 4], counts[:, 5:].sum(1)], axis=1)
    nominal = alpha_from_counts(binned)
    assert nominal == pytest.approx(krippendorff.alpha(
        value_counts=binned, level_of_measurement="nominal"), abs=1e-10)
    # Sanity: the raters agree well above chance, and binning loses information.
    assert 0.3 < nominal < interval < 1


def test_kappa_matches_scikit_learn():
    rng = np.random.default_rng(1)
    labels = np.array(["support", "criticism", "other"])
    for _ in range(10):
        a = labels[rng.integers(0, 3, size=40)]
        b = np.where(rng.random(40) < 0.6, a, labels[rng.integers(0, 3, size=40)])
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_by_hand():
    # po = 3/4; pa = (.5, .25, .25), pb = (.5, .5, 0) -> pe = .375; kappa = .375 / .625 = 0.6
    a = ["support", "other", "criticism", "support"]
    b = ["support", "other", "other", "support"]
    assert cohen_kappa(a, b) == pytest.approx(0.6)
    assert np.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def long_gold(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["uid", "labeler_id", "label"])


def test_pairwise_kappa_uses_only_posts_both_coded():
    gold = long_gold([("1", "A", "s"), ("1", "B", "s"), ("2", "A", "o"), ("2", "B", "s"),
                      ("3", "A", "o"), ("3", "C", "o"), ("4", "B", "o"), ("4", "C", "o"),
                      ("5", "A", "s")])
    pairs = pairwise_kappa(gold).set_index(["coder_a", "coder_b"])
    assert pairs.loc[("A", "B"), "n_items"] == 2
    assert pairs.loc[("A", "B"), "agreement"] == 0.5
    assert pairs.loc[("A", "C"), "n_items"] == 1
    assert pairs.loc[("B", "C"), "agreement"] == 1.0


def test_per_label_agreement_by_hand():
    # Units: (s,s), (s,o), (o,o). Coincidences: o_ss = 2, o_so = o_os = 1, o_oo = 2; n_s = 3.
    gold = long_gold([("1", "A", "s"), ("1", "B", "s"), ("2", "A", "s"), ("2", "B", "o"),
                      ("3", "A", "o"), ("3", "B", "o")])
    table = per_label_agreement(reliability_matrix(gold)).set_index("label")
    assert table.loc["s", "n_values"] == 3
    assert table.loc["s", "specific_agreement"] == pytest.approx(2 / 3)
    # Two labels: the binary alpha of either equals the overall alpha.
    overall = krippendorff_alpha(reliability_matrix(gold))
    assert table.loc["o", "alpha_binary"] == pytest.approx(overall)


def test_bootstrap_interval_brackets_alpha_and_shrinks_with_more_units():
    rng = np.random.default_rng(2)

    def counts(n_units):
        truth = rng.integers(0, 3, size=n_units)
        coded = np.where(rng.random((n_units, 3)) < 0.8, truth[:, None],
                         rng.integers(0, 3, size=(n_units, 3)))
        return np.stack([(coded == v).sum(1) for v in range(3)], axis=1)

    small, large = counts(40), counts(640)
    low_s, high_s = bootstrap_alpha(small, n_boot=300, random_state=0)
    low_l, high_l = bootstrap_alpha(large, n_boot=300, random_state=0)
    assert low_s <= alpha_from_counts(small) <= high_s
    assert low_l <= alpha_from_counts(large) <= high_l
    assert (high_l - low_l) < (high_s - low_s) / 2
    assert bootstrap_alpha(small, n_boot=300, random_state=0) == (low_s, high_s)


def test_measure_agreement_report_and_disagreements():
    gold = long_gold([("1", "A", "support"), ("1", "B", "support"),
                      ("2", "A", "other"), ("2", "B", "criticism"),
                      ("3", "A", "other"), ("3", "B", "other"), ("4", "A", "support")])
    posts = pd.DataFrame({"uid": ["1", "2", "3", "4"], "text": ["t1", "t2", "t3", "t4"]})
    report = measure_agreement(gold, posts=posts, n_boot=200, random_state=0)
    assert report.n_units == 3 and report.n_coders == 2 and report.n_pairable == 6
    assert report.disagreements["uid"].tolist() == ["2"]
    row = report.disagreements.iloc[0]
    assert (row["label_A"], row["label_B"], row["text"]) == ("other", "criticism", "t2")
    assert row["resolved_label"] == ""
    text = report.to_text()
    assert "Krippendorff's alpha (nominal)" in text and "A vs B" in text
    summary = report.to_dict()
    assert summary["n_disagreements"] == 1 and summary["coincidences"]["labels"] == [
        "criticism", "other", "support"]


def test_no_overlap_means_no_agreement():
    gold = long_gold([("1", "A", "support"), ("2", "B", "other")])
    with pytest.raises(UserError, match="overlap"):
        measure_agreement(gold)


def test_a_coder_labelling_a_post_twice_is_refused():
    gold = long_gold([("1", "A", "support"), ("1", "A", "other")])
    with pytest.raises(UserError, match="more than once"):
        reliability_matrix(gold)


def test_find_disagreements_ignores_single_and_unanimous_posts():
    gold = long_gold([("1", "A", "s"), ("2", "A", "s"), ("2", "B", "s"), ("3", "A", "s"),
                      ("3", "B", "o"), ("3", "C", "s")])
    out = find_disagreements(gold)
    assert out["uid"].tolist() == ["3"]
    assert out.loc[0, "labels"] == "A=s; B=o; C=s" and out.loc[0, "n_coders"] == 3


def test_disagreement_texts_that_start_like_formulas_are_written_as_text():
    # Found by a text hunt: the coding sheets guarded such texts, the resolution file (opened
    # and saved in a spreadsheet by the adjudicator) did not.
    gold = long_gold([("1", "A", "s"), ("1", "B", "o"), ("2", "A", "s"), ("2", "B", "o")])
    posts = pd.DataFrame({"uid": ["1", "2"],
                          "text": ['=HYPERLINK("http://evil.invalid","click")', "plain reply"]})
    out = find_disagreements(gold, posts)
    assert out.set_index("uid")["text"].to_dict() == {
        "1": '\'=HYPERLINK("http://evil.invalid","click")', "2": "plain reply"}
