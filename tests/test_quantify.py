"""Prevalence estimation: worked numbers from the papers and cross-checks against QuaPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import quantify

qp = pytest.importorskip("quapy")
from quapy.method.aggregative import ACC, EMQ  # noqa: E402


def generated_rates(rng: np.random.Generator, n_classes: int) -> np.ndarray:
    """Generated confusion rates with a strong diagonal (rows = true class)."""
    rates = rng.uniform(0.0, 1.0, (n_classes, n_classes)) + np.eye(n_classes) * n_classes
    return rates / rates.sum(axis=1, keepdims=True)


def quapy_adjust(observed: np.ndarray, rates: np.ndarray) -> np.ndarray:
    # QuaPy's matrix is M[i, j] = P(predicted i | true j): the transpose of ours.
    raw = ACC.solve_adjustment(class_conditional_rates=rates.T, unadjusted_counts=observed,
                               method="inversion", solver="minimize")
    return qp.functional.normalize_prevalence(raw, method="clip")


def test_forman_binary_example_by_hand():
    # tpr 0.8, fpr 0.1, observed positive share 0.3 -> (0.3 - 0.1) / (0.8 - 0.1) = 2/7
    rates = np.array([[0.8, 0.2], [0.1, 0.9]])
    estimate = quantify.adjust_shares(np.array([0.3, 0.7]), rates)
    np.testing.assert_allclose(estimate, [2 / 7, 5 / 7])


def test_binary_adjustment_outside_the_simplex_is_clipped():
    # observed positive share 0.05 is below fpr 0.1: the unconstrained answer is negative
    rates = np.array([[0.8, 0.2], [0.1, 0.9]])
    np.testing.assert_allclose(quantify.adjust_shares(np.array([0.05, 0.95]), rates), [0, 1])
    np.testing.assert_allclose(quantify.adjust_shares(np.array([0.95, 0.05]), rates), [1, 0])


def test_adjustment_recovers_shares_inside_the_simplex():
    rates = np.array([[0.7, 0.2, 0.1], [0.25, 0.6, 0.15], [0.1, 0.3, 0.6]])
    truth = np.array([0.15, 0.25, 0.6])
    np.testing.assert_allclose(quantify.adjust_shares(rates.T @ truth, rates), truth, atol=1e-9)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_adjustment_matches_quapy_minimize(n_classes):
    rng = np.random.default_rng(5)
    for _ in range(15):
        rates = generated_rates(rng, n_classes)
        observed = rng.dirichlet(np.ones(n_classes) * 0.5)  # often outside the reachable set
        ours = quantify.adjust_shares(observed, rates)
        theirs = quapy_adjust(observed, rates)
        loss_ours = np.linalg.norm(rates.T @ ours - observed)
        loss_theirs = np.linalg.norm(rates.T @ theirs - observed)
        # the exact solver is never worse than QuaPy's SLSQP, and they agree closely
        assert loss_ours <= loss_theirs + 1e-6
        np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_adjustment_is_batched_like_single_calls():
    rng = np.random.default_rng(1)
    rates = np.stack([generated_rates(rng, 3) for _ in range(6)])
    observed = rng.dirichlet(np.ones(3), size=6)
    batched = quantify.adjust_shares(observed, rates)
    single = np.stack([quantify.adjust_shares(o, r) for o, r in zip(observed, rates, strict=True)])
    np.testing.assert_allclose(batched, single)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
       st.integers(0, 2**32 - 1))
def test_adjusted_shares_are_always_on_the_simplex(raw, seed):
    observed = np.asarray(raw) + 1e-9
    observed = observed / observed.sum()
    rates = generated_rates(np.random.default_rng(seed), 3)
    estimate = quantify.adjust_shares(observed, rates)
    assert (estimate >= 0).all()
    assert estimate.sum() == pytest.approx(1.0)


def test_singular_rates_still_give_shares():
    rates = np.array([[0.5, 0.5], [0.5, 0.5]])  # an uninformative classifier
    estimate = quantify.adjust_shares(np.array([0.5, 0.5]), rates)
    assert estimate.sum() == pytest.approx(1.0)
    assert (estimate >= 0).all()


def test_cc_and_pcc_match_quapy():
    rng = np.random.default_rng(2)
    probabilities = rng.dirichlet(np.ones(3), size=50)
    predictions = probabilities.argmax(axis=1)
    np.testing.assert_allclose(quantify.classify_and_count(predictions, 3),
                               qp.functional.prevalence_from_labels(predictions, [0, 1, 2]))
    np.testing.assert_allclose(quantify.probabilistic_classify_and_count(probabilities),
                               qp.functional.prevalence_from_probabilities(probabilities))


def test_em_matches_quapy():
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet([2.0, 1.0, 0.5], size=300)
    train_prior = np.array([0.5, 0.3, 0.2])
    ours = quantify.em_prior_adjustment(probabilities, train_prior, tol=1e-10, max_iter=20000)
    theirs, _ = EMQ.EM(train_prior, probabilities, epsilon=1e-10)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_em_recovers_a_known_prior_shift():
    # Generated: two Gaussian classes with known likelihoods; posteriors computed under a 50/50
    # training prior; the test sample has 20% of class 0.
    rng = np.random.default_rng(4)
    true = (rng.uniform(size=20000) > 0.2).astype(int)
    x = rng.normal(np.where(true == 0, -1.0, 1.0), 1.0)
    like = np.stack([np.exp(-(x + 1) ** 2 / 2), np.exp(-(x - 1) ** 2 / 2)], axis=1)
    posteriors = like / like.sum(axis=1, keepdims=True)
    estimate = quantify.em_prior_adjustment(posteriors, [0.5, 0.5])
    assert estimate[0] == pytest.approx(0.2, abs=0.02)
    # PCC under the wrong prior is pulled towards 0.5; EM corrects it
    assert quantify.probabilistic_classify_and_count(posteriors)[0] > 0.25


def test_em_with_bootstrap_weights_equals_repeated_items():
    probabilities = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    weights = np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    batched = quantify.em_prior_adjustment(probabilities, [0.4, 0.6], weights, tol=1e-12)
    repeated = quantify.em_prior_adjustment(probabilities[[0, 0, 2]], [0.4, 0.6], tol=1e-12)
    np.testing.assert_allclose(batched[0], repeated, atol=1e-9)


def test_pacc_recovers_shares_from_generated_soft_rates():
    rng = np.random.default_rng(6)
    soft = generated_rates(rng, 3)
    truth = np.array([0.2, 0.5, 0.3])
    observed = soft.T @ truth
    np.testing.assert_allclose(quantify.adjust_shares(observed, soft), truth, atol=1e-9)
    theirs = quapy_adjust(observed, soft)
    np.testing.assert_allclose(theirs, truth, atol=2e-3)


def test_confusion_helpers():
    counts = quantify.confusion_counts([0, 0, 1, 2], [0, 1, 1, 2], 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    soft = quantify.soft_confusion_counts([0, 1], [[0.6, 0.4], [0.1, 0.9]], 2)
    np.testing.assert_allclose(soft, [[0.6, 0.4], [0.1, 0.9]])
    rates = quantify.rates_from_counts([[3, 1], [0, 0]])
    np.testing.assert_allclose(rates[0], [0.75, 0.25])
    assert np.isnan(rates[1]).all()
    filled = quantify.fill_empty_rows(rates, np.eye(2))
    np.testing.assert_allclose(filled[1], [0, 1])


def test_estimate_prevalence_dispatch_and_errors():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    np.testing.assert_allclose(quantify.estimate_prevalence("cc", probabilities=probabilities),
                               [0.5, 0.5])
    np.testing.assert_allclose(quantify.estimate_prevalence("pcc", probabilities=probabilities),
                               [0.55, 0.45])
    # auto without validation data: plain counts
    assert quantify.estimate_prevalence("auto", probabilities=probabilities).tolist() == \
        pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="needs hard_rates"):
        quantify.estimate_prevalence("acc", probabilities=probabilities)
    with pytest.raises(ValueError, match="unknown method"):
        quantify.estimate_prevalence("median", probabilities=probabilities)


def test_choose_method():
    assert quantify.choose_method(has_probabilities=True, has_hard_rates=True,
                                  has_soft_rates=True, detectability=0.5) == "pacc"
    assert quantify.choose_method(has_probabilities=False, has_hard_rates=True,
                                  has_soft_rates=False) == "acc"
    assert quantify.choose_method(has_probabilities=True, has_hard_rates=False,
                                  has_soft_rates=False) == "cc"
    # a barely detected class: the adjustment would amplify noise ~1/J times; then the
    # unadjusted estimate with the smaller error on bin-sized validation samples
    assert quantify.choose_method(has_probabilities=True, has_hard_rates=True,
                                  has_soft_rates=True, detectability=0.1) == "cc"
    assert quantify.choose_method(has_probabilities=True, has_hard_rates=True,
                                  has_soft_rates=True, detectability=0.1, cc_error=0.05,
                                  pcc_error=0.01) == "pcc"
    assert quantify.choose_method(has_probabilities=True, has_hard_rates=True,
                                  has_soft_rates=True, detectability=0.1, cc_error=0.05,
                                  pcc_error=0.2) == "cc"


def test_sample_error_of_single_items_is_the_error_rate():
    # samples of one item each: a wrong label is off by 1 in both classes, a right one by 0, so
    # the mean absolute error is the share of wrong labels (1 in 4)
    true = np.eye(2)[[0, 0, 1, 1]]
    predicted = np.eye(2)[[0, 0, 1, 0]]
    error = quantify.sample_error(true, predicted, np.arange(4), 1, n_draws=4000)
    assert error == pytest.approx(0.25, abs=0.02)
    # whole threads are drawn: a thread with one right and one wrong label has shares
    # (0.5, 0.5) against gold (0, 1), an error of 0.5; threads of right labels have none. With
    # threads (0, 0), (1, 1) the expected error is 0.25; with (0), (1), (2, 2) it is 0.5 / 3
    assert quantify.sample_error(true, predicted, np.array([0, 0, 1, 1]), 1,
                                 n_draws=4000) == pytest.approx(0.25, abs=0.02)
    assert quantify.sample_error(true, predicted, np.array([0, 1, 2, 2]), 1,
                                 n_draws=4000) == pytest.approx(0.5 / 3, abs=0.02)
    # the same seed draws the same samples: perfect labels have no error at all
    assert quantify.sample_error(true, true, np.array([0, 1, 2, 2]), 2) == 0.0


def test_detectability_by_hand():
    rates = np.array([[0.6, 0.1, 0.3], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    # class 0: tpr 0.6, fpr mean(0.2, 0.1) = 0.15 -> 0.45; class 1: 0.5 - 0.1 = 0.4;
    # class 2: 0.8 - 0.3 = 0.5
    np.testing.assert_allclose(quantify.detectability(rates), [0.45, 0.4, 0.5])
    # with priors 0.2 / 0.2 / 0.6, class 0's rest is 1/4 class 1 and 3/4 class 2
    np.testing.assert_allclose(quantify.detectability(rates, [0.2, 0.2, 0.6])[0],
                               0.6 - (0.25 * 0.2 + 0.75 * 0.1))


def test_bias_correction_makes_em_return_the_validation_prior_on_the_validation_set():
    # Generated posteriors that are biased toward class 0 (trained under another prior)
    rng = np.random.default_rng(8)
    posteriors = rng.dirichlet([3.0, 1.0, 1.0], size=500)
    gold_prior = np.array([0.3, 0.3, 0.4])
    plain = quantify.em_prior_adjustment(posteriors, gold_prior)
    factor = quantify.bias_correction(posteriors, gold_prior, tol=1e-10)
    corrected = quantify.em_prior_adjustment(posteriors, gold_prior, correction=factor)
    np.testing.assert_allclose(corrected, gold_prior, atol=1e-5)
    assert np.abs(plain - gold_prior).max() > 0.05


def _plain_em(posteriors: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Saerens, Latinne & Decaestecker's EM without acceleration: the reference."""
    current = prior.copy()
    for _ in range(200_000):
        post = posteriors * (current / prior)
        post /= post.sum(axis=1, keepdims=True)
        new = post.mean(axis=0)
        if np.abs(new - current).max() < 1e-12:
            break
        current = new
    return current


