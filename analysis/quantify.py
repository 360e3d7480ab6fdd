"""Prevalence estimation ("quantification"): the share of each class in a set of predictions.

Counting a classifier's labels is biased whenever the classifier errs unevenly across classes.
These pure numpy functions implement the standard corrections:

``cc``
    classify and count: the share of each predicted label (Forman 2008).
``pcc``
    probabilistic classify and count: the mean of calibrated class probabilities
    (Bella et al. 2010).
``acc``
    adjusted classify and count: solve ``q = C^T p`` for the true shares ``p``, where ``q`` are the
    counted shares and ``C[i, j] = P(predicted j | true i)`` comes from a validation set
    (Forman 2008). For two classes this is Forman's ``(q - fpr) / (tpr - fpr)`` clipped to [0, 1].
``pacc``
    probabilistic adjusted count: the same with mean probabilities in place of counts, and
    ``C[i, j]`` the mean probability of class ``j`` among validation items of true class ``i``
    (Bella et al. 2010).
``emq``
    expectation maximisation of the class priors: posteriors are re-weighted by the ratio of new to
    training priors until the priors stop changing (Saerens, Latinne & Decaestecker 2002).

Every adjusted result lies on the probability simplex (non-negative shares that sum to 1): the
linear system is solved as a least-squares problem constrained to the simplex (exact, by checking
the Karush-Kuhn-Tucker solution on every face), which for two classes is the same as solving and
clipping. The functions broadcast over leading batch axes so bootstrap replicates are computed at
once. QuaPy (Moreo, Esuli & Sebastiani 2021) implements the same methods; the tests check these
functions against it.

References
----------
Forman, G. (2008). Quantifying counts and costs via classification. *Data Mining and Knowledge
Discovery* 17, 164-206. https://doi.org/10.1007/s10618-008-0097-y

Bella, A., Ferri, C., Hernandez-Orallo, J., & Ramirez-Quintana, M. J. (2010). Quantification via
probability estimators. *IEEE ICDM 2010*, 737-742. https://doi.org/10.1109/ICDM.2010.75

Saerens, M., Latinne, P., & Decaestecker, C. (2002). Adjusting the outputs of a classifier to new a
priori probabilities: a simple procedure. *Neural Computation* 14(1), 21-41.
https://doi.org/10.1162/089976602753284446

Moreo, A., Esuli, A., & Sebastiani, F. (2021). QuaPy: a Python-based framework for quantification.
*CIKM 2021*, 4534-4543. https://doi.org/10.1145/3459637.3482015

Examples
--------
Forman's binary adjustment: a classifier with true-positive rate 0.8 and false-positive rate 0.1
that labels 30% of items positive implies a true share of (0.3 - 0.1) / (0.8 - 0.1) = 0.2857.

>>> rates = np.array([[0.8, 0.2], [0.1, 0.9]])  # rows: true class; columns: predicted class
>>> adjust_shares(np.array([0.3, 0.7]), rates).round(4)
array([0.2857, 0.7143])
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

#: The methods :func:`estimate_prevalence` knows, plus ``auto`` (see :func:`choose_method`).
METHODS = ("cc", "pcc", "acc", "pacc", "emq")

#: Largest number of classes for which the simplex-constrained solve enumerates every face
#: (2**K - 1 small systems); above it the unconstrained solution is clipped and renormalized.
MAX_EXACT_CLASSES = 10

#: EM stops when no prior moves by more than this between iterations (QuaPy uses 1e-4 on the mean
#: absolute change; a tighter bound costs little here).
EM_TOLERANCE = 1e-5
EM_MAX_ITER = 500


def counts_to_shares(counts: ArrayLike) -> np.ndarray:
    """Normalize counts (last axis) to shares; an all-zero row gives NaN shares."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / total


def classify_and_count(predictions: ArrayLike, n_classes: int,
                       weights: ArrayLike | None = None) -> np.ndarray:
    """Shares of each predicted class (CC).

    Parameters
    ----------
    predictions
        Integer class indices, shape ``(n,)``.
    n_classes
        Number of classes ``K``.
    weights
        Optional item weights, shape ``(n,)`` or ``(B, n)`` (bootstrap replicates).

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)`` or ``(B, K)``.

    Examples
    --------
    >>> classify_and_count([0, 0, 1, 2], 3)
    array([0.5 , 0.25, 0.25])
    """
    onehot = np.eye(n_classes)[np.asarray(predictions, dtype=int)]
    return probabilistic_classify_and_count(onehot, weights)


def probabilistic_classify_and_count(probabilities: ArrayLike,
                                     weights: ArrayLike | None = None) -> np.ndarray:
    """Mean class probabilities (PCC; Bella et al. 2010).

    Parameters
    ----------
    probabilities
        Calibrated posteriors, shape ``(n, K)``.
    weights
        Optional item weights, shape ``(n,)`` or ``(B, n)``.

    Examples
    --------
    >>> probabilistic_classify_and_count([[0.9, 0.1], [0.3, 0.7]])
    array([0.6, 0.4])
    """
    probabilities = np.asarray(probabilities, dtype=float)
    if weights is None:
        return counts_to_shares(probabilities.sum(axis=0))
    return counts_to_shares(np.asarray(weights, dtype=float) @ probabilities)


def confusion_counts(true: ArrayLike, predicted: ArrayLike, n_classes: int) -> np.ndarray:
    """Confusion matrix of counts, rows = true class, columns = predicted class.

    Examples
    --------
    >>> confusion_counts([0, 0, 1], [0, 1, 1], 2)
    array([[1., 1.],
           [0., 1.]])
    """
    true = np.asarray(true, dtype=int)
    predicted = np.asarray(predicted, dtype=int)
    flat = np.bincount(true * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(float)


def soft_confusion_counts(true: ArrayLike, probabilities: ArrayLike, n_classes: int,
                          weights: ArrayLike | None = None) -> np.ndarray:
    """Summed probabilities per true class: rows = true class, columns = probability of a class.

    With ``weights`` of shape ``(B, n)`` the result has shape ``(B, K, K)``.
    """
    true = np.asarray(true, dtype=int)
    probabilities = np.asarray(probabilities, dtype=float)
    onehot = np.eye(n_classes)[true]  # (n, K)
    if weights is None:
        return onehot.T @ probabilities
    weights = np.asarray(weights, dtype=float)
    return np.einsum("bn,ni,nj->bij", weights, onehot, probabilities)


def rates_from_counts(counts: ArrayLike) -> np.ndarray:
    """Row-normalize a confusion matrix (or a stack of them) to ``P(predicted j | true i)``.

    A row with no items (a class absent from the validation set) becomes NaN; callers decide how to
    handle it (see :func:`fill_empty_rows`).
    """
    return counts_to_shares(counts)


def fill_empty_rows(rates: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Replace NaN rows of ``rates`` ``(..., K, K)`` by the rows of ``fallback`` ``(K, K)``."""
    rates = np.array(rates, dtype=float, copy=True)
    bad = np.isnan(rates).any(axis=-1)
    if bad.any():
        rates[bad] = np.broadcast_to(fallback, rates.shape)[bad]
    return rates


@lru_cache(maxsize=16)
def _faces(n_classes: int) -> tuple[tuple[int, ...], ...]:
    return tuple(
        face for size in range(1, n_classes + 1)
        for face in itertools.combinations(range(n_classes), size)
    )


def adjust_shares(observed: ArrayLike, rates: ArrayLike) -> np.ndarray:
    """Solve ``observed = rates^T @ p`` for shares ``p`` on the probability simplex (ACC / PACC).

    This is the adjustment of Forman (2008) for counts and of Bella et al. (2010) for mean
    probabilities. The system is solved as ``min ||rates^T p - observed||^2`` subject to ``p >= 0``
    and ``sum(p) = 1``. The minimum is found exactly by solving the equality-constrained problem on
    every face of the simplex and keeping the best feasible one, so when the unconstrained solution
    is a valid share vector it is returned unchanged, and for two classes the result is the
    unconstrained solution clipped to [0, 1] (Forman's clipping).

    Parameters
    ----------
    observed
        Counted (``cc``) or mean-probability (``pcc``) shares, shape ``(..., K)``.
    rates
        ``rates[..., i, j]`` = P(predicted ``j`` | true ``i``) (hard or mean-probability), shape
        ``(..., K, K)``. Leading axes broadcast against ``observed``.

    Returns
    -------
    numpy.ndarray
        Shares, shape of the broadcast leading axes plus ``(K,)``. NaN where ``observed`` is NaN.

    Examples
    --------
    A three-class case whose exact solution is inside the simplex:

    >>> rates = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    >>> truth = np.array([0.5, 0.3, 0.2])
    >>> adjust_shares(rates.T @ truth, rates).round(6)
    array([0.5, 0.3, 0.2])
    """
    observed = np.asarray(observed, dtype=float)
    rates = np.asarray(rates, dtype=float)
    n_classes = observed.shape[-1]
    if rates.shape[-2:] != (n_classes, n_classes):
        raise ValueError(f"rates must be {n_classes}x{n_classes}, not {rates.shape[-2:]}")
    batch = np.broadcast_shapes(observed.shape[:-1], rates.shape[:-2])
    q = np.broadcast_to(observed, (*batch, n_classes)).reshape(-1, n_classes)
    system = np.broadcast_to(np.swapaxes(rates, -1, -2),
                             (*batch, n_classes, n_classes)).reshape(-1, n_classes, n_classes)
    missing = np.isnan(q).any(axis=1) | np.isnan(system).any(axis=(1, 2))
    q = np.where(missing[:, None], 0.0, q)
    system = np.where(missing[:, None, None], np.eye(n_classes), system)
    if n_classes > MAX_EXACT_CLASSES:
        solution = _clip_simplex(np.einsum("bij,bj->bi", np.linalg.pinv(system), q))
    else:
        solution = _simplex_least_squares(system, q)
    solution[missing] = np.nan
    return solution.reshape(*batch, n_classes)


def _simplex_least_squares(system: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``min ||system @ p - q||`` on the simplex; ``system`` (B, K, K), ``q`` (B, K)."""
    n_batch, n_classes = q.shape
    best = np.zeros((n_batch, n_classes))
    best_loss = np.full(n_batch, np.inf)
    for face in _faces(n_classes):
        m = len(face)
        sub = system[:, :, face]  # (B, K, m)
        kkt = np.zeros((n_batch, m + 1, m + 1))
        kkt[:, :m, :m] = 2.0 * np.einsum("bki,bkj->bij", sub, sub)
        kkt[:, :m, m] = 1.0
        kkt[:, m, :m] = 1.0
        rhs = np.zeros((n_batch, m + 1))
        rhs[:, :m] = 2.0 * np.einsum("bki,bk->bi", sub, q)
        rhs[:, m] = 1.0
        try:
            x = np.linalg.solve(kkt, rhs[:, :, None])[:, :m, 0]
        except np.linalg.LinAlgError:  # a singular face somewhere in the batch
            x = np.einsum("bij,bj->bi", np.linalg.pinv(kkt), rhs)[:, :m]
        feasible = (x >= -1e-9).all(axis=1) & (np.abs(x.sum(axis=1) - 1.0) < 1e-6)
        loss = np.sum((np.einsum("bki,bi->bk", sub, x) - q) ** 2, axis=1)
        better = feasible & (loss < best_loss - 1e-12)
        if better.any():
            full = np.zeros((int(better.sum()), n_classes))
            full[:, face] = x[better]
            best[better] = full
            best_loss[better] = loss[better]
    return _clip_simplex(best)


def _clip_simplex(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, None)
    total = p.sum(axis=-1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), uniform)


#: Step halvings of a SQUAREM extrapolation that would leave the simplex (see below).
_MAX_HALVINGS = 30


def em_prior_adjustment(probabilities: ArrayLike, train_prior: ArrayLike,
                        weights: ArrayLike | None = None, *, tol: float = EM_TOLERANCE,
                        max_iter: int = EM_MAX_ITER,
                        correction: ArrayLike | None = None) -> np.ndarray:
    """Class shares by EM re-estimation of the priors (EMQ; Saerens, Latinne & Decaestecker 2002).

    Starting from the training priors, each step re-weights every item's posterior by
    ``new_prior / train_prior``, renormalizes it, and takes the (weighted) mean as the new prior,
    until no prior moves by more than ``tol``. The steps are accelerated with SQUAREM (Varadhan &
    Roland 2008), which reaches the same fixed point in far fewer steps when EM crawls, with
    their safeguard: an extrapolation that would lower the likelihood is not taken. ``max_iter``
    bounds the number of EM steps.

    References: Saerens, Latinne & Decaestecker (2002), Neural Computation 14(1), 21-41;
    Varadhan, R. & Roland, C. (2008), Simple and globally convergent methods for accelerating the
    convergence of any EM algorithm, Scandinavian Journal of Statistics 35(2), 335-353.

    Parameters
    ----------
    probabilities
        Posteriors calibrated on data with class priors ``train_prior``, shape ``(n, K)``.
    train_prior
        Class shares of the data the posteriors are calibrated to, shape ``(K,)`` or ``(B, K)``
        (one per bootstrap replicate). Zero entries are smoothed as in QuaPy.
    weights
        Optional item weights, shape ``(n,)`` or ``(B, n)``.
    correction
        Optional per-class factors ``(K,)`` or ``(B, K)`` applied to every posterior first (and
        the rows renormalized): the bias correction of :func:`bias_correction`, which makes the
        posteriors consistent with ``train_prior``.

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)``, or ``(B, K)`` when ``train_prior``, ``weights`` or ``correction`` is
        batched.

    Examples
    --------
    Posteriors that already match the training priors leave them unchanged:

    >>> em_prior_adjustment([[0.9, 0.1], [0.1, 0.9]], [0.5, 0.5]).round(6)
    array([0.5, 0.5])
    """
    posteriors = np.asarray(probabilities, dtype=float)
    prior = np.asarray(train_prior, dtype=float)
    n_items, n_classes = posteriors.shape
    batched = prior.ndim == 2 or (weights is not None and np.ndim(weights) == 2) or (
        correction is not None and np.ndim(correction) == 2)
    w = np.ones((1, n_items)) if weights is None else np.atleast_2d(
        np.asarray(weights, dtype=float))
    prior = np.atleast_2d(prior)
    factor = np.ones((1, n_classes)) if correction is None else np.atleast_2d(
        np.asarray(correction, dtype=float))
    n_batch = max(len(w), len(prior), len(factor))
    factor = np.broadcast_to(factor, (n_batch, n_classes))
    w = np.broadcast_to(w, (n_batch, n_items))
    prior = np.broadcast_to(prior, (n_batch, n_classes)).copy()
    zero = (prior <= 0).any(axis=1)
    if zero.any():
        prior[zero] = (prior[zero] + 1e-4) / (prior[zero] + 1e-4).sum(axis=1, keepdims=True)
    total = w.sum(axis=1)
    empty = total <= 0
    total = np.where(empty, 1.0, total)
    current = prior.copy()
    active = np.arange(n_batch)
    # the rows still iterating, sliced once per change of the active set (not per iteration)
    w_act, scale_act, total_act = w, factor / prior, total[:, None]
    estimate = current.copy()
    posteriors_t = np.ascontiguousarray(posteriors.T)

    def em_step(shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # E-step and M-step in two matrix products: item n's re-weighted posterior for class k
        # is P[n, k] * r[k] / (P[n] @ r) with r = factor * shares / prior. Also returns the
        # log-likelihood of ``shares`` (up to a constant): sum_n w_n log(P[n] @ r).
        ratio = scale_act * shares  # (A, K)
        denominator = ratio @ posteriors_t  # (A, n)
        out = ratio * ((w_act / denominator) @ posteriors) / total_act
        with np.errstate(divide="ignore"):
            likelihood = (w_act * np.log(denominator)).sum(axis=1)
        return out / out.sum(axis=1, keepdims=True), likelihood

    for _ in range(max_iter // 3 + 1):
        # SQUAREM (Varadhan & Roland 2008): two EM steps, an extrapolation along them kept on
        # the simplex, and one more EM step from there; same fixed point, far fewer iterations
        # when EM crawls (a share heading to 0).
        first, start = em_step(estimate)
        second, _ = em_step(first)
        r = first - estimate
        v = second - first - r
        r_norm = np.sqrt((r ** 2).sum(axis=1, keepdims=True))
        v_norm = np.sqrt((v ** 2).sum(axis=1, keepdims=True))
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(v_norm > 0, -r_norm / v_norm, -1.0)
        alpha = np.minimum(alpha, -1.0)  # -1 is plain EM (two steps)
        for _ in range(_MAX_HALVINGS):
            # a jump may take a share down to a tenth of where plain EM took it, not to the edge
            # of the simplex, from which EM could not come back: move alpha half way to -1
            jump = estimate - 2 * alpha * r + alpha ** 2 * v
            outside = (jump < 0.1 * second).any(axis=1, keepdims=True) & (alpha < -1)
            if not outside.any():
                break
            alpha = np.where(outside, (alpha - 1) / 2, alpha)
        jump = np.clip(jump, 1e-12, None)
        jump /= jump.sum(axis=1, keepdims=True)
        updated, reached = em_step(jump)
        # the safeguard of Varadhan & Roland: a jump that lowers the likelihood below that of
        # the iteration's start is not taken; plain EM goes on from the two steps instead
        worse = ~(reached >= start)
        if worse.any():
            updated, _ = em_step(np.where(worse[:, None], second, jump))
        going = np.abs(updated - second).max(axis=1) >= tol
        current[active] = updated
        if not going.all():
            active, estimate = active[going], updated[going]
            if len(active) == 0:
                break
            w_act, scale_act, total_act = w_act[going], scale_act[going], total_act[going]
        else:
            estimate = updated
    else:
        warnings.warn(f"EM prior adjustment did not converge in {max_iter} iterations "
                      f"({len(active)} of {n_batch} runs)", RuntimeWarning, stacklevel=2)
    current[empty] = np.nan
    return current if batched else current[0]


def bias_correction(probabilities: ArrayLike, true_prior: ArrayLike,
                    weights: ArrayLike | None = None, *, tol: float = EM_TOLERANCE,
                    max_iter: int = EM_MAX_ITER) -> np.ndarray:
    """Per-class factors ``w`` that make posteriors agree on average with known class shares.

    Finds ``w`` such that the mean over a validation set of ``normalize(P[n] * w)`` equals the
    validation set's gold shares ``true_prior``: the class-bias part of the bias-corrected
    calibration that Alexandari, Kundaje & Shrikumar (2020) found makes EM prior adjustment
    reliable. A classifier trained on data with other class shares than the validation set
    (or simply miscalibrated in its bias) otherwise makes EM drift even when nothing shifted.

    Parameters
    ----------
    probabilities
        Validation posteriors ``(n, K)``.
    true_prior
        Gold shares of the validation set, ``(K,)`` or ``(B, K)``.
    weights
        Optional item weights ``(n,)`` or ``(B, n)`` (bootstrap replicates).

    Returns
    -------
    numpy.ndarray
        ``(K,)`` or ``(B, K)`` factors, scaled to sum to ``K``.

    References
    ----------
    Alexandari, A., Kundaje, A., & Shrikumar, A. (2020). Maximum likelihood with bias-corrected
    calibration is hard-to-beat at label shift adaptation. *ICML 2020*, PMLR 119, 222-232.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4]])  # mean (0.75, 0.25), but the gold shares are 50/50
    >>> w = bias_correction(p, [0.5, 0.5], tol=1e-12)
    >>> corrected = p * w / (p * w).sum(axis=1, keepdims=True)
    >>> corrected.mean(axis=0).round(6)
    array([0.5, 0.5])
    """
    posteriors = np.asarray(probabilities, dtype=float)
    target = np.asarray(true_prior, dtype=float)
    n_items, n_classes = posteriors.shape
    batched = target.ndim == 2 or (weights is not None and np.ndim(weights) == 2)
    w = np.ones((1, n_items)) if weights is None else np.atleast_2d(
        np.asarray(weights, dtype=float))
    target = np.atleast_2d(target)
    n_batch = max(len(w), len(target))
    w = np.broadcast_to(w, (n_batch, n_items))
    target = np.broadcast_to(target, (n_batch, n_classes))
    total = np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)
    factor = np.ones((n_batch, n_classes))
    for _ in range(max_iter):
        denominator = factor @ posteriors.T  # (B, n)
        mean = factor * ((w / denominator) @ posteriors) / total[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(mean > 0, target / mean, 1.0)
        factor = factor * step
        factor *= n_classes / factor.sum(axis=1, keepdims=True)
        if np.abs(mean - target).max() < tol:
            break
    return factor if batched else factor[0]


def detectability(rates: ArrayLike, prior: ArrayLike | None = None) -> np.ndarray:
    """Per class, one-vs-rest ``tpr - fpr`` (Youden's J) of a confusion-rate matrix.

    The adjustment of :func:`adjust_shares` divides by (a multi-class form of) this quantity, so
    noise in the counted shares is amplified by roughly ``1 / J`` (Forman 2008 shows adjusted
    counts degrade as ``tpr - fpr`` shrinks).

    Parameters
    ----------
    rates
        ``(K, K)``, rows = true class, ``rates[i, j]`` = P(predicted ``j`` | true ``i``).
    prior
        Class shares used to pool the other classes into "rest" (default: equal).

    Examples
    --------
    >>> detectability([[0.8, 0.2], [0.1, 0.9]]).round(3)
    array([0.7, 0.7])
    """
    rates = np.asarray(rates, dtype=float)
    n_classes = rates.shape[0]
    prior = np.full(n_classes, 1.0 / n_classes) if prior is None else np.asarray(prior, float)
    out = np.empty(n_classes)
    for k in range(n_classes):
        rest = np.arange(n_classes) != k
        weights = prior[rest] / prior[rest].sum() if prior[rest].sum() > 0 else None
        fpr = np.average(rates[rest, k], weights=weights)
        out[k] = rates[k, k] - fpr
    return out


#: ``auto`` uses an adjusted method only if every class has at least this one-vs-rest
#: ``tpr - fpr`` on the validation data (noise amplified at most ~2.5 times). A project choice,
#: set after benchmarks/prevalence.py, where a classifier detecting a class with J ~ 0.05 made
#: adjusted shares far worse than plain counts; see docs/statistics.md.
AUTO_MIN_DETECTABILITY = 0.4


def sample_error(true: ArrayLike, observed: ArrayLike, clusters: ArrayLike, size: int, *,
                 n_draws: int = 200, random_state: int = 0) -> float:
    """Mean absolute error of unadjusted shares on samples of a validation set.

    Draws ``n_draws`` samples of ``size`` clusters (threads; with replacement) from the
    validation set and compares, per sample, the mean of ``observed`` (one-hot predicted labels
    for ``cc``, probabilities for ``pcc``) with the mean of ``true`` (one-hot gold labels): the
    error an unadjusted estimate makes on a bin of that many threads like these. The same seed
    draws the same samples for every ``observed``, so two methods are compared on the same
    samples.

    Examples
    --------
    >>> true = np.eye(2)[[0, 0, 1, 1]]
    >>> sample_error(true, true, np.arange(4), 2)  # perfect predictions
    0.0
    >>> sample_error(true, np.full((4, 2), 0.5), np.arange(4), 4) > 0  # blind to each item
    True
    """
    true = np.asarray(true, dtype=float)
    observed = np.asarray(observed, dtype=float)
    clusters = np.asarray(clusters)
    n_clusters = int(clusters.max()) + 1
    rng = np.random.default_rng(random_state)
    picks = rng.integers(0, n_clusters, size=(n_draws, max(int(size), 1)))
    picks += np.arange(n_draws)[:, None] * n_clusters
    counts = np.bincount(picks.ravel(), minlength=n_draws * n_clusters).reshape(
        n_draws, n_clusters)
    weights = counts[:, clusters].astype(float)  # (draws, n items)
    total = weights.sum(axis=1, keepdims=True)
    keep = total[:, 0] > 0
    error = (weights @ observed - weights @ true)[keep] / total[keep]
    return float(np.round(np.abs(error).mean(), 12))


def choose_method(*, has_probabilities: bool, has_hard_rates: bool,
                  has_soft_rates: bool, detectability: float | None = None,
                  cc_error: float | None = None, pcc_error: float | None = None) -> str:
    """The method ``auto`` stands for, given what is available.

    With validation data whose confusion shows every class detectable (``detectability``, the
    smallest one-vs-rest ``tpr - fpr``, at least :data:`AUTO_MIN_DETECTABILITY`): ``pacc`` when
    the classifier's and the validation set's probabilities are at hand (it uses the
    probabilities' extra information; Bella et al. 2010), else ``acc`` (Forman 2008). When some
    class is barely detected (the adjustment would amplify noise many times over), the
    unadjusted estimate with the smaller error on bin-sized samples of the validation set:
    ``pcc`` if its error there (``pcc_error``, see :func:`sample_error`) is smaller than that of
    ``cc`` (``cc_error``), else ``cc``. With only a confusion matrix (a model card's; no
    validation items): ``acc`` when every class is detectable, else ``cc``. With neither:
    ``cc``. See docs/statistics.md.

    Examples
    --------
    >>> choose_method(has_probabilities=True, has_hard_rates=True, has_soft_rates=False,
    ...               detectability=0.6)
    'acc'
    >>> choose_method(has_probabilities=True, has_hard_rates=True, has_soft_rates=True,
    ...               detectability=0.05, cc_error=0.04, pcc_error=0.02)
    'pcc'
    """
    usable = detectability is None or detectability >= AUTO_MIN_DETECTABILITY
    if has_hard_rates and usable:
        return "pacc" if has_probabilities and has_soft_rates else "acc"
    if has_probabilities and cc_error is not None and pcc_error is not None \
            and pcc_error < cc_error:
        return "pcc"
    return "cc"


def estimate_prevalence(method: str, *, predictions: ArrayLike | None = None,
                        probabilities: ArrayLike | None = None,
                        hard_rates: ArrayLike | None = None,
                        soft_rates: ArrayLike | None = None,
                        train_prior: ArrayLike | None = None,
                        n_classes: int | None = None,
                        weights: ArrayLike | None = None) -> np.ndarray:
    """Class shares of one sample by ``method`` (one of :data:`METHODS` or ``auto``).

    Parameters
    ----------
    method
        ``cc``, ``pcc``, ``acc``, ``pacc``, ``emq`` or ``auto`` (:func:`choose_method`).
    predictions
        Predicted class indices ``(n,)``; needed by ``cc`` and ``acc`` (taken as the arg-max of
        ``probabilities`` when not given).
    probabilities
        Posteriors ``(n, K)``; needed by ``pcc``, ``pacc``, ``emq``.
    hard_rates, soft_rates
        Validation rates ``P(predicted j | true i)`` from counts (``acc``) or mean probabilities
        (``pacc``), shape ``(K, K)`` or ``(B, K, K)``.
    train_prior
        Class shares the posteriors are calibrated to (``emq``).
    n_classes
        ``K``, when only ``predictions`` are given.
    weights
        Optional item weights ``(n,)`` or ``(B, n)``.

    Returns
    -------
    numpy.ndarray
        Shares ``(K,)`` or ``(B, K)``, non-negative and summing to 1.

    Examples
    --------
    >>> estimate_prevalence("acc", predictions=[0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    ...                     hard_rates=[[0.8, 0.2], [0.1, 0.9]]).round(4)
    array([0.2857, 0.7143])
    """
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=float)
        n_classes = probabilities.shape[1]
        if predictions is None:
            predictions = probabilities.argmax(axis=1)
    if n_classes is None:
        for rates in (hard_rates, soft_rates):
            if rates is not None:
                n_classes = np.shape(rates)[-1]
    if method == "auto":
        hard_point = None if hard_rates is None else np.asarray(hard_rates, dtype=float)
        method = choose_method(
            has_probabilities=probabilities is not None, has_hard_rates=hard_point is not None,
            has_soft_rates=soft_rates is not None,
            detectability=None if hard_point is None or hard_point.ndim != 2
            else float(detectability(hard_point).min()))
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)} or auto")
    needs = {"cc": ("predictions",), "acc": ("predictions", "hard_rates"),
             "pcc": ("probabilities",), "pacc": ("probabilities", "soft_rates"),
             "emq": ("probabilities", "train_prior")}[method]
    given = {"predictions": predictions, "probabilities": probabilities,
             "hard_rates": hard_rates, "soft_rates": soft_rates, "train_prior": train_prior}
    missing: Sequence[str] = [name for name in needs if given[name] is None]
    if missing or n_classes is None:
        raise ValueError(f"method {method!r} needs {', '.join(missing or ['n_classes'])}")
    if method == "cc":
        return classify_and_count(predictions, n_classes, weights)
    if method == "pcc":
        return probabilistic_classify_and_count(probabilities, weights)
    if method == "acc":
        return adjust_shares(classify_and_count(predictions, n_classes, weights), hard_rates)
    if method == "pacc":
        return adjust_shares(probabilistic_classify_and_count(probabilities, weights), soft_rates)
    return em_prior_adjustment(probabilities, train_prior, weights)