def test_em_acceleration_never_lands_in_a_corner_that_plain_em_avoids():
    # Regression (bug hunt): an unguarded SQUAREM jump could put a share at ~0, where EM cannot
    # move it back: [0, 1, 0] instead of the likelihood's maximum [0.046, 0.129, 0.825]. Generated
    # posteriors of three Gaussian classes, exactly calibrated to a uniform prior.
    rng = np.random.default_rng(7)
    means = np.array([[1.5, 0], [0, 1.5], [0, 0]])
    prior = np.ones(3) / 3
    cases = []
    for _ in range(615):
        n = rng.integers(20, 200)
        shares = np.array([rng.uniform(0.0, 0.15), rng.uniform(0.2, 0.5), 0])
        shares[2] = 1 - shares[:2].sum()
        y = rng.choice(3, size=n, p=shares)
        x = means[y] + rng.normal(size=(n, 2))
        density = np.exp(-0.5 * ((x[:, None, :] - means[None]) ** 2).sum(-1))
        cases.append(density / density.sum(axis=1, keepdims=True))
    for posteriors in cases[-40:]:  # the last is the hunt's case
        np.testing.assert_allclose(quantify.em_prior_adjustment(posteriors, prior),
                                   _plain_em(posteriors, prior), atol=1e-3)
